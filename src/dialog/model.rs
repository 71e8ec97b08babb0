//! Raw, serde-shaped dialog files exactly as written under `dialogs/`; no validation, no I/O.
//!
//! # File format
//!
//! Flow files are `dialogs/flows/<name>.toml`:
//!
//! ```toml
//! name = "repay"                 # unique flow name
//! start = "choose"               # state entered when the flow is entered
//! triggers = ["repay"]           # intents that enter this flow from any state (global routing)
//! requires_account = true        # unbound chats are sent to flow "bind" (with common.bind_first)
//! help = "repay.help"            # optional text key shown on intent `help` inside this flow
//!
//! [states.choose]
//! action = "bill_summary"        # run on entering; returns an outcome and may set vars
//! go = { nothing_due = "nothing_due" }  # outcome -> target, followed at once (chains guarded)
//! say = ["repay.choose"]         # text keys rendered with {vars}, joined by "\n" in one reply
//! buttons = [ { label = "repay.btn_bill", goto = "confirm", set = { target = "bill" } } ]
//! on = { affirm = "confirm", amount = "confirm" }  # intent (or the expected slot) -> target
//! expect = "amount"              # slot asked for: sets var `amount` and follows `on.amount`
//! effect = "post_payment"        # on entering, Effect::Emit { name, vars } for the app
//! events = { payment_ok = "receipt" }  # app events -> target; the state waits for them
//! final = true                   # after the reply, the session returns to menu idle
//! contact = "bind.btn_share"     # label of a "share my phone number" button (needs expect = "phone")
//! confirm = true                 # moves money / makes an agreement: strict typed yes (confirm.toml)
//! ```
//!
//! Targets: `state` (same flow), `flow.state`, `flow` (its start), `@menu` (menu start, vars
//! cleared), `@back` (previous state), `@human` (human start).
//!
//! Text files are `dialogs/text/zh.toml` and `dialogs/text/en.toml`, one table per flow (plus
//! `[common]`): `[repay] choose = "本期应还 {amount} 元"` defines key `repay.choose`. `{name}`
//! is replaced by a session var; `{{` and `}}` are literal braces.
//! Placeholders must be in `Known::vars` (there are no built-ins); a var missing at run time
//! renders as `—`. Errors carry 1-based lines; line 0 names a whole file that is missing.
//! `dialogs/README.md` describes the same format for dialog authors.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A spanned string: the value and its byte range in the file.
pub type S = Spanned<String>;

/// One flow file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub name: S,
    pub start: S,
    #[serde(default)]
    pub triggers: Vec<S>,
    #[serde(default)]
    pub requires_account: bool,
    #[serde(default)]
    pub help: Option<S>,
    #[serde(default)]
    pub states: BTreeMap<S, RawState>,
}

/// One `[states.NAME]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    #[serde(default)]
    pub action: Option<S>,
    #[serde(default)]
    pub go: BTreeMap<S, S>,
    #[serde(default)]
    pub say: Vec<S>,
    #[serde(default)]
    pub buttons: Vec<RawButton>,
    #[serde(default)]
    pub on: BTreeMap<S, S>,
    #[serde(default)]
    pub expect: Option<S>,
    #[serde(default)]
    pub effect: Option<S>,
    #[serde(default)]
    pub events: BTreeMap<S, S>,
    #[serde(default, rename = "final")]
    pub is_final: bool,
    #[serde(default)]
    pub choices: Option<RawChoices>,
    /// Text key of a "share my phone number" button the front end offers with the prompt
    /// (Telegram's contact button); needs `expect = "phone"`. Terminals ignore it.
    #[serde(default)]
    pub contact: Option<S>,
    /// A step that moves money or makes an agreement: a typed reply confirms (`on.affirm`) only
    /// when it is one of `dialogs/confirm.toml`'s `yes` words on its own; anything else unclear
    /// gets `common.confirm_unclear` and the question again with its buttons.
    #[serde(default)]
    pub confirm: bool,
}

/// `dialogs/confirm.toml`: the replies that confirm (`yes`) or decline (`no`) at a confirming
/// state, each as the whole message (compared trimmed, lower-cased, without closing `。.!！~`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfirmWords {
    pub yes: Vec<S>,
    #[serde(default)]
    pub no: Vec<S>,
}

/// Buttons made at run time from a var the app filled (one line `value<TAB>label` each):
/// pressing one sets var `set` to its value and goes to `goto`. Shown before the fixed buttons.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChoices {
    pub from: S,
    pub set: S,
    pub goto: S,
}

/// One button of a state.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawButton {
    pub label: S,
    pub goto: S,
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

/// A text file: flow table -> key -> text.
pub type RawTexts = BTreeMap<S, BTreeMap<S, S>>;

/// 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}
