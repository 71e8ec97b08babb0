//! Binding failures (SPEC 3.1), counted per chat and per account in the `bind_guard` tree: five
//! failures lock binding for 30 minutes. Neither `/forget` nor `/unbind` touches them (they are
//! the shop's security record, not the customer's conversation), so a lock cannot be wiped.

use super::records::{get, Stored};
use super::Store;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Failures before a lock.
pub const MAX_BIND_FAILURES: u32 = 5;
/// How long a lock lasts.
pub const BIND_LOCK_MINUTES: i64 = 30;

/// Who a binding attempt is counted against.
#[derive(Clone, Copy, Debug)]
pub enum BindSubject<'a> {
    Chat(&'a str),
    Account(&'a str),
}

impl BindSubject<'_> {
    fn key(&self) -> String {
        match self {
            BindSubject::Chat(c) => format!("chat/{c}"),
            BindSubject::Account(a) => format!("account/{a}"),
        }
    }
}

/// The failures of one chat or account since its last lock (or success).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BindFailures {
    pub count: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// When the account's owner was last told of a failed attempt (accounts only).
    #[serde(default)]
    pub owner_told_at: Option<DateTime<Utc>>,
}

impl BindFailures {
    pub fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

impl Store {
    pub fn bind_failures(&self, who: BindSubject) -> Result<BindFailures> {
        let key = who.key();
        Ok(get::<BindFailures>(&self.bind_guard, key.as_bytes())?
            .map(|s| s.data)
            .unwrap_or_default())
    }

    /// Whether binding is locked for this chat or account at `now`.
    pub fn bind_locked(&self, who: BindSubject, now: DateTime<Utc>) -> Result<bool> {
        Ok(self.bind_failures(who)?.locked_at(now))
    }

    /// Counts one failure (the fifth locks for 30 minutes and starts a new count); flushed.
    /// Returns the record as written.
    pub fn count_bind_failure(&self, who: BindSubject, now: DateTime<Utc>) -> Result<BindFailures> {
        let key = who.key();
        let mut f = self.bind_failures(who)?;
        f.count += 1;
        if f.count >= MAX_BIND_FAILURES {
            f.count = 0;
            f.locked_until = Some(now + Duration::minutes(BIND_LOCK_MINUTES));
        }
        self.bind_guard
            .insert(key.as_bytes(), Stored::new("bind", f.clone()).to_bytes())?;
        self.flush()?;
        Ok(f)
    }

    /// Notes that the account's owner was told of an attempt at `now`; flushed.
    pub fn note_owner_told(&self, account_id: &str, now: DateTime<Utc>) -> Result<()> {
        let who = BindSubject::Account(account_id);
        let mut f = self.bind_failures(who)?;
        f.owner_told_at = Some(now);
        self.bind_guard
            .insert(who.key().as_bytes(), Stored::new("bind", f).to_bytes())?;
        self.flush()
    }

    /// A successful binding clears the chat's count (a lock still running stays).
    pub fn clear_bind_failures(&self, who: BindSubject, now: DateTime<Utc>) -> Result<()> {
        let f = self.bind_failures(who)?;
        if f.locked_at(now) {
            return Ok(());
        }
        self.bind_guard.remove(who.key().as_bytes())?;
        self.flush()
    }
}
