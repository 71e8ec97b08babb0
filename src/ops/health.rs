//! The liveness of the Telegram front end for `/healthz`: long polling marks itself alive after
//! every answered `getUpdates`; webhook mode sets a flag once the webhook is registered. The
//! front end never reads this; only the health endpoint does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// How long polling may stay silent before `/healthz` says 503 (Telegram's long-poll timeout
/// plus slack).
pub const DEFAULT_MAX_SILENCE: Duration = Duration::from_secs(90);

#[derive(Debug)]
struct Inner {
    last_poll: Mutex<Option<Instant>>,
    webhook: AtomicBool,
    max_silence: Duration,
}

/// A shared handle; cheap to clone.
#[derive(Clone, Debug)]
pub struct Health {
    inner: Arc<Inner>,
}

impl Health {
    pub fn new(max_silence: Duration) -> Health {
        Health {
            inner: Arc::new(Inner {
                last_poll: Mutex::new(None),
                webhook: AtomicBool::new(false),
                max_silence,
            }),
        }
    }

    /// Long polling got an answer from the Bot API just now.
    pub fn polled(&self) {
        if let Ok(mut last) = self.inner.last_poll.lock() {
            *last = Some(Instant::now());
        }
    }

    /// The webhook is registered (true) or was removed (false).
    pub fn webhook_set(&self, on: bool) {
        self.inner.webhook.store(on, Ordering::Relaxed);
    }

    /// Whether the front end is receiving updates: a webhook is set, or polling answered
    /// within the allowed silence.
    pub fn front_end_alive(&self) -> bool {
        if self.inner.webhook.load(Ordering::Relaxed) {
            return true;
        }
        let last = self.inner.last_poll.lock().ok().and_then(|l| *l);
        last.is_some_and(|t| t.elapsed() <= self.inner.max_silence)
    }
}

/// After a failed `getUpdates`, polling counts as working again once no error has come for
/// this long: longer than teloxide's longest back-off (64 s) plus a long poll that hangs until
/// the client's timeout (27 s), so a lasting outage never looks healthy between its errors.
pub const RECOVERED_AFTER: Duration = Duration::from_secs(100);

/// Whether polling counts as working, its last `getUpdates` error (if any) at `last_error`.
pub fn recovered(last_error: Option<Instant>) -> bool {
    last_error.is_none_or(|t| t.elapsed() > RECOVERED_AFTER)
}

/// The environment variable that sets the allowed silence, in whole seconds (default 90).
pub const MAX_SILENCE_ENV: &str = "REPAYBOT_HEALTH_MAX_SILENCE";

/// The allowed silence: `REPAYBOT_HEALTH_MAX_SILENCE` seconds (1..=3600), else 90 s.
pub fn max_silence() -> Duration {
    std::env::var(MAX_SILENCE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=3600).contains(s))
        .map_or(DEFAULT_MAX_SILENCE, Duration::from_secs)
}

/// How often a quiet but working poll loop marks itself alive: a third of the allowed
/// silence, at most 15 s.
pub fn beat_interval() -> Duration {
    (max_silence() / 3).min(Duration::from_secs(15))
}

/// The process's health handle, which the Telegram front end updates and `serve` serves.
pub fn global() -> Health {
    static GLOBAL: OnceLock<Health> = OnceLock::new();
    GLOBAL.get_or_init(|| Health::new(max_silence())).clone()
}

/// `global().polled()`: the one line the polling loop calls after each answered getUpdates.
pub fn polled() {
    global().polled();
}

/// `global().webhook_set(on)`.
pub fn webhook_set(on: bool) {
    global().webhook_set(on);
}
