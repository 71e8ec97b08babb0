//! Progress of long work when stderr is not a terminal: plain lines every 10% for a large
//! file, nothing but the closing line for a small one, and the closing line says what was done.

use repaybot::ops::progress::{Progress, LINES_FROM_BYTES};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn progress_off_a_terminal_prints_a_plain_line_per_tenth_and_a_summary() {
    let buf = Buffer::default();
    let total = 2_000_000;
    let mut p = Progress::to_writer("import orders.csv", total, Box::new(buf.clone()), false);
    for _ in 0..40 {
        p.inc(total / 40);
    }
    p.finish_after(12345, Duration::from_millis(3456));
    let text = buf.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 11, "{text}");
    assert_eq!(lines[0], "import orders.csv: 10% (200000/2000000 bytes)");
    assert_eq!(lines[9], "import orders.csv: 100% (2000000/2000000 bytes)");
    assert_eq!(
        lines[10],
        "import orders.csv: 12345 rows in 3.5 s (2000000 bytes)"
    );
    assert!(!text.contains('\r'));
}

#[test]
fn progress_of_a_small_file_off_a_terminal_prints_only_the_summary() {
    let buf = Buffer::default();
    let mut p = Progress::to_writer(
        "import a.csv",
        LINES_FROM_BYTES - 1,
        Box::new(buf.clone()),
        false,
    );
    p.inc(LINES_FROM_BYTES - 1);
    p.finish_after(3, Duration::from_millis(20));
    assert_eq!(
        buf.text(),
        format!(
            "import a.csv: 3 rows in 0.0 s ({} bytes)\n",
            LINES_FROM_BYTES - 1
        )
    );
}

#[test]
fn progress_on_a_terminal_redraws_one_bar_and_a_failed_run_clears_it() {
    let buf = Buffer::default();
    let mut p = Progress::to_writer("import x", 100, Box::new(buf.clone()), true);
    p.inc(50);
    assert!(
        buf.text()
            .starts_with("\rimport x [###############---------------]  50%"),
        "{:?}",
        buf.text()
    );
    drop(p);
    assert!(buf.text().ends_with('\r'));
    assert!(!buf.text().contains('\n'));
}

#[test]
fn import_command_says_how_many_rows_and_how_long() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.csv");
    let csv = "account_id,name,phone,id_last4,language,timezone\nA1,Zhang,13800005678,123x,,\nA2,Li,13900001234,4521,,\n";
    std::fs::write(&file, csv).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args([
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
            "import",
            "accounts",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    let name = file.display();
    assert!(
        err.starts_with(&format!("import {name}: 2 rows in ")),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with(&format!(" s ({} bytes)", csv.len())),
        "{err}"
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{name}: 2 added, 0 unchanged\n")
    );
}

#[test]
fn counted_steps_off_a_terminal_print_a_line_per_tenth_and_what_was_done() {
    let buf = Buffer::default();
    let mut p = Progress::steps_to_writer(
        "nlu eval --cv 5",
        5,
        "folds",
        Box::new(buf.clone()),
        false,
        Duration::ZERO,
    );
    for fold in 1..=5 {
        p.set(fold);
    }
    p.finish_steps("5 folds, 3712 messages");
    let text = buf.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(lines[0], "nlu eval --cv 5: 20% (1/5 folds)");
    assert_eq!(lines[4], "nlu eval --cv 5: 100% (5/5 folds)");
    assert!(
        lines[5].starts_with("nlu eval --cv 5: 5 folds, 3712 messages in 0."),
        "{text}"
    );
}

#[test]
fn a_quick_counted_run_shows_no_bar_only_its_closing_line() {
    for terminal in [false, true] {
        let buf = Buffer::default();
        let quiet = Duration::from_secs(3600);
        let mut p =
            Progress::steps_to_writer("report", 30, "days", Box::new(buf.clone()), terminal, quiet);
        p.set(10);
        p.set(30);
        p.finish_steps("12 events read for 2026-11-01 to 2026-11-30");
        let text = buf.text();
        assert!(
            text.starts_with("report: 12 events read for 2026-11-01 to 2026-11-30 in 0.")
                && text.lines().count() == 1
                && !text.contains('\r'),
            "{text:?}"
        );
    }
}

#[test]
fn report_and_cross_validation_commands_end_with_what_they_did_and_how_long() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_repaybot");
    let data = dir.path().join("data");
    let out = std::process::Command::new(bin)
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "--today",
            "2026-11-21",
        ])
        .args([
            "report",
            "--json",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-21",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("report: 0 events read for 2026-11-01 to 2026-11-21 in "),
        "{err}"
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("stdout is only the JSON");
    // Cross-validation over a small copy of the training data (fast), fold by fold.
    let dialogs = dir.path().join("dialogs");
    copy_dir(std::path::Path::new("dialogs"), &dialogs);
    let train = dialogs.join("nlu").join("train");
    for f in std::fs::read_dir(&train).unwrap() {
        let path = f.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let few: Vec<&str> = text.lines().take(40).collect();
        std::fs::write(&path, few.join("\n") + "\n").unwrap();
    }
    let out = std::process::Command::new(bin)
        .args([
            "nlu",
            "eval",
            "--cv",
            "3",
            "--dir",
            dialogs.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    // Plain lines per fold only when it ran longer than two seconds (a loaded machine).
    let (last, before) = err
        .trim_end()
        .lines()
        .collect::<Vec<_>>()
        .split_last()
        .map(|(l, b)| (*l, b.to_vec()))
        .unwrap();
    assert!(
        last.starts_with("nlu eval --cv 3: 3 folds, 160 messages in "),
        "{err}"
    );
    assert!(
        before
            .iter()
            .all(|l| l.starts_with("nlu eval --cv 3: ") && l.ends_with(" folds)")),
        "{err}"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
