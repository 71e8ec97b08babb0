//! Telegram front end throughput and latency: the release `repaybot serve` against the fake Bot
//! API server (tests/it/fake_telegram.rs). We measure updates per second (first update queued →
//! last reply received) and p50/p99 from an update being queued to its reply arriving at the
//! fake server:
//! - the fake server's own ceiling in the same run: a bare teloxide echo client (getUpdates,
//!   one sendMessage per update, no bot logic) on the bursts below (1 and 2 messages from
//!   each of 1,000 chats);
//! - one chat whose customer waits for each reply;
//! - a burst of one message from each of 1,000 chats, and of 2 messages from each, with the
//!   limits lifted; one message from each of 1,000 chats under the default `--send-limits`
//!   (1/20/30);
//! - mixed, default limits: 10,000 bound accounts with a reminder due at 10:00 while 500
//!   customers ask for their bill (5 a second from 10:00): reply p50/p99 during the batch and
//!   when the last reminder arrived (the bot's clock).
//!
//! Run: `cargo bench --bench telegram`.

#[path = "../tests/it/fake_telegram.rs"]
mod fake_telegram;

use fake_telegram::FakeTelegram;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "42:BENCH-token";
const LIFTED: [&str; 4] = [
    "--send-limits",
    "100000/6000000/1000000",
    "--flood",
    "1000000/1",
];
const DEFAULTS: [&str; 0] = [];
/// Chats of the bound accounts (mixed run) and of the customers who ask.
const REMINDED: i64 = 200_000;
const ASKING: i64 = 10_000;

