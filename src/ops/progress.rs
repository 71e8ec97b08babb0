//! Progress of long commands (`import` of a large file, `nlu eval --cv` fold by fold, `report`
//! day by day): a bar redrawn in place on a terminal, plain lines every 10% when stderr is not
//! a terminal (logs, CI), and one closing line with what was done and how long it took. Written
//! to stderr only, so stdout stays the command's result. A few lines of our own rather than
//! `indicatif`: one bar, no styles, no extra crates.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Below this many bytes a non-terminal run prints only the closing line.
pub const LINES_FROM_BYTES: u64 = 1024 * 1024;

/// How often the terminal bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

const BAR_WIDTH: usize = 30;

/// Counted steps (folds, days) show nothing until the work has taken this long: a quick run
/// prints only its closing line.
pub const STEPS_QUIET_FOR: Duration = Duration::from_secs(2);

pub struct Progress {
    label: String,
    /// `bytes`, or what the steps are (`folds`, `days`).
    unit: &'static str,
    /// Nothing is drawn or printed before this much time has passed.
    quiet_for: Duration,
    total: u64,
    done: u64,
    out: Box<dyn Write + Send>,
    terminal: bool,
    /// Whether plain lines are printed (non-terminal, large enough).
    lines: bool,
    last_tenth: u64,
    last_draw: Option<Instant>,
    started: Instant,
    finished: bool,
}

impl Progress {
    /// Progress of `label` over `total_bytes`, on stderr.
    pub fn new(label: impl Into<String>, total_bytes: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress::to_writer(label, total_bytes, Box::new(std::io::stderr()), terminal)
    }

    /// The same on any writer, saying whether it is a terminal (tests use a buffer).
    pub fn to_writer(
        label: impl Into<String>,
        total_bytes: u64,
        out: Box<dyn Write + Send>,
        terminal: bool,
    ) -> Progress {
        Progress {
            label: label.into(),
            unit: "bytes",
            quiet_for: Duration::ZERO,
            total: total_bytes,
            done: 0,
            out,
            terminal,
            lines: !terminal && total_bytes >= LINES_FROM_BYTES,
            last_tenth: 0,
            last_draw: None,
            started: Instant::now(),
            finished: false,
        }
    }

    /// Progress over `total` counted steps (`unit`: `folds`, `days`...), on stderr, silent for
    /// the first [`STEPS_QUIET_FOR`].
    pub fn steps(label: impl Into<String>, total: u64, unit: &'static str) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let out = Box::new(std::io::stderr());
        Progress::steps_to_writer(label, total, unit, out, terminal, STEPS_QUIET_FOR)
    }

    /// `steps` on any writer, with its quiet time (tests pass zero).
    pub fn steps_to_writer(
        label: impl Into<String>,
        total: u64,
        unit: &'static str,
        out: Box<dyn Write + Send>,
        terminal: bool,
        quiet_for: Duration,
    ) -> Progress {
        let mut p = Progress::to_writer(label, total, out, terminal);
        p.unit = unit;
        p.quiet_for = quiet_for;
        p.lines = !terminal;
        p
    }

    /// Moves to `done` (of the total) when that is further than before.
    pub fn set(&mut self, done: u64) {
        if done > self.done {
            self.inc(done - self.done);
        }
    }

    /// `bytes` (or steps) more were processed.
    pub fn inc(&mut self, bytes: u64) {
        self.done = (self.done + bytes).min(self.total);
        if self.started.elapsed() < self.quiet_for {
            return;
        }
        if self.terminal {
            if self.last_draw.is_none_or(|t| t.elapsed() >= REDRAW) || self.done == self.total {
                self.draw_bar();
            }
        } else if self.lines {
            let tenth = self.done * 10 / self.total.max(1);
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                let _ = writeln!(
                    self.out,
                    "{}: {}% ({}/{} {})",
                    self.label,
                    tenth * 10,
                    self.done,
                    self.total,
                    self.unit
                );
            }
        }
    }

    fn draw_bar(&mut self) {
        let filled = (self.done * BAR_WIDTH as u64 / self.total.max(1)) as usize;
        let pct = self.done * 100 / self.total.max(1);
        let amount = if self.unit == "bytes" {
            format!("{:.1}/{:.1} MB", mb(self.done), mb(self.total))
        } else {
            format!("{}/{} {}", self.done, self.total, self.unit)
        };
        let _ = write!(
            self.out,
            "\r{} [{}{}] {pct:>3}% {amount}",
            self.label,
            "#".repeat(filled),
            "-".repeat(BAR_WIDTH - filled),
        );
        let _ = self.out.flush();
        self.last_draw = Some(Instant::now());
    }

    /// The work is done: `rows` rows in the time since `new`.
    pub fn finish(mut self, rows: u64) {
        let elapsed = self.started.elapsed();
        self.finish_after(rows, elapsed);
    }

    /// `finish` with the elapsed time given (tests).
    pub fn finish_after(&mut self, rows: u64, elapsed: Duration) {
        let what = format!("{rows} rows");
        let bytes = format!(" ({} bytes)", self.total);
        self.close(&what, elapsed, &bytes);
    }

    /// The counted work is done: the closing line says `what` (`5 folds, 3712 messages`) and
    /// the time since `steps`.
    pub fn finish_steps(mut self, what: &str) {
        let elapsed = self.started.elapsed();
        self.close(what, elapsed, "");
    }

    fn close(&mut self, what: &str, elapsed: Duration, tail: &str) {
        // A quiet run that ended before its bar showed ends with the closing line only.
        if self.terminal && (self.last_draw.is_some() || self.quiet_for.is_zero()) {
            self.done = self.total;
            self.draw_bar();
            let _ = writeln!(self.out);
        }
        let secs = elapsed.as_secs_f64();
        let _ = writeln!(self.out, "{}: {what} in {secs:.1} s{tail}", self.label);
        let _ = self.out.flush();
        self.finished = true;
    }
}

impl Drop for Progress {
    /// A run that failed leaves no half-drawn bar behind its error message.
    fn drop(&mut self) {
        if self.terminal && !self.finished && self.last_draw.is_some() {
            let _ = write!(
                self.out,
                "\r{}\r",
                " ".repeat(self.label.len() + BAR_WIDTH + 30)
            );
            let _ = self.out.flush();
        }
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A reader that moves a [`Progress`] by the bytes read through it (the import's file).
pub struct ProgressReader<'a, R> {
    pub inner: R,
    pub progress: &'a mut Progress,
}

impl<R: std::io::Read> std::io::Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}
