//! Payments started at the shop's payment API (the `http` gateway, SPEC 2.5), in the
//! `pending_payments` tree. A record is written and flushed before the API is called, so a crash
//! between the call and the record cannot lose a payment. A confirmed payment is applied in one
//! transaction keyed by its `payment_id`: the ledger payment, the record's new status and the
//! customer's notice in the outbox together, flushed before the caller answers; a replay finds
//! the status already final and changes nothing. Never talks to the network.
//!
//! | key                     | value                                   |
//! |-------------------------|-----------------------------------------|
//! | `p/<payment_id>`        | `Stored<PendingPayment>`                |
//! | `k/<idempotency key>`   | payment_id: the confirm that started it |

use super::records::{decode, payment_index_value, PaymentRow, Stored};
use super::writes::{bump_rev, payment_id_state, replay_allocating, take_payment_seq, IdState};
use super::{composite_key, Store};
use crate::dialog::Lang;
use crate::domain::{Payment, PaymentError, PaymentKind, Policy};
use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError as Cte, TransactionError};
use sled::Transactional;

/// Where a payment started at the API stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingStatus {
    /// Recorded; the create call has not answered yet.
    Creating,
    /// The API created it and gave a cashier link; waiting for the customer.
    Pending,
    /// Confirmed and applied to the ledger (final).
    Succeeded,
    Failed,
    Expired,
    /// The create call was refused (4xx) or never answered: nothing to pay at the cashier.
    NotStarted,
    /// Confirmed, but the order could no longer take it: recorded for refund (final).
    Refund,
}

impl PendingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingStatus::Creating => "creating",
            PendingStatus::Pending => "pending",
            PendingStatus::Succeeded => "succeeded",
            PendingStatus::Failed => "failed",
            PendingStatus::Expired => "expired",
            PendingStatus::NotStarted => "not_started",
            PendingStatus::Refund => "refund",
        }
    }

    /// The money arrived and is accounted for: nothing may change it any more.
    pub fn is_final(self) -> bool {
        matches!(self, PendingStatus::Succeeded | PendingStatus::Refund)
    }

    /// Still waiting for the customer or the API.
    pub fn is_open(self) -> bool {
        matches!(self, PendingStatus::Creating | PendingStatus::Pending)
    }
}

/// One payment started at the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPayment {
    pub payment_id: String,
    /// The chat to tell (`tg:…`, `term:…`).
    pub chat: String,
    pub account_id: String,
    pub order_id: String,
    pub kind: PaymentKind,
    pub amount: Decimal,
    /// The plan line without its count (`order TAB amount TAB kind`): "the same installments".
    pub item: String,
    pub lang: Lang,
    /// The turn whose buttons confirmed it.
    pub confirm_turn: u64,
    pub status: PendingStatus,
    /// Create calls made.
    pub tries: u32,
    pub pay_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// For operators: amounts reported that differ, refunds owed.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What applying a confirmed payment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Recorded in the ledger now (`late`: after it was failed, expired or never started).
    Recorded { late: bool },
    /// Already applied or refunded before: nothing changed.
    AlreadyDone,
    /// The order could not take it: recorded as an overpayment to refund.
    Refund(String),
    /// No such payment.
    Unknown,
}

/// The customer's notices a confirmed payment writes in its own transaction.
pub struct Notices {
    /// The outbox entries when it is recorded (receipt, last paid).
    pub recorded: Vec<(Vec<u8>, Vec<u8>)>,
    /// The outbox entries when it must be refunded.
    pub refund: Vec<(Vec<u8>, Vec<u8>)>,
}

fn record_key(id: &str) -> Vec<u8> {
    format!("p/{id}").into_bytes()
}

fn idem_key(key: &str) -> Vec<u8> {
    format!("k/{key}").into_bytes()
}

fn abort<T>(e: impl std::fmt::Display) -> Result<T, Cte<String>> {
    Err(Cte::Abort(e.to_string()))
}

