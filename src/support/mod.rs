//! The support desk core (SPEC 4.11): tickets reach a Telegram support group, agents and customers
//! talk through the bot, `/close` hands the chat back. It knows NO teloxide: each call gets plain
//! values and returns the [`Outgoing`] actions the front end performs; what it did is recorded in
//! the store first (a source message is relayed once, across restarts).
//!
//! # What the front end calls
//!
//! 1. **A private customer message** (text, photo, document): [`Desk::on_customer`]. `Some(actions)`:
//!    the chat has an open ticket, perform the actions and do NOT run the bot. `None`: no ticket,
//!    run the bot as usual (the app's `respond`), send its replies, then call
//!    [`Desk::after_turn`] and perform what it returns (a ticket the turn opened is announced).
//! 2. **A message in the support group**: [`Desk::on_group`] with `sender_is_member` (from
//!    `getChatMember`, or true when Telegram delivered it from the group itself: only members post
//!    there). Non-members are ignored.
//! 3. **A ticket opened by app code outside a customer turn** (e.g. a hardship case): [`Desk::announce`]
//!    with its number. Once a minute (and at start-up): [`Desk::tick`] (late notices outside support
//!    hours, announcements a crash interrupted).
//!
//! After performing an action the front end reports back: [`Desk::topic_created`] with the new
//! `message_thread_id` after `CreateTopic` (returns the card to post), and [`Desk::posted`] with the
//! group `message_id` of every `ToGroup`/`ToGroupFile` that names a ticket (reply-to mapping).
//!
//! # Outgoing in Bot API terms
//!
//! Every text is plain (send without `parse_mode`, so nothing needs escaping). `chat_key` is
//! `tg:<chat id>`; the group is `[support] group_id`.
//! - `ToCustomer` → `sendMessage(chat_id, text)`.
//! - `ToCustomerFile` → `sendPhoto`/`sendDocument(chat_id, file_id, caption)` (a file id of the
//!   group is valid for the same bot) or `copyMessage`.
//! - `CreateTopic` → `createForumTopic(group_id, name)`, then `Desk::topic_created`.
//! - `ToGroup` → `sendMessage(group_id, text, message_thread_id)`, then `Desk::posted`.
//! - `ToGroupFile` → `sendPhoto`/`sendDocument(group_id, file_id, caption, message_thread_id)`.
//!
//! Relays are at most once: the source message is marked before the actions are returned, as
//! teloxide confirms updates before handlers finish anyway.

mod card;
mod commands;
mod config;
mod customer;
mod decision;
mod group;
mod redact;

pub use commands::{AgentCommand, CommandError};
pub use config::{DeskOverrides, Hours, SupportConfig, SupportSettings};
pub use decision::apply_decision;
pub use redact::redact;

use crate::core::Core;
use crate::dialog::Lang;
use crate::store::{AgentRef, Ticket, TicketStatus};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Placeholders the support texts use (added to what `dialogs check` accepts).
pub const TEXT_VARS: &[&str] = &[
    "ticket_no",
    "queue_place",
    "support_hours",
    "reply_at",
    "agent",
    "text",
    "reason",
    "phone",
    "lines",
    "fee_rate",
    "periods",
    "waited",
    "usage",
];

/// Relay marks (a customer's or an agent's message was relayed) are kept this long, then pruned
/// by [`Desk::tick`]: far longer than Telegram redelivers an update.
pub const MARKS_KEPT_DAYS: i64 = 7;

/// What a photo or document is, for the right Bot API method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Photo,
    Document,
}

/// A message's content: text, or a file by Telegram file id with an optional caption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Text(String),
    File {
        file_id: String,
        kind: FileKind,
        caption: Option<String>,
    },
}

/// What a customer sent in their private chat.
pub type CustomerMessage = Content;

/// The message an agent's message replies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepliedTo {
    pub message_id: i32,
    /// Its text or caption (a `#T12` tag in it names the ticket).
    pub text: Option<String>,
}

/// A message in the support group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMessage {
    pub message_id: i32,
    /// The forum topic (`message_thread_id`), None in the General topic or a group without topics.
    pub thread_id: Option<i32>,
    pub reply_to: Option<RepliedTo>,
    pub from: AgentRef,
    /// The sender is a member of the support group.
    pub sender_is_member: bool,
    pub content: Content,
}

