//! The overall send budget and its two priorities. Every message to Telegram takes its chat's
//! slot (pace.rs) and then one token of the bot's overall budget (`--send-limits` OVERALL_SEC,
//! a bucket of one second's worth): a send goes the moment a token is there, with no periodic
//! tick. Replies to a customer reserve their token in arrival order, in the future when the
//! bucket is empty; proactive messages (reminders, notices) take a token only when one is free
//! now, no reply has reserved ahead, and a tenth of the bucket stays for replies. So a reminder
//! batch never makes an answer wait for more than one token's time.
//!
//! Ours, not `governor`: a keyed governor limiter answers "now or not yet" against its own
//! clock; we need reservations in order for replies, a "leave it for replies" rule for
//! proactive sends, and pauses for Telegram's `retry_after`, in a few lines of tokio time
//! (and without a new dependency).

use super::pace::Pacer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use teloxide::adaptors::throttle::Limits;

/// Who is waiting for a send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// An answer to a customer's message (or button): first.
    Reply,
    /// A reminder or a notice nobody is waiting for: only the capacity replies leave.
    Proactive,
    /// A reminder sent as a paid broadcast (`allow_paid_broadcast`): outside the free overall
    /// budget, up to 1,000 a second (Telegram charges 0.1 Stars per message).
    PaidBroadcast,
}

/// Paid broadcasts Telegram allows per second.
const PAID_PER_SEC: f64 = 1000.0;

/// Two 429s from different chats this close together pause every send (the bot's overall
/// limit, not one chat's).
const GLOBAL_429_WINDOW: Duration = Duration::from_secs(1);

/// The overall token bucket. `tokens` below zero are replies' reservations.
#[derive(Clone, Copy)]
struct Bucket {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    /// When `tokens` was last brought up to date (may lie ahead: the last reservation).
    at: Instant,
    paused_until: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        if now > self.at {
            let earned = (now - self.at).as_secs_f64() * self.per_sec;
            self.tokens = (self.tokens + earned).min(self.burst);
            self.at = now;
        }
    }

    fn after(&self, base: Instant, tokens: f64) -> Instant {
        base + Duration::from_secs_f64((tokens / self.per_sec).max(0.0))
    }

    /// A reply's slot: the next token in order, now or ahead.
    fn reserve(&mut self, now: Instant) -> Instant {
        let now = now.max(self.paused_until);
        self.refill(now);
        self.tokens -= 1.0;
        let base = self.at.max(now);
        self.after(base, -self.tokens)
    }

    /// A proactive send's token if one is free now and `keep` more stay; else when to look again.
    fn try_take(&mut self, now: Instant, keep: f64) -> Result<(), Instant> {
        if now < self.paused_until {
            return Err(self.paused_until);
        }
        self.refill(now);
        if self.at > now || self.tokens < 1.0 + keep {
            let short = (1.0 + keep - self.tokens).max(1.0);
            return Err(self.after(self.at.max(now), short));
        }
        self.tokens -= 1.0;
        Ok(())
    }
}

/// Per-chat slots, the overall budget, and Telegram's pauses. Shared by every sender.
pub struct Limiter {
    pacer: Pacer,
    bucket: Mutex<Bucket>,
    /// The paid broadcasts' own budget.
    paid: Mutex<Bucket>,
    /// Tokens a proactive send leaves in the bucket for replies.
    keep: f64,
    /// The last 429 of a chat: (chat, when).
    last_429: Mutex<Option<(i64, Instant)>>,
}

impl Limiter {
    /// `--send-limits`: per-chat (second, minute, group minute) and overall per second.
    pub fn new(limits: &Limits) -> Arc<Limiter> {
        Limiter::paced(Pacer::new(limits), limits.messages_per_sec_overall)
    }

    /// Per-chat limits kept by `pacer`, `overall` messages a second in all.
    pub fn paced(pacer: Pacer, overall: u32) -> Arc<Limiter> {
        let per_sec = f64::from(overall.max(1));
        let now = Instant::now();
        let bucket = |per_sec: f64| Bucket {
            per_sec,
            burst: per_sec,
            tokens: per_sec,
            at: now,
            paused_until: now,
        };
        Arc::new(Limiter {
            pacer,
            bucket: Mutex::new(bucket(per_sec)),
            paid: Mutex::new(bucket(PAID_PER_SEC)),
            keep: (per_sec / 10.0).floor(),
            last_429: Mutex::default(),
        })
    }

    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until one message may go to `chat` (None: a call tied to no chat's limit).
    pub async fn acquire(&self, chat: Option<i64>, priority: Priority) {
        if let Some(chat) = chat {
            self.pacer.wait(chat).await;
        }
        match priority {
            Priority::Reply | Priority::PaidBroadcast => {
                let now = Instant::now();
                let at = if priority == Priority::Reply {
                    self.bucket().reserve(now)
                } else {
                    let paused = self.bucket().paused_until;
                    let mut paid = self.paid.lock().unwrap_or_else(|e| e.into_inner());
                    paid.paused_until = paid.paused_until.max(paused);
                    paid.reserve(now)
                };
                if at > now {
                    tokio::time::sleep_until(at.into()).await;
                }
            }
            Priority::Proactive => loop {
                let taken = self.bucket().try_take(Instant::now(), self.keep);
                match taken {
                    Ok(()) => return,
                    Err(at) => tokio::time::sleep_until(at.into()).await,
                }
            },
        }
    }

    /// Waits until a proactive send would find a free token (without taking it): a reminder
    /// waits for capacity before it takes its chat's turn, so it never holds up a reply to
    /// the same chat while it waits.
    pub async fn proactive_ready(&self) {
        loop {
            let free = {
                let mut bucket = self.bucket();
                let now = Instant::now();
                let mut probe = Bucket { ..*bucket };
                let free = probe.try_take(now, self.keep);
                bucket.refill(now);
                free
            };
            match free {
                Ok(()) => return,
                Err(at) => tokio::time::sleep_until(at.into()).await,
            }
        }
    }

    /// Telegram answered 429 with `retry_after` for a call to `chat`: that chat waits; a call
    /// tied to no chat, or 429s from two chats within a second, pause every send.
    pub fn retry_after(&self, chat: Option<i64>, wait: Duration) {
        let now = Instant::now();
        let until = now + wait;
        let global = match chat {
            None => true,
            Some(chat) => {
                self.pacer.pause(chat, until);
                let mut last = self.last_429.lock().unwrap_or_else(|e| e.into_inner());
                let other = last.is_some_and(|(c, at)| c != chat && now - at < GLOBAL_429_WINDOW);
                *last = Some((chat, now));
                other
            }
        };
        if global {
            let mut bucket = self.bucket();
            bucket.paused_until = bucket.paused_until.max(until);
        }
        tracing::info!(
            chat_id = chat,
            global,
            millis = wait.as_millis() as u64,
            "Telegram asks to retry later"
        );
    }
}

/// Per-chat locks: a chat's messages leave one at a time, in the order their senders asked
/// (tokio's mutex is first-come), so concurrent senders never interleave or reorder them.
#[derive(Default)]
pub struct ChatLocks {
    locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

/// Locks remembered before unused ones are forgotten.
const MAX_LOCKS: usize = 10_000;

impl ChatLocks {
    pub async fn lock(&self, chat: i64) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            if locks.len() > MAX_LOCKS {
                locks.retain(|_, l| Arc::strong_count(l) > 1);
            }
            Arc::clone(locks.entry(chat).or_default())
        };
        lock.lock_owned().await
    }
}
