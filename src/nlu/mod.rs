//! Language understanding: intents and slots from a customer message (pure).
//!
//! Patterns come from the files under `dialogs/nlu/` as text (`Nlu::from_files`); this module
//! never reads files, never reads the clock (today is a parameter) and never uses floats.

mod amount;
mod date;
mod intent;
mod numbers;
mod patterns;
mod slots;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

pub use intent::Intent;

pub use crate::dialog::{LoadError, SourceFile};

/// Language of a message: any CJK character makes it Chinese.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Zh,
    En,
}

/// A slot the message tried to state but that makes no sense (负五百, 2月30号).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotProblem {
    Amount,
    Date,
}

/// Slots stated in a message; absent when not stated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slots {
    /// CNY, rounded to the fen (two decimals).
    pub amount: Option<Decimal>,
    pub date: Option<NaiveDate>,
    pub days: Option<u32>,
    pub periods: Option<u32>,
    pub order_id: Option<String>,
    pub problems: Vec<SlotProblem>,
}

/// What a message means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Understanding {
    pub intent: Intent,
    pub slots: Slots,
    pub lang: Lang,
}

impl Understanding {
    /// The `repaybot nlu` line of SPEC 2.1: `{"text", "intent", "slots"}`.
    pub fn to_json(&self, text: &str) -> Value {
        let mut slots = Map::new();
        let s = &self.slots;
        if let Some(a) = s.amount {
            slots.insert("amount".into(), json!(format!("{a:.2}")));
        }
        if let Some(d) = s.date {
            slots.insert("date".into(), json!(d.format("%Y-%m-%d").to_string()));
        }
        if let Some(d) = s.days {
            slots.insert("days".into(), json!(d));
        }
        if let Some(p) = s.periods {
            slots.insert("periods".into(), json!(p));
        }
        if let Some(o) = &s.order_id {
            slots.insert("order_id".into(), json!(o));
        }
        json!({"text": text, "intent": self.intent.as_str(), "slots": Value::Object(slots)})
    }
}

/// The loaded pattern model.
#[derive(Debug)]
pub struct Nlu {
    classifier: intent::Classifier,
}

impl Nlu {
    /// Builds from the pattern files (only paths containing "/nlu/" or starting with "nlu/";
    /// others are ignored). Returns every error with file and line.
    pub fn from_files(files: &[SourceFile]) -> Result<Nlu, Vec<LoadError>> {
        let patterns = patterns::load(files)?;
        let classifier = intent::Classifier::new(&patterns).map_err(|e| {
            vec![LoadError {
                path: "dialogs/nlu".into(),
                line: 0,
                message: format!("patterns do not compile together: {e}"),
            }]
        })?;
        Ok(Nlu { classifier })
    }

    /// Whether the message complains or disputes (patterns tagged `complaint`): its ticket
    /// gets that reason.
    pub fn is_complaint(&self, text: &str) -> bool {
        self.classifier.has_tag(text, "complaint")
    }

    /// Intent, slots and language of one message, dates resolved against `today`.
    pub fn understand(&self, text: &str, today: NaiveDate) -> Understanding {
        Understanding {
            intent: self.classifier.classify(text),
            slots: slots::extract(text, today),
            lang: detect_lang(text),
        }
    }
}

/// Any CJK character makes a message Chinese.
pub fn detect_lang(text: &str) -> Lang {
    let cjk = |c: char| matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{3040}'..='\u{30FF}');
    if text.chars().any(cjk) {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// The amount stated in a message: `Ok(None)` when none is stated.
pub fn parse_amount(text: &str) -> Result<Option<Decimal>, SlotProblem> {
    let today = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let slots = slots::extract(text, today);
    match (slots.amount, slots.problems.contains(&SlotProblem::Amount)) {
        (Some(a), _) => Ok(Some(a)),
        (None, true) => Err(SlotProblem::Amount),
        (None, false) => Ok(None),
    }
}

/// The date stated in a message, resolved against `today`: `Ok(None)` when none is stated.
pub fn parse_date(text: &str, today: NaiveDate) -> Result<Option<NaiveDate>, SlotProblem> {
    let slots = slots::extract(text, today);
    match (slots.date, slots.problems.contains(&SlotProblem::Date)) {
        (Some(d), _) => Ok(Some(d)),
        (None, true) => Err(SlotProblem::Date),
        (None, false) => Ok(None),
    }
}

/// One JSON line per input line (the `repaybot nlu` command).
pub fn run_nlu_lines(nlu: &Nlu, input: &str, today: NaiveDate) -> String {
    let mut out = String::new();
    for line in input.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        out.push_str(&nlu.understand(line, today).to_json(line).to_string());
        out.push('\n');
    }
    out
}

/// The pattern files shipped in the binary (every embedded dialogs/ file; non-NLU ones are skipped).
pub fn builtin_files() -> Vec<SourceFile> {
    crate::embedded::dialog_files()
}
