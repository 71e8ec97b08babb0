//! `serve --metrics-listen`: the real binary against the fake Bot API serves `/metrics` with
//! every name of SPEC 2.6 and `/healthz`, and still stops cleanly on SIGTERM; with
//! `--log-format json` every log line is one JSON object.

use crate::fake_telegram::FakeTelegram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const SPEC_NAMES: [&str; 12] = [
    "repaybot_updates_total",
    "repaybot_turns_total",
    "repaybot_turn_seconds",
    "repaybot_nlu_unknown_total",
    "repaybot_replies_queued",
    "repaybot_telegram_errors_total",
    "repaybot_payments_total",
    "repaybot_payments_amount_cny_total",
    "repaybot_reminders_sent_total",
    "repaybot_reminders_failed_total",
    "repaybot_tickets_opened_total",
    "repaybot_tickets_open",
];

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(super) fn try_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some((text.get(9..12)?.parse().ok()?, text))
}

#[test]
fn serve_with_metrics_listen_serves_the_spec_metric_names_healthz_and_json_logs() {
    let token = "123456:TEST-token_for-fake";
    let fake = FakeTelegram::start(token);
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let log = dir.path().join("serve.log");
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "--today",
            "2026-11-21",
        ])
        .args(["--log-format", "json", "serve"])
        .args(["--api-url", &fake.url()])
        .env("REPAYBOT_METRICS_LISTEN", &addr)
        .env("TELOXIDE_TOKEN", token)
        .env_remove("REPAYBOT_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .env("RUST_LOG", "info")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        if let Some((200, text)) = try_get(&addr, "/metrics") {
            break text;
        }
        assert!(Instant::now() < deadline, "no /metrics on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    };
    for name in SPEC_NAMES {
        assert!(
            metrics.contains(&format!("# TYPE {}", name.trim_end_matches("_total"))),
            "{name} missing:\n{metrics}"
        );
    }
    // The bot answers a customer while the metrics server runs beside it.
    fake.text(7001, "en", "hello");
    assert!(
        !fake
            .wait_messages(7001, 1, Duration::from_secs(60))
            .is_empty(),
        "no reply"
    );
    // Polling marks the bot alive; the answered message moved the update and turn counters.
    let (code, _) = try_get(&addr, "/healthz").unwrap();
    assert_eq!(code, 200, "healthz while polling");
    let (_, metrics) = try_get(&addr, "/metrics").unwrap();
    let moved = |prefix: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with(prefix) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    assert_eq!(
        moved("repaybot_updates_total{kind=\"message\"}"),
        1.0,
        "{metrics}"
    );
    assert_eq!(moved("repaybot_turns_total{"), 1.0, "{metrics}");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "serve exited with {status}:\n{log}");
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("serving /metrics and /healthz")),
        "{log}"
    );
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
}
