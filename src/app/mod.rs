//! The application: the one place that does I/O around the pure core. A turn loads the session,
//! understands the message, runs `dialog::step`, applies the effects (payments, binding, tickets)
//! and saves the session. Every front end (terminal, Telegram) calls `App::turn`.

pub mod actions;
mod binding;
pub mod chat;
mod effects;
mod negotiation;
mod negotiation_effects;
mod owed;
mod privacy;
mod reminder_effects;
mod session_store;
mod support_turns;

use crate::dialog::{self, Effect, Flows, Input, Known, Lang, Message};
use crate::domain::{Account, AccountBill, Language};
use crate::embedded;
use crate::nlu::Nlu;
use crate::settings::Settings;
use crate::store::{Store, TicketReason};
use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
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

/// One message to show the customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    /// (label, callback data)
    pub buttons: Vec<(String, String)>,
    /// A file sent with the message (a calendar, a written confirmation); None for plain text.
    pub attachment: Option<Attachment>,
    /// The label of a "share my phone number" button to offer (a dialog state's `contact`).
    pub request_contact: Option<String>,
}

/// The data of a link button starts with this (the rest is the URL); front ends show it as a
/// URL button (Telegram) or print the URL (terminal). Never a callback: pressing it opens the page.
pub const URL_BUTTON: &str = "url:";

/// The URL of a link button's data (None for a callback button).
pub fn link_of(data: &str) -> Option<&str> {
    data.strip_prefix(URL_BUTTON)
}

/// A file the bot sends: a document in Telegram, a file written by the terminal chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl Reply {
    /// A message without buttons or file.
    pub fn text(text: String) -> Reply {
        Reply {
            text,
            ..Reply::default()
        }
    }

    /// The buttons as the terminal shows them: `[1] 查账单  [2] 还款` (None without buttons); a
    /// link button (always after the others) shows its URL and no number, since only a browser
    /// can press it: `去支付 ¥500.00: https://…`.
    pub fn button_line(&self) -> Option<String> {
        let shown: Vec<String> = self
            .buttons
            .iter()
            .enumerate()
            .map(|(i, (label, data))| match link_of(data) {
                Some(url) => format!("{label}: {url}"),
                None => format!("[{}] {label}", i + 1),
            })
            .collect();
        (!shown.is_empty()).then(|| shown.join("  "))
    }
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
}

/// The dialog engine, the NLU and the store, with the settings they run under.
pub struct App {
    pub store: Store,
    pub flows: Flows,
    pub nlu: Nlu,
    pub settings: Settings,
    /// The one clock front ends read "now" and "today" from (the system clock unless
    /// [`App::with_clock`] sets another).
    pub clock: crate::clock::Clock,
}

/// Effects the dialog files may name.
pub const EFFECTS: &[&str] = &[
    "post_payment",
    "bind_account",
    "binding_failed",
    "set_autopay",
    "stop_autopay",
    "open_ticket",
    "defer",
    "restructure",
    "open_case",
    "accept_plan",
    "decline_plan",
    "remind_open",
    "remind_set_days",
    "remind_set_time",
    "remind_add_date",
    "remind_pause",
    "remind_stop",
    "remind_resume",
    "remind_ics",
];
/// Events the app sends back into a conversation.
pub const EVENTS: &[&str] = &[
    "payment_ok",
    "payment_failed",
    "payment_pending",
    "payment_refused",
    "payment_later",
    "bound",
    "bind_refused",
    "done",
    "ticket_opened",
    "agreed",
    "agreement_refused",
    "case_opened",
    "remind_plan",
    "remind_saved",
    "remind_added",
    "remind_bad_date",
    "remind_bad_days",
    "remind_bad_time",
    "remind_ics",
    "remind_none",
];
/// Slots a message can carry: the NLU's and the app's own (`phone` only from a shared contact,
/// `typed_phone` a number typed as text, id_last4, card; `note` is the message's own words,
/// `document` a file the customer sent: file id TAB name).
pub const SLOTS: &[&str] = &[
    "amount",
    "date",
    "days",
    "periods",
    "order_id",
    "phone",
    "typed_phone",
    "id_last4",
    "card",
    "note",
    "document",
    "time",
];