impl Store {
    /// Records a payment about to be created, once per idempotency `key` (the same confirm
    /// pressed twice). Returns the record that stands and whether it is new. Flushed.
    pub fn start_pending(&self, key: &str, rec: &PendingPayment) -> Result<(PendingPayment, bool)> {
        let stored = Stored::new(format!("chat:{}", rec.chat), rec.clone()).to_bytes();
        let out = self
            .pending
            .transaction(|tx| {
                if let Some(id) = tx.get(idem_key(key))? {
                    let Some(bytes) = tx.get(record_key(&String::from_utf8_lossy(&id)))? else {
                        return abort("an idempotency key names no payment");
                    };
                    return match decode::<PendingPayment>(&bytes) {
                        Ok(s) => Ok((s.data, false)),
                        Err(e) => abort(e),
                    };
                }
                tx.insert(idem_key(key), rec.payment_id.as_bytes())?;
                tx.insert(record_key(&rec.payment_id), stored.as_slice())?;
                Ok((rec.clone(), true))
            })
            .map_err(tx_error)?;
        self.flush()?;
        Ok(out)
    }

    pub fn pending_payment(&self, id: &str) -> Result<Option<PendingPayment>> {
        Ok(super::records::get::<PendingPayment>(&self.pending, &record_key(id))?.map(|s| s.data))
    }

    /// Every payment started at the API, by id.
    pub fn pending_payments(&self) -> Result<Vec<PendingPayment>> {
        let mut out = Vec::new();
        for entry in self.pending.scan_prefix(b"p/") {
            let (_, v) = entry?;
            out.push(decode::<PendingPayment>(&v)?.data);
        }
        Ok(out)
    }

    /// The chat's payments still waiting (created or pending).
    pub fn open_payments_of(&self, chat: &str) -> Result<Vec<PendingPayment>> {
        Ok(self
            .pending_payments()?
            .into_iter()
            .filter(|p| p.chat == chat && p.status.is_open())
            .collect())
    }

