//! Language understanding: intents and slots from a customer message (pure).
//!
//! The intent comes from a learned model (`model.rs`: logistic regression over hashed features of
//! `features.rs`), shipped as `dialogs/nlu/model.bin` and trained from `dialogs/nlu/train/*.jsonl`
//! by `repaybot nlu train`; its hyper-parameters and the `unknown` threshold are in
//! `dialogs/nlu/model.toml`. Slots come from the rule-based extractors. The complaint patterns
//! (`dialogs/nlu/intents.toml`) only tag complaints. This module never reads files and never reads
//! the clock (today is a parameter); floats (f32) are used only for the model's scores.

mod amount;
pub mod data;
mod date;
pub mod eval;
mod features;
mod intent;
pub mod model;
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

/// The model shipped in the binary (`repaybot nlu train` writes it).
pub const MODEL_BYTES: &[u8] = include_bytes!("../../dialogs/nlu/model.bin");

/// The path of the hyper-parameter file among the dialog files.
pub const PARAMS_PATH: &str = "dialogs/nlu/model.toml";

/// The intent model, its parameters and the complaint patterns.
#[derive(Debug, Clone)]
pub struct Nlu {
    model: std::sync::Arc<model::Compact>,
    params: model::Params,
    complaints: std::sync::Arc<intent::Classifier>,
}

/// One message's intent with the model's probability of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub intent: Intent,
    /// The best intent's softmax probability (before the `unknown` threshold).
    pub confidence: f32,
    /// Whether the best intent was below the threshold (and so became `unknown`).
    pub below_threshold: bool,
}

fn load_error(path: &str, message: String) -> Vec<LoadError> {
    vec![LoadError {
        path: path.into(),
        line: 0,
        message,
    }]
}

/// The hyper-parameters of `dialogs/nlu/model.toml` among `files`.
pub fn params_of(files: &[SourceFile]) -> Result<model::Params, Vec<LoadError>> {
    let file = files
        .iter()
        .find(|f| f.path.replace('\\', "/").ends_with("nlu/model.toml"))
        .ok_or_else(|| load_error(PARAMS_PATH, "missing".into()))?;
    let params: model::Params = toml::from_str(&file.text)
        .map_err(|e| load_error(&file.path, e.message().trim().to_string()))?;
    let problems = params.problems();
    if !problems.is_empty() {
        return Err(load_error(&file.path, problems.join("; ")));
    }
    Ok(params)
}

impl Nlu {
    /// Builds from the dialog files (the complaint patterns and `model.toml` under `nlu/`; other
    /// files are ignored) and the shipped model. Returns every error with file and line.
    pub fn from_files(files: &[SourceFile]) -> Result<Nlu, Vec<LoadError>> {
        let model = model::Compact::from_bytes(MODEL_BYTES)
            .map_err(|e| load_error("dialogs/nlu/model.bin", e))?;
        Nlu::from_files_with(files, model)
    }

    /// As `from_files`, with another model (a freshly trained one).
    pub fn from_files_with(
        files: &[SourceFile],
        model: model::Compact,
    ) -> Result<Nlu, Vec<LoadError>> {
        let patterns = patterns::load(files);
        let params = params_of(files);
        let (patterns, params) = match (patterns, params) {
            (Ok(p), Ok(q)) => (p, q),
            (p, q) => {
                let mut errors = p.err().unwrap_or_default();
                errors.extend(q.err().unwrap_or_default());
                return Err(errors);
            }
        };
        if model.bits() != params.hash_bits {
            return Err(load_error(
                "dialogs/nlu/model.bin",
                "trained with other hash_bits than model.toml: run `repaybot nlu train`".into(),
            ));
        }
        let complaints = intent::Classifier::new(&patterns).map_err(|e| {
            load_error(
                "dialogs/nlu",
                format!("patterns do not compile together: {e}"),
            )
        })?;
        Ok(Nlu {
            model: std::sync::Arc::new(model),
            params,
            complaints: std::sync::Arc::new(complaints),
        })
    }

    /// The same NLU with another model (cross-validation).
    pub fn with_model(&self, model: model::Compact) -> Nlu {
        Nlu {
            model: std::sync::Arc::new(model),
            ..self.clone()
        }
    }

    pub fn params(&self) -> &model::Params {
        &self.params
    }

    pub fn model(&self) -> &model::Compact {
        &self.model
    }

    /// Whether the message complains or disputes (patterns tagged `complaint`): its ticket
    /// gets that reason.
    pub fn is_complaint(&self, text: &str) -> bool {
        self.complaints.has_tag(text, "complaint")
    }

    /// The model's intent for a message with its probability; `unknown` below the threshold.
    pub fn classify(&self, text: &str, today: NaiveDate) -> Scored {
        let head: String = text.chars().take(features::MAX_CHARS).collect();
        self.classify_marked(text, &slots::extract_marked(&head, today))
    }

    fn classify_marked(&self, text: &str, marked: &slots::Marked) -> Scored {
        if text.trim().is_empty() {
            return Scored {
                intent: Intent::Unknown,
                confidence: 1.0,
                below_threshold: false,
            };
        }
        let f = features::features_of(marked, self.params.hash_bits);
        let p = self.model.probabilities(&f);
        let best = (0..p.len()).fold(0, |b, k| if p[k] > p[b] { k } else { b });
        let below = p[best] < self.params.threshold;
        let intent = if below {
            Intent::Unknown
        } else {
            Intent::ALL[best]
        };
        // A complaint or dispute always reaches a person (and its ticket says so).
        let intent = if intent != Intent::Human && self.is_complaint(text) {
            Intent::Human
        } else {
            intent
        };
        Scored {
            intent,
            confidence: p[best],
            below_threshold: below,
        }
    }

    /// Whether an operator should see this message: not understood, or understood with a
    /// probability below `review_below` (commands and empty messages never).
    pub fn worth_keeping(&self, text: &str, today: NaiveDate) -> bool {
        let t = text.trim();
        if t.is_empty() || t.starts_with('/') {
            return false;
        }
        let s = self.classify(t, today);
        s.intent == Intent::Unknown || s.confidence < self.params.review_below
    }

    /// Intent, slots and language of one message, dates resolved against `today`.
    pub fn understand(&self, text: &str, today: NaiveDate) -> Understanding {
        let marked = slots::extract_marked(text, today);
        let intent = if text.chars().nth(features::MAX_CHARS).is_some() {
            self.classify(text, today).intent
        } else {
            self.classify_marked(text, &marked).intent
        };
        Understanding {
            intent,
            slots: marked.slots,
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

/// A message that is only a small whole number (14, １４, 十四): the answer to "how many days /
/// periods?" when a dialog state expects one; `None` otherwise.
pub fn bare_count(text: &str) -> Option<u32> {
    let chars = numbers::normalize(text.trim());
    let nums = numbers::scan_numbers(&chars);
    match nums.as_slice() {
        [n] if n.start == 0 && n.end == chars.len() && !n.decimal && !n.negative && !n.grouped => {
            u32::try_from(n.value.mantissa())
                .ok()
                .filter(|v| (1..=400).contains(v))
        }
        _ => None,
    }
}
