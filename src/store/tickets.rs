//! Support tickets, their indexes and the per-chat transcript ring, all in the `support` tree.
//! Ticket numbers come from one counter bumped inside a transaction (small, sequential, shown to
//! people; never `generate_id`). Every change is a transaction on the stored record (agents in the
//! group and the customer's chat race), flushed before anyone is told.

use super::records::{decode, get, Stored};
use super::Store;
use crate::dialog::Lang;
use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};

/// Key prefix of relay marks (`seen/c/tg:1/42`, `seen/g/7`).
const SEEN: &str = "seen/";
/// When relay marks were last pruned.
const MARKS_PRUNED: &[u8] = b"seen-pruned";

/// How many turns the transcript ring keeps per chat.
pub const TRANSCRIPT_TURNS: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    WithAgent,
    Closed,
}

/// Why a ticket was opened (SPEC 4.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketReason {
    Request,
    NotUnderstood,
    Complaint,
    Hardship,
    InternalError,
}

impl TicketReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketReason::Request => "request",
            TicketReason::NotUnderstood => "not_understood",
            TicketReason::Complaint => "complaint",
            TicketReason::Hardship => "hardship",
            TicketReason::InternalError => "internal_error",
        }
    }

    pub fn parse(s: &str) -> Option<TicketReason> {
        [
            TicketReason::Request,
            TicketReason::NotUnderstood,
            TicketReason::Complaint,
            TicketReason::Hardship,
            TicketReason::InternalError,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// An agent as the support group knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    pub user_id: i64,
    pub first_name: String,
}

/// An internal note (`/note`), never relayed to the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub by: i64,
    pub at: DateTime<Utc>,
    pub text: String,
}

/// An agent's decision on a hardship case (`/approve`, `/reject`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// `fee_rate_percent` is the monthly fee in percent (0.5 = 0.5 % a month; 0 = waived).
    Approve {
        periods: u32,
        fee_rate_percent: Decimal,
    },
    Reject {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: AgentRef,
    pub at: DateTime<Utc>,
    pub kind: DecisionKind,
}

/// A request for a human agent and everything the desk did with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: u64,
    pub chat: String,
    pub account_id: Option<String>,
    pub reason: TicketReason,
    /// The hardship case this ticket decides (set by the negotiation code).
    pub case_id: Option<String>,
    /// The customer's language when the ticket opened.
    pub lang: Lang,
    pub status: TicketStatus,
    pub agent: Option<AgentRef>,
    /// The forum topic of the ticket (`message_thread_id`), once created.
    pub thread_id: Option<i32>,
    /// The group message holding the ticket card.
    pub card_message_id: Option<i32>,
    /// The desk has asked the front end to create the topic / post the card.
    pub announced: bool,
    /// The customer was told when we will reply (outside support hours).
    pub late_notice_sent: bool,
    pub opened_at: DateTime<Utc>,
    pub taken_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// `agent`, `customer` or `forget`.
    pub closed_by: Option<String>,
    pub notes: Vec<Note>,
    pub decision: Option<Decision>,
}

/// What opens a ticket.
#[derive(Clone, Debug)]
pub struct NewTicket<'a> {
    pub chat: &'a str,
    pub account_id: Option<&'a str>,
    pub reason: TicketReason,
    pub case_id: Option<&'a str>,
    pub lang: Lang,
    pub now: DateTime<Utc>,
}

/// One turn of a chat: what the customer sent and what came back (already redacted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptTurn {
    pub at: DateTime<Utc>,
    /// `customer`, `bot` or `agent`: who started the turn.
    pub from: String,
    pub text: String,
    pub replies: Vec<String>,
}

/// What `/forget` removed on the support side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SupportForgotten {
    pub transcript_turns: usize,
    /// Open tickets closed because the customer asked to be forgotten.
    pub tickets_closed: Vec<u64>,
}

fn ticket_key(n: u64) -> String {
    format!("t/{n:020}")
}

fn open_key(chat: &str) -> String {
    format!("open/{chat}")
}

fn abort(e: impl std::fmt::Display) -> ConflictableTransactionError<String> {
    ConflictableTransactionError::Abort(e.to_string())
}

fn tx_error(e: TransactionError<String>) -> anyhow::Error {
    match e {
        TransactionError::Abort(m) => anyhow!("ticket transaction: {m}"),
        TransactionError::Storage(e) => anyhow!("ticket storage: {e}"),
    }
}