/// The names `dialogs check` accepts.
pub fn known() -> Known {
    let own = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Known {
        intents: crate::nlu::Intent::ALL
            .iter()
            .map(|i| i.as_str().to_string())
            .collect(),
        slots: own(SLOTS),
        actions: own(&[actions::ACTIONS, negotiation::ACTIONS].concat()),
        effects: own(EFFECTS),
        events: own(EVENTS),
        vars: own(&[
            actions::VARS,
            negotiation::VARS,
            crate::support::TEXT_VARS,
            crate::payments::TEXT_VARS,
        ]
        .concat()),
    }
}

pub fn dialog_lang(l: Language) -> Lang {
    match l {
        Language::Zh => Lang::Zh,
        Language::En => Lang::En,
    }
}

impl App {
    /// Builds the app from the embedded dialogs; an invalid dialog set refuses to start.
    pub fn new(store: Store, settings: Settings) -> Result<App> {
        let files = embedded::dialog_files();
        let flows = Flows::load(&files, &known()).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow!("the dialogs are invalid:\n{}", lines.join("\n"))
        })?;
        let nlu = Nlu::from_files(&embedded::dialog_files()).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow!("the NLU patterns are invalid:\n{}", lines.join("\n"))
        })?;
        Ok(App {
            store,
            flows,
            nlu,
            settings,
            clock: crate::clock::Clock::system(),
        })
    }

    /// The app reading time from `clock` (`--today`, `--clock-start`, a test clock).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> App {
        self.clock = clock;
        self
    }

    fn account_of(&self, chat: &str) -> Result<Option<Account>> {
        match self.store.binding(chat)? {
            Some(id) => Ok(self.store.account(&id)?.map(|s| s.data)),
            None => Ok(None),
        }
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
        let loaded = session_store::load(&self.store, chat, default_lang)?;
        let (session, restarted) = match loaded {
            session_store::Loaded::Fresh(s) | session_store::Loaded::Found(s) => (s, false),
            session_store::Loaded::Restarted(s) => (s, true),
        };
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
        let understanding;
        let slots;
        let mut hint = TicketReason::Request;
        let dialog_input = match &input {
            ChatInput::Start => Input::Start,
            ChatInput::Button(data) if data.starts_with("r:") => {
                // A reminder's button: no turn showed it, so it stands for an intent.
                let (intent, s) = crate::reminders::message::button_intent(data, today)
                    .unwrap_or(("reminder_set", BTreeMap::new()));
                slots = s;
                out.trace.push(format!(
                    "button={data} intent={intent} slots={}",
                    show_vars(&slots)
                ));
                Input::Text(Message {
                    raw: "",
                    intent,
                    slots: &slots,
                    slot_problem: None,
                })
            }
            ChatInput::Button(data) => Input::Button(data),
            ChatInput::Document { file_id, name } => {
                let clean = |t: &str| t.replace(['\t', '\n', '\r'], " ");
                slots = BTreeMap::from([(
                    "document".to_string(),
                    format!("{}\t{}", clean(file_id), clean(name)),
                )]);
                out.trace.push("intent=document".to_string());
                Input::Text(Message {
                    raw: name,
                    intent: "unknown",
                    slots: &slots,
                    slot_problem: None,
                })
            }
            ChatInput::Contact { phone, .. } => {
                slots = contact_slots(phone);
                out.trace.push("input=contact".to_string());
                Input::Text(Message {
                    raw: phone,
                    intent: crate::nlu::Intent::BindAccount.as_str(),
                    slots: &slots,
                    slot_problem: None,
                })
            }
            ChatInput::Text(raw) if raw.trim() == "/start" => Input::Start,
            ChatInput::Text(raw) => {
                understanding = command_intent(raw).map_or_else(
                    || self.nlu.understand(raw, today),
                    |intent| crate::nlu::Understanding {
                        intent,
                        slots: Default::default(),
                        lang: crate::nlu::Lang::Zh,
                    },
                );
                if self.settings.nlu.keep_unknown && self.nlu.worth_keeping(raw, today) {
                    self.store.keep_unknown(chat, today, raw)?;
                }
                slots = slot_vars(raw, &understanding);
                hint = match understanding.intent {
                    crate::nlu::Intent::Unknown => TicketReason::NotUnderstood,
                    _ if self.nlu.is_complaint(raw) => TicketReason::Complaint,
                    _ => TicketReason::Request,
                };
                let problem = understanding.slots.problems.first().map(|p| match p {
                    crate::nlu::SlotProblem::Amount => "amount",
                    crate::nlu::SlotProblem::Date => "date",
                });
                out.trace.push(format!(
                    "intent={} slots={}",
                    understanding.intent.as_str(),
                    show_vars(&slots)
                ));
                Input::Text(Message {
                    raw,
                    intent: understanding.intent.as_str(),
                    slots: &slots,
                    slot_problem: problem,
                })
            }
        };
        let owed = std::cell::RefCell::new(Vec::new());
        let turn = Turn {
            chat,
            today,
            now,
            hint,
            confirm_turn: session.turn,
            owed: &owed,
        };
        let session = self.advance(&turn, session, dialog_input, &mut out, 0)?;
        self.cancel_with_payment_open(chat, session.lang, &mut out)?;
        out.owed = self.owed_of_turn(owed.into_inner())?;
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
        session_store::save(&self.store, chat, session)
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
        let links = links.into_inner();
        if let (false, Some(last)) = (links.is_empty(), out.replies.last_mut()) {
            // Link buttons (a cashier page) go with the reply that announces them.
            let urls = links
                .into_iter()
                .map(|(l, u)| (l, format!("{URL_BUTTON}{u}")));
            last.buttons.extend(urls);
        }
        if let Some(file) = attachment.into_inner() {
            // A file goes with the reply that announces it (the last one of this round).
            match out.replies.last_mut() {
                Some(last) => last.attachment = Some(file),
                None => out.replies.push(Reply {
                    attachment: Some(file),
                    ..Reply::default()
                }),
            }
        }
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
        // A store error while binding fails the turn; it never counts as a failed attempt.
        let lookup_error = std::cell::RefCell::new(None);
        let keep = |e: anyhow::Error| {
            lookup_error.borrow_mut().get_or_insert(e);
        };
        let by_phone = |phone: &str| -> Option<Account> {
            let found = store.account_id_by_phone(phone).and_then(|id| match id {
                Some(id) => Ok(store.account(&id)?.map(|s| s.data)),
                None => Ok(None),
            });
            found.map_err(keep).ok().flatten()
        };
        let account_locked = |id: &str| {
            store
                .bind_locked(crate::store::BindSubject::Account(id), now)
                .map_err(keep)
                .unwrap_or(true)
        };
        let recent_paid = || {
            let last = store.last_paid(chat).map_err(keep).ok().flatten()?;
            let recent = chrono::Duration::minutes(binding::RECENT_PAYMENT_MINUTES);
            (now - last.at < recent).then_some(last)
        };
        let card = |order: &str| store.autopay_card(order).ok().flatten();
        let count = |order: &str| store.payments_of(order).map(|p| p.len()).unwrap_or(0);
        let history = |order: &str| store.payments_of(order).unwrap_or_default();
        let pending_case = || account.and_then(|a| store.pending_case(&a.id).ok().flatten());
        let open_payments = || {
            store
                .open_payments_of(chat)
                .map_err(keep)
                .unwrap_or_default()
        };
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
            gateway: self.settings.payments.gateway.as_str(),
            open_payments: &open_payments,
        };
        let dctx = dialog::Ctx {
            bound: account.is_some(),
            actions: &ctx,
        };
        let stepped = self.flows.step(session, input, &dctx);
        if let Some(e) = lookup_error.into_inner() {
            return Err(e.context("reading the store while binding"));
        }
        match bill.take_error() {
            Some(e) => Err(e),
            None => Ok(stepped),
        }
    }
}

