//! The durable side of reminders: per account one state record and one due-time index entry
//! (`remind_state`, `remind_due`; layout in src/store/mod.rs), changed together in one sled
//! transaction with compare-and-swap on the state, so the scheduler and a chat turn that
//! reschedules the same account never overwrite each other blindly.

use crate::store::{Store, Stored, RECORD_VERSION};
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

pub fn load(store: &Store, account_id: &str) -> Result<RemindState> {
    match store.remind_state.get(account_id.as_bytes())? {
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
pub fn known(store: &Store, account_id: &str) -> Result<bool> {
    Ok(store.remind_state.contains_key(account_id.as_bytes())?)
}

/// Replaces `expected` by `new` (state and index entry together); false when the stored state
/// is no longer `expected` (someone else changed it: read again and redo). Not flushed.
pub fn swap(
    store: &Store,
    account_id: &str,
    expected: &RemindState,
    new: &RemindState,
) -> Result<bool> {
    let record = Stored::new(format!("remind:{account_id}"), new.clone()).to_bytes();
    let result = (&store.remind_state, &store.remind_due).transaction(|(state, due)| {
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

/// Accounts whose wake is at or before `now`, earliest first, at most `limit`.
pub fn due_accounts(
    store: &Store,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(DateTime<Utc>, String)>> {
    let end = due_key(now + chrono::Duration::seconds(1), "");
    let mut out = Vec::new();
    for key in store.remind_due.range(..end).keys().take(limit) {
        if let Some(entry) = parse_due_key(&key?) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Removes an index entry that no state names (left by a crash of an older build).
pub fn drop_stale(store: &Store, at: DateTime<Utc>, account_id: &str) -> Result<()> {
    store.remind_due.remove(due_key(at, account_id))?;
    Ok(())
}

/// How many wakes fall in `from..until` (the day's load, for the capacity warning).
pub fn count_between(store: &Store, from: DateTime<Utc>, until: DateTime<Utc>) -> usize {
    store
        .remind_due
        .range(due_key(from, "")..due_key(until, ""))
        .count()
}

/// The earliest wake in the index.
pub fn first_wake(store: &Store) -> Result<Option<DateTime<Utc>>> {
    Ok(store
        .remind_due
        .first()?
        .and_then(|(k, _)| parse_due_key(&k))
        .map(|(at, _)| at))
}
