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
