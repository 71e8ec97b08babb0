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
    pub fn bind(&self, chat: &str, account_id: &str) -> Result<bool> {
        if let Some(holder) = self.get_chat::<String>(&format!("bound/{account_id}"))? {
            if holder != chat {
                return Ok(false);
            }
        }
        self.put_chat(&format!("bound/{account_id}"), chat, chat.to_string())?;
        self.put_chat(&format!("bind/{chat}"), chat, account_id.to_string())?;
        Ok(true)
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
