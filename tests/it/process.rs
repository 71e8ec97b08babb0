//! The `repaybot` processes the e2e tests run: one-shot commands whose output a test reads, and
//! `serve` bots (a fresh log file name, a clean stop on SIGTERM, and a kill however a test ends:
//! a failed assertion must not leave a bot running).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How long a bot may take to stop.
pub const STOP_WAIT: Duration = Duration::from_secs(60);

/// `p` with the first free `.N.log` extension.
pub fn unique_log(p: PathBuf) -> PathBuf {
    (0..)
        .map(|n| p.with_extension(format!("{n}.log")))
        .find(|candidate| !candidate.exists())
        .unwrap_or(p)
}

/// SIGTERM, then waits for a clean exit (the test fails otherwise); returns the log.
pub fn stop_clean(child: &mut Child, log: &Path) -> String {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + STOP_WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "serve failed ({status}):\n{text}");
    text
}

/// SIGKILL and reap (nothing when it already exited).
pub fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The real binary on data folder `data`, dated `today`, with the fake Bot API's `token`, its
/// log at info into `log` and no stdin or stdout: what every e2e bot shares. The caller adds
/// the command (`serve` and its flags) and any environment of its own.
pub fn bot_command(data: &Path, today: &str, token: &str, log: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_repaybot"));
    command
        .args(["--data-dir", data.to_str().unwrap(), "--today", today])
        .env("TELOXIDE_TOKEN", token)
        .env("RUST_LOG", "info")
        .env_remove("REPAYBOT_WEBHOOK_SECRET")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    command
}

/// Runs `repaybot --data-dir DATA --today TODAY ARGS...` to its end and returns its standard
/// output; a failed run fails the test with its standard error.
pub fn run_ok(data: &Path, today: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args(["--data-dir", data.to_str().unwrap(), "--today", today])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "repaybot {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// [`run_ok`] of a command with `--json` output, parsed.
pub fn run_json(data: &Path, today: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run_ok(data, today, args)).unwrap()
}
