//! Replies owed to customers, in the `outbox` tree. A chat payment writes its receipt here in
//! the same transaction as the payment, so a crash between the durable payment and the send
//! cannot lose it: the front end removes the entry once the reply is sent and delivers what is
//! left at start (`serve`, the terminal chat). Notices for another chat (someone tried to bind
//! your account) go the same way. The tree also keeps each chat's last chat payment, so a
//! confirm button pressed again answers with that receipt and a new payment of the same orders
//! within minutes asks first.
//!
//! | key                        | value                          |
//! |----------------------------|--------------------------------|
//! | `o` 0x00 chat 0x00 id      | `Stored<Owed>`: a reply owed    |
//! | `p` 0x00 chat              | `Stored<LastPaid>`              |

use super::records::{get, Stored};
use super::{composite_key, Store};
use crate::dialog::Lang;
use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of reply is owed; the app renders it in the customer's language when it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwedKind {
    /// Someone failed to bind this chat's account (listed first: sent before receipts).
    BindAttempt,
    /// The receipt of a payment (`lines`: payment id, order, amount).
    Receipt,
    /// A payment the payment API confirmed (`lines`: payment id, order, amount).
    PayReceipt,
    /// A payment confirmed after it was shown as failed or expired: it still counts.
    PayLate,
    /// A payment the API reported failed.
    PayFailed,
    /// A payment not completed in time.
    PayExpired,
    /// Money that arrived for an order that could no longer take it: refunded by an agent.
    PayRefund,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    pub kind: OwedKind,
    pub lang: Lang,
    pub lines: Vec<String>,
    pub at: DateTime<Utc>,
}

/// One owed reply as read back: `key` removes it once sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwedEntry {
    pub key: Vec<u8>,
    pub chat: String,
    pub owed: Owed,
}

/// The chat's last chat payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastPaid {
    /// The turn whose buttons confirmed it (`b:<turn>:…` pressed again finds it).
    pub confirm_turn: u64,
    /// What was paid, one `order TAB amount TAB kind` per payment (a plan line without its count).
    pub items: Vec<String>,
    /// Receipt lines, one per payment.
    pub lines: Vec<String>,
    pub at: DateTime<Utc>,
}

pub fn owed_key(chat: &str, id: &str) -> Vec<u8> {
    composite_key(&["o", chat, id])
}

fn paid_key(chat: &str) -> Vec<u8> {
    composite_key(&["p", chat])
}

/// The (key, value) pairs a payment writes into the `outbox` tree in its own transaction.
pub fn receipt_writes(
    chat: &str,
    payment_id: &str,
    owed: &Owed,
    paid: &LastPaid,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (
            owed_key(chat, payment_id),
            Stored::new(chat, owed.clone()).to_bytes(),
        ),
        (paid_key(chat), Stored::new(chat, paid.clone()).to_bytes()),
    ]
}

impl Store {
    /// Adds a reply owed to `chat` (outside a payment); flushed.
    pub fn owe(&self, chat: &str, id: &str, owed: &Owed) -> Result<()> {
        self.outbox.insert(
            owed_key(chat, id),
            Stored::new(chat, owed.clone()).to_bytes(),
        )?;
        self.flush()
    }

    /// Every reply owed, by chat (an undecodable entry is dropped with a warning).
    pub fn owed(&self) -> Result<Vec<OwedEntry>> {
        self.owed_with_prefix(&composite_key(&["o", ""]))
    }

    /// The replies owed to one chat.
    pub fn owed_to(&self, chat: &str) -> Result<Vec<OwedEntry>> {
        self.owed_with_prefix(&composite_key(&["o", chat, ""]))
    }

    fn owed_with_prefix(&self, prefix: &[u8]) -> Result<Vec<OwedEntry>> {
        let mut out = Vec::new();
        for entry in self.outbox.scan_prefix(prefix) {
            let (key, value) = entry?;
            let chat = key
                .split(|b| *b == super::SEP)
                .nth(1)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .unwrap_or_default();
            match super::records::decode::<Owed>(&value) {
                Ok(s) => out.push(OwedEntry {
                    key: key.to_vec(),
                    chat,
                    owed: s.data,
                }),
                Err(e) => {
                    tracing::warn!(chat = %chat, "dropping an undecodable owed reply: {e:#}");
                    self.outbox.remove(&key)?;
                }
            }
        }
        Ok(out)
    }

    /// Removes owed replies that were sent; flushed.
    pub fn settle_owed(&self, keys: &[Vec<u8>]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        for key in keys {
            self.outbox.remove(key.as_slice())?;
        }
        self.flush()
    }

    pub fn last_paid(&self, chat: &str) -> Result<Option<LastPaid>> {
        Ok(get::<LastPaid>(&self.outbox, &paid_key(chat))?.map(|s| s.data))
    }

    /// `/forget`: the chat's owed replies and last payment go (the payments themselves stay).
    pub(super) fn forget_outbox(&self, chat: &str) -> Result<()> {
        for entry in self.owed_to(chat)? {
            self.outbox.remove(entry.key)?;
        }
        self.outbox.remove(paid_key(chat))?;
        Ok(())
    }
}
