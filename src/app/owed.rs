//! Replies owed through the store's outbox: a payment's receipt (written with the payment, so a
//! crash before the send cannot lose it) and notices for another chat. A front end sends what a
//! turn owes, then calls [`App::settle_owed`]; at start it sends [`App::owed_replies`] (what a
//! crash left behind) the same way. Also the confirm button pressed again after its payment.

use super::{App, Reply, TurnOutput};
use crate::dialog::Lang;
use crate::store::{OwedEntry, OwedKind};
use anyhow::Result;
use std::collections::BTreeMap;

/// An outbox entry a turn wrote.
#[derive(Clone, Debug)]
pub(super) struct OwedRef {
    pub chat: String,
    pub id: String,
    /// Already among the turn's own replies (a receipt shown by the flow).
    pub in_turn: bool,
}

/// Replies owed to one chat: send `reply` (None: it is already among the turn's replies), then
/// settle `keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwedReply {
    pub chat: String,
    pub reply: Option<Reply>,
    pub keys: Vec<Vec<u8>>,
}

impl App {
    /// Everything owed (`chat` None) or owed to one chat, one reply per chat and kind.
    pub fn owed_replies(&self, chat: Option<&str>) -> Result<Vec<OwedReply>> {
        let entries = match chat {
            Some(c) => self.store.owed_to(c)?,
            None => self.store.owed()?,
        };
        let mut grouped: BTreeMap<(String, OwedKind), Vec<OwedEntry>> = BTreeMap::new();
        for e in entries {
            grouped
                .entry((e.chat.clone(), e.owed.kind))
                .or_default()
                .push(e);
        }
        Ok(grouped
            .into_iter()
            .map(|((chat, _), group)| OwedReply {
                reply: Some(self.render_owed(&group)),
                keys: group.into_iter().map(|e| e.key).collect(),
                chat,
            })
            .collect())
    }

    fn render_owed(&self, group: &[OwedEntry]) -> Reply {
        let first = group.first().map(|e| &e.owed);
        let lang = first.map_or(Lang::Zh, |o| o.lang);
        let key = match first.map(|o| o.kind) {
            Some(OwedKind::BindAttempt) => "outbox.bind_attempt",
            Some(OwedKind::PayReceipt) => "pay.notice_receipt",
            Some(OwedKind::PayLate) => "pay.notice_late",
            Some(OwedKind::PayFailed) => "pay.notice_failed",
            Some(OwedKind::PayExpired) => "pay.notice_expired",
            Some(OwedKind::PayRefund) => "pay.notice_refund",
            Some(OwedKind::Receipt) | None => "outbox.receipt",
        };
        let lines: Vec<String> = group.iter().flat_map(|e| e.owed.lines.clone()).collect();
        let vars = BTreeMap::from([("receipt_lines".to_string(), lines.join("\n"))]);
        Reply::text(self.flows.text(lang, key, &vars))
    }

    /// Removes what was sent from the outbox.
    pub fn settle_owed(&self, owed: &[OwedReply]) -> Result<()> {
        let keys: Vec<Vec<u8>> = owed.iter().flat_map(|o| o.keys.clone()).collect();
        self.store.settle_owed(&keys)
    }

    /// The outbox entries a turn wrote, as replies for the front end.
    pub(super) fn owed_of_turn(&self, refs: Vec<OwedRef>) -> Result<Vec<OwedReply>> {
        let mut out = Vec::new();
        let mut own = OwedReply {
            chat: String::new(),
            reply: None,
            keys: Vec::new(),
        };
        for r in refs {
            let key = crate::store::owed_key(&r.chat, &r.id);
            if r.in_turn {
                own.chat = r.chat;
                own.keys.push(key);
                continue;
            }
            let entry = self
                .store
                .owed_to(&r.chat)?
                .into_iter()
                .find(|e| e.key == key);
            if let Some(e) = entry {
                out.push(OwedReply {
                    chat: r.chat,
                    reply: Some(self.render_owed(std::slice::from_ref(&e))),
                    keys: vec![key],
                });
            }
        }
        if !own.keys.is_empty() {
            out.push(own);
        }
        Ok(out)
    }

    /// A confirm button pressed again after its payment went through (the reply was lost or is
    /// just old): the receipt of what was paid, instead of "this button has expired".
    pub(super) fn paid_button(
        &self,
        chat: &str,
        data: &str,
        session_turn: u64,
        lang: Lang,
    ) -> Result<Option<TurnOutput>> {
        let Some(turn) = crate::dialog::button_turn(data) else {
            return Ok(None);
        };
        if turn == session_turn {
            return Ok(None);
        }
        let Some(last) = self.store.last_paid(chat)? else {
            return Ok(None);
        };
        if last.confirm_turn != turn {
            return Ok(None);
        }
        let vars = BTreeMap::from([("receipt_lines".to_string(), last.lines.join("\n"))]);
        let text = self.flows.text(lang, "repay.already_paid", &vars);
        Ok(Some(TurnOutput {
            replies: vec![Reply::text(text)],
            trace: vec!["button=paid_before".to_string()],
            owed: Vec::new(),
            tickets_opened: Vec::new(),
        }))
    }
}