/// Bot commands (SPEC 2.1 and the Telegram menu) map straight to intents.
fn command_intent(raw: &str) -> Option<crate::nlu::Intent> {
    use crate::nlu::Intent;
    let word = raw.trim().strip_prefix('/')?.split(['@', ' ']).next()?;
    Some(match word {
        "bill" => Intent::BillQuery,
        "repay" => Intent::Repay,
        "remind" => Intent::ReminderSet,
        "human" => Intent::Human,
        "lang" => Intent::Language,
        "help" => Intent::Help,
        "cancel" => Intent::Cancel,
        "bind" => Intent::BindAccount,
        _ => return None,
    })
}

impl App {
    /// Sets the language of a chat's session (the terminal's `--lang`).
    pub fn set_lang(&self, chat: &str, lang: Lang) -> Result<()> {
        let mut session = match session_store::load(&self.store, chat, lang)? {
            session_store::Loaded::Found(s) => s,
            session_store::Loaded::Fresh(s) | session_store::Loaded::Restarted(s) => s,
        };
        session.lang = lang;
        session_store::save(&self.store, chat, &session)
    }
}

/// A shared contact's phone as the `phone` slot: normalised when it is a mainland mobile,
/// else its digits (so an unknown number is told "no account", not "not understood").
fn contact_slots(phone: &str) -> BTreeMap<String, String> {
    let value = match crate::domain::Phone::parse(phone) {
        Some(p) => p.as_str().to_string(),
        None => phone
            .chars()
            .filter(char::is_ascii_digit)
            .take(20)
            .collect(),
    };
    BTreeMap::from([("phone".to_string(), value)])
}

