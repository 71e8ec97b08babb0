//! Group commit: concurrent flushes share one disk sync. A caller's writes happen before it asks
//! to flush, so a sync that starts after the request covers them; a caller whose request an
//! earlier sync already covered returns without syncing again. Under a burst of turns, eight
//! blocking threads asking at once cost one or two syncs instead of eight.

use anyhow::Result;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Requests numbered in order, and the last request a finished sync covered.
#[derive(Debug, Default)]
pub struct GroupCommit {
    requested: AtomicU64,
    covered: Mutex<u64>,
}

impl GroupCommit {
    /// Returns once a `sync` that started after this call's request has finished (this call's
    /// own or another caller's); a failed sync fails every caller it would have covered.
    pub fn flush(&self, sync: impl FnOnce() -> Result<()>) -> Result<()> {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let mut covered = self.covered.lock().unwrap_or_else(|e| e.into_inner());
        if *covered >= ticket {
            return Ok(());
        }
        let upto = self.requested.load(Ordering::SeqCst);
        sync()?;
        *covered = upto;
        Ok(())
    }
}
