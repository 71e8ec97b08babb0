//! Records the chat keeps besides sessions: which account a chat is bound to, auto-debit cards
//! (last four digits only). All in the `chat` tree, flushed on write. Tickets live in `tickets.rs`.

use super::records::{get, Stored};
use super::Store;
use anyhow::Result;
use serde::Serialize;

impl Store {
    /// Writes a chat record and flushes it.
    pub fn put_chat<T: Serialize>(&self, key: &str, origin: &str, value: T) -> Result<()> {
        self.chat
            .insert(key.as_bytes(), Stored::new(origin, value).to_bytes())?;
        self.flush()
    }

    pub fn get_chat<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        Ok(get::<T>(&self.chat, key.as_bytes())?.map(|s| s.data))
    }

    pub fn remove_chat(&self, key: &str) -> Result<()> {
        self.chat.remove(key.as_bytes())?;
        self.flush()
    }

    pub fn binding(&self, chat: &str) -> Result<Option<String>> {
        Ok(get::<String>(&self.chat, format!("bind/{chat}").as_bytes())?.map(|s| s.data))
    }

    /// The chat bound to an account (the reverse of `binding`): where its reminders go.
    pub fn chat_of_account(&self, account_id: &str) -> Result<Option<String>> {
        Ok(get::<String>(&self.chat, format!("bound/{account_id}").as_bytes())?.map(|s| s.data))
    }

    /// Binds a chat to an account (one chat ↔ one account): false when another chat holds it.
    /// One transaction: two chats binding the same account at once cannot both win, and a chat
    /// that moves to another account releases the old one (its reminders no longer come here).
    pub fn bind(&self, chat: &str, account_id: &str) -> Result<bool> {
        let bound_key = format!("bound/{account_id}");
        let bind_key = format!("bind/{chat}");
        let holder_value = Stored::new(chat, chat.to_string()).to_bytes();
        let account_value = Stored::new(chat, account_id.to_string()).to_bytes();
        let decode_text = |v: &[u8]| super::records::decode::<String>(v).ok().map(|s| s.data);
        let outcome = self.chat.transaction(|t| {
            if let Some(holder) = t.get(bound_key.as_bytes())? {
                if decode_text(&holder).as_deref() != Some(chat) {
                    return Ok(false);
                }
            }
            if let Some(old) = t.get(bind_key.as_bytes())?.and_then(|v| decode_text(&v)) {
                let old_key = format!("bound/{old}");
                let old_holder = t.get(old_key.as_bytes())?.and_then(|v| decode_text(&v));
                if old != account_id && old_holder.as_deref() == Some(chat) {
                    t.remove(old_key.as_bytes())?;
                }
            }
            t.insert(bound_key.as_bytes(), holder_value.as_slice())?;
            t.insert(bind_key.as_bytes(), account_value.as_slice())?;
            Ok(true)
        });
        let bound = outcome.map_err(|e: sled::transaction::TransactionError<()>| {
            anyhow::anyhow!("binding transaction failed: {e:?}")
        })?;
        self.flush()?;
        Ok(bound)
    }

    /// Lets an operator's chat (the terminal's `chat --account`) act as an account without
    /// holding it: only `bind/<chat>` is written, so the customer can still bind in Telegram and
    /// reminders keep going to the customer's chat. A hold this chat took earlier is released.
    pub fn act_as(&self, chat: &str, account_id: &str) -> Result<()> {
        let bound_key = format!("bound/{account_id}");
        if self.chat_of_account(account_id)?.as_deref() == Some(chat) {
            self.chat.remove(bound_key.as_bytes())?;
        }
        self.put_chat(&format!("bind/{chat}"), chat, account_id.to_string())
    }

    pub fn autopay_card(&self, order_id: &str) -> Result<Option<String>> {
        Ok(get::<String>(&self.chat, format!("autopay/{order_id}").as_bytes())?.map(|s| s.data))
    }

    /// Sets (Some) or stops (None) auto-debit on an order; only the card's last four digits.
    pub fn set_autopay(
        &self,
        order_id: &str,
        card_last4: Option<&str>,
        origin: &str,
    ) -> Result<()> {
        let key = format!("autopay/{order_id}");
        match card_last4 {
            Some(card) => self.put_chat(&key, origin, card.to_string()),
            None => {
                self.chat.remove(key.as_bytes())?;
                self.flush()
            }
        }
    }
}
