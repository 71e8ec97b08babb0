//! `App::handle`: one event in, everything to send out. The front ends (Telegram, the terminal)
//! translate what happened into an [`Event`], call `handle` once (in `serve`: the one blocking
//! hop of an update) and perform the [`Outcome`]. The support desk's decision (a chat with an
//! open ticket talks to people, not the bot) is made here, and the store is flushed once, before
//! anything is sent.

use super::{App, ChatInput, OwedReply, Reply};
use crate::dialog::Lang;
use crate::payments::callback::Apply;
use crate::payments::outcome::{Answer, Report};
use crate::reminders::wake as reminders;
use crate::support::{Content, Desk, GroupMessage, Outgoing};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Something that happened, as the core sees it.
#[derive(Clone, Debug)]
pub enum Event {
    /// A customer's message, button, contact or file in a private chat.
    Customer(CustomerEvent),
    /// A message in the support group; `membership_known` is false when Telegram could not say
    /// whether the sender belongs to the group (the message is refused and the group told).
    Group {
        message: GroupMessage,
        membership_known: bool,
    },
    /// The desk's periodic work (late notices, announcements a crash interrupted).
    DeskTick,
    /// The front end created the forum topic of `ticket`: its card follows.
    TopicCreated { ticket: u64, thread: i32 },
    /// The front end posted group message `message_id` about `ticket` (replies to it reach it).
    Posted { ticket: u64, message_id: i32 },
    /// The payment API reported a payment's outcome (a signed callback, a status answer, or
    /// its expiry): applied exactly once, the customer told through the outbox.
    PaymentReport(Report),
    /// A reminder's wake came up in the scheduler's pass: what to send is prepared here (or the
    /// day settled when there is nothing to send); the scheduler delivers it.
    ReminderDue {
        account_id: String,
        at: DateTime<Utc>,
    },
    /// How the delivery of a prepared reminder went: the day is marked, or retried later.
    ReminderDelivered {
        ready: Box<reminders::Ready>,
        delivery: reminders::Delivery,
    },
}

/// A reminder step's result (see `Event::ReminderDue`, `Event::ReminderDelivered`).
#[derive(Clone, Debug)]
pub enum ReminderStep {
    Prepared(reminders::Prepared),
    Settled(reminders::Outcome),
}

/// A customer's action in their chat.
#[derive(Clone, Debug)]
pub struct CustomerEvent {
    /// The chat key (`tg:<id>`, `term:<account>`).
    pub chat: String,
    pub input: ChatInput,
    /// The language the front end knows for a chat that has none yet (Telegram's `language_code`).
    pub lang: Option<Lang>,
    /// The message as the support desk would relay it (message id, content); None for buttons,
    /// commands and front ends without a support group.
    pub desk: Option<(i32, Content)>,
}

/// What to send after an event, in this order: the customer's replies, the replies owed to
/// other chats, then the support desk's actions.
#[derive(Debug, Default)]
pub struct Outcome {
    pub replies: Vec<Reply>,
    pub owed: Vec<OwedReply>,
    pub desk: Vec<Outgoing>,
    /// True when the desk took the customer's message (an open ticket): the bot stayed quiet,
    /// so no button is answered and no keyboard changes.
    pub taken_by_desk: bool,
    /// Tickets the customer's turn opened (the terminal says so; Telegram announces them
    /// through `desk`).
    pub tickets_opened: Vec<u64>,
    /// The engine's decisions, for transcripts and logs.
    pub trace: Vec<String>,
    /// How a payment report was answered (the callback's HTTP status follows from it).
    pub payment_answer: Option<Answer>,
    /// Chats with replies owed that the front end should send now (a receipt, a notice).
    pub notify: Vec<String>,
    /// What a reminder event came to.
    pub reminder: Option<ReminderStep>,
}

/// An outcome not yet durable: send it once `durable_at` is (None: nothing to wait for).
#[derive(Debug)]
pub struct Handled {
    pub outcome: Outcome,
    pub durable_at: Option<crate::store::group_commit::Ticket>,
}

impl App {
    /// Handles one event at `now`: the only entry front ends use for customers and the support
    /// group. One flush at the end: everything the outcome reports is durable before it is sent.
    /// Reminder steps are the exception: the scheduler flushes once per pass (what they write
    /// is the reminder state, recomputed from the ledger anyway).
    pub fn handle(&self, event: Event, now: DateTime<Utc>) -> Result<Outcome> {
        let handled = self.handle_unsynced(event, now)?;
        if let Some(ticket) = handled.durable_at {
            self.store.wait_durable(ticket)?;
        }
        Ok(handled.outcome)
    }

