//! Intents (SPEC 2.3) and the tag patterns: every pattern in one `RegexSet`, asked which tags
//! (`complaint`) a message matches. The intent itself comes from the model (`model.rs`).

use super::numbers::normalize_char;
use super::patterns::Pattern;
use regex::{RegexSet, RegexSetBuilder};

/// What the customer wants (SPEC 2.3).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Greet,
    BillQuery,
    BillDetail,
    Repay,
    EarlySettle,
    Autopay,
    ReminderSet,
    ReminderCancel,
    OverdueHelp,
    Negotiate,
    Records,
    CreditImpact,
    Fees,
    Human,
    BindAccount,
    Cancel,
    Affirm,
    Deny,
    Thanks,
    Bye,
    Help,
    Language,
    Unknown,
}

const NAMES: [&str; 23] = [
    "greet",
    "bill_query",
    "bill_detail",
    "repay",
    "early_settle",
    "autopay",
    "reminder_set",
    "reminder_cancel",
    "overdue_help",
    "negotiate",
    "records",
    "credit_impact",
    "fees",
    "human",
    "bind_account",
    "cancel",
    "affirm",
    "deny",
    "thanks",
    "bye",
    "help",
    "language",
    "unknown",
];

impl Intent {
    pub const ALL: [Intent; 23] = [
        Intent::Greet,
        Intent::BillQuery,
        Intent::BillDetail,
        Intent::Repay,
        Intent::EarlySettle,
        Intent::Autopay,
        Intent::ReminderSet,
        Intent::ReminderCancel,
        Intent::OverdueHelp,
        Intent::Negotiate,
        Intent::Records,
        Intent::CreditImpact,
        Intent::Fees,
        Intent::Human,
        Intent::BindAccount,
        Intent::Cancel,
        Intent::Affirm,
        Intent::Deny,
        Intent::Thanks,
        Intent::Bye,
        Intent::Help,
        Intent::Language,
        Intent::Unknown,
    ];

    /// The label of SPEC 2.3.
    pub fn as_str(self) -> &'static str {
        NAMES[self as usize]
    }

    pub fn parse(s: &str) -> Option<Intent> {
        NAMES.iter().position(|n| *n == s).map(|i| Intent::ALL[i])
    }
}

/// Lower case, full-width folded, whitespace collapsed, apostrophes dropped (can't = cant),
/// trailing punctuation and emoji dropped unless the message is nothing else (👍).
pub fn prepare(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text
        .chars()
        .map(normalize_char)
        .filter(|c| !matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '`'))
        .flat_map(char::to_lowercase)
    {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    let keep = |c: char| c.is_alphanumeric();
    match out.rfind(keep) {
        Some(i) => out.truncate(i + out[i..].chars().next().map_or(0, char::len_utf8)),
        None => out.truncate(out.trim_end().len()),
    }
    out
}

/// The compiled patterns.
#[derive(Debug)]
pub struct Classifier {
    set: RegexSet,
    tags: Vec<Option<String>>,
}

impl Classifier {
    pub fn new(patterns: &[Pattern]) -> Result<Classifier, regex::Error> {
        let set = RegexSetBuilder::new(patterns.iter().map(|p| &p.regex))
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()?;
        let tags = patterns.iter().map(|p| p.tag.clone()).collect();
        Ok(Classifier { set, tags })
    }

    /// Whether a pattern tagged `tag` matches the message.
    pub fn has_tag(&self, text: &str, tag: &str) -> bool {
        let text = prepare(text);
        self.set
            .matches(&text)
            .iter()
            .any(|i| self.tags[i].as_deref() == Some(tag))
    }
}
