//! Reading an import CSV: BOM and CRLF accepted, header checked (columns in any order, unknown or
//! missing columns rejected), cells trimmed, each row keeping its line number.

use super::{ImportError, Kind};
use std::collections::HashMap;

/// A parsed file: its rows as column → cell maps with their line numbers.
pub struct CsvTable {
    pub file: String,
    pub rows: Vec<RowRef>,
    /// Rows that could not be read at all (wrong number of cells, bad quoting).
    pub broken_rows: Vec<ImportError>,
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

impl CsvTable {
    pub fn parse(file: &str, bytes: &[u8], kind: Kind) -> Result<CsvTable, ImportError> {
        let err = |line: u64, reason: String| ImportError {
            file: file.to_string(),
            line,
            reason,
        };
        if bytes.is_empty() {
            return Err(err(1, "the file is empty; expected a header row".into()));
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| err(1, format!("unreadable header: {}", csv_reason(&e))))?
            .iter()
            .map(str::to_string)
            .collect();
        let (required, optional) = columns(kind);
        let mut seen = Vec::new();
        for name in &header {
            if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
                return Err(err(
                    1,
                    format!("unknown column '{name}' (expected {})", required.join(", ")),
                ));
            }
            if seen.contains(name) {
                return Err(err(1, format!("column '{name}' appears twice")));
            }
            seen.push(name.clone());
        }
        if let Some(missing) = required.iter().find(|c| !header.iter().any(|h| h == *c)) {
            return Err(err(1, format!("missing column '{missing}'")));
        }
        let (mut rows, mut broken_rows) = (Vec::new(), Vec::new());
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    broken_rows.push(err(e.position().map_or(0, |p| p.line()), csv_reason(&e)));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue; // a blank line
            }
            if record.len() != header.len() {
                let reason = format!(
                    "this row has {} cells but the header has {}",
                    record.len(),
                    header.len()
                );
                broken_rows.push(err(line, reason));
                continue;
            }
            let cells = header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect();
            rows.push(RowRef { line, cells });
        }
        Ok(CsvTable {
            file: file.to_string(),
            rows,
            broken_rows,
        })
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
