//! Chat sessions in sled: versioned, and an undecodable or outdated one restarts politely
//! (the caller is told, so it can apologise) instead of leaving the customer stuck.

use crate::dialog::{Lang, Session};
use crate::store::{Store, Stored, RECORD_VERSION};
use anyhow::Result;

/// What loading a session found.
pub enum Loaded {
    Fresh(Session),
    Found(Session),
    /// There was a session but this build cannot read it: a new one, with an apology due.
    Restarted(Session),
}

pub fn load(store: &Store, chat: &str, lang: Lang) -> Result<Loaded> {
    let Some(bytes) = store.sessions.get(chat.as_bytes())? else {
        return Ok(Loaded::Fresh(Session::new(lang)));
    };
    match serde_json::from_slice::<Stored<Session>>(&bytes) {
        Ok(s) if s.v == RECORD_VERSION => Ok(Loaded::Found(s.data)),
        _ => {
            tracing::warn!(chat, "session undecodable or outdated; restarting it");
            Ok(Loaded::Restarted(Session::new(lang)))
        }
    }
}

pub fn save(store: &Store, chat: &str, session: &Session) -> Result<()> {
    let record = Stored::new(format!("chat:{chat}"), session.clone());
    store.sessions.insert(chat.as_bytes(), record.to_bytes())?;
    Ok(())
}
