//! Turns the dialog engine does not run: `/forget` (SPEC 3.10), `/unbind`, and a shared contact
//! that is not the sender's own (refused before it can bind anything).

use super::{App, ChatInput, Reply, TurnOutput};
use crate::dialog::{Lang, Session};
use anyhow::Result;
use std::collections::BTreeMap;

impl App {
    /// Handles the input when it is one of these commands; None lets the dialog run.
    pub(super) fn chat_command(
        &self,
        chat: &str,
        input: &ChatInput,
        default_lang: Lang,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<TurnOutput>> {
        let command = match input {
            ChatInput::Text(raw) => raw.trim().split(['@', ' ']).next().unwrap_or(""),
            ChatInput::Contact { own: false, .. } => "contact_not_own",
            _ => return Ok(None),
        };
        if !matches!(command, "/forget" | "/unbind" | "contact_not_own") {
            return Ok(None);
        }
        let lang = match self.store.load_session(chat, default_lang)? {
            crate::store::LoadedSession::Found(s) => s.lang,
            _ => default_lang,
        };
        let (key, trace) = match command {
            "/forget" => {
                self.store.forget_chat(chat, now)?;
                crate::ops::observe::refresh_open_tickets(&self.store);
                tracing::info!(chat, "chat forgotten on request");
                ("privacy.forgotten", "effect=forget_chat")
            }
            "/unbind" => {
                let was_bound = self.store.unbind(chat)?;
                self.store.save_session(chat, &Session::new(lang))?;
                self.store.flush()?;
                tracing::info!(chat, was_bound, "chat unbound on request");
                if was_bound {
                    ("bind.unbound", "effect=unbind")
                } else {
                    ("bind.not_bound", "effect=unbind")
                }
            }
            _ => {
                tracing::info!(chat, "contact of another user refused");
                ("bind.contact_not_own", "input=contact_not_own")
            }
        };
        let mut out = self.one_reply(lang, key, trace);
        if command == "contact_not_own" {
            // The way on is the sender's own contact: offer its button again.
            let label = self
                .flows
                .text(lang, "bind.btn_share_phone", &BTreeMap::new());
            out.replies[0].request_contact = Some(label);
        }
        Ok(Some(out))
    }

    fn one_reply(&self, lang: Lang, key: &str, trace: &str) -> TurnOutput {
        TurnOutput {
            replies: vec![Reply::text(self.flows.text(lang, key, &BTreeMap::new()))],
            trace: vec![trace.to_string()],
            owed: Vec::new(),
            tickets_opened: Vec::new(),
        }
    }
}
