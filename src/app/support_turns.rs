//! The app's side of human support: the transcript ring every turn feeds (redacted), the turn
//! that never fails (an internal error opens a ticket), and tickets opened by app code
//! (hardship cases).

use super::{App, ChatInput, Reply, TurnOutput};
use crate::store::{NewTicket, Ticket, TicketReason, TranscriptTurn};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

impl App {
    /// Appends this turn to the chat's transcript (customer text and bot replies, redacted).
    pub(super) fn record_transcript(
        &self,
        chat: &str,
        input: &ChatInput,
        out: &TurnOutput,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let account = self.account_of(chat)?;
        let shown = |t: &str| crate::support::redact(t, account.as_ref());
        let text = match input {
            ChatInput::Start => "/start".to_string(),
            ChatInput::Button(_) => "[button]".to_string(),
            ChatInput::Text(t) => shown(t),
            ChatInput::Document { .. } => "[file]".to_string(),
            ChatInput::Contact { .. } => "[contact]".to_string(),
        };
        let turn = TranscriptTurn {
            at: now,
            from: "customer".into(),
            text,
            replies: out.replies.iter().map(|r| shown(&r.text)).collect(),
        };
        self.store.record_turn(chat, turn)
    }

    /// `turn`, but an internal error never reaches the customer as a failure: it is logged, a
    /// ticket opens (reason `internal_error`) and the customer is told so. Front ends call this.
    pub fn respond(
        &self,
        chat: &str,
        input: ChatInput,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> TurnOutput {
        let started = std::time::Instant::now();
        let text = match &input {
            ChatInput::Text(t) => Some(t.clone()),
            _ => None,
        };
        let out = match self.turn(chat, input, today, now) {
            Ok(out) => out,
            Err(e) => {
                tracing::error!(chat, "turn failed: {e:#}");
                self.internal_error_reply(chat, now)
            }
        };
        let took = started.elapsed();
        let fallback = crate::ops::observe::is_fallback(&self.flows, &out.replies);
        let text = text.as_deref();
        crate::ops::observe::turn(&self.store, chat, text, &out.trace, fallback, took, now);
        out
    }

    fn internal_error_reply(&self, chat: &str, now: DateTime<Utc>) -> TurnOutput {
        let lang = self.chat_lang(chat);
        let mut out = TurnOutput::default();
        let no_vars = BTreeMap::new();
        out.replies.push(Reply::text(self.flows.text(
            lang,
            "common.internal_error",
            &no_vars,
        )));
        let account = self.store.binding(chat).ok().flatten();
        let opened = self.store.open_ticket(NewTicket {
            chat,
            account_id: account.as_deref(),
            reason: TicketReason::InternalError,
            case_id: None,
            lang,
            now,
        });
        match opened {
            Ok((t, new)) => {
                if new {
                    crate::ops::observe::ticket_opened(&self.store, &t);
                    out.tickets_opened.push(t.number);
                }
                let vars = BTreeMap::from([("ticket_no".to_string(), t.number.to_string())]);
                out.replies.push(Reply::text(self.flows.text(
                    lang,
                    "support.error_ticket",
                    &vars,
                )));
                out.trace
                    .push(format!("ticket={} reason=internal_error", t.number));
            }
            Err(e) => tracing::error!(chat, "cannot open a ticket after an error: {e:#}"),
        }
        out
    }

    /// Opens (or finds: `false`) the chat's ticket for a hardship case; the caller then lets the
    /// support desk announce it (`Desk::announce`, or `Desk::after_turn` inside a customer turn).
    pub fn open_ticket_for_case(
        &self,
        chat: &str,
        account_id: &str,
        case_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, bool)> {
        let (t, new) = self.store.open_ticket(NewTicket {
            chat,
            account_id: Some(account_id),
            reason: TicketReason::Hardship,
            case_id: Some(case_id),
            lang: self.chat_lang(chat),
            now,
        })?;
        if new {
            crate::ops::observe::ticket_opened(&self.store, &t);
        }
        tracing::info!(chat, ticket = t.number, "ticket opened for a hardship case");
        Ok((t, new))
    }
}
