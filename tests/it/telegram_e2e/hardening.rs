//! The real `repaybot serve` under pressure and with bad settings: flooding chats do not hold
//! back a quiet customer, and a bad webhook secret is a clear start-up error.

use super::{bin, data_dir, TOKEN};
use std::process::{Command, Stdio};

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
