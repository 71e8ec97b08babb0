//! Chats Telegram will not deliver to (the bot blocked by the user, the chat not found, the user
//! deactivated), with when that was learnt: the outbound path records them and never retries,
//! the reminder scheduler skips them. In the `chat` tree under `blocked/<chat>` (the key ends in
//! `/<chat>`, so `/forget` deletes it with the chat's other records). A message from the chat
//! that is answered again clears the mark.

use super::Store;
use anyhow::Result;
use chrono::{DateTime, Utc};

fn key(chat: &str) -> String {
    format!("blocked/{chat}")
}

impl Store {
    /// Records that `chat` cannot be delivered to since `at` (flushed).
    pub fn mark_blocked(&self, chat: &str, at: DateTime<Utc>) -> Result<()> {
        self.put_chat(&key(chat), "telegram", at)
    }

    /// When `chat` was found undeliverable (None: it is not).
    pub fn blocked_since(&self, chat: &str) -> Result<Option<DateTime<Utc>>> {
        self.get_chat::<DateTime<Utc>>(&key(chat))
    }

    /// Clears the mark (the chat was delivered to again); no write when there is none.
    pub fn unblock(&self, chat: &str) -> Result<bool> {
        if self.blocked_since(chat)?.is_none() {
            return Ok(false);
        }
        self.remove_chat(&key(chat))?;
        Ok(true)
    }
}
