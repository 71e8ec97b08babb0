//! Per-user flood protection: a token bucket per Telegram user, in memory. A customer who sends
//! faster than the bucket refills gets ONE notice per flood and the rest is dropped unanswered;
//! other customers have their own buckets and are unaffected.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Messages a user may send in a burst (the default of `serve --flood`).
pub const BURST: u32 = 5;
/// One more message is allowed every REFILL (the default of `serve --flood`).
pub const REFILL: Duration = Duration::from_millis(700);

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
    since: Instant,
    noticed: bool,
}

pub struct FloodGuard {
    burst: u32,
    refill: Duration,
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
        FloodGuard {
            burst: burst.max(1),
            refill: refill.max(Duration::from_millis(1)),
            buckets: Mutex::default(),
        }
    }

    pub fn check(&self, user: u64, now: Instant) -> Verdict {
        let (burst, refill) = (self.burst, self.refill);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Verdict::Pass;
        };
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| b.tokens < burst || b.noticed);
        }
        let b = buckets.entry(user).or_insert(Bucket {
            tokens: burst,
            since: now,
            noticed: false,
        });
        let earned = now.saturating_duration_since(b.since).as_millis() / refill.as_millis();
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            b.tokens = b.tokens.saturating_add(earned).min(burst);
            b.since += REFILL * earned.min(burst);
            if b.tokens == burst {
                b.since = now;
                b.noticed = false;
            }
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
