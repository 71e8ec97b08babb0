//! What a customer's input means before the dialog step: `/start`, a button, a reminder's
//! button standing for an intent, a file, a shared contact, or a message the NLU reads (bot
//! commands as intents; the slots as session vars; the trace never shows the message's words).

use super::{App, ChatInput};
use crate::dialog::{Input, Message};
use crate::store::TicketReason;
use anyhow::Result;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A customer's input, understood: what the dialog step takes, owning the slots it lends.
pub(super) enum Understood<'a> {
    Start,
    Button(&'a str),
    Message {
        raw: &'a str,
        intent: &'static str,
        slots: BTreeMap<String, String>,
        problem: Option<&'static str>,
        /// The reason a ticket opened in this turn gets unless the flow names one.
        hint: TicketReason,
    },
}

impl Understood<'_> {
    /// The dialog engine's input.
    pub(super) fn input(&self) -> Input<'_> {
        match self {
            Understood::Start => Input::Start,
            Understood::Button(data) => Input::Button(data),
            Understood::Message {
                raw,
                intent,
                slots,
                problem,
                ..
            } => Input::Text(Message {
                raw,
                intent,
                slots,
                slot_problem: *problem,
            }),
        }
    }

    pub(super) fn hint(&self) -> TicketReason {
        match self {
            Understood::Message { hint, .. } => *hint,
            _ => TicketReason::Request,
        }
    }
}

impl App {
    /// Understands `input` on `today` (a message not understood is kept, redacted, when the
    /// settings say so); what was decided goes to `trace`.
    pub(super) fn understand_input<'a>(
        &self,
        chat: &str,
        input: &'a ChatInput,
        today: NaiveDate,
        trace: &mut Vec<String>,
    ) -> Result<Understood<'a>> {
        let message = |raw, intent, slots| Understood::Message {
            raw,
            intent,
            slots,
            problem: None,
            hint: TicketReason::Request,
        };
        Ok(match input {
            ChatInput::Start => Understood::Start,
            ChatInput::Button(data) if data.starts_with("r:") => {
                // A reminder's button: no turn showed it, so it stands for an intent.
                let (intent, slots) = crate::reminders::message::button_intent(data, today)
                    .unwrap_or(("reminder_set", BTreeMap::new()));
                trace.push(format!(
                    "button={data} intent={intent} slots={}",
                    show_vars(&slots)
                ));
                message("", intent, slots)
            }
            ChatInput::Button(data) => Understood::Button(data),
            ChatInput::Document { file_id, name } => {
                let clean = |t: &str| t.replace(['\t', '\n', '\r'], " ");
                let document = format!("{}\t{}", clean(file_id), clean(name));
                trace.push("intent=document".to_string());
                message(
                    name,
                    "unknown",
                    BTreeMap::from([("document".into(), document)]),
                )
            }
            ChatInput::Contact { phone, .. } => {
                trace.push("input=contact".to_string());
                let intent = crate::nlu::Intent::BindAccount.as_str();
                message(phone, intent, contact_slots(phone))
            }
            ChatInput::Text(raw) if raw.trim() == "/start" => Understood::Start,
            ChatInput::Text(raw) => self.understand_text(chat, raw, today, trace)?,
        })
    }

    fn understand_text<'a>(
        &self,
        chat: &str,
        raw: &'a str,
        today: NaiveDate,
        trace: &mut Vec<String>,
    ) -> Result<Understood<'a>> {
        let understanding = command_intent(raw).map_or_else(
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
        let slots = slot_vars(raw, &understanding);
        let hint = match understanding.intent {
            crate::nlu::Intent::Unknown => TicketReason::NotUnderstood,
            _ if self.nlu.is_complaint(raw) => TicketReason::Complaint,
            _ => TicketReason::Request,
        };
        let problem = understanding.slots.problems.first().map(|p| match p {
            crate::nlu::SlotProblem::Amount => "amount",
            crate::nlu::SlotProblem::Date => "date",
        });
        trace.push(format!(
            "intent={} slots={}",
            understanding.intent.as_str(),
            show_vars(&slots)
        ));
        Ok(Understood::Message {
            raw,
            intent: understanding.intent.as_str(),
            slots,
            problem,
            hint,
        })
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
