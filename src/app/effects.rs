//! Performing the effects a dialog step asks for: payments through the gateway, binding, auto-debit
//! settings and tickets. Each is durable before its event tells the customer it happened.

use super::pay_plan::PayPlan;
use super::App;
use crate::domain::{Account, Payment, PaymentKind};
use crate::payments::{self, Charge, Gateway, Started};
use crate::store::{LastPaid, NewTicket, Owed, OwedKind, PaymentOutcome, TicketReason};
use crate::store::{PendingPayment, PendingStatus};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;
pub type Event = (String, Vars);

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
    /// The turn whose reply showed the buttons the customer answered (a payment remembers it,
    /// so the same confirm pressed again finds the receipt).
    pub confirm_turn: u64,
    /// Replies this turn wrote to the outbox (receipts, notices to other chats).
    pub owed: &'a std::cell::RefCell<Vec<super::owed::OwedRef>>,
    /// Tickets this turn opened (new ones only), for the front end.
    pub tickets_opened: &'a std::cell::RefCell<Vec<u64>>,
    /// Link buttons (label, URL) for the next reply: the cashier page of an `http` payment.
    pub links: &'a std::cell::RefCell<Vec<(String, String)>>,
}

/// An effect: does what the step asked, durably, and names the event that tells the dialog.
pub type EffectFn = fn(&EffectCtx, &Vars) -> Result<Option<Event>>;

/// The effects dialog files may name (`effect = "..."`), with their handlers: `dialogs check`
/// accepts exactly these names and `perform` dispatches through the same table.
pub const EFFECTS: &[(&str, EffectFn)] = &[
    ("post_payment", |c, v| post_payment(c, v).map(Some)),
    ("bind_account", |c, v| {
        super::binding::bind_account(c, v).map(Some)
    }),
    ("binding_failed", |c, v| {
        super::binding::binding_failed(c, v).map(|_| None)
    }),
    ("set_autopay", |c, v| {
        set_autopay(c, "set_autopay", v).map(Some)
    }),
    ("stop_autopay", |c, v| {
        set_autopay(c, "stop_autopay", v).map(Some)
    }),
    ("open_ticket", |c, v| open_ticket(c, v).map(Some)),
    ("defer", |c, v| {
        super::negotiation_effects::defer(c, v).map(Some)
    }),
    ("restructure", |c, v| {
        super::negotiation_effects::restructure(c, v).map(Some)
    }),
    ("open_case", |c, v| {
        super::negotiation_effects::open_case(c, v).map(Some)
    }),
    ("accept_plan", |c, v| {
        super::negotiation_effects::accept_plan(c, v).map(Some)
    }),
    ("decline_plan", |c, v| {
        super::negotiation_effects::decline_plan(c, v).map(Some)
    }),
    ("remind_open", |c, v| {
        super::reminder_effects::perform(c, "remind_open", v)
    }),
    ("remind_set_days", |c, v| {
        super::reminder_effects::perform(c, "remind_set_days", v)
    }),
    ("remind_set_time", |c, v| {
        super::reminder_effects::perform(c, "remind_set_time", v)
    }),
    ("remind_add_date", |c, v| {
        super::reminder_effects::perform(c, "remind_add_date", v)
    }),
    ("remind_pause", |c, v| {
        super::reminder_effects::perform(c, "remind_pause", v)
    }),
    ("remind_stop", |c, v| {
        super::reminder_effects::perform(c, "remind_stop", v)
    }),
    ("remind_resume", |c, v| {
        super::reminder_effects::perform(c, "remind_resume", v)
    }),
    ("remind_ics", |c, v| {
        super::reminder_effects::perform(c, "remind_ics", v)
    }),
];

/// Performs effect `name`. A name outside the table is an error: `dialogs check` refuses such
/// dialogs at start-up, so it can only be a bug, never something to skip silently.
pub fn perform(ctx: &EffectCtx, name: &str, vars: &Vars) -> Result<Option<Event>> {
    match EFFECTS.iter().find(|(n, _)| *n == name) {
        Some((_, handler)) => handler(ctx, vars),
        None => Err(anyhow::anyhow!("unknown effect {name}")),
    }
}

/// A line of the plan as the receipt tells it.
struct Told<'a> {
    order_id: &'a str,
    amount: crate::domain::Money,
    kind: PaymentKind,
    receipt: String,
}

