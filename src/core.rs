//! The core every part borrows: the store, the dialogs, the language model, the settings and the
//! one clock. The app (the turn), the support desk and the reminders take a `&Core`; the front
//! ends hold an `App`, which is the core plus the turn. Nothing here depends on them.

use crate::dialog::{Flows, Known, Lang};
use crate::domain::{Account, Language};
use crate::embedded;
use crate::nlu::Nlu;
use crate::settings::Settings;
use crate::store::{LoadedSession, Store};
use anyhow::{anyhow, Result};

/// The store, the dialogs and NLU loaded from `dialogs/`, the settings and the clock.
pub struct Core {
    pub store: Store,
    pub flows: Flows,
    pub nlu: Nlu,
    pub settings: Settings,
    /// The one clock every part reads "now" and "today" from (the system clock unless
    /// [`Core::with_clock`] sets another).
    pub clock: crate::clock::Clock,
}

impl Core {
    /// Loads the embedded dialogs (checked against the names in `known`) and the NLU; an invalid
    /// dialog set refuses to start.
    pub fn new(store: Store, settings: Settings, known: &Known) -> Result<Core> {
        let files = embedded::dialog_files();
        let flows = Flows::load(&files, known).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow!("the dialogs are invalid:\n{}", lines.join("\n"))
        })?;
        let nlu = Nlu::from_files(&files).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow!("the NLU patterns are invalid:\n{}", lines.join("\n"))
        })?;
        Ok(Core {
            store,
            flows,
            nlu,
            settings,
            clock: crate::clock::Clock::system(),
        })
    }

    /// The account bound to `chat`, if any.
    pub fn account_of(&self, chat: &str) -> Result<Option<Account>> {
        match self.store.binding(chat)? {
            Some(id) => Ok(self.store.account(&id)?.map(|s| s.data)),
            None => Ok(None),
        }
    }

    /// The chat's language: its session's, else its account's, else Chinese.
    pub fn chat_lang(&self, chat: &str) -> Lang {
        let account = self.account_of(chat).ok().flatten();
        let default = account.map_or(Lang::Zh, |a| dialog_lang(a.language));
        match self.store.load_session(chat, default) {
            Ok(LoadedSession::Found(s)) => s.lang,
            _ => default,
        }
    }
}

/// An account's language as the dialogs name it.
pub fn dialog_lang(l: Language) -> Lang {
    match l {
        Language::Zh => Lang::Zh,
        Language::En => Lang::En,
    }
}

/// One message to show the customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    /// (label, callback data)
    pub buttons: Vec<(String, String)>,
    /// A file sent with the message (a calendar, a written confirmation); None for plain text.
    pub attachment: Option<Attachment>,
    /// The label of a "share my phone number" button to offer (a dialog state's `contact`).
    pub request_contact: Option<String>,
}

/// The data of a link button starts with this (the rest is the URL); front ends show it as a
/// URL button (Telegram) or print the URL (terminal). Never a callback: pressing it opens the page.
pub const URL_BUTTON: &str = "url:";

/// The URL of a link button's data (None for a callback button).
pub fn link_of(data: &str) -> Option<&str> {
    data.strip_prefix(URL_BUTTON)
}

/// A file the bot sends: a document in Telegram, a file written by the terminal chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl Reply {
    /// A message without buttons or file.
    pub fn text(text: String) -> Reply {
        Reply {
            text,
            ..Reply::default()
        }
    }

    /// The buttons as the terminal shows them: `[1] 查账单  [2] 还款` (None without buttons); a
    /// link button (always after the others) shows its URL and no number, since only a browser
    /// can press it: `去支付 ¥500.00: https://…`.
    pub fn button_line(&self) -> Option<String> {
        let shown: Vec<String> = self
            .buttons
            .iter()
            .enumerate()
            .map(|(i, (label, data))| match link_of(data) {
                Some(url) => format!("{label}: {url}"),
                None => format!("[{}] {label}", i + 1),
            })
            .collect();
        (!shown.is_empty()).then(|| shown.join("  "))
    }
}
