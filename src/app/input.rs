//! What a customer's message means before the dialog step: bot commands as intents, a shared
//! contact's phone, and the slots of a message as session vars (the trace never shows the
//! message's own words).

use std::collections::BTreeMap;

/// Bot commands (SPEC 2.1 and the Telegram menu) map straight to intents.
pub(super) fn command_intent(raw: &str) -> Option<crate::nlu::Intent> {
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
pub(super) fn contact_slots(phone: &str) -> BTreeMap<String, String> {
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
pub(super) fn slot_vars(raw: &str, u: &crate::nlu::Understanding) -> BTreeMap<String, String> {
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
pub(super) fn show_vars(v: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = v
        .iter()
        .filter(|(k, _)| k.as_str() != "note")
        .map(|(k, x)| format!("{k}={x}"))
        .collect();
    format!("{{{}}}", inner.join(", "))
}