fn main() {
    // `cargo bench --bench telegram -- WORD`: only the scenarios whose name contains WORD.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|w| name.contains(w.as_str()));
    println!("machine: {}", machine());
    println!("scenario                         updates  updates/s  p50 ms  p99 ms");
    if wanted("echo ceiling") {
        echo_ceiling(1000, 1);
        echo_ceiling(1000, 2);
    }
    for (name, chats, per_chat, in_turn, limits) in [
        ("1 chat, in turn (lifted)", 1, 60, true, &LIFTED[..]),
        ("1,000 chats, burst (lifted)", 1000, 1, false, &LIFTED[..]),
        (
            "1,000 chats x2, burst (lifted)",
            1000,
            2,
            false,
            &LIFTED[..],
        ),
        (
            "1,000 chats, burst (defaults)",
            1000,
            1,
            false,
            &DEFAULTS[..],
        ),
    ] {
        if wanted(name) {
            run(name, chats, per_chat, in_turn, limits);
        }
    }
    if wanted("mixed") {
        mixed(10_000, 500);
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn serve(dir: &Path, fake: &FakeTelegram, clock: &[&str], limits: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args(["--data-dir", dir.join("data").to_str().expect("path")])
        .args(clock)
        .args(["serve", "--api-url", &fake.url()])
        .args(limits)
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("start repaybot serve")
}

fn stop(mut child: Child) {
    let kill = format!("kill -TERM {}", child.id());
    let _ = Command::new("sh").args(["-c", &kill]).status();
    let _ = child.wait();
}

/// Latencies of the first `per_chat` replies of each chat in `pushed` (pushed[chat][k] → the
/// chat's k-th sendMessage), and the last reply's arrival.
fn latencies(
    fake: &FakeTelegram,
    pushed: &HashMap<i64, Vec<Instant>>,
) -> (Vec<Duration>, Option<Instant>) {
    let mut out = Vec::new();
    let mut last = None;
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for call in fake.calls_of("sendMessage") {
        let Some(chat) = call.chat_id().filter(|id| pushed.contains_key(id)) else {
            continue;
        };
        let k = seen.entry(chat).or_default();
        if let Some(at) = pushed.get(&chat).and_then(|v| v.get(*k)) {
            out.push(call.at.duration_since(*at));
            last = last.max(Some(call.at));
        }
        *k += 1;
    }
    out.sort();
    (out, last)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn sent_to(fake: &FakeTelegram, range: std::ops::Range<i64>) -> usize {
    fake.wait_until(Duration::ZERO, |calls| {
        Some(
            calls
                .iter()
                .filter(|c| c.method == "sendmessage")
                .filter(|c| c.chat_id().is_some_and(|id| range.contains(&id)))
                .count(),
        )
    })
    .unwrap_or(0)
}

/// Waits until `n` messages reached the chats in `range`. It looks every 10 ms rather than at
/// every call the fake server records: counting thousands of calls at each of thousands of
/// calls would take the cores the bot and the server are measured on (the latencies come
/// from the server's own timestamps, not from when this notices).
fn wait_sent(fake: &FakeTelegram, range: std::ops::Range<i64>, n: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while sent_to(fake, range.clone()) < n {
        assert!(
            Instant::now() < deadline,
            "not every message arrived in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn report(
    name: &str,
    total: usize,
    start: Instant,
    fake: &FakeTelegram,
    pushed: &HashMap<i64, Vec<Instant>>,
) {
    let (lat, last) = latencies(fake, pushed);
    let secs = last.map_or(f64::NAN, |l| l.duration_since(start).as_secs_f64());
    println!(
        "{name:<32} {total:>8}  {:>9.0}  {:>6.1}  {:>6.1}",
        total as f64 / secs,
        pct(&lat, 0.50),
        pct(&lat, 0.99)
    );
}

/// The fake server's ceiling: a bare teloxide client echoing every update.
fn echo_ceiling(chats: i64, per_chat: usize) {
    use teloxide::payloads::GetUpdatesSetters;
    use teloxide::prelude::Requester;
    use teloxide::types::{ChatId, UpdateKind};
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let bot = teloxide::Bot::new(TOKEN).set_api_url(fake.url().parse().expect("url"));
    let poller = rt.spawn(async move {
        let mut offset = 0;
        loop {
            let Ok(updates) = bot.get_updates().offset(offset).timeout(1).await else {
                continue;
            };
            for u in updates {
                offset = offset.max(u.id.0 as i32 + 1);
                if let UpdateKind::Message(m) = u.kind {
                    let bot = bot.clone();
                    tokio::spawn(
                        async move { bot.send_message(ChatId(m.chat.id.0), "echo").await },
                    );
                }
            }
        }
    });
    let mut pushed: HashMap<i64, Vec<Instant>> = HashMap::new();
    let start = Instant::now();
    for _ in 0..per_chat {
        for c in 0..chats {
            fake.text(ASKING + c, "zh-hans", "查账单");
            pushed.entry(ASKING + c).or_default().push(Instant::now());
        }
    }
    let total = chats as usize * per_chat;
    wait_sent(
        &fake,
        ASKING..ASKING + chats,
        total,
        Duration::from_secs(120),
    );
    poller.abort();
    let name = format!("echo ceiling, {chats} chats x{per_chat}");
    report(&name, total, start, &fake, &pushed);
}

/// `chats` customers each send `per_chat` messages; every message gets one reply. `in_turn`: a
/// customer waits for each reply before the next message (as people do); else all at once.
fn run(name: &str, chats: i64, per_chat: usize, in_turn: bool, limits: &[&str]) {
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().expect("temp dir");
    let child = serve(dir.path(), &fake, &["--today", "2026-11-21"], limits);
    // Warm up: the bot is polling once it answers one message.
    fake.text(1, "zh-hans", "查账单");
    fake.wait_messages(1, 1, Duration::from_secs(120));
    let mut pushed: HashMap<i64, Vec<Instant>> = HashMap::new();
    let start = Instant::now();
    for round in 0..per_chat {
        for c in 0..chats {
            let chat = ASKING + c;
            fake.text(chat, "zh-hans", "查账单");
            pushed.entry(chat).or_default().push(Instant::now());
            if in_turn {
                fake.wait_messages(chat, round + 1, Duration::from_secs(60));
            }
        }
    }
    let total = chats as usize * per_chat;
    let cpu_before = cpu_seconds(child.id());
    wait_sent(
        &fake,
        ASKING..ASKING + chats,
        total,
        Duration::from_secs(600),
    );
    let cpu = cpu_seconds(child.id()) - cpu_before;
    stop(child);
    report(name, total, start, &fake, &pushed);
    println!("{:<32} bot CPU {cpu:.2} s", "");
}

/// User + system CPU seconds of a process so far (Linux; 0 elsewhere).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// `accounts` bound accounts whose reminder (3 days before an installment) is due at 10:00
/// Shanghai on 2026-12-11, in a data folder written before `serve` starts.
fn reminder_data(dir: &Path, accounts: usize) {
    use repaybot::store::Store;
    let store = Store::open(&dir.join("data")).expect("store");
    let policy = repaybot::settings::Settings::default().policy;
    let mut a = String::from("account_id,name,phone,id_last4,language,timezone\n");
    let mut o = String::from(
        "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n",
    );
    for i in 0..accounts {
        a += &format!("B{i:06},N{i},139{i:08},1234,zh,Asia/Shanghai\n");
        o += &format!("O{i:06},B{i:06},Phone,1200.00,12,flat_fee,0.006,2026-12-14\n");
    }
    for (kind, text) in [
        (repaybot::import::Kind::Accounts, a),
        (repaybot::import::Kind::Orders, o),
    ] {
        let r = repaybot::import::import(&store, kind, "bench.csv", text.as_bytes(), &policy);
        assert!(r.is_ok(), "import failed");
    }
    for i in 0..accounts {
        let chat = format!("tg:{}", REMINDED + i as i64);
        store.bind(&chat, &format!("B{i:06}")).expect("bind");
    }
    store.flush().expect("flush");
}

/// Default limits: `accounts` reminders due at 10:00 while `asking` customers ask, 5 a second.
fn mixed(accounts: usize, asking: i64) {
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().expect("temp dir");
    reminder_data(dir.path(), accounts);
    // The bot's clock starts at 09:59:50 Shanghai (01:59:50 UTC).
    let started = Instant::now();
    let ten = started + Duration::from_secs(10);
    let clock = ["--clock-start", "2026-12-11T01:59:50Z"];
    let child = serve(dir.path(), &fake, &clock, &DEFAULTS);
    fake.text(1, "zh-hans", "查账单");
    fake.wait_messages(1, 1, Duration::from_secs(120));
    std::thread::sleep(ten.saturating_duration_since(Instant::now()));
    let reminders = REMINDED..REMINDED + accounts as i64;
    let mut pushed: HashMap<i64, Vec<Instant>> = HashMap::new();
    let start = Instant::now();
    for c in 0..asking {
        let due = start + Duration::from_millis(200 * c as u64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        fake.text(ASKING + c, "zh-hans", "查账单");
        pushed.entry(ASKING + c).or_default().push(Instant::now());
    }
    wait_sent(
        &fake,
        ASKING..ASKING + asking,
        asking as usize,
        Duration::from_secs(120),
    );
    let during = sent_to(&fake, reminders.clone());
    wait_sent(
        &fake,
        reminders.clone(),
        accounts,
        Duration::from_secs(1800),
    );
    let last = fake
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.chat_id().is_some_and(|id| reminders.contains(&id)))
        .map(|c| c.at)
        .max()
        .expect("reminders");
    stop(child);
    let (lat, _) = latencies(&fake, &pushed);
    let after = last.duration_since(ten).as_secs();
    println!(
        "mixed, defaults: {accounts} reminders due 10:00 + {asking} customers asking 5/s: \
         reply p50 {:.1} ms, p99 {:.1} ms ({during} reminders sent by the last reply); \
         last reminder at 10:{:02}:{:02} ({:.1} reminders/s)",
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        after / 60,
        after % 60,
        accounts as f64 / last.duration_since(ten).as_secs_f64()
    );
}