/// The message's slots as vars: the NLU's, plus what only makes sense as a whole message
/// (a phone number, an ID's last four, a card's last four digits).
fn slot_vars(raw: &str, u: &crate::nlu::Understanding) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let s = &u.slots;
    if let Some(a) = s.amount {
        v.insert("amount".into(), crate::domain::Money(a).to_string());
    }
    if let Some(d) = s.date {
        v.insert("date".into(), d.to_string());
    }
    if let Some(d) = s.days {
        v.insert("days".into(), d.to_string());
    }
    if let Some(p) = s.periods {
        v.insert("periods".into(), p.to_string());
    }
    if let Some(o) = &s.order_id {
        v.insert("order_id".into(), o.clone());
    }
    let t = raw.trim();
    if !t.is_empty() && !t.starts_with('/') {
        v.insert("note".into(), t.chars().take(500).collect());
    }
    // A typed number never binds (SPEC 3.1): only a shared contact fills `phone`.
    if let Some(phone) = crate::domain::Phone::parse(t) {
        v.insert("typed_phone".into(), phone.as_str().to_string());
    }
    if crate::domain::IdLast4::parse(t).is_some() {
        v.insert("id_last4".into(), t.to_ascii_uppercase());
    }
    // Any run of digits is offered as a card number; the card step checks it has four.
    if let Some(time) = crate::reminders::plan::parse_time_of_day(t) {
        v.insert("time".into(), time.format("%H:%M").to_string());
    }
    if (1..=19).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
        v.insert("card".into(), t.to_string());
    }
    v
}

/// The slots for the trace; `note` (the message's own words) is left out: never logged.
fn show_vars(v: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = v
        .iter()
        .filter(|(k, _)| k.as_str() != "note")
        .map(|(k, x)| format!("{k}={x}"))
        .collect();
    format!("{{{}}}", inner.join(", "))
}
