//! Hardship decisions (`/approve`, `/reject`) applied through ONE function.
//!
//! LEAD: connect the hardship case record here. Today `apply_decision` records the decision on the
//! ticket (once; a second decision is refused) and tells the customer the decision text. What is
//! left: with `ticket.case_id` (set when the case opened its ticket through
//! `App::open_ticket_for_case`), mark the case approved/rejected in the `cases` tree in the same
//! step, build the approved plan (periods, monthly fee in percent) with the domain ledger and let the
//! customer confirm it in chat (SPEC 4.8: "the customer hears the decision and confirms the approved
//! plan in chat"), and resume overdue reminders when the case closes.

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
    let store = &desk.app.store;
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
