//! Per-chat send limits, kept before the overall limit (limiter.rs). A chat's sender reserves
//! its own next slot and waits for it, off any shared queue, so one chat's backlog (a flooder
//! near the per-minute limit) never delays another chat; then the overall budget is taken.
//! A chat Telegram asked to wait (`429 retry_after`) is paused here until then.

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
    /// Chats Telegram asked to wait, until when.
    paused: Mutex<HashMap<i64, Instant>>,
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
            paused: Mutex::default(),
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
        at = at.max(self.paused_until(chat, now));
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

    /// Holds the chat's sends until `until` (Telegram's `retry_after` for this chat).
    pub fn pause(&self, chat: i64, until: Instant) {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let at = paused.entry(chat).or_insert(until);
        *at = (*at).max(until);
    }

    /// The end of the chat's pause (`now` when it is not paused); ended pauses are forgotten.
    fn paused_until(&self, chat: i64, now: Instant) -> Instant {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        match paused.get(&chat) {
            Some(until) if *until > now => *until,
            Some(_) => {
                paused.remove(&chat);
                now
            }
            None => now,
        }
    }

    /// Waits for the chat's next send slot.
    pub async fn wait(&self, chat: i64) {
        let now = Instant::now();
        let at = self.reserve(chat, now);
        // No timer when the slot is now: a timer fires only when the runtime turns its clock,
        // which under a burst is late.
        if at > now {
            tokio::time::sleep_until(at.into()).await;
        }
    }
}
