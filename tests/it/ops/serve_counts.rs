//! `serve --metrics-listen` end to end against the fake Bot API: after three bill questions, a
//! sandbox payment and a human request, `/metrics` parses and its counters moved by exactly
//! those amounts; the open-tickets gauge survives a restart and goes down when the customer
//! leaves; a blocked customer counts one failed `sendMessage`; `/healthz` turns 503 while
//! `getUpdates` fails and 200 again after; `report --json` counts the same turns, payment and
//! ticket; and neither the metrics nor the report carry a phone, name, id or message text.

use super::serve::{free_port, try_get};
use crate::fake_telegram::FakeTelegram;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "123456:TEST-token_for-fake";
const ZH: &str = "zh-hans";
const WAIT: Duration = Duration::from_secs(60);
const ALICE: i64 = 7101;
const BLOCKED: i64 = 7102;

/// A running `serve` with its metrics address.
struct Served {
    child: Child,
    addr: String,
    log: PathBuf,
}

fn serve(dir: &Path, fake: &FakeTelegram, run: u32) -> Served {
    let config = dir.join("repaybot.toml");
    // The fake's support group is a plain group: tickets are tagged messages there, not topics.
    std::fs::write(
        &config,
        "[support]\ngroup_id = -100123\nforum_topics = false\nhours = \"00:00-23:59\"\n",
    )
    .unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let log = dir.join(format!("serve{run}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args(["--data-dir", dir.join("data").to_str().unwrap()])
        .args([
            "--today",
            "2026-11-21",
            "--config",
            config.to_str().unwrap(),
        ])
        .args(["serve", "--api-url", &fake.url()])
        .args(["--send-limits", "1000/60000/10000", "--flood", "1000/1"])
        .args(["--metrics-listen", &addr])
        .env("REPAYBOT_HEALTH_MAX_SILENCE", "3")
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .env_remove("REPAYBOT_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Served { child, addr, log }
}

impl Drop for Served {
    /// A failed assertion must not leave the bot running (after `stop` this finds it exited).
    fn drop(&mut self) {
        crate::process::kill(&mut self.child);
    }
}

impl Served {
    fn stop(mut self) -> String {
        crate::process::stop_clean(&mut self.child, &self.log)
    }

    /// The `/metrics` text once served, checked to parse: every sample is `name{labels} value`,
    /// the text ends with `# EOF`. Returns the samples.
    fn metrics(&self) -> BTreeMap<String, f64> {
        let deadline = Instant::now() + WAIT;
        let text = loop {
            if let Some((200, text)) = try_get(&self.addr, "/metrics") {
                break text;
            }
            assert!(Instant::now() < deadline, "no /metrics on {}", self.addr);
            std::thread::sleep(Duration::from_millis(100));
        };
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        assert!(body.trim_end().ends_with("# EOF"), "{body}");
        let mut samples = BTreeMap::new();
        for line in body
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
            let name = key.split('{').next().unwrap();
            assert!(
                name.starts_with("repaybot_")
                    && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{line}"
            );
            samples.insert(key.to_string(), value);
        }
        samples
    }

    fn health(&self) -> u16 {
        try_get(&self.addr, "/healthz").map_or(0, |(code, _)| code)
    }

    /// Polls `/metrics` until `check` holds.
    fn metrics_until(&self, what: &str, check: impl Fn(&BTreeMap<String, f64>) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let m = self.metrics();
            if check(&m) {
                return;
            }
            assert!(Instant::now() < deadline, "never {what}: {m:#?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn get(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

/// The sum of every series of one metric.
fn total(m: &BTreeMap<String, f64>, name: &str) -> f64 {
    m.iter()
        .filter(|(k, _)| k.split('{').next() == Some(name))
        .map(|(_, v)| v)
        .sum()
}

/// Sends `text` as `user` and waits for a reply containing `expect`; returns its message.
fn say(fake: &FakeTelegram, user: i64, text: &str, expect: &str) -> crate::fake_telegram::Call {
    let seen = fake.messages_to(user).len();
    fake.text(user, ZH, text);
    until(fake, user, seen, expect)
}

fn until(fake: &FakeTelegram, user: i64, seen: usize, expect: &str) -> crate::fake_telegram::Call {
    // The check runs under the fake's lock: it reads `calls`, never the fake itself.
    let found = fake.wait_until(WAIT, |calls| {
        calls
            .iter()
            .filter(|c| c.method == "sendmessage" && c.chat_id() == Some(user))
            .skip(seen)
            .find(|c| c.text().contains(expect))
            .cloned()
    });
    found.unwrap_or_else(|| panic!("no reply with {expect:?} to {user}"))
}

fn press(
    fake: &FakeTelegram,
    m: &crate::fake_telegram::Call,
    label: &str,
    expect: &str,
) -> crate::fake_telegram::Call {
    let (_, data) = m
        .buttons()
        .into_iter()
        .find(|(l, _)| l.contains(label))
        .unwrap_or_else(|| panic!("no button {label} in {:?}", m.buttons()));
    let seen = fake.messages_to(ALICE).len();
    fake.press(ALICE, ZH, m.message_id(), &data);
    until(fake, ALICE, seen, expect)
}

#[test]
fn metrics_move_by_exactly_what_customers_did_and_healthz_follows_get_updates() {
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &fake, 1);
    served.metrics();
    // Binding: /start, the contact, the ID's last four (three turns).
    say(&fake, ALICE, "/start", "手机号");
    let seen = fake.messages_to(ALICE).len();
    fake.contact(ALICE, ZH, "+86 138 0000 5678", ALICE);
    until(&fake, ALICE, seen, "身份证号的后四位");
    say(&fake, ALICE, "123x", "绑定成功");
    let before = served.metrics();
    // Three bill questions, a payment (two presses), a human request.
    let mut bill = None;
    for _ in 0..3 {
        bill = Some(say(&fake, ALICE, "我这个月要还多少", "267.90"));
    }
    let confirm = press(&fake, &bill.unwrap(), "立即还款", "确认支付吗");
    press(&fake, &confirm, "确认支付", "支付单号");
    say(&fake, ALICE, "转人工", "#1");
    served.metrics_until("the ticket counted", |m| {
        get(m, "repaybot_tickets_open") == 1.0
    });
    let after = served.metrics();
    let moved = |key: &str| get(&after, key) - get(&before, key);
    let moved_total = |name: &str| total(&after, name) - total(&before, name);
    assert_eq!(
        moved("repaybot_turns_total{intent=\"bill_query\"}"),
        3.0,
        "{after:#?}"
    );
    assert_eq!(moved_total("repaybot_turns_total"), 6.0, "{after:#?}");
    assert_eq!(moved_total("repaybot_turn_seconds_count"), 6.0);
    assert_eq!(moved("repaybot_updates_total{kind=\"message\"}"), 4.0);
    assert_eq!(
        moved("repaybot_updates_total{kind=\"callback_query\"}"),
        2.0
    );
    assert_eq!(moved_total("repaybot_nlu_unknown_total"), 0.0);
    let applied = "repaybot_payments_total{gateway=\"sandbox\",status=\"applied\"}";
    assert_eq!(moved(applied), 1.0);
    assert_eq!(moved_total("repaybot_payments_total"), 1.0);
    let amount = moved("repaybot_payments_amount_cny_total{gateway=\"sandbox\"}");
    assert!((amount - 267.90).abs() < 1e-9, "{amount}");
    assert_eq!(
        moved("repaybot_tickets_opened_total{reason=\"request\"}"),
        1.0
    );
    assert_eq!(moved_total("repaybot_tickets_opened_total"), 1.0);
    assert_eq!(get(&after, "repaybot_tickets_open"), 1.0);
    assert_eq!(
        moved_total("repaybot_telegram_errors_total"),
        0.0,
        "{after:#?}"
    );
    assert_eq!(served.health(), 200);
    // Every waiting job is taken in the end (a job may still wait behind a turn finishing).
    served.metrics_until("no job waiting", |m| {
        get(m, "repaybot_replies_queued") == 0.0
    });
    served.stop();

    // After a restart the gauge starts from the store; the customer leaving closes the ticket.
    let served = serve(dir.path(), &fake, 2);
    assert_eq!(
        get(&served.metrics(), "repaybot_tickets_open"),
        1.0,
        "after restart"
    );
    say(&fake, ALICE, "/cancel", "#1");
    served.metrics_until("the ticket closed", |m| {
        get(m, "repaybot_tickets_open") == 0.0
    });
    // A customer who blocked the bot: its reply fails once, counted by method.
    fake.block(BLOCKED);
    fake.text(BLOCKED, ZH, "/start");
    served.metrics_until("the failed send counted", |m| {
        get(m, "repaybot_telegram_errors_total{method=\"sendMessage\"}") == 1.0
    });
    // Telegram stops answering getUpdates: 503 after the allowed silence (3 s here); back to
    // 200 once it answers again and an update arrives.
    assert_eq!(served.health(), 200);
    fake.set_updates_down(true);
    let deadline = Instant::now() + WAIT;
    while served.health() != 503 {
        assert!(Instant::now() < deadline, "healthz never 503");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        get(
            &served.metrics(),
            "repaybot_telegram_errors_total{method=\"getUpdates\"}"
        ) >= 1.0
    );
    fake.set_updates_down(false);
    say(&fake, ALICE, "我的账单", "267.90");
    assert_eq!(served.health(), 200);
    let last = served.metrics();
    served.stop();

    let report = report(dir.path());
    // Turns: 3 binding + 6 + the blocked customer's /start + the last bill question.
    assert_eq!(report["understanding"]["turns"], 11, "{report:#}");
    assert_eq!(report["understanding"]["not_understood"], 0, "{report:#}");
    assert_eq!(report["payments"]["count"], 1, "{report:#}");
    assert_eq!(report["payments"]["amount"], "267.90", "{report:#}");
    assert_eq!(report["tickets"]["opened"], 1, "{report:#}");
    assert_eq!(report["tickets"]["closed"], 1, "{report:#}");
    assert_eq!(report["tickets"]["by_reason"][0]["reason"], "request");
    assert_eq!(
        report["conversations"]["contained"], 1,
        "the blocked customer's day"
    );

    // No phone, name, id or message text in a label or a report field.
    let labels: String = after
        .keys()
        .chain(last.keys())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let report = report.to_string();
    for secret in [
        "5678",
        "138",
        "123x",
        "123X",
        "7101",
        "7102",
        "tg:",
        "A1001",
        "MI2026050101",
        "C20261121",
        "张伟",
        "Customer",
        "我这个月要还多少",
        "转人工",
        "我的账单",
    ] {
        assert!(
            !labels.contains(secret),
            "metric label with {secret}:\n{labels}"
        );
        assert!(!report.contains(secret), "report with {secret}:\n{report}");
    }
}

fn report(dir: &Path) -> Value {
    let args = [
        "report",
        "--json",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-22",
    ];
    crate::process::run_json(&dir.join("data"), "2026-11-21", &args)
}
