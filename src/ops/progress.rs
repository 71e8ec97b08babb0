//! Progress of long commands (`import` of a large file): a bar redrawn in place on a terminal,
//! plain lines every 10% when stderr is not a terminal (logs, CI), and one closing line with
//! what was done and how long it took. Written to stderr only, so stdout stays the command's
//! result. A few lines of our own rather than `indicatif`: one bar, no styles, no extra crates.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Below this many bytes a non-terminal run prints only the closing line.
pub const LINES_FROM_BYTES: u64 = 1024 * 1024;

/// How often the terminal bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

const BAR_WIDTH: usize = 30;

pub struct Progress {
    label: String,
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

    /// `bytes` more were processed.
    pub fn inc(&mut self, bytes: u64) {
        self.done = (self.done + bytes).min(self.total);
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
                    "{}: {}% ({}/{} bytes)",
                    self.label,
                    tenth * 10,
                    self.done,
                    self.total
                );
            }
        }
    }

    fn draw_bar(&mut self) {
        let filled = (self.done * BAR_WIDTH as u64 / self.total.max(1)) as usize;
        let pct = self.done * 100 / self.total.max(1);
        let _ = write!(
            self.out,
            "\r{} [{}{}] {pct:>3}% {:.1}/{:.1} MB",
            self.label,
            "#".repeat(filled),
            "-".repeat(BAR_WIDTH - filled),
            mb(self.done),
            mb(self.total)
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
        if self.terminal {
            self.done = self.total;
            self.draw_bar();
            let _ = writeln!(self.out);
        }
        let _ = writeln!(
            self.out,
            "{}: {rows} rows in {:.1} s ({} bytes)",
            self.label,
            elapsed.as_secs_f64(),
            self.total
        );
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
