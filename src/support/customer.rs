//! The customer side of the desk: announcing new tickets to the group, relaying a customer's
//! messages while a ticket is open (the bot stays quiet), leaving the queue, and the honest
//! "we will reply at ..." outside support hours.

use super::{vars, Content, Desk, Outgoing};
use crate::store::{close_ticket, Ticket, TicketReason, TicketStatus, TranscriptTurn};
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};

impl Desk<'_> {
    /// A private message of the customer in `chat_key`. `None`: no open ticket, the bot answers
    /// (then call [`Desk::after_turn`]). `Some`: the desk handled it (possibly with no action,
    /// e.g. a redelivered message); the bot stays quiet.
    pub fn on_customer(
        &self,
        chat_key: &str,
        message_id: i32,
        msg: &Content,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Outgoing>>> {
        let store = &self.core.store;
        let Some(t) = store.open_ticket_of(chat_key)? else {
            return Ok(None);
        };
        // A hardship case waits for a decision, not for a conversation: until an agent takes it,
        // the bot keeps answering (the customer can ask the case's status, pay, ...).
        if t.reason == TicketReason::Hardship && t.status == TicketStatus::Waiting {
            return Ok(None);
        }
        if !store.first_time(&format!("c/{chat_key}/{message_id}"), now)? {
            tracing::info!(
                chat = chat_key,
                ticket = t.number,
                "customer message seen before"
            );
            return Ok(Some(Vec::new()));
        }
        if let Content::Text(text) = msg {
            if self.is_cancel(text) {
                return self.leave(&t, now).map(Some);
            }
        }
        let account = self.account_of(&t);
        let shown = |s: &str| super::redact(s, account.as_ref());
        let mut out = Vec::new();
        let tag = vars(&[("ticket_no", t.number.to_string())]);
        match msg {
            Content::Text(text) => {
                self.record(&t.chat, "customer", &shown(text), now)?;
                let mut v = tag.clone();
                v.insert("text".into(), shown(text));
                out.push(self.to_group(
                    Some(&t),
                    None,
                    self.group_text("support.from_customer", &v),
                ));
            }
            Content::File {
                file_id,
                kind,
                caption,
            } => {
                let mut v = tag.clone();
                v.insert(
                    "text".into(),
                    caption.as_deref().map(shown).unwrap_or_default(),
                );
                let caption = self.group_text("support.from_customer", &v);
                self.record(&t.chat, "customer", &format!("[{kind:?}] {caption}"), now)?;
                out.push(Outgoing::ToGroupFile {
                    thread_id: t.thread_id,
                    file_id: file_id.clone(),
                    kind: *kind,
                    caption: Some(caption),
                    ticket: Some(t.number),
                });
            }
        }
        tracing::info!(
            chat = chat_key,
            ticket = t.number,
            "customer message relayed"
        );
        out.extend(self.late_notice(&t, now)?);
        Ok(Some(out))
    }

    fn is_cancel(&self, text: &str) -> bool {
        let t = text.trim();
        let word = t.strip_prefix('/').and_then(|c| c.split(['@', ' ']).next());
        word == Some("cancel")
            || (!t.starts_with('/')
                && self.core.nlu.understand(t, chrono::NaiveDate::MIN).intent
                    == crate::nlu::Intent::Cancel)
    }

    pub(super) fn account_of(&self, t: &Ticket) -> Option<crate::domain::Account> {
        let id = t.account_id.as_deref()?;
        self.core.store.account(id).ok().flatten().map(|a| a.data)
    }

    fn record(&self, chat: &str, from: &str, text: &str, now: DateTime<Utc>) -> Result<()> {
        self.core.store.record_turn(
            chat,
            TranscriptTurn {
                at: now,
                from: from.to_string(),
                text: text.to_string(),
                replies: Vec::new(),
            },
        )
    }

    /// The customer leaves the queue (or ends the conversation with the agent).
    fn leave(&self, t: &Ticket, now: DateTime<Utc>) -> Result<Vec<Outgoing>> {
        let changed = self
            .core
            .store
            .update_ticket(t.number, |t| close_ticket(t, "customer", now))?;
        if !changed.is_some_and(|(_, c)| c) {
            return Ok(Vec::new());
        }
        crate::ops::observe::ticket_closed(&self.core.store, t, now);
        tracing::info!(chat = %t.chat, ticket = t.number, "customer left the ticket");
        let v = vars(&[("ticket_no", t.number.to_string())]);
        let key = if t.status == TicketStatus::Waiting {
            "support.left_queue"
        } else {
            "support.customer_ended"
        };
        Ok(vec![
            self.to_customer(t, key, &v),
            self.to_group(Some(t), None, self.group_text("support.customer_left", &v)),
        ])
    }

    /// After a bot turn in `chat_key`: a ticket the turn opened goes to the group.
    pub fn after_turn(&self, chat_key: &str, now: DateTime<Utc>) -> Result<Vec<Outgoing>> {
        match self.core.store.open_ticket_of(chat_key)? {
            Some(t) if !t.announced => self.announce(t.number, now),
            _ => Ok(Vec::new()),
        }
    }

    /// Announces a new ticket: a topic (then the card, see `topic_created`) or the tagged card.
    /// Once per ticket; nothing without a configured support group.
    pub fn announce(&self, ticket: u64, now: DateTime<Utc>) -> Result<Vec<Outgoing>> {
        if self.settings().group_id.is_none() {
            return Ok(Vec::new());
        }
        let claimed = self.core.store.update_ticket(ticket, |t| {
            if t.announced || t.status == TicketStatus::Closed {
                return false;
            }
            t.announced = true;
            true
        })?;
        let Some((t, true)) = claimed else {
            return Ok(Vec::new());
        };
        tracing::info!(chat = %t.chat, ticket = t.number, "ticket announced");
        if self.settings().forum_topics {
            let v = vars(&[
                ("ticket_no", t.number.to_string()),
                ("reason", self.reason_label(&t)),
            ]);
            let name = self.group_text("support.topic_name", &v);
            return Ok(vec![Outgoing::CreateTopic {
                ticket: t.number,
                name,
            }]);
        }
        let card = self.card(&t, now)?;
        Ok(vec![self.to_group(Some(&t), None, card)])
    }

    /// Periodic work: late notices and announcements a restart interrupted (a topic requested but
    /// never reported created is requested again).
    pub fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Outgoing>> {
        self.prune_marks(now)?;
        let mut out = Vec::new();
        for t in self.core.store.open_tickets()? {
            let lost_topic = t.announced && self.settings().forum_topics && t.thread_id.is_none();
            if lost_topic {
                self.core.store.update_ticket(t.number, |t| {
                    let was = t.announced;
                    t.announced = false;
                    was
                })?;
            }
            if !t.announced || lost_topic {
                out.extend(self.announce(t.number, now)?);
            }
            out.extend(self.late_notice(&t, now)?);
        }
        Ok(out)
    }

    /// Forgets relay marks older than [`MARKS_KEPT_DAYS`](super::MARKS_KEPT_DAYS) (Telegram redelivers
    /// only recent updates), at most once an hour.
    fn prune_marks(&self, now: DateTime<Utc>) -> Result<()> {
        let store = &self.core.store;
        let due = store
            .marks_pruned_at()?
            .is_none_or(|at| now - at >= Duration::hours(1));
        if !due {
            return Ok(());
        }
        let before = now - Duration::days(super::MARKS_KEPT_DAYS);
        let pruned = store.prune_relay_marks(before, now)?;
        if pruned > 0 {
            tracing::info!(pruned, "old relay marks forgotten");
        }
        Ok(())
    }

    /// "We will reply at HH:MM" once, for a ticket waiting past the notice time outside hours.
    fn late_notice(&self, t: &Ticket, now: DateTime<Utc>) -> Result<Vec<Outgoing>> {
        let hours = self.hours();
        let tz = self.settings().timezone;
        let waited = now - t.opened_at;
        let due = waited >= Duration::minutes(i64::from(self.settings().wait_notice_minutes));
        if t.status != TicketStatus::Waiting || t.late_notice_sent || !due || hours.is_open(now, tz)
        {
            return Ok(Vec::new());
        }
        let claimed = self.core.store.update_ticket(t.number, |t| {
            let first = !t.late_notice_sent;
            t.late_notice_sent = true;
            first
        })?;
        if !claimed.is_some_and(|(_, c)| c) {
            return Ok(Vec::new());
        }
        let (at, other_day) = hours.next_open(now, tz);
        let v = vars(&[
            ("ticket_no", t.number.to_string()),
            ("reply_at", at.format("%H:%M").to_string()),
            ("support_hours", hours.show()),
        ]);
        let key = if other_day {
            "support.reply_tomorrow"
        } else {
            "support.reply_today"
        };
        Ok(vec![self.to_customer(t, key, &v)])
    }
}