fn number_of(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

impl Store {
    /// Opens a ticket for the chat, or returns the one already open (`false`: not new).
    pub fn open_ticket(&self, new: NewTicket) -> Result<(Ticket, bool)> {
        let open = open_key(new.chat);
        let result = self.support.transaction(|tx| {
            if let Some(n) = tx.get(open.as_bytes())?.and_then(|v| number_of(&v)) {
                if let Some(bytes) = tx.get(ticket_key(n).as_bytes())? {
                    let t = decode::<Ticket>(&bytes).map_err(abort)?.data;
                    return Ok((t, false));
                }
            }
            let last = tx
                .get(b"seq")?
                .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
                .map_or(0, u64::from_be_bytes);
            let number = last + 1;
            let ticket = Ticket {
                number,
                chat: new.chat.to_string(),
                account_id: new.account_id.map(str::to_string),
                reason: new.reason,
                case_id: new.case_id.map(str::to_string),
                lang: new.lang,
                status: TicketStatus::Waiting,
                agent: None,
                thread_id: None,
                card_message_id: None,
                announced: false,
                late_notice_sent: false,
                opened_at: new.now,
                taken_at: None,
                closed_at: None,
                closed_by: None,
                notes: Vec::new(),
                decision: None,
            };
            tx.insert(b"seq".as_ref(), &number.to_be_bytes())?;
            let record = Stored::new(format!("chat:{}", new.chat), ticket.clone());
            tx.insert(ticket_key(number).as_bytes(), record.to_bytes())?;
            tx.insert(open.as_bytes(), number.to_string().as_bytes())?;
            Ok((ticket, true))
        });
        let out = result.map_err(tx_error)?;
        self.flush()?;
        Ok(out)
    }

    pub fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        Ok(get::<Ticket>(&self.support, ticket_key(number).as_bytes())?.map(|s| s.data))
    }

    /// The chat's open (waiting or taken) ticket.
    pub fn open_ticket_of(&self, chat: &str) -> Result<Option<Ticket>> {
        match self.support.get(open_key(chat).as_bytes())? {
            Some(v) => match number_of(&v) {
                Some(n) => self.ticket(n),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Changes a ticket in one transaction: `change` edits a fresh copy and returns whether it
    /// changed anything (it may run more than once: no side effects). A ticket that becomes
    /// closed leaves the open index. Returns the ticket after the change and whether it changed.
    pub fn update_ticket(
        &self,
        number: u64,
        change: impl Fn(&mut Ticket) -> bool,
    ) -> Result<Option<(Ticket, bool)>> {
        let key = ticket_key(number);
        let result = self.support.transaction(|tx| {
            let Some(bytes) = tx.get(key.as_bytes())? else {
                return Ok(None);
            };
            let stored = decode::<Ticket>(&bytes).map_err(abort)?;
            let mut t = stored.data;
            if !change(&mut t) {
                return Ok(Some((t, false)));
            }
            let record = Stored::new(stored.origin.clone(), t.clone());
            tx.insert(key.as_bytes(), record.to_bytes())?;
            if t.status == TicketStatus::Closed {
                let open = open_key(&t.chat);
                if tx.get(open.as_bytes())?.and_then(|v| number_of(&v)) == Some(number) {
                    tx.remove(open.as_bytes())?;
                }
            }
            Ok(Some((t, true)))
        });
        let out = result.map_err(tx_error)?;
        if out.as_ref().is_some_and(|(_, changed)| *changed) {
            self.flush()?;
        }
        Ok(out)
    }

    /// Every ticket, oldest first.
    pub fn tickets(&self) -> Result<Vec<Ticket>> {
        let mut out = Vec::new();
        for entry in self.support.scan_prefix(b"t/") {
            let (_, v) = entry?;
            out.push(decode::<Ticket>(&v)?.data);
        }
        Ok(out)
    }

    /// Waiting and taken tickets, oldest first (from the open index, not a scan of all tickets).
    pub fn open_tickets(&self) -> Result<Vec<Ticket>> {
        let mut out = Vec::new();
        for entry in self.support.scan_prefix(b"open/") {
            let (_, v) = entry?;
            if let Some(t) = number_of(&v).map(|n| self.ticket(n)).transpose()?.flatten() {
                out.push(t);
            }
        }
        out.sort_by_key(|t| t.number);
        Ok(out)
    }

    /// Remembers that a group message (card, relayed message, topic) belongs to a ticket.
    pub fn link_group_message(&self, message_id: i32, number: u64) -> Result<()> {
        self.link(&format!("gmsg/{message_id}"), number)
    }

    pub fn ticket_of_group_message(&self, message_id: i32) -> Result<Option<u64>> {
        self.linked(&format!("gmsg/{message_id}"))
    }

    pub fn link_thread(&self, thread_id: i32, number: u64) -> Result<()> {
        self.link(&format!("thread/{thread_id}"), number)
    }

    pub fn ticket_of_thread(&self, thread_id: i32) -> Result<Option<u64>> {
        self.linked(&format!("thread/{thread_id}"))
    }

    /// `key` (a group message or a topic) names ticket `number`; flushed.
    fn link(&self, key: &str, number: u64) -> Result<()> {
        self.support
            .insert(key.as_bytes(), number.to_string().as_bytes())?;
        self.flush()
    }

    fn linked(&self, key: &str) -> Result<Option<u64>> {
        let v = self.support.get(key.as_bytes())?;
        Ok(v.and_then(|v| number_of(&v)))
    }

    /// Marks a source message (e.g. `c/tg:1/42`, `g/7`) as handled at `now`: true the first time
    /// only, so a message redelivered after a restart is not relayed twice. Flushed. Marks older
    /// than a few days are pruned ([`Store::prune_relay_marks`]).
    pub fn first_time(&self, source: &str, now: DateTime<Utc>) -> Result<bool> {
        let key = format!("{SEEN}{source}");
        let at = now.timestamp().to_be_bytes();
        let fresh = self
            .support
            .compare_and_swap(key.as_bytes(), None as Option<&[u8]>, Some(&at[..]))?
            .is_ok();
        if fresh {
            self.flush()?;
        }
        Ok(fresh)
    }

    /// Removes relay marks made before `before` and records `now` as the time of this pruning.
    /// A mark without a time (written by an older version) is dated `now`, so it goes later.
    /// Returns how many marks were removed.
    pub fn prune_relay_marks(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<usize> {
        let mut removed = 0;
        for entry in self.support.scan_prefix(SEEN.as_bytes()) {
            let (key, value) = entry?;
            match <[u8; 8]>::try_from(value.as_ref()).map(i64::from_be_bytes) {
                Ok(at) if at < before.timestamp() => {
                    self.support.remove(key)?;
                    removed += 1;
                }
                Ok(_) => {}
                Err(_) => {
                    self.support
                        .insert(key, now.timestamp().to_be_bytes().to_vec())?;
                }
            }
        }
        self.support
            .insert(MARKS_PRUNED, now.timestamp().to_be_bytes().to_vec())?;
        self.flush()?;
        Ok(removed)
    }

    /// When relay marks were last pruned (None: never).
    pub fn marks_pruned_at(&self) -> Result<Option<DateTime<Utc>>> {
        let Some(v) = self.support.get(MARKS_PRUNED)? else {
            return Ok(None);
        };
        let secs = <[u8; 8]>::try_from(v.as_ref()).map(i64::from_be_bytes).ok();
        Ok(secs.and_then(|s| DateTime::from_timestamp(s, 0)))
    }

    /// How many relay marks the store holds.
    pub fn relay_marks(&self) -> usize {
        self.support.scan_prefix(SEEN.as_bytes()).count()
    }

    /// Appends a turn to the chat's transcript, keeping the last `TRANSCRIPT_TURNS`.
    pub fn record_turn(&self, chat: &str, turn: TranscriptTurn) -> Result<()> {
        let key = format!("tx/{chat}");
        self.support.fetch_and_update(key.as_bytes(), |old| {
            let mut turns: Vec<TranscriptTurn> = old
                .and_then(|b| decode::<Vec<TranscriptTurn>>(b).ok())
                .map(|s| s.data)
                .unwrap_or_default();
            turns.push(turn.clone());
            let excess = turns.len().saturating_sub(TRANSCRIPT_TURNS);
            turns.drain(..excess);
            Some(Stored::new(format!("chat:{chat}"), turns).to_bytes())
        })?;
        Ok(())
    }

    /// The chat's last turns, oldest first (empty when unreadable).
    pub fn transcript(&self, chat: &str) -> Result<Vec<TranscriptTurn>> {
        Ok(
            get::<Vec<TranscriptTurn>>(&self.support, format!("tx/{chat}").as_bytes())
                .ok()
                .flatten()
                .map(|s| s.data)
                .unwrap_or_default(),
        )
    }

    /// Deletes the chat's transcript ring; returns how many turns it held.
    pub fn forget_transcript(&self, chat: &str) -> Result<usize> {
        let n = self.transcript(chat)?.len();
        self.support.remove(format!("tx/{chat}").as_bytes())?;
        self.flush()?;
        Ok(n)
    }

    /// `/forget` on the support side: the transcript goes, an open ticket is closed. Closed
    /// tickets stay (they may hold a hardship decision the shop must keep) but hold no transcript.
    pub fn forget_support(&self, chat: &str, now: DateTime<Utc>) -> Result<SupportForgotten> {
        let mut report = SupportForgotten {
            transcript_turns: self.forget_transcript(chat)?,
            ..Default::default()
        };
        if let Some(t) = self.open_ticket_of(chat)? {
            self.update_ticket(t.number, |t| close(t, "forget", now))?;
            report.tickets_closed.push(t.number);
        }
        Ok(report)
    }

    /// Desk settings changed by admins in the group (alias, hours), over the config file's.
    pub fn desk_overrides<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>> {
        Ok(get::<T>(&self.support, b"cfg")?.map(|s| s.data))
    }

    pub fn set_desk_overrides<T: Serialize>(&self, value: T, origin: &str) -> Result<()> {
        self.support
            .insert(b"cfg", Stored::new(origin, value).to_bytes())?;
        self.flush()
    }
}

/// Closes an open ticket (false when it was closed already).
pub fn close(t: &mut Ticket, by: &str, now: DateTime<Utc>) -> bool {
    if t.status == TicketStatus::Closed {
        return false;
    }
    t.status = TicketStatus::Closed;
    t.closed_at = Some(now);
    t.closed_by = Some(by.to_string());
    true
}
