//! Writes that change several trees: an import batch and a payment from the chat. Each runs in
//! one sled transaction and is flushed before it returns, so success means durable.

use super::records::{payment_index_value, PaymentRow, Stored};
use super::{composite_key, Store};
use crate::domain::agreement::effective_schedule;
use crate::domain::{
    schedule, view, Account, Allocation, Method, Order, Payment, PaymentError, Policy,
};
use anyhow::{Context, Result};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;
use std::collections::{BTreeMap, HashMap};

/// Everything one import file adds, already validated against the store.
#[derive(Default)]
pub struct ImportBatch {
    pub accounts: Vec<Stored<Account>>,
    pub orders: Vec<Stored<Order>>,
    pub payments: Vec<Stored<PaymentRow>>,
}

/// Imports at least this large are read back after the commit (`Store::settle`).
const SETTLE_FROM: usize = 1000;

/// What happened to a payment the chat asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentOutcome {
    Applied {
        payment_id: String,
        allocations: Vec<Allocation>,
    },
    /// The idempotency key was seen before: the earlier payment stands, nothing new is applied.
    AlreadyApplied {
        payment_id: String,
    },
    Refused(PaymentError),
}

/// Adds `by` to the order's revision (one step per payment).
pub(super) fn bump_rev<E>(
    tree: &TransactionalTree,
    order_id: &str,
    by: u64,
) -> sled::transaction::ConflictableTransactionResult<(), E> {
    let old = tree.get(order_id.as_bytes())?;
    let rev = old.map_or(0, |v| {
        u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))
    });
    tree.insert(order_id.as_bytes(), &(rev + by).to_be_bytes())?;
    Ok(())
}

