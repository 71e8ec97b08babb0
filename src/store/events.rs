//! Operations events for `repaybot report` (SPEC 2.6): small versioned records of what the bot
//! did (turns, tickets, payments, reminders, agreements), ids and outcomes only. They never hold
//! message text (except the redacted, digit-masked text of messages not understood), names or
//! phones. Recording never fails a turn: `record` logs a storage error and goes on.
//!
//! Key layout (two trees, written in one transaction):
//!
//! | tree          | key                                            | value                      |
//! |---------------|------------------------------------------------|----------------------------|
//! | `events`      | UTC seconds (i64 BE, sign bit flipped), seq u64 BE | `{"v":1,"type":..,..}` |
//! | `events_chat` | chat 0x00 the `events` key                     | empty: the chat's events   |
//! | `events_first_reply` | ticket number (u64 BE)                  | empty: first reply recorded |
//!
//! A date range is one range scan of `events`; `forget_chat` is one prefix scan of
//! `events_chat`; `prune_events` removes everything older than `[ops] keep_days`.

use super::{Store, SEP};
use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The version of event records written by this build.
pub const EVENT_VERSION: u32 = 1;

/// The longest redacted not-understood message kept, in characters.
pub const UNKNOWN_TEXT_CHARS: usize = 60;

/// Who answered a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handler {
    Bot,
    Person,
}

/// What kind of agreement a negotiation reached (SPEC 3.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    Deferral,
    Reinstallment,
    Hardship,
}

/// How a negotiation ended: a deferral or re-installment is `agreed`; a hardship case is
/// approved, rejected or withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementOutcome {
    Agreed,
    Approved,
    Rejected,
    Withdrawn,
}

/// One thing the bot did. `chat` is the chat key (`tg:12345`), kept so `/forget` can remove it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Turn {
        chat: String,
        account: Option<String>,
        intent: String,
        understood: bool,
        handled: Handler,
    },
    /// The redacted text of a message the bot did not understand (see [`redact_unknown`]).
    NotUnderstood {
        chat: String,
        text: String,
    },
    TicketOpened {
        ticket: u64,
        chat: String,
        reason: String,
    },
    FirstAgentReply {
        ticket: u64,
        chat: String,
    },
    TicketClosed {
        ticket: u64,
        chat: String,
    },
    Payment {
        chat: Option<String>,
        payment_id: String,
        gateway: String,
        /// `installment`, `settlement`, ...
        kind: String,
        amount: Decimal,
        /// `applied`, `pending`, `failed`, `expired`.
        status: String,
    },
    ReminderSent {
        chat: Option<String>,
        account: String,
        /// `D-3`, `D0`, `D+1`, ...
        kind: String,
        due: NaiveDate,
        order: String,
    },
    ReminderFailed {
        chat: Option<String>,
        account: String,
        kind: String,
        due: NaiveDate,
        order: String,
    },
    Agreement {
        chat: Option<String>,
        account: String,
        kind: AgreementKind,
        outcome: AgreementOutcome,
    },
}

impl Event {
    /// The chat the event belongs to, when it belongs to one.
    pub fn chat(&self) -> Option<&str> {
        match self {
            Event::Turn { chat, .. }
            | Event::NotUnderstood { chat, .. }
            | Event::TicketOpened { chat, .. }
            | Event::FirstAgentReply { chat, .. }
            | Event::TicketClosed { chat, .. } => Some(chat),
            Event::Payment { chat, .. }
            | Event::ReminderSent { chat, .. }
            | Event::ReminderFailed { chat, .. }
            | Event::Agreement { chat, .. } => chat.as_deref(),
        }
    }

    /// A not-understood message event, its text redacted here (digits masked, shortened).
    pub fn not_understood(chat: &str, text: &str) -> Event {
        Event::NotUnderstood {
            chat: chat.to_string(),
            text: redact_unknown(text),
        }
    }
}

/// The stored form: the version beside the event's own fields.
#[derive(Serialize, Deserialize)]
struct Record {
    v: u32,
    #[serde(flatten)]
    event: Event,
}

/// An event read back with the instant it was recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub at: DateTime<Utc>,
    pub event: Event,
}

/// Text of a not-understood message as the report may show it: every digit masked as `#`,
/// whitespace runs as one space, at most [`UNKNOWN_TEXT_CHARS`] characters.
pub fn redact_unknown(text: &str) -> String {
    let masked: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .map(|c| if c.is_numeric() { '#' } else { c })
        .take(UNKNOWN_TEXT_CHARS)
        .collect();
    masked
}

/// Records `event` at `now`. Never fails: a storage error is logged (without the event's
/// content) and the caller goes on.
pub fn record(store: &Store, event: Event, now: DateTime<Utc>) {
    if let Err(e) = store.record_event(event, now) {
        tracing::warn!(error = %format!("{e:#}"), "could not record an operations event");
    }
}

fn time_prefix(at: DateTime<Utc>) -> [u8; 8] {
    ((at.timestamp() as u64) ^ (1 << 63)).to_be_bytes()
}