    /// Changes a record in one transaction (`change` may run more than once and returns whether
    /// it changed anything), with `outbox` entries written only when it did. Flushed.
    pub fn update_pending(
        &self,
        id: &str,
        change: impl Fn(&mut PendingPayment) -> bool,
        outbox: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<Option<(PendingPayment, bool)>> {
        let out = (&self.pending, &self.outbox)
            .transaction(|(pending, ob)| {
                let Some(bytes) = pending.get(record_key(id))? else {
                    return Ok(None);
                };
                let stored = match decode::<PendingPayment>(&bytes) {
                    Ok(s) => s,
                    Err(e) => return abort(e),
                };
                let mut rec = stored.data.clone();
                if !change(&mut rec) {
                    return Ok(Some((rec, false)));
                }
                let record = Stored::new(stored.origin.clone(), rec.clone());
                pending.insert(record_key(id), record.to_bytes())?;
                for (k, v) in outbox {
                    ob.insert(k.as_slice(), v.as_slice())?;
                }
                Ok(Some((rec, true)))
            })
            .map_err(tx_error)?;
        if out.as_ref().is_some_and(|(_, changed)| *changed) {
            self.flush()?;
        }
        Ok(out)
    }

    /// Applies a confirmed payment exactly once: the ledger payment (id = `payment_id`, paid on
    /// `paid_on`), the record's status and the notice, in one transaction; flushed. An order that
    /// can no longer take it gets the record marked for refund instead.
    pub fn apply_confirmed(
        &self,
        id: &str,
        paid_on: NaiveDate,
        paid_at: DateTime<Utc>,
        policy: &Policy,
        notices: &Notices,
    ) -> Result<Applied> {
        loop {
            let Some(rec) = self.pending_payment(id)? else {
                return Ok(Applied::Unknown);
            };
            if rec.status.is_final() {
                return Ok(Applied::AlreadyDone);
            }
            let payment = Payment {
                id: rec.payment_id.clone(),
                amount: crate::domain::Money(rec.amount),
                paid_on,
                kind: rec.kind,
            };
            let rev_seen = self.order_rev.get(rec.order_id.as_bytes())?;
            let refused = self
                .payment_refusal(&rec.order_id, &payment, policy)?
                .map(|e| e.to_string());
            let late = !rec.status.is_open();
            let result = (
                &self.payments,
                &self.order_payments,
                &self.order_rev,
                &self.outbox,
                &self.pending,
            )
                .transaction(
                    |(payments, order_payments, order_rev, outbox, pending)| {
                        let Some(bytes) = pending.get(record_key(id))? else {
                            return abort("gone");
                        };
                        let stored = match decode::<PendingPayment>(&bytes) {
                            Ok(s) => s,
                            Err(e) => return abort(e),
                        };
                        if stored.data.status.is_final() {
                            return Err(Cte::Abort("done".into()));
                        }
                        if order_rev.get(rec.order_id.as_bytes())? != rev_seen {
                            return Err(Cte::Abort("retry".into()));
                        }
                        let mut now = stored.data.clone();
                        now.paid_at = Some(paid_at);
                        now.updated_at = paid_at.max(now.updated_at);
                        let writes = if let Some(reason) = &refused {
                            now.status = PendingStatus::Refund;
                            now.notes.push(format!("refund owed: {reason}"));
                            &notices.refund
                        } else {
                            let row = PaymentRow {
                                order_id: rec.order_id.clone(),
                                payment: payment.clone(),
                                seq: 0,
                            };
                            match payment_id_state(payments, &row)? {
                                IdState::Free => {
                                    let seq = take_payment_seq(order_rev)?;
                                    let stored_row = Stored::new(
                                        format!("payment-api:{}", rec.chat),
                                        PaymentRow { seq, ..row },
                                    );
                                    payments
                                        .insert(payment.id.as_bytes(), stored_row.to_bytes())?;
                                    order_payments.insert(
                                        composite_key(&[
                                            &rec.order_id,
                                            &paid_on.to_string(),
                                            &payment.id,
                                        ]),
                                        payment_index_value(&payment, seq),
                                    )?;
                                    bump_rev(order_rev, &rec.order_id, 1)?;
                                }
                                IdState::Same => {}
                                IdState::Taken(origin) => {
                                    return abort(format!("payment id taken by {origin}"))
                                }
                            }
                            now.status = PendingStatus::Succeeded;
                            &notices.recorded
                        };
                        let record = Stored::new(stored.origin.clone(), now);
                        pending.insert(record_key(id), record.to_bytes())?;
                        for (k, v) in writes {
                            outbox.insert(k.as_slice(), v.as_slice())?;
                        }
                        Ok(refused.clone())
                    },
                );
            match result {
                Ok(refused) => {
                    self.flush()?;
                    return Ok(match refused {
                        Some(reason) => Applied::Refund(reason),
                        None => Applied::Recorded { late },
                    });
                }
                Err(TransactionError::Abort(m)) if m == "done" => return Ok(Applied::AlreadyDone),
                Err(TransactionError::Abort(m)) if m == "retry" => continue,
                Err(e) => return Err(tx_error(e)).context("applying a confirmed payment"),
            }
        }
    }

    /// Why the order cannot take `payment` now (None: it can); nothing is written.
    pub fn payment_refusal(
        &self,
        order_id: &str,
        payment: &Payment,
        policy: &Policy,
    ) -> Result<Option<PaymentError>> {
        let Some(order) = self.order(order_id)? else {
            return Ok(Some(PaymentError::Closed("not found")));
        };
        let mut all = self.recorded_payments_of(order_id)?;
        all.retain(|(_, p)| p.id != payment.id);
        all.push((u64::MAX, payment.clone()));
        super::sort_for_replay(&mut all);
        let all: Vec<Payment> = all.into_iter().map(|(_, p)| p).collect();
        Ok(replay_allocating(&order.data, &all, &payment.id, policy)
            .err()
            .map(|(_, e): (usize, PaymentError)| e))
    }
}

fn tx_error(e: TransactionError<String>) -> anyhow::Error {
    match e {
        TransactionError::Abort(m) => anyhow!("pending payment transaction: {m}"),
        TransactionError::Storage(e) => anyhow!("pending payment storage: {e}"),
    }
}
