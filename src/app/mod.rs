//! The application: the one place that does I/O around the pure core. A turn loads the session,
//! understands the message, runs `dialog::step`, applies the effects (payments, binding, tickets)
//! and saves the session. Every front end (terminal, Telegram) calls `App::turn`.

pub mod actions;
mod binding;
pub mod chat;
mod effects;
mod facts;
mod handle;
mod input;
mod names;
mod negotiation;
mod negotiation_effects;
mod owed;
pub mod pay_plan;
mod privacy;
mod quotes;
mod reminder_effects;
mod support_turns;

pub use crate::core::{dialog_lang, link_of, Attachment, Core, Reply, URL_BUTTON};
use crate::dialog::{self, Effect, Input, Lang};
use crate::domain::{Account, AccountBill};
use crate::settings::Settings;
use crate::store::{LoadedSession, Store, TicketReason};
use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
pub use handle::{payment_applier, CustomerEvent, Event, Handled, Outcome, ReminderStep};

pub use names::{check_handlers_used, known, EVENTS, SLOTS};
pub use owed::OwedReply;
use std::collections::BTreeMap;

/// What a customer did.
#[derive(Clone, Debug)]
pub enum ChatInput {
    Start,
    Text(String),
    /// Callback data of a pressed button.
    Button(String),
    /// A photo or file the customer sent (a hardship case's document): its Telegram file id, or
    /// in the terminal chat the path of a local file.
    Document {
        file_id: String,
        name: String,
    },
    /// A phone number shared with the front end's contact button; `own` is false when the
    /// contact is not the sender's (Telegram: `contact.user_id != from.id`), which is refused.
    Contact {
        phone: String,
        own: bool,
    },
}

impl TurnOutput {
    /// The buttons (label, callback data) of the last reply of this turn that had any.
    pub fn last_buttons(&self) -> Vec<(String, String)> {
        self.replies
            .iter()
            .rev()
            .find(|r| !r.buttons.is_empty())
            .map(|r| r.buttons.clone())
            .unwrap_or_default()
    }
}

/// The replies of a turn and the engine's decisions, for transcripts and logs.
#[derive(Clone, Debug, Default)]
pub struct TurnOutput {
    pub replies: Vec<Reply>,
    /// e.g. `intent=repay slots={amount=500.00}`, `state=repay.confirm`, `effect=post_payment`.
    pub trace: Vec<String>,
    /// Outbox entries this turn wrote: send each `reply` (to its chat), then `App::settle_owed`.
    pub owed: Vec<OwedReply>,
    /// Numbers of the tickets this turn opened (not those it found already open).
    pub tickets_opened: Vec<u64>,
}

/// What every step of one turn shares.
#[derive(Clone, Copy)]
struct Turn<'a> {
    chat: &'a str,
    today: NaiveDate,
    now: DateTime<Utc>,
    /// The reason a ticket opened in this turn gets unless the flow names one.
    hint: TicketReason,
    /// The session's turn before this message: the turn of the buttons it answers.
    confirm_turn: u64,
    owed: &'a std::cell::RefCell<Vec<owed::OwedRef>>,
    tickets_opened: &'a std::cell::RefCell<Vec<u64>>,
}

/// The core plus the turn: what the front ends hold. Everything of the core (`store`, `flows`,
/// `nlu`, `settings`, `clock`) reads through it; support and reminders borrow the `Core` alone.
pub struct App {
    core: std::sync::Arc<Core>,
}

impl std::ops::Deref for App {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl App {
    /// Builds the app from the embedded dialogs; an invalid dialog set refuses to start.
    pub fn new(store: Store, settings: Settings) -> Result<App> {
        let core = Core::new(store, settings, &known())?;
        check_handlers_used(&core.flows)?;
        Ok(App {
            core: std::sync::Arc::new(core),
        })
    }

    /// The app reading time from `clock` (`--today`, `--clock-start`, a test clock).
    /// Call it right after `new`: once the core is shared (`shared_core`) it is fixed.
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> App {
        match std::sync::Arc::get_mut(&mut self.core) {
            Some(core) => core.clock = clock,
            None => tracing::error!("with_clock after the core was shared: the clock is unchanged"),
        }
        self
    }

