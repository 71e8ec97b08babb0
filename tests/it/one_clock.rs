//! One clock in the terminal (issue 13): `repaybot chat` under `--today` or `--clock-start` shows
//! the bill and the reminder list of the same day as `statement`, never the machine's date; and
//! the clock itself (`src/clock.rs`) gives one day everywhere.

use chrono::{NaiveDate, TimeZone, Utc};
use repaybot::clock::Clock;
use std::path::Path;
use std::process::{Command, Stdio};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_repaybot")
}

fn run(data: &Path, clock: &[&str], args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(["--data-dir", data.to_str().unwrap()])
        .args(clock)
        .args(args)
        .env_remove("REPAYBOT_TODAY")
        .env_remove("REPAYBOT_CLOCK_START")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?} failed: {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn date_at(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// The chat's bill day, its reminder days and the statement's day, all under `clock`.
fn days_under(clock: &[&str]) -> (NaiveDate, Vec<NaiveDate>, NaiveDate) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let chat = ["chat", "--account", "A1004", "--lang", "en"];
    let text = run(&data, clock, &chat, "/remind\nmy bill\n");
    let bill_day = text
        .split("Your bill on ")
        .nth(1)
        .and_then(date_at)
        .unwrap_or_else(|| panic!("no bill in {text}"));
    let reminders: Vec<NaiveDate> = text
        .lines()
        .filter_map(|l| l.strip_prefix("· ").and_then(date_at))
        .collect();
    assert!(!reminders.is_empty(), "no reminder list in {text}");
    let doc = run(&data, clock, &["statement", "A1004", "--json"], "");
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let day = date_at(doc["today"].as_str().unwrap()).unwrap();
    (bill_day, reminders, day)
}

/// The reminder list starts on the bill's day: the first day listed is within the week the
/// chat shows, never before it.
fn assert_one_day(clock: &[&str], expected: NaiveDate) {
    let (bill_day, reminders, statement_day) = days_under(clock);
    assert_eq!(bill_day, expected, "the chat's bill under {clock:?}");
    assert_eq!(statement_day, expected, "the statement under {clock:?}");
    let first = reminders[0];
    assert!(
        first >= expected && (first - expected).num_days() <= 8,
        "the reminder list under {clock:?} starts {first}, not from {expected}: {reminders:?}"
    );
}

#[test]
fn under_today_the_chat_lists_reminders_from_that_day_like_its_bill() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    assert_one_day(&["--today", "2026-11-21"], day);
}

#[test]
fn under_clock_start_the_chat_and_the_statement_use_the_clock_day() {
    // 2027-03-01 01:30 in Shanghai; demo data dated from that day.
    let start = "2027-02-28T17:30:00Z";
    let day = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    assert_one_day(&["--clock-start", start], day);
}

#[test]
fn a_fixed_day_is_the_day_in_every_zone_and_a_manual_clock_moves() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let fixed = Clock::on_day(day);
    for tz in [
        chrono_tz::Asia::Shanghai,
        chrono_tz::Europe::London,
        chrono_tz::America::Los_Angeles,
    ] {
        assert_eq!(fixed.today_in(tz), day);
        assert_eq!(fixed.day_at(fixed.now(), tz), day);
    }
    let shanghai_day = fixed.now().with_timezone(&chrono_tz::Asia::Shanghai);
    assert_eq!(shanghai_day.date_naive(), day, "now() falls on the day");
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 17, 0, 0).unwrap();
    let manual = Clock::manual(at);
    assert_eq!(manual.now(), at);
    assert_eq!(
        manual.today_in(chrono_tz::Asia::Shanghai),
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    );
    assert_eq!(manual.today_in(chrono_tz::Europe::London), day);
    let later = at + chrono::Duration::hours(30);
    manual.clone().set(later);
    assert_eq!(manual.now(), later, "clones share the setting");
}