fn event_key(at: DateTime<Utc>, seq: u64) -> Vec<u8> {
    let mut key = time_prefix(at).to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn instant_of_key(key: &[u8]) -> Option<DateTime<Utc>> {
    let secs = u64::from_be_bytes(key.get(..8)?.try_into().ok()?) ^ (1 << 63);
    Utc.timestamp_opt(secs as i64, 0).single()
}

fn chat_index_key(chat: &str, event_key: &[u8]) -> Vec<u8> {
    let mut key = chat.as_bytes().to_vec();
    key.push(SEP);
    key.extend_from_slice(event_key);
    key
}

impl Store {
    fn events_trees(&self) -> Result<(sled::Tree, sled::Tree)> {
        Ok((
            self.db.open_tree("events")?,
            self.db.open_tree("events_chat")?,
        ))
    }

    /// Writes one event and its chat index entry, the index first: sled recovers a prefix of
    /// its log, so an event that survives a crash has its index entry and `/forget` finds it
    /// (a lone index entry points at nothing and is skipped). Not a transaction: a sled
    /// transaction writes its own log buffer and waits for the disk (twice), which in a burst
    /// cost more than the turn itself. Not flushed: an event lost in a crash costs a report a
    /// count, never a customer anything.
    pub fn record_event(&self, event: Event, now: DateTime<Utc>) -> Result<()> {
        let (events, by_chat) = self.events_trees()?;
        let key = event_key(now, self.db.generate_id()?);
        let index = event.chat().map(|c| chat_index_key(c, &key));
        let bytes = serde_json::to_vec(&Record {
            v: EVENT_VERSION,
            event,
        })?;
        if let Some(index) = &index {
            by_chat
                .insert(index.as_slice(), &[][..])
                .context("recording an event's chat index")?;
        }
        events
            .insert(key.as_slice(), bytes.as_slice())
            .context("recording an event")?;
        Ok(())
    }

    /// Events recorded in `from ..= to` (whole seconds), oldest first. Records of an unknown
    /// version or shape are skipped (and counted in the log), never a failure of the report.
    pub fn events_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Recorded>> {
        self.events_between_with(from, to, &mut |_| {})
    }

    /// `events_between`, calling `seen(at)` for each event read (a progress bar's position).
    pub fn events_between_with(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        seen: &mut dyn FnMut(DateTime<Utc>),
    ) -> Result<Vec<Recorded>> {
        let (events, _) = self.events_trees()?;
        let mut out = Vec::new();
        let mut skipped = 0usize;
        let end = event_key(to, u64::MAX);
        for entry in events.range(event_key(from, 0)..=end) {
            let (key, value) = entry?;
            match (
                instant_of_key(&key),
                serde_json::from_slice::<Record>(&value),
            ) {
                (Some(at), Ok(r)) if r.v == EVENT_VERSION => {
                    seen(at);
                    out.push(Recorded { at, event: r.event })
                }
                _ => skipped += 1,
            }
        }
        if skipped > 0 {
            tracing::warn!(skipped, "events of another version or shape were skipped");
        }
        Ok(out)
    }

    /// Removes every event of a chat (for `/forget`); flushed. Returns how many.
    pub fn forget_chat_events(&self, chat: &str) -> Result<usize> {
        let (events, by_chat) = self.events_trees()?;
        let mut prefix = chat.as_bytes().to_vec();
        prefix.push(SEP);
        let mut n = 0;
        for key in by_chat.scan_prefix(&prefix).keys() {
            let key = key?;
            events.remove(&key[prefix.len()..])?;
            by_chat.remove(&key)?;
            n += 1;
        }
        self.flush()?;
        Ok(n)
    }

    /// Removes events recorded more than `keep_days` days before `now`. Returns how many.
    pub fn prune_events(&self, now: DateTime<Utc>, keep_days: u32) -> Result<usize> {
        let (events, by_chat) = self.events_trees()?;
        let cutoff = now - chrono::Duration::days(i64::from(keep_days));
        let mut n = 0;
        for entry in events.range(..time_prefix(cutoff)) {
            let (key, value) = entry?;
            let chat = serde_json::from_slice::<Record>(&value)
                .ok()
                .and_then(|r| r.event.chat().map(str::to_string));
            if let Some(c) = chat {
                by_chat.remove(chat_index_key(&c, &key))?;
            }
            events.remove(&key)?;
            n += 1;
        }
        Ok(n)
    }

    /// Marks ticket `number` as answered by an agent: true the first time only (so its
    /// `FirstAgentReply` event is recorded once, across restarts).
    pub fn mark_first_reply(&self, number: u64) -> Result<bool> {
        let tree = self.db.open_tree("events_first_reply")?;
        let swapped = tree.compare_and_swap(number.to_be_bytes(), None::<&[u8]>, Some(&[][..]))?;
        Ok(swapped.is_ok())
    }

    /// Whether the database answers a read (for `/healthz`).
    pub fn ping(&self) -> Result<()> {
        self.events_trees()?.0.first()?;
        Ok(())
    }
}

/// `Store::prune_events` for a long-running caller (serve at start, the scheduler daily):
/// logs how many were removed, or the error, and goes on.
pub fn prune_logged(store: &Store, now: DateTime<Utc>, keep_days: u32) {
    match store.prune_events(now, keep_days) {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, keep_days, "old operations events pruned"),
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not prune operations events"),
    }
}

/// `Store::forget_chat_events`, named for the `/forget` hook.
pub fn forget_chat(store: &Store, chat: &str) -> Result<usize> {
    store.forget_chat_events(chat)
}
