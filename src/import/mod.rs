//! `repaybot import accounts|orders|payments FILE.csv` (SPEC 2.2): parse, validate every row
//! against the file and the store, and apply all of it in one transaction or nothing.

mod csvfile;
mod rows;
mod validate;

pub use csvfile::{CsvTable, RowRef};

use crate::domain::Policy;
use crate::store::Store;
use anyhow::Result;
use std::fmt;

/// What kind of file is being imported (`repaybot import accounts|orders|payments`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Accounts,
    Orders,
    Payments,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "accounts" => Some(Kind::Accounts),
            "orders" => Some(Kind::Orders),
            "payments" => Some(Kind::Payments),
            _ => None,
        }
    }
}

/// One problem with an input file, shown as `file:line: reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub unchanged: usize,
}

/// Why an import did not happen: the file's problems (nothing applied), or a storage failure.
#[derive(Debug)]
pub enum ImportFailure {
    Invalid(Vec<ImportError>),
    Storage(anyhow::Error),
}

/// Imports `bytes` read from `file` (the name used in messages). All or nothing.
pub fn import(
    store: &Store,
    kind: Kind,
    file: &str,
    bytes: &[u8],
    policy: &Policy,
) -> Result<ImportReport, ImportFailure> {
    import_from(store, kind, file, Box::new(bytes), policy)
}

/// Imports the rows read from `input`, one at a time (the file is never held whole; only the
/// new records are, for the one transaction). All or nothing.
pub fn import_from(
    store: &Store,
    kind: Kind,
    file: &str,
    input: Box<dyn std::io::Read + '_>,
    policy: &Policy,
) -> Result<ImportReport, ImportFailure> {
    let mut table =
        CsvTable::open(file, input, kind).map_err(|e| ImportFailure::Invalid(vec![e]))?;
    let planned = match kind {
        Kind::Accounts => validate::accounts(store, &mut table),
        Kind::Orders => validate::orders(store, &mut table),
        Kind::Payments => validate::payments(store, &mut table, policy),
    };
    // Whatever stopped validation, the rest of the file is read for its unreadable rows.
    while table.next_row().is_some() {}
    let plan = match planned {
        Ok(plan) if table.broken_rows.is_empty() => plan,
        Ok(_) => return Err(ImportFailure::Invalid(table.broken_rows)),
        Err(validate::Problem::Rows(mut errors)) => {
            errors.extend(table.broken_rows);
            errors.sort_by_key(|e| e.line);
            return Err(ImportFailure::Invalid(errors));
        }
        Err(validate::Problem::Storage(e)) => return Err(ImportFailure::Storage(e)),
    };
    let added = plan.batch.accounts.len() + plan.batch.orders.len() + plan.batch.payments.len();
    if added > 0 {
        store
            .commit_import(&plan.batch)
            .map_err(ImportFailure::Storage)?;
    }
    Ok(ImportReport {
        added,
        unchanged: plan.unchanged,
    })
}
