//! What the front ends and the store call when something countable happens: a turn, a ticket
//! opened, answered or closed, a chat payment, a reminder, an agreement. Each call moves the
//! SPEC 2.6 metrics and leaves the event the report reads.
//! Never fails the caller (an event that cannot be stored is logged); never sees message text
//! except the not-understood message, which is redacted first (`support::redact`).

use crate::reminders::{Item, Kind};
use crate::store::events::{record, AgreementKind, AgreementOutcome, Event, Handler};
use crate::store::{Store, Ticket};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The intent of a turn, read from its trace lines (`intent=repay slots=...`); `none` for a
/// button press or a start, which name no intent.
pub fn intent_of(trace: &[String]) -> &str {
    trace
        .iter()
        .find_map(|t| t.split_whitespace().find_map(|w| w.strip_prefix("intent=")))
        .unwrap_or("none")
}

/// Whether the bot answered with its fallback (`common.not_understood`, or the offer of a
/// person after repeated misses), in either language. An answer the NLU calls `unknown` but
/// the conversation's step takes (a menu number, "30 days") is understood.
pub fn is_fallback(flows: &crate::dialog::Flows, replies: &[crate::core::Reply]) -> bool {
    use crate::dialog::Lang;
    let none = std::collections::BTreeMap::new();
    let keys = ["common.not_understood", "common.offer_human"];
    let texts: Vec<String> = [Lang::Zh, Lang::En]
        .iter()
        .flat_map(|l| keys.map(|k| flows.text(*l, k, &none)))
        .filter(|t| !t.is_empty())
        .collect();
    replies
        .iter()
        .any(|r| texts.iter().any(|t| r.text.starts_with(t.as_str())))
}

/// One answered turn of `chat` (its trace lines); `text` is what the customer typed (None for
/// a button); `fallback`: the bot did not understand it ([`is_fallback`]). The turn that
/// forgets the chat moves the metrics but leaves no event (it would name the chat again).
pub fn turn(
    store: &Store,
    chat: &str,
    text: Option<&str>,
    trace: &[String],
    fallback: bool,
    took: Duration,
    now: DateTime<Utc>,
) {
    let intent = intent_of(trace).to_string();
    crate::ops::metrics::turn(&intent, took.as_secs_f64());
    let understood = !fallback;
    if trace.iter().any(|t| t == "effect=forget_chat") {
        return;
    }
    let account_id = store.binding(chat).ok().flatten();
    if !understood {
        crate::ops::metrics::nlu_unknown();
        if let Some(text) = text {
            let account = account_id
                .as_deref()
                .and_then(|a| store.account(a).ok().flatten())
                .map(|s| s.data);
            record(
                store,
                Event::not_understood(chat, &crate::support::redact(text, account.as_ref())),
                now,
            );
        }
    }
    let turn = Event::Turn {
        chat: chat.to_string(),
        account: account_id,
        intent,
        understood,
        handled: Handler::Bot,
    };
    record(store, turn, now);
}

/// Sets `repaybot_tickets_open` from the store: at start (so it is right after a restart) and
/// after every change of a ticket's state.
pub fn refresh_open_tickets(store: &Store) {
    match store.open_tickets() {
        Ok(open) => crate::ops::metrics::tickets_open(open.len() as i64),
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not count open tickets"),
    }
}

/// A ticket that was just opened.
pub fn ticket_opened(store: &Store, ticket: &Ticket) {
    let reason = ticket.reason.as_str().to_string();
    crate::ops::metrics::ticket_opened(&reason);
    refresh_open_tickets(store);
    let event = Event::TicketOpened {
        ticket: ticket.number,
        chat: ticket.chat.clone(),
        reason,
    };
    record(store, event, ticket.opened_at);
}

/// A chat payment that is durable (the sandbox gateway applies it at once).
pub fn payment(
    store: &Store,
    chat: &str,
    payment_id: &str,
    kind: &str,
    amount: rust_decimal::Decimal,
    now: DateTime<Utc>,
) {
    let at = ("sandbox", "applied");
    payment_at(store, at, chat, payment_id, kind, amount, now);
}

/// A payment through `gateway` reaching `status` (`applied`, `pending`, `failed`, `expired`,
/// `refund`, `mismatch`): the http gateway reports each step it makes durable.
pub fn payment_at(
    store: &Store,
    (gateway, status): (&str, &str),
    chat: &str,
    payment_id: &str,
    kind: &str,
    amount: rust_decimal::Decimal,
    now: DateTime<Utc>,
) {
    crate::ops::metrics::payment(gateway, status, amount);
    let event = Event::Payment {
        chat: Some(chat.to_string()),
        payment_id: payment_id.to_string(),
        gateway: gateway.into(),
        kind: kind.into(),
        amount,
        status: status.into(),
    };
    record(store, event, now);
}

/// An agent's message reached the customer of `ticket`: the first one per ticket leaves a
/// `FirstAgentReply` event (the report's time to first reply), later ones nothing.
pub fn agent_replied(store: &Store, ticket: &Ticket, now: DateTime<Utc>) {
    match store.mark_first_reply(ticket.number) {
        Ok(true) => {
            let event = Event::FirstAgentReply {
                ticket: ticket.number,
                chat: ticket.chat.clone(),
            };
            record(store, event, now);
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(ticket = ticket.number, error = %format!("{e:#}"), "first reply not marked")
        }
    }
}

/// A ticket that was just closed (by an agent, the customer or an approval).
pub fn ticket_closed(store: &Store, ticket: &Ticket, now: DateTime<Utc>) {
    refresh_open_tickets(store);
    let event = Event::TicketClosed {
        ticket: ticket.number,
        chat: ticket.chat.clone(),
    };
    record(store, event, now);
}

/// The reminder day code of an installment in a message: `D-3`, `D0`, `D+7`.
pub fn reminder_kind(kind: Kind) -> String {
    match kind {
        Kind::Before(d) => format!("D-{d}"),
        Kind::DueToday => "D0".into(),
        Kind::Overdue(d) | Kind::OverdueIfUnpaid(d) => format!("D+{d}"),
    }
}

/// A reminder message to `chat` for `account` was delivered (`sent`) or failed: one event and
/// one count per installment it mentions (so sent and failed count the same unit, and the
/// report can check each reminded installment against the ledger).
pub fn reminder(
    store: &Store,
    chat: &str,
    account: &str,
    items: &[Item],
    sent: bool,
    now: DateTime<Utc>,
) {
    for item in items {
        let kind = reminder_kind(item.kind);
        let (chat, account) = (Some(chat.to_string()), account.to_string());
        let (due, order) = (item.due_date, item.order_id.clone());
        let event = if sent {
            crate::ops::metrics::reminder_sent(&kind);
            Event::ReminderSent {
                chat,
                account,
                kind,
                due,
                order,
            }
        } else {
            crate::ops::metrics::reminder_failed();
            Event::ReminderFailed {
                chat,
                account,
                kind,
                due,
                order,
            }
        };
        record(store, event, now);
    }
}

/// A negotiation reached an outcome: a deferral or re-installment agreed, a hardship case
/// approved, rejected, accepted by the customer (`agreed`) or declined (`withdrawn`).
pub fn agreement(
    store: &Store,
    chat: Option<&str>,
    account: &str,
    kind: AgreementKind,
    outcome: AgreementOutcome,
    now: DateTime<Utc>,
) {
    let event = Event::Agreement {
        chat: chat.map(str::to_string),
        account: account.to_string(),
        kind,
        outcome,
    };
    record(store, event, now);
}
