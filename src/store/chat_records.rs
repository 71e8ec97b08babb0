//! Records the chat keeps besides sessions: which account a chat is bound to, auto-debit cards
//! (last four digits only) and support tickets. All in the `chat` tree, flushed on write.

use super::records::{get, Stored};
use super::Store;
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// A request for a human agent, waiting for the support desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: u64,
    pub chat: String,
    pub account_id: Option<String>,
    pub reason: String,
    pub status: String,
    pub opened_on: String,
}

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

    /// Opens a ticket with the next number (counted, not sled ids, so numbers stay small).
    pub fn open_ticket(
        &self,
        chat: &str,
        account_id: Option<&str>,
        reason: &str,
        today: &str,
    ) -> Result<Ticket> {
        let last = self
            .chat
            .scan_prefix(b"ticket/")
            .keys()
            .next_back()
            .transpose()?;
        let number = last
            .and_then(|k| {
                std::str::from_utf8(&k[7..])
                    .ok()
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .unwrap_or(0)
            + 1;
        let ticket = Ticket {
            number,
            chat: chat.to_string(),
            account_id: account_id.map(str::to_string),
            reason: reason.to_string(),
            status: "waiting".into(),
            opened_on: today.to_string(),
        };
        self.put_chat(&format!("ticket/{number:020}"), chat, ticket.clone())?;
        Ok(ticket)
    }

    pub fn tickets(&self) -> Result<Vec<Ticket>> {
        let mut out = Vec::new();
        for entry in self.chat.scan_prefix(b"ticket/") {
            let (_, v) = entry?;
            out.push(super::records::decode::<Ticket>(&v)?.data);
        }
        Ok(out)
    }
}