impl Store {
    /// Writes a validated import in one transaction and flushes it.
    pub fn commit_import(&self, batch: &ImportBatch) -> Result<()> {
        // Derived values are computed before the transaction, whose closure may run again.
        let rates = annual_rates(&batch.orders);
        let mut new_payments: BTreeMap<&str, u64> = BTreeMap::new();
        for p in &batch.payments {
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
                    for a in &batch.accounts {
                        accounts.insert(a.data.id.as_bytes(), a.to_bytes())?;
                        phones.insert(a.data.phone.as_str().as_bytes(), a.data.id.as_bytes())?;
                    }
                    for (o, rate) in batch.orders.iter().zip(&rates) {
                        orders.insert(o.data.id.as_bytes(), o.to_bytes())?;
                        account_orders.insert(
                            composite_key(&[&o.data.account_id, &o.data.id]),
                            rate.as_bytes(),
                        )?;
                    }
                    for p in &batch.payments {
                        let row = &p.data;
                        payments.insert(row.payment.id.as_bytes(), p.to_bytes())?;
                        let date = row.payment.paid_on.to_string();
                        order_payments.insert(
                            composite_key(&[&row.order_id, &date, &row.payment.id]),
                            payment_index_value(&row.payment),
                        )?;
                    }
                    for (order_id, n) in &new_payments {
                        bump_rev(order_rev, order_id, *n)?;
                    }
                    Ok(())
                },
            )
            .map_err(|e: TransactionError<anyhow::Error>| {
                anyhow::anyhow!("import transaction failed: {e:?}")
            })?;
        self.flush()?;
        self.settle(batch)
    }

    /// Reads back every key a large import wrote. sled leaves work behind a big transaction
    /// (old node versions to free, nodes to split); each read does a share of it, so this pays
    /// it during the import instead of on the first statements after it. Cost ∝ the batch.
    fn settle(&self, batch: &ImportBatch) -> Result<()> {
        if batch.accounts.len() + batch.orders.len() + batch.payments.len() < SETTLE_FROM {
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

    fn order_rev_now(&self, order_id: &str) -> Result<Option<sled::IVec>> {
        Ok(self.order_rev.get(order_id.as_bytes())?)
    }

    /// Applies a payment made in the chat exactly once per `idempotency_key`, durably.
    pub fn record_payment(
        &self,
        order_id: &str,
        payment: Payment,
        idempotency_key: &str,
        origin: &str,
        policy: &Policy,
    ) -> Result<PaymentOutcome> {
        self.record_payment_owing(order_id, payment, idempotency_key, origin, policy, &[])
    }

    /// [`Store::record_payment`] that also writes `outbox` entries (the receipt owed,
    /// `outbox::receipt_writes`) in the payment's own transaction.
    pub fn record_payment_owing(
        &self,
        order_id: &str,
        payment: Payment,
        idempotency_key: &str,
        origin: &str,
        policy: &Policy,
        outbox_writes: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<PaymentOutcome> {
        let order = self
            .order(order_id)?
            .with_context(|| format!("order {order_id} not found"))?
            .data;
        loop {
            if let Some(id) = self.idempotency.get(idempotency_key.as_bytes())? {
                return Ok(PaymentOutcome::AlreadyApplied {
                    payment_id: String::from_utf8_lossy(&id).into_owned(),
                });
            }
            let rev_seen = self.order_rev_now(order_id)?;
            let mut all = self.payments_of(order_id)?;
            all.push(payment.clone());
            all.sort_by(|a, b| (a.paid_on, &a.id).cmp(&(b.paid_on, &b.id)));
            let allocations = match replay_allocating(&order, &all, &payment.id, policy) {
                Ok(a) => a,
                Err((i, e)) if all[i].id == payment.id => return Ok(PaymentOutcome::Refused(e)),
                Err((i, e)) => anyhow::bail!(
                    "payment {} would invalidate stored payment {}: {e}",
                    payment.id,
                    all[i].id
                ),
            };
            let row = Stored::new(
                origin,
                PaymentRow {
                    order_id: order_id.to_string(),
                    payment: payment.clone(),
                },
            );
            let result = (
                &self.payments,
                &self.order_payments,
                &self.order_rev,
                &self.idempotency,
                &self.outbox,
            )
                .transaction(|(payments, order_payments, order_rev, idem, outbox)| {
                    if idem.get(idempotency_key.as_bytes())?.is_some() {
                        return Err(ConflictableTransactionError::Abort(anyhow::anyhow!(
                            "raced"
                        )));
                    }
                    if order_rev.get(order_id.as_bytes())? != rev_seen {
                        return Err(ConflictableTransactionError::Abort(anyhow::anyhow!(
                            "raced"
                        )));
                    }
                    payments.insert(payment.id.as_bytes(), row.to_bytes())?;
                    let date = payment.paid_on.to_string();
                    order_payments.insert(
                        composite_key(&[order_id, &date, &payment.id]),
                        payment_index_value(&payment),
                    )?;
                    bump_rev(order_rev, order_id, 1)?;
                    idem.insert(idempotency_key.as_bytes(), payment.id.as_bytes())?;
                    for (k, v) in outbox_writes {
                        outbox.insert(k.as_slice(), v.as_slice())?;
                    }
                    Ok(())
                });
            match result {
                Ok(()) => {
                    self.flush()?;
                    return Ok(PaymentOutcome::Applied {
                        payment_id: payment.id,
                        allocations,
                    });
                }
                Err(TransactionError::Abort(_)) => continue, // someone else wrote first: look again
                Err(TransactionError::Storage(e)) => return Err(e).context("recording a payment"),
            }
        }
    }
}

/// Replays every payment of the order (sorted by date, then id) in one pass and returns what
/// the payment `target` did; on a refused payment, its index in `all` and the reason.
fn replay_allocating(
    order: &Order,
    all: &[Payment],
    target: &str,
    policy: &Policy,
) -> Result<Vec<Allocation>, (usize, PaymentError)> {
    if order.agreements.restructure.is_some() {
        let last = all.len().saturating_sub(1);
        let at = all.iter().position(|p| p.id == target).unwrap_or(last);
        return Err((at, PaymentError::Closed("restructured")));
    }
    let schedule = effective_schedule(&order.terms, &order.agreements);
    let mut ledger = crate::domain::OrderLedger::new(schedule, policy);
    let mut allocation = Vec::new();
    for (i, p) in all.iter().enumerate() {
        let a = ledger.apply(p).map_err(|e| (i, e))?;
        if p.id == target {
            allocation = a;
        }
    }
    Ok(allocation)
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