/// An action for the front end (see the module docs for the Bot API calls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    ToCustomer {
        chat_key: String,
        text: String,
    },
    ToCustomerFile {
        chat_key: String,
        file_id: String,
        kind: FileKind,
        caption: Option<String>,
    },
    CreateTopic {
        ticket: u64,
        name: String,
    },
    ToGroup {
        thread_id: Option<i32>,
        text: String,
        ticket: Option<u64>,
    },
    ToGroupFile {
        thread_id: Option<i32>,
        file_id: String,
        kind: FileKind,
        caption: Option<String>,
        ticket: Option<u64>,
    },
}

/// The desk over the app (store, texts, settings). Cheap: build one per call or keep one.
pub struct Desk<'a> {
    pub core: &'a Core,
}

type Vars = BTreeMap<String, String>;

fn vars(pairs: &[(&str, String)]) -> Vars {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

impl<'a> Desk<'a> {
    pub fn new(core: &'a Core) -> Desk<'a> {
        Desk { core }
    }

    fn settings(&self) -> &SupportSettings {
        &self.core.settings.support
    }

    fn overrides(&self) -> DeskOverrides {
        self.core
            .store
            .desk_overrides::<DeskOverrides>()
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Support hours in force (an admin's `/hours` over the config file).
    pub fn hours(&self) -> Hours {
        self.overrides()
            .hours
            .and_then(|h| Hours::parse(&h))
            .unwrap_or(self.settings().hours)
    }

    /// The name customers see for an agent: the alias, or the agent's first name.
    pub fn agent_name(&self, agent: &AgentRef) -> String {
        let name = self
            .overrides()
            .agent_name
            .unwrap_or_else(|| self.settings().agent_name.clone());
        if name == "first_name" {
            agent.first_name.clone()
        } else {
            name
        }
    }

    fn text(&self, lang: Lang, key: &str, v: &Vars) -> String {
        self.core.flows.text(lang, key, v)
    }

    /// A text for the support group, in its language.
    fn group_text(&self, key: &str, v: &Vars) -> String {
        self.text(self.settings().language, key, v)
    }

    /// The ticket's place among waiting tickets (1 = next), None when not waiting.
    pub fn queue_place(&self, ticket: u64) -> Result<Option<usize>> {
        let waiting: Vec<u64> = self
            .core
            .store
            .open_tickets()?
            .into_iter()
            .filter(|t| t.status == TicketStatus::Waiting)
            .map(|t| t.number)
            .collect();
        Ok(waiting.iter().position(|n| *n == ticket).map(|i| i + 1))
    }

    fn to_customer(&self, t: &Ticket, key: &str, v: &Vars) -> Outgoing {
        Outgoing::ToCustomer {
            chat_key: t.chat.clone(),
            text: self.text(t.lang, key, v),
        }
    }

    fn to_group(&self, t: Option<&Ticket>, thread_id: Option<i32>, text: String) -> Outgoing {
        Outgoing::ToGroup {
            thread_id: thread_id.or(t.and_then(|t| t.thread_id)),
            text,
            ticket: t.map(|t| t.number),
        }
    }

    /// Records a group message the front end posted for a ticket (the first one is the card), so
    /// replies to it reach that ticket.
    pub fn posted(&self, ticket: u64, message_id: i32) -> Result<()> {
        self.core.store.link_group_message(message_id, ticket)?;
        self.core.store.update_ticket(ticket, |t| {
            if t.card_message_id.is_some() {
                return false;
            }
            t.card_message_id = Some(message_id);
            true
        })?;
        Ok(())
    }

    /// The topic of a ticket exists: remember it and post the card into it.
    pub fn topic_created(
        &self,
        ticket: u64,
        thread_id: i32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>> {
        self.core.store.link_thread(thread_id, ticket)?;
        let Some((t, _)) = self.core.store.update_ticket(ticket, |t| {
            if t.thread_id == Some(thread_id) {
                return false;
            }
            t.thread_id = Some(thread_id);
            true
        })?
        else {
            return Ok(Vec::new());
        };
        let card = self.card(&t, now)?;
        Ok(vec![self.to_group(Some(&t), Some(thread_id), card)])
    }
}
