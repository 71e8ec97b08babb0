//! Forgetting a chat (SPEC 3.10) and unbinding it: the one place that knows everything a chat
//! keeps about a customer.

use super::Store;
use anyhow::Result;

impl Store {
    /// Deletes what this chat keeps about the customer, for `/forget` (SPEC 3.10), and flushes:
    ///
    /// - the conversation session (`sessions/<chat>`: state, vars, language);
    /// - the binding both ways (`chat/bind/<chat>` and `chat/bound/<account>` when it names this
    ///   chat);
    /// - the replies owed to the chat and its last payment's receipt (`outbox`);
    /// - every other `chat` record whose key ends in `/<chat>` (per-chat records keyed
    ///   `<kind>/<chat>`);
    /// - the bound account's reminder settings (`chat/remind/<account>`) when this chat holds
    ///   the account (an operator's terminal view does not): with the binding gone the scheduler
    ///   has no chat to remind, and a new binding starts from the defaults;
    /// - the support transcript of the chat (`support/tx/<chat>`), and its open ticket is closed;
    /// - the chat's operations events (`events`, via `events_chat`; events.rs).
    ///
    /// It keeps what the shop must keep: accounts, orders, payments, payment idempotency keys,
    /// agreements (on the orders), hardship cases and tickets, and the binding failure counts
    /// (`bind_guard`: a security record; `/forget` must not lift a lock). Engineers adding per-chat data: key
    /// it `<kind>/<chat>` in the `chat` tree (then it is covered) or add its deletion here and to
    /// this list.
    pub fn forget_chat(&self, chat: &str, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        self.sessions.remove(chat.as_bytes())?;
        if let Some(account) = self.binding(chat)? {
            if self.chat_of_account(&account)?.as_deref() == Some(chat) {
                self.chat.remove(format!("remind/{account}").as_bytes())?;
            }
        }
        self.forget_support(chat, now)?;
        self.forget_chat_events(chat)?;
        self.forget_outbox(chat)?;
        self.unbind_without_flush(chat)?;
        let suffix = format!("/{chat}");
        let mut doomed = Vec::new();
        for key in self.chat.iter().keys() {
            let key = key?;
            if key.ends_with(suffix.as_bytes()) && !key.starts_with(b"ticket/") {
                doomed.push(key);
            }
        }
        for key in doomed {
            self.chat.remove(key)?;
        }
        self.flush()
    }

    /// Removes the chat's binding (both directions); false when it was not bound. Flushed.
    pub fn unbind(&self, chat: &str) -> Result<bool> {
        let was = self.unbind_without_flush(chat)?;
        self.flush()?;
        Ok(was)
    }

    fn unbind_without_flush(&self, chat: &str) -> Result<bool> {
        let Some(account) = self.binding(chat)? else {
            return Ok(false);
        };
        if self
            .get_chat::<String>(&format!("bound/{account}"))?
            .as_deref()
            == Some(chat)
        {
            self.chat.remove(format!("bound/{account}").as_bytes())?;
        }
        self.chat.remove(format!("bind/{chat}").as_bytes())?;
        Ok(true)
    }

    /// Records that Telegram update `id` is being handled: false when it was seen before (a
    /// redelivery or a replay), so the caller drops it. Ids more than [`UPDATES_KEPT`] below
    /// the newest are forgotten (Telegram's ids increase; it redelivers only recent ones).
    pub fn first_delivery(&self, id: u64) -> Result<bool> {
        let fresh = self
            .updates
            .compare_and_swap(id.to_be_bytes(), None as Option<&[u8]>, Some(&[][..]))?
            .is_ok();
        if let Some(floor) = id.checked_sub(UPDATES_KEPT).filter(|_| fresh) {
            for key in self.updates.range(..floor.to_be_bytes()).keys() {
                self.updates.remove(key?)?;
            }
        }
        Ok(fresh)
    }
}

/// How far below the newest update id processed ids are remembered.
pub const UPDATES_KEPT: u64 = 100_000;
