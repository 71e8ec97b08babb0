//! A payment from the chat, written to several trees in one sled transaction and flushed before
//! it returns (success means durable), and the helpers every payment write shares: the order's
//! revision, the recording sequence, the check that an id is not taken by another payment.

use super::records::{payment_index_value, PaymentRow, Stored};
use super::{composite_key, Store};
use crate::domain::agreement::effective_schedule;
use crate::domain::{Allocation, Order, Payment, PaymentError, Policy};
use anyhow::{Context, Result};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

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

/// A payment id already names a different payment: recording refuses to overwrite it.
#[derive(Debug, thiserror::Error)]
#[error("payment id {id} is already taken by a different payment ({origin}); nothing was recorded")]
pub struct PaymentWriteError {
    pub id: String,
    pub origin: String,
}

/// Key of the payment counter in `order_rev` (no order id starts with a 0 byte).
const PAYMENT_SEQ_KEY: &[u8] = b"\0payment_seq";

/// Takes the next recording sequence of payments, inside the write's transaction.
pub(super) fn take_payment_seq<E>(
    tree: &TransactionalTree,
) -> sled::transaction::ConflictableTransactionResult<u64, E> {
    let last = tree.get(PAYMENT_SEQ_KEY)?.map_or(0, |v| {
        u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))
    });
    tree.insert(PAYMENT_SEQ_KEY, &(last + 1).to_be_bytes())?;
    Ok(last + 1)
}

/// What a payment id holds already, for a write that wants to record `row` under it.
pub(super) enum IdState {
    Free,
    /// The same payment of the same order: nothing needs writing.
    Same,
    /// A different payment (or an unreadable record), with the origin it came from.
    Taken(String),
}

pub(super) fn payment_id_state(
    payments: &TransactionalTree,
    row: &PaymentRow,
) -> Result<IdState, sled::transaction::UnabortableTransactionError> {
    Ok(match payments.get(row.payment.id.as_bytes())? {
        None => IdState::Free,
        Some(bytes) => match super::records::decode::<PaymentRow>(&bytes) {
            Ok(old) if old.data.order_id == row.order_id && old.data.payment == row.payment => {
                IdState::Same
            }
            Ok(old) => IdState::Taken(old.origin),
            Err(_) => IdState::Taken("an unreadable record".into()),
        },
    })
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
    fn order_rev_now(&self, order_id: &str) -> Result<Option<sled::IVec>> {
        Ok(self.order_rev.get(order_id.as_bytes())?)
    }

    /// Applies a payment made in the chat exactly once per `idempotency_key`, durably. It goes
    /// after every payment recorded before it on its day. An id that already names a different
    /// payment is an error (`PaymentWriteError`), never an overwrite.
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
        let row = Stored::new(
            origin,
            PaymentRow {
                order_id: order_id.to_string(),
                payment: payment.clone(),
                seq: 0,
            },
        );
        loop {
            if let Some(id) = self.idempotency.get(idempotency_key.as_bytes())? {
                return Ok(PaymentOutcome::AlreadyApplied {
                    payment_id: String::from_utf8_lossy(&id).into_owned(),
                });
            }
            let rev_seen = self.order_rev_now(order_id)?;
            let mut all = self.recorded_payments_of(order_id)?;
            all.push((u64::MAX, payment.clone()));
            super::sort_for_replay(&mut all);
            let all: Vec<Payment> = all.into_iter().map(|(_, p)| p).collect();
            let allocations = match replay_allocating(&order, &all, &payment.id, policy) {
                Ok(a) => a,
                // Refused itself, or it would make a later-dated stored payment fail.
                Err((_, e)) => return Ok(PaymentOutcome::Refused(e)),
            };
            let result = (
                &self.payments,
                &self.order_payments,
                &self.order_rev,
                &self.idempotency,
                &self.outbox,
            )
                .transaction(|(payments, order_payments, order_rev, idem, outbox)| {
                    if idem.get(idempotency_key.as_bytes())?.is_some()
                        || order_rev.get(order_id.as_bytes())? != rev_seen
                    {
                        return Err(ConflictableTransactionError::Abort(None));
                    }
                    match payment_id_state(payments, &row.data)? {
                        IdState::Free => {}
                        IdState::Same => return Err(ConflictableTransactionError::Abort(None)),
                        IdState::Taken(origin) => {
                            return Err(ConflictableTransactionError::Abort(Some(origin)))
                        }
                    }
                    let seq = take_payment_seq(order_rev)?;
                    let stored = Stored {
                        data: PaymentRow {
                            seq,
                            ..row.data.clone()
                        },
                        ..row.clone()
                    };
                    payments.insert(payment.id.as_bytes(), stored.to_bytes())?;
                    let date = payment.paid_on.to_string();
                    order_payments.insert(
                        composite_key(&[order_id, &date, &payment.id]),
                        payment_index_value(&payment, seq),
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
                Err(TransactionError::Abort(Some(taken_by))) => {
                    return Err(PaymentWriteError {
                        id: payment.id,
                        origin: taken_by,
                    }
                    .into())
                }
                // Someone else wrote first, or this very payment is recorded already: look again.
                Err(TransactionError::Abort(None)) => {
                    if self.idempotency.get(idempotency_key.as_bytes())?.is_none()
                        && self
                            .payment(&payment.id)?
                            .is_some_and(|p| p.data.payment == payment)
                    {
                        return Ok(PaymentOutcome::AlreadyApplied {
                            payment_id: payment.id,
                        });
                    }
                }
                Err(TransactionError::Storage(e)) => return Err(e).context("recording a payment"),
            }
        }
    }
}

/// Replays every payment of the order (in replay order) in one pass and returns what
/// the payment `target` did; on a refused payment, its index in `all` and the reason.
pub(super) fn replay_allocating(
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
