//! The reminders' view of their durable state (kept in src/store/remind_index.rs: per account
//! one state record and one due-time index entry, changed together with compare-and-swap).

use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, Utc};

pub use crate::store::remind_index::{due_key, parse_due_key, RemindState, Wake};

pub fn load(store: &Store, account_id: &str) -> Result<RemindState> {
    store.remind_load(account_id)
}

/// Whether the account has any reminder state yet.
pub fn known(store: &Store, account_id: &str) -> Result<bool> {
    store.remind_known(account_id)
}

/// Replaces `expected` by `new` (state and index entry together); false when the stored state
/// is no longer `expected` (someone else changed it: read again and redo). Not flushed.
pub fn swap(
    store: &Store,
    account_id: &str,
    expected: &RemindState,
    new: &RemindState,
) -> Result<bool> {
    store.remind_swap(account_id, expected, new)
}

/// Accounts whose wake is at or before `now`, earliest first, read as a stream.
pub fn due(
    store: &Store,
    now: DateTime<Utc>,
) -> impl Iterator<Item = Result<(DateTime<Utc>, String)>> {
    store.remind_wakes(None, now + chrono::Duration::seconds(1))
}

/// Accounts whose wake is at or before `now`, earliest first, at most `limit` (collected).
pub fn due_accounts(
    store: &Store,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(DateTime<Utc>, String)>> {
    due(store, now).take(limit).collect()
}

/// Removes an index entry that no state names (left by a crash of an older build).
pub fn drop_stale(store: &Store, at: DateTime<Utc>, account_id: &str) -> Result<()> {
    store.remind_drop_stale(at, account_id)
}

/// How many wakes fall in `from..until` (the day's load, for the capacity warning).
pub fn count_between(store: &Store, from: DateTime<Utc>, until: DateTime<Utc>) -> usize {
    store.remind_count_between(from, until)
}

/// The earliest wake in the index.
pub fn first_wake(store: &Store) -> Result<Option<DateTime<Utc>>> {
    store.remind_first_wake()
}