    /// [`App::handle`] without its wait for the disk: the outcome, and the flush ticket the
    /// caller must see durable (`Store::durable`) before it sends anything. The Telegram front
    /// end waits asynchronously, so a burst's turns share their syncs.
    pub fn handle_unsynced(&self, event: Event, now: DateTime<Utc>) -> Result<Handled> {
        let flush = !matches!(
            event,
            Event::ReminderDue { .. } | Event::ReminderDelivered { .. }
        );
        let outcome = match event {
            Event::Customer(e) => self.customer_event(e, now)?,
            Event::Group {
                message,
                membership_known,
            } => {
                let desk = Desk::new(self);
                let outs = match membership_known {
                    true => desk.on_group(&message, now)?,
                    false => desk.member_unknown(&message),
                };
                desk_only(outs)
            }
            Event::DeskTick => desk_only(Desk::new(self).tick(now)?),
            Event::TopicCreated { ticket, thread } => {
                desk_only(Desk::new(self).topic_created(ticket, thread, now)?)
            }
            Event::Posted { ticket, message_id } => {
                Desk::new(self).posted(ticket, message_id)?;
                Outcome::default()
            }
            Event::PaymentReport(report) => {
                let (answer, chat) = crate::payments::outcome::handle(self, &report, now)?;
                Outcome {
                    payment_answer: Some(answer),
                    notify: chat.into_iter().collect(),
                    ..Outcome::default()
                }
            }
            Event::ReminderDue { account_id, at } => {
                let prepared = reminders::prepare(self, &account_id, at, now)?;
                reminder_only(ReminderStep::Prepared(prepared))
            }
            Event::ReminderDelivered { ready, delivery } => {
                let settled = reminders::settle(self, *ready, delivery, now)?;
                reminder_only(ReminderStep::Settled(settled))
            }
        };
        let durable_at = flush.then(|| self.store.flush_ticket());
        Ok(Handled {
            outcome,
            durable_at,
        })
    }

    fn customer_event(&self, e: CustomerEvent, now: DateTime<Utc>) -> Result<Outcome> {
        let desk_on = self.settings.support.group_id.is_some();
        if let (true, Some((message_id, content))) = (desk_on, &e.desk) {
            match Desk::new(self).on_customer(&e.chat, *message_id, content, now) {
                Ok(Some(outs)) => {
                    return Ok(Outcome {
                        desk: outs,
                        taken_by_desk: true,
                        ..Outcome::default()
                    })
                }
                Ok(None) => {}
                // The bot answers instead: a customer is never left without a reply.
                Err(err) => {
                    tracing::warn!(chat = %e.chat, error = %format!("{err:#}"), "support desk failed")
                }
            }
        }
        let chat = e.chat.as_str();
        if let Some(lang) = e.lang {
            if !self.store.has_session(chat)? {
                self.set_lang(chat, lang)?;
            }
        }
        let zone = self
            .account_of(chat)?
            .map_or(crate::clock::HOUSE_TZ, |a| crate::reminders::tz_of(&a));
        let today = self.clock.day_at(now, zone);
        let start = matches!(e.input, ChatInput::Start);
        // `respond`: an internal error opens a ticket instead of failing the turn.
        let mut turn = self.respond(chat, e.input, today, now);
        if start && self.store.binding(chat)?.is_none() {
            // `/start` in a chat that is not bound goes on to binding (the contact button).
            let bind = self.turn(chat, ChatInput::Text("/bind".into()), today, now)?;
            turn.replies.extend(bind.replies);
        }
        let desk = match desk_on {
            true => Desk::new(self).after_turn(chat, now).unwrap_or_else(|err| {
                tracing::warn!(chat, error = %format!("{err:#}"), "ticket not announced");
                Vec::new()
            }),
            false => Vec::new(),
        };
        Ok(Outcome {
            replies: turn.replies,
            owed: turn.owed,
            desk,
            taken_by_desk: false,
            tickets_opened: turn.tickets_opened,
            trace: turn.trace,
            ..Outcome::default()
        })
    }
}

/// The payment server's way into `handle` (the payments module sits below the app).
pub fn payment_applier(app: Arc<App>) -> Apply {
    Arc::new(move |report, now| {
        let outcome = app.handle(Event::PaymentReport(report), now)?;
        let answer = outcome.payment_answer.unwrap_or(Answer::Done);
        Ok((answer, outcome.notify.into_iter().next()))
    })
}

/// The scheduler's way into `handle` (the reminders module sits below the app).
impl reminders::Steps for App {
    fn prepare(
        &self,
        account_id: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<reminders::Prepared> {
        let event = Event::ReminderDue {
            account_id: account_id.to_string(),
            at,
        };
        match self.handle(event, now)?.reminder {
            Some(ReminderStep::Prepared(prepared)) => Ok(prepared),
            _ => Err(anyhow::anyhow!("a reminder wake was not prepared")),
        }
    }

    fn settle(
        &self,
        ready: reminders::Ready,
        delivery: reminders::Delivery,
        now: DateTime<Utc>,
    ) -> Result<reminders::Outcome> {
        let event = Event::ReminderDelivered {
            ready: Box::new(ready),
            delivery,
        };
        match self.handle(event, now)?.reminder {
            Some(ReminderStep::Settled(outcome)) => Ok(outcome),
            _ => Err(anyhow::anyhow!("a reminder delivery was not settled")),
        }
    }
}

fn reminder_only(step: ReminderStep) -> Outcome {
    Outcome {
        reminder: Some(step),
        ..Outcome::default()
    }
}

fn desk_only(desk: Vec<Outgoing>) -> Outcome {
    Outcome {
        desk,
        ..Outcome::default()
    }
}