/// What the ledger did with one line: an applied payment is counted and its receipt kept (and
/// owed until sent); one applied before shows its receipt again; a refusal ends the payment
/// (the event returned).
fn told_of(
    ctx: &EffectCtx,
    line: Told,
    outcome: PaymentOutcome,
    receipts: &mut Vec<String>,
    owed: &mut Vec<String>,
) -> Option<Event> {
    let Told {
        order_id,
        amount,
        kind,
        receipt,
    } = line;
    match outcome {
        PaymentOutcome::Applied { payment_id, .. } => {
            tracing::info!(chat = ctx.chat, order = order_id, payment = %payment_id, "payment recorded");
            let kind = crate::payments::kind_str(kind);
            crate::ops::observe::payment(
                &ctx.app.store,
                ctx.chat,
                &payment_id,
                kind,
                amount.0,
                ctx.now,
            );
            receipts.push(receipt);
            owed.push(payment_id);
            None
        }
        PaymentOutcome::AlreadyApplied { payment_id } => {
            tracing::info!(chat = ctx.chat, order = order_id, payment = %payment_id, "payment already recorded");
            receipts.push(format!("{payment_id}  {order_id}  ¥{amount}"));
            None
        }
        PaymentOutcome::Refused(e) => {
            tracing::info!(
                chat = ctx.chat,
                order = order_id,
                "payment refused by the ledger"
            );
            let mut v = failure("refused");
            v.insert("fail_reason".into(), e.to_string());
            Some(("payment_failed".into(), v))
        }
    }
}

/// Test hook, never set in production: when this variable is set, the process aborts right
/// after a chat payment is durable and before anything is sent (a `kill -9` at the worst moment).
pub const TEST_ABORT_AFTER_PAYMENT: &str = "REPAYBOT_TEST_ABORT_AFTER_PAYMENT";

/// Pays every line of `pay_plan` (order, amount, kind, payments seen when quoted) through the
/// configured gateway (`payments::Gateway`). The idempotency key is the chat plus the plan line
/// (with `http`, plus the confirm's turn): the same confirmation arriving twice pays once.
fn post_payment(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(account) = ctx.account else {
        return Ok(("payment_failed".into(), failure("not_bound")));
    };
    let plan = vars.get("pay_plan").cloned().unwrap_or_default();
    let mut receipts = Vec::new();
    // Receipts written to the outbox: part of this turn's replies when every line is paid,
    // else sent on their own (a failure reply does not show them).
    let mut owed = Vec::new();
    let result = pay_lines(ctx, account, &plan, &mut receipts, &mut owed);
    if !owed.is_empty() && std::env::var_os(TEST_ABORT_AFTER_PAYMENT).is_some() {
        // Test only (tests/it/telegram_e2e.rs): a hard crash right after the durable payment.
        std::process::abort();
    }
    let paid_all = matches!(&result, Ok((name, _)) if name == "payment_ok");
    for id in owed {
        ctx.owed.borrow_mut().push(super::owed::OwedRef {
            chat: ctx.chat.to_string(),
            id,
            in_turn: paid_all,
        });
    }
    let (name, mut v) = result?;
    if name == "payment_pending" {
        v.insert(
            "pay_amount".into(),
            vars.get("pay_amount").cloned().unwrap_or_default(),
        );
        return Ok((name, v));
    }
    if name != "payment_ok" {
        return Ok((name, v));
    }
    reschedule_reminders(ctx, &account.id);
    v.insert("receipt_lines".into(), receipts.join("\n"));
    v.insert(
        "pay_amount".into(),
        vars.get("pay_amount").cloned().unwrap_or_default(),
    );
    Ok((name, v))
}

/// The lines of the plan, paid one by one through the gateway; stops at the first the ledger
/// (or the payment API) refuses. With the `http` gateway each line becomes a pending payment
/// with its cashier link (event `payment_pending`).
fn pay_lines(
    ctx: &EffectCtx,
    account: &Account,
    plan: &str,
    receipts: &mut Vec<String>,
    owed: &mut Vec<String>,
) -> Result<Event> {
    let Some(gateway) = Gateway::from_settings(&ctx.app.settings.payments) else {
        return Ok(("payment_later".into(), failure("no_gateway")));
    };
    let mut pending = Vec::new();
    let Ok(plan) = PayPlan::parse(plan) else {
        return Ok(("payment_failed".into(), failure("bad_plan")));
    };
    for planned in &plan.lines {
        let (order_id, amount, kind) = (planned.order_id.as_str(), planned.amount, planned.kind);
        let line = planned.encode();
        let owned = ctx
            .app
            .store
            .order(order_id)?
            .is_some_and(|o| o.data.account_id == account.id);
        if !owned {
            return Ok(("payment_failed".into(), failure("bad_plan")));
        }
        let key = match gateway {
            Gateway::Sandbox => format!("{}|{line}|{}", ctx.chat, ctx.today),
            // A started payment may never complete: the same line can be paid again after a
            // new quote (a new confirm turn); the same confirm twice starts one payment.
            Gateway::Http { .. } => format!("http|{}|{line}|{}", ctx.chat, ctx.confirm_turn),
        };
        let payment = Payment {
            id: ctx.app.store.new_payment_id(&account.id, ctx.today)?,
            amount,
            paid_on: ctx.today,
            kind,
        };
        let origin = format!("chat:{}:sandbox", ctx.chat);
        let receipt = format!("{}  {order_id}  ¥{amount}", payment.id);
        let item = planned.item();
        let writes = receipt_writes(ctx, &payment.id, &item, &receipt, receipts);
        let charge = Charge {
            order_id,
            pending: pending_record(ctx, account, order_id, &payment, &item),
            description: description(ctx, order_id, &payment),
            payment: payment.clone(),
            key: &key,
            origin: &origin,
            outbox: &writes,
        };
        let outcome = match gateway.start(&ctx.app.store, &ctx.app.settings.policy, charge)? {
            Started::Applied(outcome) => outcome,
            Started::Declined(e) => PaymentOutcome::Refused(e),
            Started::Pending(rec) => {
                pending.push(rec);
                continue;
            }
            // Lines already created keep their links; the rest is not started.
            Started::Refused | Started::Unavailable if !pending.is_empty() => break,
            Started::Refused => return Ok(("payment_refused".into(), failure("refused"))),
            Started::Unavailable => return Ok(("payment_later".into(), failure("unavailable"))),
        };
        let told = Told {
            order_id,
            amount,
            kind,
            receipt,
        };
        if let Some(refused) = told_of(ctx, told, outcome, receipts, owed) {
            return Ok(refused);
        }
    }
    if !pending.is_empty() {
        return Ok((
            "payment_pending".into(),
            pending_vars(ctx, account, &pending),
        ));
    }
    Ok(("payment_ok".into(), Vars::new()))
}

