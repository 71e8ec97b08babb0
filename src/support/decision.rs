//! Hardship decisions (`/approve`, `/reject`) applied through ONE function: recorded on the
//! ticket (once; a second decision is refused) and on the hardship case (`cases` tree). An
//! approval hands the chat back to the bot, where the customer sees the plan and confirms or
//! declines it (`negotiate` flow, SPEC 4.8); a rejection keeps the ticket open for questions.
//! Overdue reminders resume when the case is no longer pending.

use super::{vars, Desk, Outgoing};
use crate::store::{AgentRef, Decision, DecisionKind, TicketReason, TicketStatus};
use anyhow::Result;
use chrono::{DateTime, Utc};

/// What applying a decision did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionOutcome {
    Recorded,
    /// The ticket is not a hardship case.
    NotHardship,
    AlreadyDecided,
    NoTicket,
}

/// Records `kind` on ticket `ticket` by `agent` and returns what to tell the customer and the
/// group. Idempotent: the first decision stands.
pub fn apply_decision(
    desk: &Desk,
    ticket: u64,
    kind: DecisionKind,
    agent: &AgentRef,
    now: DateTime<Utc>,
) -> Result<(DecisionOutcome, Vec<Outgoing>)> {
    let store = &desk.core.store;
    let Some(t) = store.ticket(ticket)? else {
        return Ok((DecisionOutcome::NoTicket, Vec::new()));
    };
    if t.reason != TicketReason::Hardship {
        return Ok((DecisionOutcome::NotHardship, Vec::new()));
    }
    let decision = Decision {
        by: agent.clone(),
        at: now,
        kind: kind.clone(),
    };
    let changed = store.update_ticket(ticket, |t| {
        if t.decision.is_some() || t.status == TicketStatus::Closed {
            return false;
        }
        t.decision = Some(decision.clone());
        true
    })?;
    if !changed.is_some_and(|(_, c)| c) {
        return Ok((DecisionOutcome::AlreadyDecided, Vec::new()));
    }
    tracing::info!(ticket, agent = agent.user_id, "hardship decision recorded");
    let case_no = t.case_id.as_deref().and_then(|c| c.parse::<u64>().ok());
    if let Some(number) = case_no {
        record_on_case(desk, number, &kind)?;
    }
    observe(store, &t, &kind, now);
    if matches!(kind, DecisionKind::Approve { .. }) {
        // The customer confirms the plan with the bot, so the chat goes back to it.
        store.update_ticket(ticket, |t| crate::store::close_ticket(t, "agent", now))?;
        crate::ops::observe::ticket_closed(store, &t, now);
    }
    let (key, v) = match &kind {
        DecisionKind::Approve {
            periods,
            fee_rate_percent,
        } => (
            "support.approved",
            vars(&[
                ("ticket_no", t.number.to_string()),
                ("periods", periods.to_string()),
                ("fee_rate", fee_rate_percent.to_string()),
            ]),
        ),
        DecisionKind::Reject { reason } => (
            "support.rejected",
            vars(&[
                ("ticket_no", t.number.to_string()),
                ("reason", reason.clone()),
            ]),
        ),
    };
    Ok((
        DecisionOutcome::Recorded,
        vec![desk.to_customer(&t, key, &v)],
    ))
}

/// Writes the decision on the hardship case: the approved plan (monthly fee from percent) waiting
/// for the customer's confirmation, or the rejection and its reason.
fn record_on_case(desk: &Desk, number: u64, kind: &DecisionKind) -> Result<()> {
    let store = &desk.core.store;
    match kind {
        DecisionKind::Approve {
            periods,
            fee_rate_percent,
        } => {
            let plan = crate::domain::ApprovedPlan {
                periods: *periods,
                monthly_rate: *fee_rate_percent / rust_decimal::Decimal::from(100),
            };
            store.approve_case(number, plan, String::new())?;
        }
        DecisionKind::Reject { reason } => {
            store.set_case_status(
                number,
                crate::domain::CaseStatus::Rejected,
                Some(reason.clone()),
            )?;
        }
    }
    Ok(())
}

/// The decision's event for the report: a hardship case approved or rejected.
fn observe(
    store: &crate::store::Store,
    t: &crate::store::Ticket,
    kind: &DecisionKind,
    now: DateTime<Utc>,
) {
    use crate::store::events::{AgreementKind, AgreementOutcome};
    let outcome = match kind {
        DecisionKind::Approve { .. } => AgreementOutcome::Approved,
        DecisionKind::Reject { .. } => AgreementOutcome::Rejected,
    };
    let account = t.account_id.as_deref().unwrap_or("");
    crate::ops::observe::agreement(
        store,
        Some(&t.chat),
        account,
        AgreementKind::Hardship,
        outcome,
        now,
    );
}
