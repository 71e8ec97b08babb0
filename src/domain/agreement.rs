//! Agreements that change an order after import: a deferral (SPEC 4.7) and a re-installment
//! (4.8), kept on the order record, and the schedule they make. Pure data and arithmetic.

use super::money::Money;
use super::schedule::{self, Installment, Terms};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What was agreed about an order in the chat. Empty for an order as the shop exported it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Agreements {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferral: Option<Deferral>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restructure: Option<Restructure>,
    /// Set on a plan made by a re-installment: the order it replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restructured_from: Option<String>,
}

impl Agreements {
    pub fn is_empty(&self) -> bool {
        *self == Agreements::default()
    }
}

/// One installment moved to a later date for a fee (4.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    /// The installment deferred.
    pub n: u32,
    pub days: u32,
    pub original_due: NaiveDate,
    pub new_due: NaiveDate,
    /// Added to that installment's fee.
    pub fee: Money,
    pub agreed_on: NaiveDate,
    /// The written confirmation the customer received.
    pub confirmation: String,
}

/// The order's outstanding balance turned into a new plan (4.8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restructure {
    pub on: NaiveDate,
    /// Overdue and in-grace amounts with penalty + every unpaid principal, on `on`.
    pub balance: Money,
    pub down_payment: Money,
    /// The payment that carried the down payment; the order closes right after it.
    pub down_payment_id: String,
    pub new_order_id: String,
    pub periods: u32,
    pub monthly_rate: Decimal,
    pub confirmation: String,
}

/// The id of the plan that replaces `order_id` (SPEC 4.8: `ORIGINAL-R1`).
pub fn restructured_order_id(order_id: &str) -> String {
    format!("{order_id}-R1")
}

/// The schedule the customer owes now: the exported one with a deferral applied.
pub fn effective_schedule(terms: &Terms, agreements: &Agreements) -> Vec<Installment> {
    let mut rows = schedule::build(terms).unwrap_or_default();
    if let Some(d) = &agreements.deferral {
        if let Some(row) = rows.iter_mut().find(|r| r.n == d.n) {
            row.due_date = d.new_due;
            row.fee += d.fee;
        }
    }
    rows
}
