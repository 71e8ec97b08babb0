//! Writing a validated import: small files in one transaction; large ones in chunks of
//! `CHUNK` records, each its own transaction, so memory stays bounded (one sled transaction
//! keeps every replaced node version until it ends: 200,000 accounts took 2 GB). All or
//! nothing still holds: before the first chunk a journal of every key the import adds is
//! written (`order_rev` key `\0import_pending`) and it is removed after the last; a store
//! opened with a journal left by a crash removes those keys first (`recover_import`).

use super::records::{payment_index_value, PaymentRow, Stored};
use super::writes::{bump_rev, take_payment_seq};
use super::{composite_key, Store};
use crate::domain::{schedule, view, Account, Method, Order};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sled::transaction::TransactionError;
use sled::Transactional;
use std::collections::{BTreeMap, HashMap};

/// Everything one import file adds, already validated against the store.
#[derive(Default)]
pub struct ImportBatch {
    pub accounts: Vec<Stored<Account>>,
    pub orders: Vec<Stored<Order>>,
    pub payments: Vec<Stored<PaymentRow>>,
}

impl ImportBatch {
    fn len(&self) -> usize {
        self.accounts.len() + self.orders.len() + self.payments.len()
    }
}

/// Records per transaction of a large import.
pub const CHUNK: usize = 5000;
/// Imports at least this large are read back after the commit (`Store::settle`).
const SETTLE_FROM: usize = 1000;
const JOURNAL_KEY: &[u8] = b"\0import_pending";

/// The keys a chunked import adds, kept until its last chunk is written.
#[derive(Default, Serialize, Deserialize)]
struct Journal {
    /// (account id, phone)
    accounts: Vec<(String, String)>,
    /// (account id, order id)
    orders: Vec<(String, String)>,
    /// (order id, paid_on, payment id)
    payments: Vec<(String, String, String)>,
}

impl Journal {
    fn of(batch: &ImportBatch) -> Journal {
        Journal {
            accounts: (batch.accounts.iter())
                .map(|a| (a.data.id.clone(), a.data.phone.as_str().to_string()))
                .collect(),
            orders: (batch.orders.iter())
                .map(|o| (o.data.account_id.clone(), o.data.id.clone()))
                .collect(),
            payments: (batch.payments.iter())
                .map(|p| {
                    let r = &p.data;
                    (
                        r.order_id.clone(),
                        r.payment.paid_on.to_string(),
                        r.payment.id.clone(),
                    )
                })
                .collect(),
        }
    }
}

/// One transaction's share of an import.
struct Chunk<'a> {
    accounts: &'a [Stored<Account>],
    orders: &'a [Stored<Order>],
    rates: &'a [String],
    payments: &'a [Stored<PaymentRow>],
}

impl Store {
    /// Writes a validated import (all or nothing, see the module) and flushes it.
    pub fn commit_import(&self, batch: &ImportBatch) -> Result<()> {
        self.commit_import_until(batch, usize::MAX)
    }

    /// `commit_import` that stops after `chunks` chunks as a crash would, journal left behind:
    /// for the test of `recover_import`.
    #[doc(hidden)]
    pub fn commit_import_until(&self, batch: &ImportBatch, chunks: usize) -> Result<()> {
        // Derived values are computed before the transactions, whose closures may run again.
        let rates = annual_rates(&batch.orders);
        // One recording sequence for the whole file: its rows keep id order.
        let seq = if batch.payments.is_empty() {
            0
        } else {
            self.order_rev
                .transaction(take_payment_seq::<()>)
                .map_err(|e| anyhow::anyhow!("taking a payment sequence: {e:?}"))?
        };
        let chunked = batch.len() > CHUNK;
        if chunked {
            let journal = serde_json::to_vec(&Journal::of(batch))?;
            self.order_rev.insert(JOURNAL_KEY, journal)?;
            self.flush()?;
        }
        let accounts = batch
            .accounts
            .chunks(CHUNK)
            .map(|a| chunk(a, &[], &[], &[]));
        let orders = (batch.orders.chunks(CHUNK).zip(rates.chunks(CHUNK)))
            .map(|(o, r)| chunk(&[], o, r, &[]));
        let payments = batch
            .payments
            .chunks(CHUNK)
            .map(|p| chunk(&[], &[], &[], p));
        for (i, c) in accounts.chain(orders).chain(payments).enumerate() {
            if i == chunks {
                return Ok(());
            }
            self.commit_chunk(&c, seq)
                .with_context(|| format!("import chunk {i}"))?;
        }
        if chunked {
            self.order_rev.remove(JOURNAL_KEY)?;
        }
        self.flush()?;
        self.settle(batch)
    }

