//! The real `repaybot serve` under pressure and with bad settings: flooding chats do not hold
//! back a quiet customer, and a bad webhook secret is a clear start-up error.

use super::{bin, data_dir, Served, TODAY, TOKEN, WAIT, ZH};
use crate::fake_telegram::{Call, FakeTelegram};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_bad_webhook_secret_is_refused_with_exit_2_and_a_reason_not_a_panic() {
    let (_dir, data) = data_dir();
    for bad in ["has space", "emoji🙂", &"x".repeat(257)] {
        let out = Command::new(bin())
            .args(["--data-dir", data.to_str().unwrap(), "serve"])
            .args(["--webhook", "https://bot.example.com/tg"])
            .args(["--api-url", "http://127.0.0.1:9"])
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("REPAYBOT_WEBHOOK_SECRET", bad)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {err}");
        assert!(
            err.contains("REPAYBOT_WEBHOOK_SECRET") && !err.contains("panicked"),
            "{err}"
        );
        assert!(!err.contains(bad), "the secret is not echoed: {err}");
    }
}

/// `serve` with Telegram-like per-chat limits small enough to reach in a test: 3 a second and 3
/// a minute per chat, 10 a second overall; the flood guard off, so only the queues and the
/// send limits are at work.
fn serve_limited(data: &std::path::Path, fake: &FakeTelegram) -> Served {
    let log = crate::process::unique_log(data.with_extension("log"));
    let child = crate::process::bot_command(data, TODAY, TOKEN, &log)
        .args(["serve", "--api-url", &fake.url(), "--send-limits", "3/3/10"])
        .args(["--flood", "1000/1"])
        .spawn()
        .unwrap();
    Served {
        child,
        log,
        data: data.to_path_buf(),
    }
}

#[test]
fn flooding_chats_at_their_send_limit_do_not_hold_back_a_quiet_customers_answer() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    let _served = serve_limited(&data, &fake);
    // More flooding chats than the overall rate, each sending more than its minute allows.
    let flooders: Vec<i64> = (7001..=7012).collect();
    for _ in 0..6 {
        for f in &flooders {
            fake.text(*f, ZH, "你好");
        }
    }
    let all_at_limit = fake.wait_until(WAIT, |calls| {
        let per_chat = |f: &i64| calls.iter().filter(|c| is_message_to(c, *f)).count();
        flooders.iter().all(|f| per_chat(f) >= 3).then_some(())
    });
    assert!(all_at_limit.is_some(), "every flooder used its minute");
    // Now every flooder has a backlog waiting for the next minute. A quiet customer asks.
    let asked = Instant::now();
    let quiet = 7100;
    fake.text(quiet, ZH, "/start");
    let answered = fake.wait_until(Duration::from_secs(30), |calls| {
        let at = calls.iter().position(|c| is_message_to(c, quiet))?;
        Some(calls[..at].to_vec())
    });
    let before = answered
        .expect("the quiet customer was answered within 30 s (the flooders' minute is 60 s)");
    let waited = asked.elapsed();
    for f in &flooders {
        let sent = before.iter().filter(|c| is_message_to(c, *f)).count();
        assert!(sent <= 3, "flooder {f} got {sent} in a minute (limit 3)");
    }
    assert!(waited < Duration::from_secs(30), "{waited:?}");
}

fn is_message_to(c: &Call, chat: i64) -> bool {
    c.method == "sendmessage" && c.chat_id() == Some(chat)
}
