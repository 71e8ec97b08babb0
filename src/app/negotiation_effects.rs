//! Performing the agreements the negotiation flows confirm: a deferral, a re-installment (its
//! down payment through the sandbox gateway and the new plan, one durable write) and a hardship
//! case for the support group. Each writes and flushes before its event tells the customer.

use super::actions::set;
use super::effects::{reschedule_reminders, EffectCtx, Event};
use crate::domain::{CaseDocument, CaseStatus, HardshipCase, Money};
use crate::store::events::AgreementKind;
use crate::store::{AgreementOutcome, RestructureRequest};
use anyhow::Result;
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;

/// The order named in `vars` when it belongs to the chat's account.
fn owned_order(ctx: &EffectCtx, vars: &Vars) -> Result<Option<String>> {
    let (Some(account), Some(order_id)) = (ctx.account, vars.get("order_id")) else {
        return Ok(None);
    };
    let owned = ctx
        .app
        .store
        .order(order_id)?
        .is_some_and(|o| o.data.account_id == account.id);
    Ok(owned.then(|| order_id.clone()))
}

/// Leaves the agreement's event for the report (only when newly agreed, never on a repeat).
fn agreed<T>(ctx: &EffectCtx, kind: AgreementKind, value: T) -> T {
    observe_agreement(ctx, kind, crate::store::events::AgreementOutcome::Agreed);
    value
}

fn observe_agreement(
    ctx: &EffectCtx,
    kind: AgreementKind,
    outcome: crate::store::events::AgreementOutcome,
) {
    let account = ctx.account.map_or("", |a| a.id.as_str());
    let chat = Some(ctx.chat);
    crate::ops::observe::agreement(&ctx.app.store, chat, account, kind, outcome, ctx.now);
}

fn refused(ctx: &EffectCtx, reason: &str, vars: &Vars) -> Event {
    let text = super::negotiation::refusal_text(&ctx.app.flows, ctx.lang, reason, vars);
    (
        "agreement_refused".into(),
        Vars::from([("refusal".to_string(), text)]),
    )
}

pub fn defer(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(order_id) = owned_order(ctx, vars)? else {
        return Ok(refused(ctx, "closed", vars));
    };
    let Some(days) = vars.get("defer_days").and_then(|d| d.parse::<u32>().ok()) else {
        return Ok(refused(ctx, "no_such_option", vars));
    };
    let confirm = |d: &crate::domain::Deferral| {
        let mut v = vars.clone();
        set(&mut v, "n", d.n);
        set(&mut v, "due_date", d.original_due);
        set(&mut v, "new_due", d.new_due);
        set(&mut v, "defer_fee", d.fee);
        set(&mut v, "defer_days", d.days);
        set(&mut v, "today", d.agreed_on);
        ctx.app.flows.text(ctx.lang, "defer.confirmation", &v)
    };
    let policy = &ctx.app.settings.policy;
    let outcome = ctx
        .app
        .store
        .defer(&order_id, days, ctx.today, policy, &confirm)?;
    let d = match outcome {
        AgreementOutcome::Agreed(d) => agreed(ctx, AgreementKind::Deferral, d),
        AgreementOutcome::AlreadyAgreed(d) => d,
        AgreementOutcome::Refused(reason) => return Ok(refused(ctx, reason, vars)),
    };
    tracing::info!(chat = ctx.chat, order = %order_id, "deferral agreed");
    if let Some(account) = ctx.account {
        reschedule_reminders(ctx, &account.id);
    }
    let mut v = Vars::new();
    set(&mut v, "confirmation", &d.confirmation);
    set(&mut v, "new_due", d.new_due);
    set(&mut v, "defer_fee", d.fee);
    Ok(("agreed".into(), v))
}

pub fn restructure(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(order_id) = owned_order(ctx, vars)? else {
        return Ok(refused(ctx, "closed", vars));
    };
    let down = vars.get("down_payment").map(|a| Money::parse_positive(a));
    let periods = vars.get("periods").and_then(|p| p.parse::<u32>().ok());
    let (Some(Ok(down_payment)), Some(periods)) = (down, periods) else {
        return Ok(refused(ctx, "no_such_option", vars));
    };
    let account_id = ctx.account.map_or("", |a| a.id.as_str());
    let request = RestructureRequest {
        order_id: &order_id,
        down_payment,
        periods,
        today: ctx.today,
        payment_id: ctx.app.store.new_payment_id(account_id, ctx.today)?,
        origin: format!("chat:{}:sandbox", ctx.chat),
    };
    let confirm = |r: &crate::domain::Restructure, plan: &crate::domain::Order| {
        let mut v = vars.clone();
        set(&mut v, "balance", r.balance);
        set(&mut v, "down_payment", r.down_payment);
        set(&mut v, "new_order_id", &r.new_order_id);
        set(&mut v, "new_principal", plan.terms.principal);
        set(&mut v, "periods", r.periods);
        set(&mut v, "first_due", plan.terms.first_due_date);
        set(&mut v, "today", r.on);
        ctx.app.flows.text(ctx.lang, "reinstall.confirmation", &v)
    };
    let policy = &ctx.app.settings.policy;
    let outcome = ctx.app.store.restructure(&request, policy, &confirm)?;
    let (r, _plan) = match outcome {
        AgreementOutcome::Agreed(x) => agreed(ctx, AgreementKind::Reinstallment, x),
        AgreementOutcome::AlreadyAgreed(x) => x,
        AgreementOutcome::Refused(reason) => return Ok(refused(ctx, reason, vars)),
    };
    tracing::info!(chat = ctx.chat, order = %order_id, plan = %r.new_order_id, payment = %r.down_payment_id, "re-installment agreed");
    if let Some(account) = ctx.account {
        reschedule_reminders(ctx, &account.id);
    }
    let mut v = Vars::new();
    set(&mut v, "confirmation", &r.confirmation);
    set(&mut v, "new_order_id", &r.new_order_id);
    set(&mut v, "receipt_lines", &r.down_payment_id);
    set(&mut v, "gateway_note", "sandbox");
    Ok(("agreed".into(), v))
}

