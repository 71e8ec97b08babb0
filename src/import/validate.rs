//! Checks a parsed file against itself and the store: duplicate ids (same content is no change,
//! different content names both rows), unique phones, known accounts and orders, and a replay of
//! every touched order so no payment is too large or lands on a closed order.

use super::csvfile::CsvTable;
use super::{rows, ImportError};
use crate::domain::{view, Order, Payment, Policy};
use crate::store::{ImportBatch, PaymentRow, Store, Stored};
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};

pub enum Problem {
    Rows(Vec<ImportError>),
    Storage(anyhow::Error),
}

impl From<anyhow::Error> for Problem {
    fn from(e: anyhow::Error) -> Self {
        Problem::Storage(e)
    }
}

pub struct Plan {
    pub batch: ImportBatch,
    pub unchanged: usize,
}

/// Collects what is new, skipping rows identical to a known record and refusing different ones.
/// Each new record is held once (`fresh`), found by id through `seen`.
struct Dedup<T> {
    seen: HashMap<String, usize>,
    fresh: Vec<Stored<T>>,
    unchanged: usize,
}

impl<T: Clone + PartialEq + serde::Serialize> Dedup<T> {
    fn new() -> Self {
        Dedup {
            seen: HashMap::new(),
            fresh: Vec::new(),
            unchanged: 0,
        }
    }

    /// `stored` is the record already in the store under this id, if any.
    fn offer(
        &mut self,
        kind: &str,
        id: &str,
        value: T,
        origin: String,
        stored: Option<Stored<T>>,
    ) -> Result<(), String> {
        let known = match self.seen.get(id) {
            Some(i) => Some((&self.fresh[*i].data, self.fresh[*i].origin.as_str())),
            None => stored.as_ref().map(|s| (&s.data, s.origin.as_str())),
        };
        match known {
            Some((old, _)) if *old == value => {
                self.unchanged += 1;
                Ok(())
            }
            Some((_, old_origin)) => Err(format!(
                "{kind} {id} differs from the one already given at {old_origin}"
            )),
            None => {
                self.seen.insert(id.to_string(), self.fresh.len());
                self.fresh.push(Stored::new(origin, value));
                Ok(())
            }
        }
    }
}

fn finish(errors: Vec<ImportError>) -> Result<(), Problem> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::Rows(errors))
    }
}

pub fn accounts(store: &Store, table: &mut CsvTable) -> Result<Plan, Problem> {
    let mut errors = Vec::new();
    let mut dedup = Dedup::new();
    let mut phones: HashMap<String, (String, String)> = HashMap::new();
    while let Some(row) = table.next_row() {
        let row = &row;
        let account = match rows::account(row) {
            Ok(a) => a,
            Err(reason) => {
                errors.push(table.error(row, reason));
                continue;
            }
        };
        let origin = table.origin(row);
        let phone = account.phone.as_str().to_string();
        let owner = match phones.get(&phone) {
            Some((id, at)) => Some((id.clone(), at.clone())),
            None => match store.account_id_by_phone(&phone)? {
                Some(id) => store.account(&id)?.map(|a| (id, a.origin)),
                None => None,
            },
        };
        if let Some((other, at)) = owner.filter(|(other, _)| *other != account.id) {
            errors.push(table.error(
                row,
                format!("phone is already used by account {other} ({at})"),
            ));
            continue;
        }
        phones.insert(phone, (account.id.clone(), origin.clone()));
        let id = account.id.clone();
        let stored = store.account(&id)?;
        if let Err(reason) = dedup.offer("account", &id, account, origin, stored) {
            errors.push(table.error(row, reason));
        }
    }
    finish(errors)?;
    Ok(Plan {
        unchanged: dedup.unchanged,
        batch: ImportBatch {
            accounts: dedup.fresh,
            ..ImportBatch::default()
        },
    })
}

pub fn orders(store: &Store, table: &mut CsvTable) -> Result<Plan, Problem> {
    let mut errors = Vec::new();
    let mut dedup = Dedup::new();
    while let Some(row) = table.next_row() {
        let row = &row;
        let order = match rows::order(row) {
            Ok(o) => o,
            Err(reason) => {
                errors.push(table.error(row, reason));
                continue;
            }
        };
        if store.account(&order.account_id)?.is_none() {
            errors.push(table.error(
                row,
                format!(
                    "account {} is not known (import accounts first)",
                    order.account_id
                ),
            ));
            continue;
        }
        let id = order.id.clone();
        // Agreements made in the chat are not part of the shop's export.
        let stored = store.order(&id)?.map(|mut s| {
            s.data.agreements = Default::default();
            s
        });
        if let Err(reason) = dedup.offer("order", &id, order, table.origin(row), stored) {
            errors.push(table.error(row, reason));
        }
    }
    finish(errors)?;
    Ok(Plan {
        unchanged: dedup.unchanged,
        batch: ImportBatch {
            orders: dedup.fresh,
            ..ImportBatch::default()
        },
    })
}