    fn commit_chunk(&self, c: &Chunk, seq: u64) -> Result<()> {
        let mut new_payments: BTreeMap<&str, u64> = BTreeMap::new();
        for p in c.payments {
            *new_payments.entry(p.data.order_id.as_str()).or_default() += 1;
        }
        let trees = (
            &self.accounts,
            &self.phones,
            &self.orders,
            &self.account_orders,
            &self.payments,
            &self.order_payments,
            &self.order_rev,
        );
        trees
            .transaction(
                |(
                    accounts,
                    phones,
                    orders,
                    account_orders,
                    payments,
                    order_payments,
                    order_rev,
                )| {
                    for a in c.accounts {
                        accounts.insert(a.data.id.as_bytes(), a.to_bytes())?;
                        phones.insert(a.data.phone.as_str().as_bytes(), a.data.id.as_bytes())?;
                    }
                    for (o, rate) in c.orders.iter().zip(c.rates) {
                        orders.insert(o.data.id.as_bytes(), o.to_bytes())?;
                        let key = composite_key(&[&o.data.account_id, &o.data.id]);
                        account_orders.insert(key, rate.as_bytes())?;
                    }
                    for p in c.payments {
                        let row = &p.data;
                        let stored = Stored {
                            data: PaymentRow { seq, ..row.clone() },
                            ..p.clone()
                        };
                        payments.insert(row.payment.id.as_bytes(), stored.to_bytes())?;
                        let date = row.payment.paid_on.to_string();
                        order_payments.insert(
                            composite_key(&[&row.order_id, &date, &row.payment.id]),
                            payment_index_value(&row.payment, seq),
                        )?;
                    }
                    for (order_id, n) in &new_payments {
                        bump_rev(order_rev, order_id, *n)?;
                    }
                    Ok(())
                },
            )
            .map_err(|e: TransactionError<()>| anyhow::anyhow!("import transaction failed: {e:?}"))
    }

    /// Removes what an import interrupted by a crash had written (its journal names every key),
    /// so the file is either wholly in the store or not at all. Called when the store opens.
    pub(super) fn recover_import(&self) -> Result<()> {
        let Some(bytes) = self.order_rev.get(JOURNAL_KEY)? else {
            return Ok(());
        };
        let journal: Journal = serde_json::from_slice(&bytes)
            .context("reading the journal of an interrupted import")?;
        for (id, phone) in &journal.accounts {
            self.accounts.remove(id.as_bytes())?;
            if self
                .phones
                .get(phone.as_bytes())?
                .is_some_and(|v| v == id.as_bytes())
            {
                self.phones.remove(phone.as_bytes())?;
            }
        }
        for (account_id, id) in &journal.orders {
            self.orders.remove(id.as_bytes())?;
            self.account_orders
                .remove(composite_key(&[account_id, id]))?;
        }
        for (order_id, date, id) in &journal.payments {
            self.payments.remove(id.as_bytes())?;
            self.order_payments
                .remove(composite_key(&[order_id, date, id]))?;
        }
        self.order_rev.remove(JOURNAL_KEY)?;
        self.flush()?;
        tracing::warn!(
            accounts = journal.accounts.len(),
            orders = journal.orders.len(),
            payments = journal.payments.len(),
            "removed an import a crash had interrupted"
        );
        Ok(())
    }

    /// Reads back every key a large import wrote. sled leaves work behind a big transaction
    /// (old node versions to free, nodes to split); each read does a share of it, so this pays
    /// it during the import instead of on the first statements after it. Cost ∝ the batch.
    fn settle(&self, batch: &ImportBatch) -> Result<()> {
        if batch.len() < SETTLE_FROM {
            return Ok(());
        }
        for o in &batch.orders {
            self.orders.get(o.data.id.as_bytes())?;
            let key = composite_key(&[&o.data.account_id, &o.data.id]);
            self.account_orders.get(key)?;
        }
        for p in &batch.payments {
            let row = &p.data;
            self.payments.get(row.payment.id.as_bytes())?;
            let date = row.payment.paid_on.to_string();
            let key = composite_key(&[&row.order_id, &date, &row.payment.id]);
            self.order_payments.get(key)?;
        }
        Ok(())
    }
}

fn chunk<'a>(
    accounts: &'a [Stored<Account>],
    orders: &'a [Stored<Order>],
    rates: &'a [String],
    payments: &'a [Stored<PaymentRow>],
) -> Chunk<'a> {
    Chunk {
        accounts,
        orders,
        rates,
        payments,
    }
}

/// The annual rate text of each order (`view::annual_rate_of`), computed once per distinct
/// set of terms: the IRR depends only on principal, periods, method and rate, exactly as given
/// (`Decimal::serialize` keeps the scale), and on whether the dates fit the calendar.
fn annual_rates(orders: &[Stored<Order>]) -> Vec<String> {
    type Key = ([u8; 16], u32, Method, [u8; 16], bool);
    let mut memo: HashMap<Key, String> = HashMap::new();
    orders
        .iter()
        .map(|o| {
            let t = &o.data.terms;
            let key = (
                t.principal.0.serialize(),
                t.periods,
                t.method,
                t.monthly_rate.serialize(),
                // The last due date exists iff every due date does (else the schedule is empty).
                schedule::due_date(t.first_due_date, t.periods).is_some(),
            );
            memo.entry(key)
                .or_insert_with(|| view::annual_rate_of_terms(&o.data).to_string())
                .clone()
        })
        .collect()
}