/// Stores the hardship case with its documents and opens the ticket that carries it to the
/// support group. A second confirmation finds the case already waiting and names it again.
pub fn open_case(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(account) = ctx.account else {
        return Ok(refused(ctx, "closed", vars));
    };
    let store = &ctx.app.store;
    let case = match store.pending_case(&account.id)? {
        Some(existing) => existing,
        None => {
            let documents: Vec<CaseDocument> = vars
                .get("documents")
                .map(|d| {
                    d.lines()
                        .filter_map(|l| l.split_once('\t'))
                        .map(|(id, name)| CaseDocument {
                            file_id: id.to_string(),
                            name: name.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let monthly = vars.get("monthly_amount").map(|m| Money::parse_positive(m));
            let (Some(Ok(monthly_amount)), false) = (monthly, documents.is_empty()) else {
                return Ok(refused(ctx, "incomplete", vars));
            };
            let bill = store.bill(&account.id, ctx.today, &ctx.app.settings.policy)?;
            let reason = vars
                .get("reason")
                .cloned()
                .unwrap_or_else(|| "other".into());
            let reason_text = match reason.as_str() {
                "other" => vars.get("note").cloned().unwrap_or_default(),
                _ => String::new(),
            };
            let case = HardshipCase {
                number: 0,
                account_id: account.id.clone(),
                chat: ctx.chat.to_string(),
                order_ids: bill.active_orders().map(|o| o.order.id.clone()).collect(),
                reason,
                reason_text,
                monthly_amount,
                documents,
                status: CaseStatus::Open,
                opened_on: ctx.today,
                ticket: None,
                decision: None,
                approved: None,
            };
            let mut case = store.open_case(case)?;
            let (ticket, new) = ctx.app.open_ticket_for_case(
                ctx.chat,
                &account.id,
                &case.number.to_string(),
                ctx.now,
            )?;
            if new {
                ctx.tickets_opened.borrow_mut().push(ticket.number);
            }
            case.ticket = Some(ticket.number);
            store.put_case(&case)?;
            tracing::info!(
                chat = ctx.chat,
                case = case.number,
                ticket = ticket.number,
                "hardship case opened"
            );
            case
        }
    };
    let mut v = Vars::new();
    set(&mut v, "case_no", case.number);
    set(&mut v, "ticket_no", case.ticket.unwrap_or_default());
    Ok(("case_opened".into(), v))
}

/// The customer confirms the plan an agent approved for their case: applied like a
/// re-installment (SPEC 4.8), once.
pub fn accept_plan(ctx: &EffectCtx, vars: &Vars) -> Result<Event> {
    let Some(account) = ctx.account else {
        return Ok(refused(ctx, "closed", vars));
    };
    let store = &ctx.app.store;
    let Some(case) = store
        .cases_of(&account.id)?
        .into_iter()
        .rev()
        .find(|c| c.status == CaseStatus::Approved || c.status == CaseStatus::Accepted)
    else {
        return Ok(refused(ctx, "not_approved", vars));
    };
    let confirm = |r: &crate::domain::Restructure, plan: &crate::domain::Order| {
        let rows = crate::domain::schedule::build(&plan.terms).unwrap_or_default();
        let mut v = vars.clone();
        let replaced = plan
            .agreements
            .restructured_from
            .as_deref()
            .unwrap_or_default();
        set(&mut v, "order_id", replaced);
        set(&mut v, "item", &plan.item);
        set(&mut v, "balance", r.balance);
        set(&mut v, "new_order_id", &r.new_order_id);
        set(&mut v, "periods", r.periods);
        set(
            &mut v,
            "per_period",
            rows.first().map(|x| x.amount()).unwrap_or_default(),
        );
        set(&mut v, "first_due", plan.terms.first_due_date);
        set(&mut v, "case_no", case.number);
        set(&mut v, "today", r.on);
        ctx.app.flows.text(ctx.lang, "hardship.confirmation", &v)
    };
    let policy = &ctx.app.settings.policy;
    let plans = match store.accept_hardship_plan(case.number, ctx.today, policy, &confirm)? {
        AgreementOutcome::Agreed(p) => agreed(ctx, AgreementKind::Hardship, p),
        AgreementOutcome::AlreadyAgreed(p) => p,
        AgreementOutcome::Refused(reason) => return Ok(refused(ctx, reason, vars)),
    };
    tracing::info!(
        chat = ctx.chat,
        case = case.number,
        plans = plans.len(),
        "hardship plan accepted"
    );
    let lines: Vec<String> = plans.iter().map(|(r, _)| r.confirmation.clone()).collect();
    let mut v = Vars::new();
    set(&mut v, "confirmation", lines.join("\n"));
    Ok(("agreed".into(), v))
}

/// The customer declines the approved plan: the case is withdrawn, nothing else changes.
pub fn decline_plan(ctx: &EffectCtx, _vars: &Vars) -> Result<Event> {
    if let Some(account) = ctx.account {
        if let Some(case) = ctx.app.store.pending_case(&account.id)? {
            ctx.app
                .store
                .set_case_status(case.number, CaseStatus::Withdrawn, None)?;
            let withdrawn = crate::store::events::AgreementOutcome::Withdrawn;
            observe_agreement(ctx, AgreementKind::Hardship, withdrawn);
            tracing::info!(
                chat = ctx.chat,
                case = case.number,
                "hardship plan declined"
            );
        }
    }
    Ok(("done".into(), Vars::new()))
}
