//! Dialog engine: flows loaded from `dialogs/` text, validated, and a pure `step` (no I/O, no clock).
//!
//! The app reads the files and hands them in as [`SourceFile`]s; [`Flows::load`] validates them
//! into an indexed model (every error with file and line); [`Flows::step`] turns a session and one
//! input into the next session and the [`Effect`]s the app must perform.

mod check;
mod graph;
mod index;
mod load;
pub mod model;
mod render;
mod step;

pub use graph::graph;
pub use index::{check_report, Flows};
pub use render::render;
pub use step::button_turn;

use std::collections::BTreeMap;
use std::fmt;

/// One file under `dialogs/`, already read by the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// A validation error; `line` is 1-based, 0 when it concerns a whole (missing) file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

impl std::error::Error for LoadError {}

/// The names the app knows about; dialog files may only use these.
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub intents: Vec<String>,
    pub slots: Vec<String>,
    pub actions: Vec<String>,
    pub effects: Vec<String>,
    pub events: Vec<String>,
    pub vars: Vec<String>,
}

/// The customer's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The other language.
    pub fn toggled(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// Where a chat is in its conversation; saved by the app between messages.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub flow: String,
    pub state: String,
    pub vars: BTreeMap<String, String>,
    pub lang: Lang,
    pub misunderstood: u8,
    pub turn: u64,
    pub back: Vec<(String, String)>,
}

impl Session {
    /// A fresh session, idle in the menu (an empty state means "the menu's start").
    pub fn new(lang: Lang) -> Session {
        Session {
            flow: "menu".to_string(),
            state: String::new(),
            vars: BTreeMap::new(),
            lang,
            misunderstood: 0,
            turn: 0,
            back: Vec::new(),
        }
    }
}

/// A customer's text message, as understood by the NLU.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub raw: &'a str,
    pub intent: &'a str,
    pub slots: &'a BTreeMap<String, String>,
    /// A slot ("amount" or "date") the customer tried to give but that made no sense.
    pub slot_problem: Option<&'a str>,
}

/// One thing that happened to a chat.
#[derive(Clone, Debug)]
pub enum Input<'a> {
    Text(Message<'a>),
    /// Callback data of a pressed button.
    Button(&'a str),
    /// Something the app reports (a payment confirmed, an agent closed a ticket).
    Event {
        name: &'a str,
        vars: BTreeMap<String, String>,
    },
    /// `/start`.
    Start,
}

/// Business actions named by dialog files, implemented by the app.
pub trait Actions {
    /// Runs action `name`; may set vars; returns an outcome name ("ok" by default). An error
    /// (the facts could not be read) stops the step: the turn fails, nothing is decided on it.
    fn run(&self, name: &str, vars: &mut BTreeMap<String, String>) -> Result<String, ActionError>;
}

/// An action could not read the facts it needs (a storage error): never an outcome.
#[derive(Debug)]
pub struct ActionError {
    pub action: String,
    pub cause: String,
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "action {}: {}", self.action, self.cause)
    }
}

impl std::error::Error for ActionError {}

/// What the engine may know about the chat beyond its session.
pub struct Ctx<'a> {
    pub bound: bool,
    pub actions: &'a dyn Actions,
}

/// What the app must do after a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Reply {
        key_trail: Vec<String>,
        text: String,
        buttons: Vec<ButtonOut>,
        /// The state's `contact`: the label of a "share my phone number" button to offer.
        request_contact: Option<String>,
    },
    Emit {
        name: String,
        vars: BTreeMap<String, String>,
    },
    SetLang(Lang),
}

/// A button to show; `data` (at most 64 bytes) comes back as [`Input::Button`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ButtonOut {
    pub label: String,
    pub data: String,
}
