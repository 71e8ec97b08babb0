//! Performing the effects a dialog step asks for: payments through the gateway, binding, auto-debit
//! settings and tickets. Each is durable before its event tells the customer it happened.

use super::App;
use crate::domain::{Account, Money, Payment, PaymentKind};
use crate::store::{NewTicket, PaymentOutcome, TicketReason};
use anyhow::Result;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;
pub type Event = (String, Vars);

/// Binding failures are counted; five lock binding for 30 minutes (SPEC 3.1).
pub const MAX_BIND_FAILURES: u32 = 5;
pub const BIND_LOCK_MINUTES: i64 = 30;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BindFailures {
    pub count: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

pub struct EffectCtx<'a> {
    pub app: &'a App,
    pub chat: &'a str,
    pub account: Option<&'a Account>,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
    /// The customer's language in this conversation (written confirmations, tickets).
    pub lang: crate::dialog::Lang,
    /// The reason a ticket opened now gets unless the flow names one.
    pub hint: TicketReason,
    /// A file the effect sends with the next reply (the reminders' calendar).
    pub attachment: &'a std::cell::RefCell<Option<super::Attachment>>,
}

pub fn binding_locked(store: &crate::store::Store, chat: &str, now: DateTime<Utc>) -> Result<bool> {
    let f: Option<BindFailures> = store.get_chat(&format!("bindfail/{chat}"))?;
    Ok(f.and_then(|f| f.locked_until)
        .is_some_and(|until| until > now))
}

pub fn perform(ctx: &EffectCtx, name: &str, vars: &Vars) -> Result<Option<Event>> {
    match name {
        "post_payment" => post_payment(ctx, vars).map(Some),
        "bind_account" => bind_account(ctx, vars).map(Some),
        "binding_failed" => binding_failed(ctx).map(|_| None),
        "set_autopay" | "stop_autopay" => set_autopay(ctx, name, vars).map(Some),
        "open_ticket" => open_ticket(ctx, vars).map(Some),
        "defer" => super::negotiation_effects::defer(ctx, vars).map(Some),
        "restructure" => super::negotiation_effects::restructure(ctx, vars).map(Some),
        "open_case" => super::negotiation_effects::open_case(ctx, vars).map(Some),
        "accept_plan" => super::negotiation_effects::accept_plan(ctx, vars).map(Some),
        "decline_plan" => super::negotiation_effects::decline_plan(ctx, vars).map(Some),
        n if n.starts_with("remind_") => super::reminder_effects::perform(ctx, n, vars),
        _ => Ok(None),
    }
}

/// Pays every line of `pay_plan` (order, amount, kind, payments seen when quoted) through the
/// sandbox gateway. The idempotency key is the chat plus the plan line: the same confirmation
/// arriving twice pays once.
fn post_payment(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(account) = ctx.account else {
        return Ok(("payment_failed".into(), failure("not_bound")));
    };
    let plan = vars.get("pay_plan").cloned().unwrap_or_default();
    let mut receipts = Vec::new();
    for line in plan.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        let [order_id, amount, kind, _seen] = parts[..] else {
            return Ok(("payment_failed".into(), failure("bad_plan")));
        };
        let owned = ctx
            .app
            .store
            .order(order_id)?
            .is_some_and(|o| o.data.account_id == account.id);
        let Ok(amount) = Money::parse_positive(amount) else {
            return Ok(("payment_failed".into(), failure("bad_plan")));
        };
        if !owned {
            return Ok(("payment_failed".into(), failure("bad_plan")));
        }
        let key = format!("{}|{line}|{}", ctx.chat, ctx.today);
        let kind = if kind == "settlement" {
            PaymentKind::Settlement
        } else {
            PaymentKind::Installment
        };
        let payment = Payment {
            id: ctx.app.store.new_payment_id(&account.id, ctx.today)?,
            amount,
            paid_on: ctx.today,
            kind,
        };
        let origin = format!("chat:{}:sandbox", ctx.chat);
        match ctx.app.store.record_payment(
            order_id,
            payment.clone(),
            &key,
            &origin,
            &ctx.app.settings.policy,
        )? {
            PaymentOutcome::Applied { payment_id, .. }
            | PaymentOutcome::AlreadyApplied { payment_id } => {
                tracing::info!(chat = ctx.chat, order = order_id, payment = %payment_id, "payment recorded");
                receipts.push(format!("{payment_id}  {order_id}  ¥{amount}"));
            }
            PaymentOutcome::Refused(e) => {
                tracing::info!(
                    chat = ctx.chat,
                    order = order_id,
                    "payment refused by the ledger"
                );
                let mut v = failure("refused");
                v.insert("fail_reason".into(), e.to_string());
                return Ok(("payment_failed".into(), v));
            }
        }
    }
    reschedule_reminders(ctx, &account.id);
    let mut v = Vars::new();
    v.insert("receipt_lines".into(), receipts.join("\n"));
    v.insert(
        "pay_amount".into(),
        vars.get("pay_amount").cloned().unwrap_or_default(),
    );
    Ok(("payment_ok".into(), v))
}

