//! Per-user flood protection: a token bucket per Telegram user, in memory. A customer who sends
//! faster than the bucket refills gets ONE notice per flood and the rest is dropped unanswered;
//! other customers have their own buckets and are unaffected.
//!
//! A message is judged by the time Telegram stamped on it (`date`), not by when it reached the
//! bot: a backlog delivered at once after a restart or a slow spell is not a flood, and a flood is
//! one however it arrives. The bucket refills at exactly the configured rate (`--flood`). A keyed
//! `governor` limiter would read its own clock at each check; the guard needs the caller's time
//! (the message's date, explicit times in tests) and a "noticed once" flag per flood, so it stays
//! this small bucket (no new dependency).

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Messages a user may send in a burst (the default of `serve --flood`).
pub const BURST: u32 = 5;
/// One more message is allowed every REFILL (the default of `serve --flood`).
pub const REFILL: Duration = Duration::from_millis(700);
/// Buckets kept before idle full ones are forgotten.
const MAX_BUCKETS: usize = 100_000;

/// What to do with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Dropped, and the customer is told once to slow down.
    Notice,
    /// Dropped silently (the notice of this flood was already sent).
    Drop,
}

struct Bucket {
    tokens: u32,
    /// When the token being earned started (milliseconds since the epoch).
    since: i64,
    noticed: bool,
}

pub struct FloodGuard {
    burst: u32,
    refill_ms: i64,
    buckets: Mutex<HashMap<u64, Bucket>>,
}

impl Default for FloodGuard {
    fn default() -> Self {
        FloodGuard::new(BURST, REFILL)
    }
}

impl FloodGuard {
    /// `burst` messages at once, then one every `refill` (at least 1 ms).
    pub fn new(burst: u32, refill: Duration) -> FloodGuard {
        let refill_ms = i64::try_from(refill.as_millis()).unwrap_or(i64::MAX);
        FloodGuard {
            burst: burst.max(1),
            refill_ms: refill_ms.max(1),
            buckets: Mutex::default(),
        }
    }

    /// Judges a message of `user` sent at `at` (Telegram's date of the message).
    pub fn check(&self, user: u64, at: DateTime<Utc>) -> Verdict {
        let (burst, refill) = (self.burst, self.refill_ms);
        let now = at.timestamp_millis();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Verdict::Pass;
        };
        if buckets.len() > MAX_BUCKETS {
            buckets.retain(|_, b| b.tokens < burst || b.noticed);
        }
        let b = buckets.entry(user).or_insert(Bucket {
            tokens: burst,
            since: now,
            noticed: false,
        });
        let earned = now.saturating_sub(b.since).max(0) / refill;
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            b.tokens = b.tokens.saturating_add(earned).min(burst);
            b.since = b
                .since
                .saturating_add(i64::from(earned).saturating_mul(refill));
        }
        if b.tokens == burst {
            // Full: nothing is being earned, and a new flood gets its own notice.
            b.since = now;
            b.noticed = false;
        }
        if b.tokens > 0 {
            b.tokens -= 1;
            Verdict::Pass
        } else if b.noticed {
            Verdict::Drop
        } else {
            b.noticed = true;
            Verdict::Notice
        }
    }
}
