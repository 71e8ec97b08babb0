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
    /// A confirming step: typed replies confirm only with a word of [`ConfirmWords::yes`].
    pub confirm: bool,
}

/// The whole-message replies that confirm or decline at a confirming state (`dialogs/confirm.toml`).
#[derive(Clone, Debug, Default)]
pub struct ConfirmWords {
    pub yes: std::collections::BTreeSet<String>,
    pub no: std::collections::BTreeSet<String>,
}

impl ConfirmWords {
    /// The form a reply is compared in: trimmed, lower-cased, closing `。.!！~～` and spaces
    /// dropped (a question mark stays: "ok?" is a question, not a yes).
    pub fn form(raw: &str) -> String {
        raw.trim()
            .to_lowercase()
            .trim_end_matches(['。', '.', '!', '！', '~', '～', ' ', '\u{3000}'])
            .trim()
            .to_string()
    }

    pub fn is_yes(&self, raw: &str) -> bool {
        self.yes.contains(&Self::form(raw))
    }

    pub fn is_no(&self, raw: &str) -> bool {
        self.no.contains(&Self::form(raw))
    }

    /// Whether the reply holds a yes word anywhere ("好吧不用了", "ok no", "确认不了"): such a
    /// reply is mixed, never a clear no. Latin words count as whole words only.
    pub fn mentions_yes(&self, raw: &str) -> bool {
        let form = Self::form(raw);
        let words: Vec<&str> = form
            .split(|c: char| !c.is_alphanumeric() || !c.is_ascii())
            .filter(|w| !w.is_empty())
            .collect();
        self.yes.iter().any(|y| {
            if y.is_ascii() {
                words.contains(&y.as_str())
            } else {
                form.contains(y.as_str())
            }
        })
    }
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
    pub(crate) confirm_words: ConfirmWords,
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
    /// The action names and the effect names the states use.
    pub fn names_used(
        &self,
    ) -> (
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<String>,
    ) {
        let states = self.flows.values().flat_map(|f| f.states.values());
        let mut actions = std::collections::BTreeSet::new();
        let mut effects = std::collections::BTreeSet::new();
        for st in states {
            actions.extend(st.action.clone());
            effects.extend(st.effect.clone());
        }
        (actions, effects)
    }

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

    /// Whether state `flow.state` is a confirming step (`confirm = true`).
    pub fn is_confirm_state(&self, flow: &str, state: &str) -> bool {
        self.flows
            .get(flow)
            .and_then(|f| f.states.get(state))
            .is_some_and(|s| s.confirm)
    }

    /// The start state of `flow`.
    pub fn start_of(&self, flow: &str) -> Option<&str> {
        self.flows.get(flow).map(|f| f.start.as_str())
    }
}