fn failure(reason: &str) -> Vars {
    Vars::from([("fail_reason".to_string(), reason.to_string())])
}

fn bind_account(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(account_id) = vars.get("account_id") else {
        return Ok(("bind_refused".into(), Vars::new()));
    };
    if ctx.app.store.bind(ctx.chat, account_id)? {
        ctx.app
            .store
            .remove_chat(&format!("bindfail/{}", ctx.chat))?;
        tracing::info!(chat = ctx.chat, account = %account_id, "chat bound");
        let name = ctx
            .app
            .store
            .account(account_id)?
            .map(|a| a.data.name)
            .unwrap_or_default();
        Ok(("bound".into(), Vars::from([("name".to_string(), name)])))
    } else {
        tracing::info!(
            chat = ctx.chat,
            "binding refused: account held by another chat"
        );
        Ok(("bind_refused".into(), Vars::new()))
    }
}

fn binding_failed(ctx: &EffectCtx) -> Result<()> {
    let key = format!("bindfail/{}", ctx.chat);
    let mut f: BindFailures = ctx.app.store.get_chat(&key)?.unwrap_or_default();
    f.count += 1;
    if f.count >= MAX_BIND_FAILURES {
        f.count = 0;
        f.locked_until = Some(ctx.now + Duration::minutes(BIND_LOCK_MINUTES));
        tracing::info!(chat = ctx.chat, "binding locked after repeated failures");
    }
    ctx.app.store.put_chat(&key, ctx.chat, f)
}

fn set_autopay(ctx: &EffectCtx, name: &str, vars: &Vars) -> Result<Event> {
    let order = vars.get("order_id").cloned().unwrap_or_default();
    let owned = ctx.account.is_some_and(|a| {
        ctx.app
            .store
            .order(&order)
            .ok()
            .flatten()
            .is_some_and(|o| o.data.account_id == a.id)
    });
    if !owned {
        return Ok(("payment_failed".into(), failure("bad_plan")));
    }
    let card = if name == "set_autopay" {
        vars.get("card").map(String::as_str)
    } else {
        None
    };
    ctx.app.store.set_autopay(&order, card, ctx.chat)?;
    Ok(("done".into(), Vars::new()))
}

/// Opens (or finds) the chat's ticket. The reason is the flow's `ticket_reason` var when it names
/// one, else what the turn suggested (a request, a complaint, not understood).
fn open_ticket(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let reason = vars
        .get("ticket_reason")
        .and_then(|r| TicketReason::parse(r))
        .unwrap_or(ctx.hint);
    let (t, new) = ctx.app.store.open_ticket(NewTicket {
        chat: ctx.chat,
        account_id: ctx.account.map(|a| a.id.as_str()),
        reason,
        case_id: None,
        lang: ctx.lang,
        now: ctx.now,
    })?;
    tracing::info!(
        chat = ctx.chat,
        ticket = t.number,
        new,
        reason = reason.as_str(),
        "ticket opened"
    );
    let desk = crate::support::Desk::new(ctx.app);
    let place = desk.queue_place(t.number)?.unwrap_or(1);
    Ok((
        "ticket_opened".into(),
        Vars::from([
            ("ticket_no".to_string(), t.number.to_string()),
            ("queue_place".to_string(), place.to_string()),
            ("support_hours".to_string(), desk.hours().show()),
        ]),
    ))
}

/// What is due changed (a payment, a deferral, a new plan): the account's next reminder is
/// recomputed, so none is ever sent for what is paid or moved. A failure is logged, not fatal:
/// the scheduler recomputes from the ledger when the reminder comes due anyway.
pub(super) fn reschedule_reminders(ctx: &EffectCtx, account_id: &str) {
    if let Err(e) =
        crate::reminders::reschedule(&ctx.app.store, &ctx.app.settings, account_id, ctx.today)
    {
        tracing::warn!(account = %account_id, "cannot reschedule reminders: {e:#}");
    }
}
