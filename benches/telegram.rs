//! Telegram front end throughput and latency: the release `repaybot serve` against the fake Bot
//! API server (tests/it/fake_telegram.rs). A burst of updates is queued at once; we measure
//! updates per second (first update queued → last reply received) and the p50/p99 latency from
//! an update being queued to its reply arriving at the fake server. One chat whose customer
//! waits for each reply, and a burst from 1,000 chats at once (handled concurrently). Every
//! reply goes through teloxide's `Throttle`, whose worker releases queued sends every 250 ms:
//! that tick, not the turn, is most of the latency. Run: `cargo bench --bench telegram`.

#[path = "../tests/it/fake_telegram.rs"]
mod fake_telegram;

use fake_telegram::FakeTelegram;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "42:BENCH-token";

fn main() {
    println!("scenario            updates  updates/s  p50 ms  p99 ms");
    run("1 chat, in turn", 1, 60, true);
    run("1,000 chats, burst", 1000, 2, false);
}

/// `chats` customers each send `per_chat` messages; every message gets one reply. `in_turn`: a
/// customer waits for each reply before the next message (as people do); else all at once.
fn run(name: &str, chats: i64, per_chat: usize, in_turn: bool) {
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args([
            "--data-dir",
            dir.path().join("data").to_str().expect("path"),
        ])
        .args(["--today", "2026-11-21", "serve", "--api-url", &fake.url()])
        .args([
            "--send-limits",
            "100000/6000000/1000000",
            "--flood",
            "1000000/1",
        ])
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("start repaybot serve");
    // Warm up: the bot is polling once it answers one message.
    fake.text(1, "zh-hans", "查账单");
    fake.wait_messages(1, 1, Duration::from_secs(120));
    let mut pushed: HashMap<i64, Vec<Instant>> = HashMap::new();
    let start = Instant::now();
    for round in 0..per_chat {
        for c in 0..chats {
            let chat = 10_000 + c;
            fake.text(chat, "zh-hans", "查账单");
            pushed.entry(chat).or_default().push(Instant::now());
            if in_turn {
                fake.wait_messages(chat, round + 1, Duration::from_secs(60));
            }
        }
    }
    let total = chats as usize * per_chat;
    let done = fake.wait_until(Duration::from_secs(600), |calls| {
        let n = calls
            .iter()
            .filter(|c| c.method == "sendmessage" && c.chat_id().is_some_and(|id| id >= 10_000))
            .count();
        (n >= total).then_some(())
    });
    assert!(done.is_some(), "not every update was answered");
    let mut latencies = Vec::new();
    let mut last = start;
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for call in fake.calls_of("sendMessage") {
        let Some(chat) = call.chat_id().filter(|id| *id >= 10_000) else {
            continue;
        };
        let k = seen.entry(chat).or_default();
        if let Some(at) = pushed.get(&chat).and_then(|v| v.get(*k)) {
            latencies.push(call.at.duration_since(*at));
        }
        *k += 1;
        last = last.max(call.at);
    }
    let kill = format!("kill -TERM {}", child.id());
    let _ = Command::new("sh").args(["-c", &kill]).status();
    let _ = child.wait();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    let rate = total as f64 / last.duration_since(start).as_secs_f64();
    println!(
        "{name:<18} {total:>8}  {rate:>9.0}  {:>6.1}  {:>6.1}",
        pct(0.50),
        pct(0.99)
    );
}
