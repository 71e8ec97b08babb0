//! What the front ends and the store call when something countable happens: a turn, a ticket,
//! a chat payment. Each call moves the SPEC 2.6 metrics and leaves the event the report reads.
//! Never fails the caller (an event that cannot be stored is logged); never sees message text
//! except the not-understood message, which is redacted first (`support::redact`).

use crate::store::events::{record, Event, Handler};
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

/// One answered turn of `chat` (its trace lines); `text` is what the customer typed (None for
/// a button).
pub fn turn(
    store: &Store,
    chat: &str,
    text: Option<&str>,
    trace: &[String],
    took: Duration,
    now: DateTime<Utc>,
) {
    let intent = intent_of(trace).to_string();
    crate::ops::metrics::turn(&intent, took.as_secs_f64());
    let understood = intent != "unknown";
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

/// A ticket that was just opened.
pub fn ticket_opened(store: &Store, ticket: &Ticket) {
    let reason = ticket.reason.as_str().to_string();
    crate::ops::metrics::ticket_opened(&reason);
    if let Ok(open) = store.open_tickets() {
        crate::ops::metrics::tickets_open(open.len() as i64);
    }
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