pub fn payments(store: &Store, table: &mut CsvTable, policy: &Policy) -> Result<Plan, Problem> {
    let mut errors = Vec::new();
    let mut dedup = Dedup::new();
    let mut orders: HashMap<String, Order> = HashMap::new();
    while let Some(row) = table.next_row() {
        let row = &row;
        let (order_id, payment) = match rows::payment(row) {
            Ok(p) => p,
            Err(reason) => {
                errors.push(table.error(row, reason));
                continue;
            }
        };
        if !orders.contains_key(&order_id) {
            match store.order(&order_id)? {
                Some(o) => {
                    orders.insert(order_id.clone(), o.data);
                }
                None => {
                    errors.push(table.error(
                        row,
                        format!("order {order_id} is not known (import orders first)"),
                    ));
                    continue;
                }
            }
        }
        let id = payment.id.clone();
        // The recording sequence is the store's, not part of the shop's export.
        let stored = store.payment(&id)?.map(|mut s| {
            s.data.seq = 0;
            s
        });
        let restructure = orders
            .get(&order_id)
            .and_then(|o| o.agreements.restructure.as_ref());
        if let (None, Some(r)) = (&stored, restructure) {
            errors.push(table.error(
                row,
                format!(
                    "order {order_id} was re-installed on {} as {}; record the payment on the new plan",
                    r.on, r.new_order_id
                ),
            ));
            continue;
        }
        let value = PaymentRow {
            order_id,
            payment,
            seq: 0,
        };
        if let Err(reason) = dedup.offer("payment", &id, value, table.origin(row), stored) {
            errors.push(table.error(row, reason));
        }
    }
    finish(errors)?;
    replay_touched_orders(store, table, &orders, &dedup.fresh, policy)?;
    Ok(Plan {
        unchanged: dedup.unchanged,
        batch: ImportBatch {
            payments: dedup.fresh,
            ..ImportBatch::default()
        },
    })
}

/// Replays every order that gets a new payment, old and new payments together in date order.
fn replay_touched_orders(
    store: &Store,
    table: &CsvTable,
    orders: &HashMap<String, Order>,
    fresh: &[Stored<PaymentRow>],
    policy: &Policy,
) -> Result<(), Problem> {
    let mut by_order: BTreeMap<&str, Vec<(&Payment, Option<&str>)>> = BTreeMap::new();
    for s in fresh {
        by_order
            .entry(s.data.order_id.as_str())
            .or_default()
            .push((&s.data.payment, Some(s.origin.as_str())));
    }
    let mut errors = Vec::new();
    for (order_id, new) in by_order {
        let Some(order) = orders.get(order_id) else {
            continue;
        };
        // Replay order: date, then recording order; this file's rows are recorded last, together.
        let existing = store.recorded_payments_of(order_id)?;
        let mut all: Vec<(u64, &Payment, Option<&str>)> =
            existing.iter().map(|(seq, p)| (*seq, p, None)).collect();
        all.extend(new.into_iter().map(|(p, o)| (u64::MAX, p, o)));
        all.sort_by(|a, b| (a.1.paid_on, a.0, &a.1.id).cmp(&(b.1.paid_on, b.0, &b.1.id)));
        let all: Vec<(&Payment, Option<&str>)> = all.into_iter().map(|(_, p, o)| (p, o)).collect();
        let payments: Vec<Payment> = all.iter().map(|(p, _)| (*p).clone()).collect();
        if let Err((i, e)) = view::check_payments(order, &payments, NaiveDate::MAX, policy) {
            let (bad, bad_origin) = all[i];
            let (culprit, reason) = match bad_origin {
                Some(origin) => (origin.to_string(), format!("payment {}: {e}", bad.id)),
                None => {
                    let earlier_new = all[..i].iter().find_map(|(p, o)| o.map(|o| (p, o)));
                    let (p, o) = earlier_new.map_or((bad, "?"), |(p, o)| (*p, o));
                    let stored_at = store
                        .payment(&bad.id)?
                        .map(|s| s.origin)
                        .unwrap_or_default();
                    (o.to_string(), format!("payment {} would make the imported payment {} ({stored_at}) invalid: {e}", p.id, bad.id))
                }
            };
            let line = culprit
                .rsplit(':')
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            errors.push(ImportError {
                file: table.file.clone(),
                line,
                reason,
            });
        }
    }
    finish(errors)
}
