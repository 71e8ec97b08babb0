//! Chat sessions in sled: versioned, and an undecodable or outdated one restarts politely
//! (the caller is told, so it can apologise) instead of leaving the customer stuck.

use super::{Store, Stored, RECORD_VERSION};
use crate::dialog::{Lang, Session};
use anyhow::Result;

/// What loading a session found.
pub enum LoadedSession {
    Fresh(Session),
    Found(Session),
    /// There was a session but this build cannot read it: a new one, with an apology due.
    Restarted(Session),
}

impl LoadedSession {
    /// The session, whatever was found.
    pub fn into_session(self) -> Session {
        match self {
            LoadedSession::Fresh(s) | LoadedSession::Found(s) | LoadedSession::Restarted(s) => s,
        }
    }
}

impl Store {
    /// The chat's session; a new one in `lang` when there is none or it cannot be read.
    pub fn load_session(&self, chat: &str, lang: Lang) -> Result<LoadedSession> {
        let Some(bytes) = self.sessions.get(chat.as_bytes())? else {
            return Ok(LoadedSession::Fresh(Session::new(lang)));
        };
        match serde_json::from_slice::<Stored<Session>>(&bytes) {
            Ok(s) if s.v == RECORD_VERSION => Ok(LoadedSession::Found(s.data)),
            _ => {
                tracing::warn!(chat, "session undecodable or outdated; restarting it");
                Ok(LoadedSession::Restarted(Session::new(lang)))
            }
        }
    }

    pub fn save_session(&self, chat: &str, session: &Session) -> Result<()> {
        let record = Stored::new(format!("chat:{chat}"), session.clone());
        self.sessions.insert(chat.as_bytes(), record.to_bytes())?;
        Ok(())
    }

    /// Whether the chat has a session (a chat that never talked to the bot has none).
    pub fn has_session(&self, chat: &str) -> Result<bool> {
        Ok(self.sessions.contains_key(chat.as_bytes())?)
    }
}
