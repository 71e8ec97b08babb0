//! Per-chat send limits, kept BEFORE a request reaches teloxide's `Throttle`. The throttle holds a
//! short first-come queue for all chats; a request over its chat's limit sits in that queue
//! until the chat may send again, so a few chats with a backlog (flooders near the per-minute
//! limit) filled it and a quiet customer's answer waited tens of seconds behind them. Here a
//! chat's sender waits its own turn, off that queue; the throttle then only spreads the overall
//! rate, and every request it holds can go at once. One chat's backlog never delays another chat.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use teloxide::adaptors::throttle::Limits;

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
/// Chats remembered before idle ones are forgotten.
const MAX_CHATS: usize = 10_000;

/// Send slots reserved per chat.
pub struct Pacer {
    per_sec: usize,
    per_min: usize,
    group_per_min: usize,
    /// Each chat's reserved send times, oldest first (at most a minute's worth).
    chats: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

fn count(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).max(1)
}

impl Pacer {
    /// The per-chat parts of `--send-limits` (a chat id below zero is a group).
    pub fn new(limits: &Limits) -> Pacer {
        Pacer {
            per_sec: count(limits.messages_per_sec_chat),
            per_min: count(limits.messages_per_min_chat),
            group_per_min: count(limits.messages_per_min_channel_or_supergroup),
            chats: Mutex::default(),
        }
    }

    /// Reserves the chat's next send slot at or after `now` and returns when it is: no more
    /// than the per-second limit in any second, nor the per-minute limit in any minute.
    pub fn reserve(&self, chat: i64, now: Instant) -> Instant {
        let per_min = if chat < 0 {
            self.group_per_min
        } else {
            self.per_min
        };
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        if chats.len() > MAX_CHATS {
            chats.retain(|_, times| times.back().is_some_and(|t| *t + MINUTE > now));
        }
        let times = chats.entry(chat).or_default();
        while times.front().is_some_and(|t| *t + MINUTE <= now) {
            times.pop_front();
        }
        let mut at = times.back().map_or(now, |last| (*last).max(now));
        let nth_back = |n: usize| times.len().checked_sub(n).and_then(|i| times.get(i));
        if let Some(t) = nth_back(self.per_sec) {
            at = at.max(*t + SECOND);
        }
        if let Some(t) = nth_back(per_min) {
            at = at.max(*t + MINUTE);
        }
        times.push_back(at);
        while times.len() > per_min.max(self.per_sec) {
            times.pop_front();
        }
        at
    }

    /// Waits for the chat's next send slot.
    pub async fn wait(&self, chat: i64) {
        let at = self.reserve(chat, Instant::now());
        tokio::time::sleep_until(at.into()).await;
    }
}
