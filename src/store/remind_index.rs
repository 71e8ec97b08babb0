//! The reminders' durable side in sled: per account one state record (`remind_state`) and one
//! due-time index entry (`remind_due`; layout in mod.rs), changed together in one transaction
//! with compare-and-swap on the state, so the scheduler and a chat turn that reschedules the
//! same account never overwrite each other blindly. The index is read as a stream (the
//! scheduler never holds it whole). src/reminders/index.rs is the reminders' view of it.

use super::{Store, Stored, RECORD_VERSION};
use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

/// When an account's next reminder is due, and the local day it is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wake {
    pub at: DateTime<Utc>,
    pub date: NaiveDate,
}

/// What the scheduler remembers about one account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemindState {
    /// Every reminder day up to this local date is handled (sent, empty, or without a chat).
    pub done_through: Option<NaiveDate>,
    /// The last local date a proactive message went out (at most one a day).
    pub last_sent: Option<NaiveDate>,
    pub wake: Option<Wake>,
    /// Failed deliveries of the current wake.
    pub failures: u32,
}

/// Index key: UTC seconds as big-endian with the sign bit flipped (sorts by time), then the id.
pub fn due_key(at: DateTime<Utc>, account_id: &str) -> Vec<u8> {
    let secs = (at.timestamp() as u64) ^ (1 << 63);
    let mut key = secs.to_be_bytes().to_vec();
    key.extend_from_slice(account_id.as_bytes());
    key
}

/// The instant and account of an index key.
pub fn parse_due_key(key: &[u8]) -> Option<(DateTime<Utc>, String)> {
    let secs = u64::from_be_bytes(key.get(..8)?.try_into().ok()?) ^ (1 << 63);
    let at = DateTime::from_timestamp(secs as i64, 0)?;
    Some((at, String::from_utf8(key[8..].to_vec()).ok()?))
}

fn decode_state(bytes: &[u8]) -> Result<RemindState> {
    let s: Stored<RemindState> = serde_json::from_slice(bytes).context("undecodable state")?;
    anyhow::ensure!(s.v == RECORD_VERSION, "reminder state version {}", s.v);
    Ok(s.data)
}

impl Store {
    /// The account's reminder state (a fresh one when none or unreadable).
    pub fn remind_load(&self, account_id: &str) -> Result<RemindState> {
        match self.remind_state.get(account_id.as_bytes())? {
            Some(bytes) => decode_state(&bytes)
                .with_context(|| format!("reminder state of {account_id}"))
                .or_else(|e| {
                    // A damaged record must not stop the scheduler: start the account afresh.
                    tracing::warn!(account = account_id, "reminder state unreadable: {e:#}");
                    Ok(RemindState::default())
                }),
            None => Ok(RemindState::default()),
        }
    }

    /// Whether the account has any reminder state yet.
    pub fn remind_known(&self, account_id: &str) -> Result<bool> {
        Ok(self.remind_state.contains_key(account_id.as_bytes())?)
    }

    /// Replaces `expected` by `new` (state and index entry together); false when the stored
    /// state is no longer `expected`. Not flushed.
    pub fn remind_swap(
        &self,
        account_id: &str,
        expected: &RemindState,
        new: &RemindState,
    ) -> Result<bool> {
        let record = Stored::new(format!("remind:{account_id}"), new.clone()).to_bytes();
        let trees = (&self.remind_state, &self.remind_due);
        let result = trees.transaction(|(state, due)| {
            let current = match state.get(account_id.as_bytes())? {
                Some(bytes) => decode_state(&bytes).unwrap_or_default(),
                None => RemindState::default(),
            };
            if &current != expected {
                return Err(ConflictableTransactionError::Abort(()));
            }
            if let Some(w) = &current.wake {
                due.remove(due_key(w.at, account_id))?;
            }
            if let Some(w) = &new.wake {
                due.insert(due_key(w.at, account_id), &[] as &[u8])?;
            }
            state.insert(account_id.as_bytes(), record.as_slice())?;
            Ok(())
        });
        match result {
            Ok(()) => Ok(true),
            Err(TransactionError::Abort(())) => Ok(false),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    /// Index entries (wake, account) from `from` (inclusive) to `until` (exclusive), earliest
    /// first, read lazily: entries changed while it runs may or may not be seen.
    pub fn remind_wakes(
        &self,
        from: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
    ) -> impl Iterator<Item = Result<(DateTime<Utc>, String)>> {
        let end = due_key(until, "");
        let range = match from {
            Some(from) => self.remind_due.range(due_key(from, "")..end),
            None => self.remind_due.range(..end),
        };
        range.keys().filter_map(|key| match key {
            Ok(key) => parse_due_key(&key).map(Ok),
            Err(e) => Some(Err(e.into())),
        })
    }

    /// Removes an index entry that no state names (left by a crash of an older build).
    pub fn remind_drop_stale(&self, at: DateTime<Utc>, account_id: &str) -> Result<()> {
        self.remind_due.remove(due_key(at, account_id))?;
        Ok(())
    }

    /// How many wakes fall in `from..until`.
    pub fn remind_count_between(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> usize {
        self.remind_due
            .range(due_key(from, "")..due_key(until, ""))
            .count()
    }

    /// The earliest wake in the index.
    pub fn remind_first_wake(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .remind_due
            .first()?
            .and_then(|(k, _)| parse_due_key(&k))
            .map(|(at, _)| at))
    }
}
