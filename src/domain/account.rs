//! Accounts and orders as the shop exports them, with the value types that validate their fields
//! (phone, ID last four, language, time zone).

use super::agreement::Agreements;
use super::money::Money;
use super::schedule::Terms;
use serde::{Deserialize, Serialize};

/// A customer's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Zh,
    En,
}

impl Language {
    pub fn parse(text: &str) -> Option<Language> {
        match text {
            "" | "zh" => Some(Language::Zh),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }
}

/// A mainland mobile number, normalised to 11 digits (`1[3-9]` then 9 digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Accepts `+86`/`86` prefixes, spaces and dashes.
    pub fn parse(text: &str) -> Option<Phone> {
        let compact: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| {
                (compact.len() == 13)
                    .then(|| compact.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&compact);
        let b = digits.as_bytes();
        let ok = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1]);
        ok.then(|| Phone(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown to people as 138****5678 (SPEC 4.12).
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// The last four characters of the ID number: three digits then a digit or `X`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdLast4(String);

impl IdLast4 {
    pub fn parse(text: &str) -> Option<IdLast4> {
        let t = text.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        let ok = b.len() == 4
            && b[..3].iter().all(u8::is_ascii_digit)
            && (b[3].is_ascii_digit() || b[3] == b'X');
        ok.then_some(IdLast4(t))
    }

    /// Constant-shape comparison with what a customer typed.
    /// The stored value (for redaction; never shown).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, typed: &str) -> bool {
        IdLast4::parse(typed).is_some_and(|t| t.0 == self.0)
    }
}

/// A customer account of the shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub phone: Phone,
    pub id_last4: IdLast4,
    pub language: Language,
    /// IANA time zone name, validated on import.
    pub timezone: String,
}

/// An installment order of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub account_id: String,
    pub item: String,
    pub terms: Terms,
    /// Deferral and re-installment agreed in the chat (empty as imported).
    #[serde(default, skip_serializing_if = "Agreements::is_empty")]
    pub agreements: Agreements,
}

impl Order {
    pub fn principal(&self) -> Money {
        self.terms.principal
    }
}