/// The record of an `http` payment about to be created (status `creating`).
fn pending_record(
    ctx: &EffectCtx,
    account: &Account,
    order_id: &str,
    payment: &Payment,
    item: &str,
) -> PendingPayment {
    let minutes = i64::from(ctx.app.settings.payments.pending_minutes);
    PendingPayment {
        payment_id: payment.id.clone(),
        chat: ctx.chat.to_string(),
        account_id: account.id.clone(),
        order_id: order_id.to_string(),
        kind: payment.kind,
        amount: payment.amount.0,
        item: item.to_string(),
        lang: ctx.lang,
        confirm_turn: ctx.confirm_turn,
        status: PendingStatus::Creating,
        tries: 0,
        pay_url: None,
        created_at: ctx.now,
        expires_at: ctx.now + chrono::Duration::minutes(minutes),
        updated_at: ctx.now,
        paid_at: None,
        notes: Vec::new(),
    }
}

/// What the cashier page says the payment is for.
fn description(ctx: &EffectCtx, order_id: &str, payment: &Payment) -> String {
    let vars = Vars::from([
        ("order_id".to_string(), order_id.to_string()),
        (
            "kind".to_string(),
            payments::kind_str(payment.kind).to_string(),
        ),
    ]);
    ctx.app.flows.text(ctx.lang, "pay.description", &vars)
}

/// The waiting reply's vars and its link buttons: one line and one button per payment.
fn pending_vars(ctx: &EffectCtx, account: &Account, pending: &[PendingPayment]) -> Vars {
    let tz = account.timezone.parse().unwrap_or(crate::clock::HOUSE_TZ);
    let mut lines = Vec::new();
    let mut expires = String::new();
    for rec in pending {
        let v = Vars::from([
            ("order_id".to_string(), rec.order_id.clone()),
            ("amount".to_string(), format!("{:.2}", rec.amount)),
        ]);
        lines.push(ctx.app.flows.text(ctx.lang, "pay.pending_line", &v));
        if let Some(url) = &rec.pay_url {
            let label = ctx.app.flows.text(ctx.lang, "pay.btn_open", &v);
            ctx.links.borrow_mut().push((label, url.clone()));
        }
        expires = rec
            .expires_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string();
    }
    Vars::from([
        ("pending_lines".to_string(), lines.join("\n")),
        ("pay_expires".to_string(), expires),
    ])
}

/// The receipt owed for one payment and the chat's last payment (with the lines paid before it
/// in this plan), written in the payment's own transaction.
fn receipt_writes(
    ctx: &EffectCtx,
    payment_id: &str,
    item: &str,
    line: &str,
    before: &[String],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let owed = Owed {
        kind: OwedKind::Receipt,
        lang: ctx.lang,
        lines: vec![line.to_string()],
        at: ctx.now,
    };
    let mut last = match ctx.app.store.last_paid(ctx.chat) {
        Ok(Some(l)) if l.confirm_turn == ctx.confirm_turn && !before.is_empty() => l,
        _ => LastPaid {
            confirm_turn: ctx.confirm_turn,
            items: Vec::new(),
            lines: Vec::new(),
            at: ctx.now,
        },
    };
    last.items.push(item.to_string());
    last.lines.push(line.to_string());
    crate::store::receipt_writes(ctx.chat, payment_id, &owed, &last)
}

fn failure(reason: &str) -> Vars {
    Vars::from([("fail_reason".to_string(), reason.to_string())])
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
    if new {
        crate::ops::observe::ticket_opened(&ctx.app.store, &t);
        ctx.tickets_opened.borrow_mut().push(t.number);
    }
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
