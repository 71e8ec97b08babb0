//! Binding a chat to an account (SPEC 3.1): only the sender's own Telegram contact starts it (a
//! typed number gets the contact button again, see `dialogs/flows/bind.toml`), then the ID's
//! last four. Every refusal reads the same, whether the phone is unknown, the last four are
//! wrong or the account is bound elsewhere; each counts against the chat and, when the phone
//! names an account, the account (`store::bind_guard`), and that account's chat is told.

use super::actions::{set, ActionCtx};
use super::effects::{EffectCtx, Event};
use super::pay_plan::PayPlan;
use crate::dialog::Lang;
use crate::store::{BindSubject, Owed, OwedKind};
use anyhow::Result;
use chrono::Duration;
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;

/// A new payment of the same orders within this many minutes of the last asks first.
pub const RECENT_PAYMENT_MINUTES: i64 = 10;
/// The owner is told of failed attempts at most once in this many minutes.
const OWNER_NOTICE_MINUTES: i64 = 30;

impl ActionCtx<'_> {
    /// The shared phone: always on to the ID step (unless this chat is locked), so the answer
    /// never says whether an account has this phone.
    pub(super) fn verify_phone(&self, vars: &mut Vars) -> &'static str {
        if self.binding_locked {
            return "locked";
        }
        let masked = vars
            .get("phone")
            .and_then(|p| crate::domain::Phone::parse(p))
            .map_or_else(|| "—".to_string(), |p| p.masked());
        set(vars, "phone_masked", masked);
        "ok"
    }

    pub(super) fn verify_id(&self, vars: &mut Vars) -> &'static str {
        if self.binding_locked {
            return "locked";
        }
        let phone = vars.get("phone").cloned().unwrap_or_default();
        let typed = vars.get("id_last4").cloned().unwrap_or_default();
        let Some(account) = (self.account_by_phone)(&phone) else {
            return "mismatch";
        };
        if (self.account_locked)(&account.id) {
            return "locked";
        }
        if account.id_last4.matches(&typed) {
            set(vars, "account_id", &account.id);
            "ok"
        } else {
            "mismatch"
        }
    }

    /// Before paying: did this chat pay the same (order, amount, kind) a few minutes ago? A lost
    /// receipt and a retry look exactly like this; a different amount or a settlement does not.
    pub(super) fn recent_payment(&self, vars: &mut Vars) -> &'static str {
        // An unreadable plan is refused by the payment itself (`bad_plan`).
        let Ok(plan) = PayPlan::parse(vars.get("pay_plan").map_or("", String::as_str)) else {
            return "ok";
        };
        if self.same_pending(&plan) {
            return "pending";
        }
        let Some(last) = (self.recent_paid)() else {
            return "ok";
        };
        let same = plan
            .items()
            .iter()
            .any(|item| last.items.iter().any(|i| i == item));
        if !same {
            return "ok";
        }
        set(vars, "recent_receipt", last.lines.join("\n"));
        "recent"
    }
}

/// Binds the chat to the verified account; a chat already holding it elsewhere is refused
/// (`bind_refused`, which the flow answers like any other failure).
pub(super) fn bind_account(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(account_id) = vars.get("account_id") else {
        return Ok(("bind_refused".into(), Vars::new()));
    };
    if !ctx.app.store.bind(ctx.chat, account_id)? {
        tracing::info!(
            chat = ctx.chat,
            "binding refused: account held by another chat"
        );
        return Ok(("bind_refused".into(), Vars::new()));
    }
    let store = &ctx.app.store;
    store.clear_bind_failures(BindSubject::Chat(ctx.chat), ctx.now)?;
    store.clear_bind_failures(BindSubject::Account(account_id), ctx.now)?;
    tracing::info!(chat = ctx.chat, account = %account_id, "chat bound");
    let name = store
        .account(account_id)?
        .map(|a| a.data.name)
        .unwrap_or_default();
    Ok(("bound".into(), Vars::from([("name".to_string(), name)])))
}

/// Counts a failed attempt against the chat and the phone's account; the account's own chat
/// (when another chat holds it) is told, at most once per lock period.
pub(super) fn binding_failed(ctx: &EffectCtx, vars: &Vars) -> Result<()> {
    let store = &ctx.app.store;
    let f = store.count_bind_failure(BindSubject::Chat(ctx.chat), ctx.now)?;
    if f.locked_at(ctx.now) {
        tracing::info!(chat = ctx.chat, "binding locked for the chat");
    }
    let phone = vars.get("phone").map(String::as_str).unwrap_or("");
    let Some(account_id) = store.account_id_by_phone(phone)? else {
        return Ok(());
    };
    let f = store.count_bind_failure(BindSubject::Account(&account_id), ctx.now)?;
    if f.locked_at(ctx.now) {
        tracing::info!(account = %account_id, "binding locked for the account");
    }
    let owner = store.chat_of_account(&account_id)?;
    let Some(owner) = owner.filter(|o| o != ctx.chat) else {
        return Ok(());
    };
    let told_lately = f
        .owner_told_at
        .is_some_and(|at| ctx.now - at < Duration::minutes(OWNER_NOTICE_MINUTES));
    if told_lately {
        return Ok(());
    }
    let lang = store
        .account(&account_id)?
        .map_or(Lang::Zh, |a| super::dialog_lang(a.data.language));
    let owed = Owed {
        kind: OwedKind::BindAttempt,
        lang,
        lines: Vec::new(),
        at: ctx.now,
    };
    let id = format!("bind-{}", ctx.now.timestamp_millis());
    store.owe(&owner, &id, &owed)?;
    store.note_owner_told(&account_id, ctx.now)?;
    tracing::info!(account = %account_id, owner = %owner, "owner told of a failed binding attempt");
    ctx.owed.borrow_mut().push(super::owed::OwedRef {
        chat: owner,
        id,
        in_turn: false,
    });
    Ok(())
}
