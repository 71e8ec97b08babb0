//! The validated, indexed dialog model that `step` and `graph` walk; built only by `load`.

use super::{Known, SourceFile};
use std::collections::BTreeMap;

/// Where a transition leads, resolved at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Goto { flow: String, state: String },
    Menu,
    Back,
}

#[derive(Clone, Debug)]
pub struct Button {
    pub label: String,
    pub goto: Target,
    pub set: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default)]
pub struct State {
    pub action: Option<String>,
    pub go: BTreeMap<String, Target>,
    pub say: Vec<String>,
    pub buttons: Vec<Button>,
    pub on: BTreeMap<String, Target>,
    pub expect: Option<String>,
    pub effect: Option<String>,
    pub events: BTreeMap<String, Target>,
    pub is_final: bool,
    pub choices: Option<Choices>,
    /// Text key of the contact button's label: the reply asks for the phone through it.
    pub contact: Option<String>,
    /// Only an unambiguous yes (see [`Flows::is_plain_yes`]) follows `on.affirm` when typed.
    pub confirm: bool,
}

/// Run-time buttons: one per line `value<TAB>label` of var `from`; a press sets var `set`.
#[derive(Clone, Debug)]
pub struct Choices {
    pub from: String,
    pub set: String,
    pub goto: Target,
}

#[derive(Clone, Debug)]
pub struct Flow {
    pub name: String,
    pub start: String,
    pub triggers: Vec<String>,
    pub requires_account: bool,
    pub help: Option<String>,
    pub states: BTreeMap<String, State>,
}

/// Validated dialogs: flows by name and texts by language.
#[derive(Clone, Debug)]
pub struct Flows {
    pub(crate) flows: BTreeMap<String, Flow>,
    pub(crate) zh: BTreeMap<String, String>,
    pub(crate) en: BTreeMap<String, String>,
    /// Normalised replies of `dialogs/confirm.toml` (see [`normalize_yes`]).
    pub(crate) plain_yes: Vec<String>,
}

impl Flows {
    /// Whether a typed reply is, on its own, an unambiguous yes: one of `dialogs/confirm.toml`
    /// after trimming, lower case and dropping trailing full stops or exclamation marks.
    /// "确认吗", "ok?", "确认不了", "ok no" are not.
    pub fn is_plain_yes(&self, raw: &str) -> bool {
        let reply = normalize_yes(raw);
        !reply.is_empty() && self.plain_yes.contains(&reply)
    }
}

/// Trim, lower case, full-width letters folded, trailing `.` `。` `!` `！` `~` dropped; a
/// question mark is kept (a question is never a yes).
pub(crate) fn normalize_yes(raw: &str) -> String {
    let folded: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' if c != '\u{FF1F}' && c != '\u{FF01}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .trim_end_matches(['.', '。', '!', '！', '~', '～', ' '])
        .trim()
        .to_string()
}

/// The text of `dialogs check`: "ok: N flows, M states, K texts" or one error per line.
pub fn check_report(files: &[SourceFile], known: &Known) -> (String, bool) {
    match Flows::load(files, known) {
        Ok(f) => {
            let states: usize = f.flows.values().map(|x| x.states.len()).sum();
            let msg = format!(
                "ok: {} flows, {} states, {} texts",
                f.flows.len(),
                states,
                f.zh.len()
            );
            (msg, true)
        }
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            (lines.join("\n"), false)
        }
    }
}

impl Flows {
    /// The names of every flow.
    pub fn flow_names(&self) -> Vec<String> {
        self.flows.keys().cloned().collect()
    }

    /// The names of every state of `flow` (empty when there is no such flow).
    pub fn state_names(&self, flow: &str) -> Vec<String> {
        self.flows
            .get(flow)
            .map(|f| f.states.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The start state of `flow`.
    pub fn start_of(&self, flow: &str) -> Option<&str> {
        self.flows.get(flow).map(|f| f.start.as_str())
    }
}
