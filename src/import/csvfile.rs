//! Reading an import CSV as a stream of rows: BOM and CRLF accepted, header checked (columns in
//! any order, unknown or missing columns rejected), cells trimmed, each row keeping its line
//! number. Nothing holds the whole file: a physical line is capped (`MAX_LINE_BYTES`), every
//! cell too (`MAX_CELL_BYTES`), and text echoed in a reason is cut to `ECHO_CHARS`.

use super::{ImportError, Kind};
use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

/// A physical line longer than this stops the file (no row of any kind needs as much).
pub const MAX_LINE_BYTES: u64 = 16 * 1024;
/// Any cell longer than this rejects its row.
pub const MAX_CELL_BYTES: usize = 1024;
/// Characters of a cell or header shown in an error.
pub const ECHO_CHARS: usize = 80;

/// `text` for an error message: escaped, and cut to `ECHO_CHARS` characters with "…".
pub fn echo(text: &str) -> String {
    let mut out: String = text.chars().take(ECHO_CHARS).collect();
    if text.chars().nth(ECHO_CHARS).is_some() {
        out.push('…');
    }
    out.escape_debug().to_string()
}

/// An open file being read row by row.
pub struct CsvTable<'a> {
    pub file: String,
    header: Vec<String>,
    reader: csv::Reader<LineCap<'a>>,
    line_of_cap: Rc<Cell<Option<u64>>>,
    /// Rows that could not be read at all (wrong number of cells, bad quoting, too long).
    pub broken_rows: Vec<ImportError>,
    done: bool,
}

/// One data row.
pub struct RowRef {
    pub line: u64,
    cells: HashMap<String, String>,
}

impl RowRef {
    /// The trimmed cell of `column` ("" when an optional column is absent).
    pub fn get(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", String::as_str)
    }
}

fn columns(kind: Kind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        Kind::Accounts => (
            &["account_id", "name", "phone", "id_last4"],
            &["language", "timezone"],
        ),
        Kind::Orders => (
            &[
                "order_id",
                "account_id",
                "item",
                "principal",
                "periods",
                "method",
                "monthly_rate",
                "first_due_date",
            ],
            &[],
        ),
        Kind::Payments => (&["payment_id", "order_id", "amount", "paid_on"], &["kind"]),
    }
}

/// A reader that fails once a physical line grows past `MAX_LINE_BYTES`, noting which line.
struct LineCap<'a> {
    inner: BufReader<Box<dyn Read + 'a>>,
    line: u64,
    in_line: u64,
    tripped: Rc<Cell<Option<u64>>>,
}

impl Read for LineCap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for b in &buf[..n] {
            if *b == b'\n' {
                self.line += 1;
                self.in_line = 0;
            } else {
                self.in_line += 1;
                if self.in_line > MAX_LINE_BYTES {
                    self.tripped.set(Some(self.line + 1));
                    return Err(std::io::Error::other("line too long"));
                }
            }
        }
        Ok(n)
    }
}

impl<'a> CsvTable<'a> {
    /// Opens `input` (named `file` in messages) and checks its header.
    pub fn open(
        file: &str,
        input: Box<dyn Read + 'a>,
        kind: Kind,
    ) -> Result<CsvTable<'a>, ImportError> {
        let err = |line: u64, reason: String| ImportError {
            file: file.to_string(),
            line,
            reason,
        };
        let mut inner = BufReader::new(input);
        let start = inner
            .fill_buf()
            .map_err(|e| err(1, format!("cannot read: {e}")))?;
        if start.is_empty() {
            return Err(err(1, "the file is empty; expected a header row".into()));
        }
        if start.starts_with(b"\xEF\xBB\xBF") {
            inner.consume(3);
        }
        let tripped = Rc::new(Cell::new(None));
        let capped = LineCap {
            inner,
            line: 0,
            in_line: 0,
            tripped: Rc::clone(&tripped),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(capped);
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(str::to_string).collect(),
            Err(_) if tripped.get().is_some() => {
                return Err(err(1, too_long()));
            }
            Err(e) => return Err(err(1, format!("unreadable header: {}", csv_reason(&e)))),
        };
        check_header(&header, kind).map_err(|reason| err(1, reason))?;
        Ok(CsvTable {
            file: file.to_string(),
            header,
            reader,
            line_of_cap: tripped,
            broken_rows: Vec::new(),
            done: false,
        })
    }

    /// The next readable row; rows that cannot be read go to `broken_rows`. A line past the
    /// size cap ends the file there (it is reported, and the file is rejected).
    pub fn next_row(&mut self) -> Option<RowRef> {
        let mut record = csv::StringRecord::new();
        while !self.done {
            match self.reader.read_record(&mut record) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    if let Some(row) = self.row_of(&record) {
                        return Some(row);
                    }
                }
                Err(e) => {
                    if let Some(line) = self.line_of_cap.get() {
                        self.broken(line, too_long());
                        self.done = true;
                    } else {
                        let line = e.position().map_or(0, |p| p.line());
                        self.broken(line, csv_reason(&e));
                        self.done = matches!(e.kind(), csv::ErrorKind::Io(_));
                    }
                }
            }
        }
        None
    }

    fn broken(&mut self, line: u64, reason: String) {
        let e = ImportError {
            file: self.file.clone(),
            line,
            reason,
        };
        self.broken_rows.push(e);
    }

    /// The row of a record, or None (a blank line, or a broken row noted in `broken_rows`).
    fn row_of(&mut self, record: &csv::StringRecord) -> Option<RowRef> {
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            return None; // a blank line
        }
        if record.len() != self.header.len() {
            let reason = format!(
                "this row has {} cells but the header has {}",
                record.len(),
                self.header.len()
            );
            self.broken(line, reason);
            return None;
        }
        let long = self.header.iter().zip(record.iter());
        if let Some((column, _)) = long.clone().find(|(_, c)| c.len() > MAX_CELL_BYTES) {
            let reason = format!("{column} is longer than {MAX_CELL_BYTES} bytes");
            self.broken(line, reason);
            return None;
        }
        let cells = long.map(|(h, c)| (h.clone(), c.to_string())).collect();
        Some(RowRef { line, cells })
    }

    pub fn error(&self, row: &RowRef, reason: impl Into<String>) -> ImportError {
        ImportError {
            file: self.file.clone(),
            line: row.line,
            reason: reason.into(),
        }
    }

    pub fn origin(&self, row: &RowRef) -> String {
        format!("{}:{}", self.file, row.line)
    }
}

fn too_long() -> String {
    format!("this line is longer than {MAX_LINE_BYTES} bytes")
}

fn check_header(header: &[String], kind: Kind) -> Result<(), String> {
    let (required, optional) = columns(kind);
    let mut seen: Vec<&str> = Vec::new();
    for name in header {
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            return Err(format!(
                "unknown column '{}' (expected {})",
                echo(name),
                required.join(", ")
            ));
        }
        if seen.contains(&name.as_str()) {
            return Err(format!("column '{name}' appears twice"));
        }
        seen.push(name);
    }
    match required.iter().find(|c| !header.iter().any(|h| h == *c)) {
        Some(missing) => Err(format!("missing column '{missing}'")),
        None => Ok(()),
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("this row has {len} cells but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8".into(),
        _ => e.to_string(),
    }
}