    /// The core, shared with a task that outlives a turn (the reminder scheduler).
    pub fn shared_core(&self) -> std::sync::Arc<Core> {
        std::sync::Arc::clone(&self.core)
    }

    /// One customer turn in chat `chat` on `today` (the account's calendar day) at `now`.
    pub fn turn(
        &self,
        chat: &str,
        input: ChatInput,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<TurnOutput> {
        let account = self.account_of(chat)?;
        let default_lang = account
            .as_ref()
            .map_or(Lang::Zh, |a| dialog_lang(a.language));
        if let Some(out) = self.chat_command(chat, &input, default_lang, now)? {
            return Ok(out);
        }
        let mut out = TurnOutput::default();
        let loaded = self.store.load_session(chat, default_lang)?;
        let restarted = matches!(loaded, LoadedSession::Restarted(_));
        let session = loaded.into_session();
        if let ChatInput::Button(data) = &input {
            let paid = self.paid_button(chat, data, session.turn, session.lang)?;
            if let Some(out) = paid {
                self.record_transcript(chat, &input, &out, now)?;
                return Ok(out);
            }
        }
        if restarted {
            let text = self
                .flows
                .text(session.lang, "common.session_restarted", &BTreeMap::new());
            out.replies.push(Reply::text(text));
        }
        let understood = self.understand_input(chat, &input, today, &mut out.trace)?;
        let owed = std::cell::RefCell::new(Vec::new());
        let tickets_opened = std::cell::RefCell::new(Vec::new());
        let turn = Turn {
            chat,
            today,
            now,
            hint: understood.hint(),
            confirm_turn: session.turn,
            owed: &owed,
            tickets_opened: &tickets_opened,
        };
        let session = self.advance(&turn, session, understood.input(), &mut out, 0)?;
        self.cancel_with_payment_open(chat, session.lang, &mut out)?;
        out.owed = self.owed_of_turn(owed.into_inner())?;
        out.tickets_opened = tickets_opened.into_inner();
        self.store_session_then(chat, &session)?;
        self.record_transcript(chat, &input, &out, now)?;
        Ok(out)
    }

    /// "Cancel" while a payment waits at the cashier: it may still complete, so say so.
    fn cancel_with_payment_open(&self, chat: &str, lang: Lang, out: &mut TurnOutput) -> Result<()> {
        if crate::ops::observe::intent_of(&out.trace) != "cancel"
            || self.store.open_payments_of(chat)?.is_empty()
        {
            return Ok(());
        }
        let text = self
            .flows
            .text(lang, "pay.cancel_pending", &BTreeMap::new());
        out.replies.push(Reply::text(text));
        Ok(())
    }

    fn store_session_then(&self, chat: &str, session: &dialog::Session) -> Result<()> {
        self.store.save_session(chat, session)
    }

    /// Steps the conversation with `input`, performs the effects it asks for and feeds their
    /// events back in (at most a few rounds, so a loop in the dialog files cannot hang a turn).
    fn advance(
        &self,
        turn: &Turn,
        session: dialog::Session,
        input: Input,
        out: &mut TurnOutput,
        depth: usize,
    ) -> Result<dialog::Session> {
        let Turn {
            chat, today, now, ..
        } = *turn;
        // Re-read the account every round: an effect may have bound the chat.
        let account = self.account_of(chat)?;
        let (mut session, effects) =
            self.step_with(session, input, chat, account.as_ref(), today, now)?;
        out.trace
            .push(format!("state={}.{}", session.flow, session.state));
        let mut events = Vec::new();
        let attachment = std::cell::RefCell::new(None);
        let links = std::cell::RefCell::new(Vec::new());
        for effect in effects {
            match effect {
                Effect::Reply {
                    text,
                    buttons,
                    request_contact,
                    ..
                } => out.replies.push(Reply {
                    text,
                    buttons: buttons.into_iter().map(|b| (b.label, b.data)).collect(),
                    attachment: None,
                    request_contact,
                }),
                Effect::Emit { name, vars } => {
                    out.trace.push(format!("effect={name}"));
                    let ctx = effects::EffectCtx {
                        app: self,
                        chat,
                        account: account.as_ref(),
                        today,
                        now,
                        lang: session.lang,
                        hint: turn.hint,
                        attachment: &attachment,
                        confirm_turn: turn.confirm_turn,
                        owed: turn.owed,
                        tickets_opened: turn.tickets_opened,
                        links: &links,
                    };
                    if let Some(event) = effects::perform(&ctx, &name, &vars)? {
                        events.push(event);
                    }
                }
                Effect::SetLang(lang) => out.trace.push(format!("lang={lang:?}")),
            }
        }
        for (name, vars) in events {
            if depth >= 3 {
                break;
            }
            out.trace.push(format!("event={name}"));
            session = self.advance(
                turn,
                session,
                Input::Event { name: &name, vars },
                out,
                depth + 1,
            )?;
        }
        attach(out, links.into_inner(), attachment.into_inner());
        Ok(session)
    }

    fn step_with(
        &self,
        session: dialog::Session,
        input: Input,
        chat: &str,
        account: Option<&Account>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(dialog::Session, Vec<Effect>)> {
        let store = &self.store;
        let policy = &self.settings.policy;
        let load_bill = || -> Result<Option<AccountBill>> {
            match account {
                Some(a) => Ok(Some(
                    store
                        .bill(&a.id, today, policy)
                        .context("computing the bill")?,
                )),
                None => Ok(None),
            }
        };
        let bill = actions::LazyBill::new(&load_bill);
        let facts = facts::Facts::new(store, chat, account, now);
        let by_phone = |phone: &str| facts.account_by_phone(phone);
        let account_locked = |id: &str| facts.account_locked(id);
        let recent_paid = || facts.recent_paid(binding::RECENT_PAYMENT_MINUTES);
        let card = |order: &str| facts.autopay_card(order);
        let count = |order: &str| facts.payments_of(order).len();
        let history = |order: &str| facts.payments_of(order);
        let pending_case = || facts.pending_case();
        let open_payments = || facts.open_payments();
        let ctx = actions::ActionCtx {
            flows: &self.flows,
            lang: session.lang,
            bill: &bill,
            binding_locked: store.bind_locked(crate::store::BindSubject::Chat(chat), now)?,
            account_locked: &account_locked,
            account_by_phone: &by_phone,
            recent_paid: &recent_paid,
            autopay_card: &card,
            payment_count: &count,
            history: &history,
            policy,
            pending_case: &pending_case,
            read_error: &facts.error,
            gateway: self.settings.payments.gateway.as_str(),
            open_payments: &open_payments,
        };
        let dctx = dialog::Ctx {
            bound: account.is_some(),
            actions: &ctx,
        };
        let stepped = self.flows.step(session, input, &dctx);
        if let Some(e) = facts.error.into_inner() {
            return Err(e.context("reading the store during the step"));
        }
        if let Some(e) = bill.take_error() {
            return Err(e);
        }
        Ok(stepped?)
    }
}

impl App {
    /// Sets the language of a chat's session (the terminal's `--lang`).
    pub fn set_lang(&self, chat: &str, lang: Lang) -> Result<()> {
        let mut session = self.store.load_session(chat, lang)?.into_session();
        session.lang = lang;
        self.store.save_session(chat, &session)
    }
}

/// What the effects of a round left for its last reply: link buttons (a cashier page) and a
/// file go with the reply that announces them (a file alone makes a reply of its own).
fn attach(out: &mut TurnOutput, links: Vec<(String, String)>, file: Option<Attachment>) {
    if let (false, Some(last)) = (links.is_empty(), out.replies.last_mut()) {
        let urls = links
            .into_iter()
            .map(|(l, u)| (l, format!("{URL_BUTTON}{u}")));
        last.buttons.extend(urls);
    }
    if let Some(file) = file {
        match out.replies.last_mut() {
            Some(last) => last.attachment = Some(file),
            None => out.replies.push(Reply {
                attachment: Some(file),
                ..Reply::default()
            }),
        }
    }
}
