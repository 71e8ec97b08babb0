//! Versioned records: every stored value is `{"v", "origin", "data"}` so an upgrade can read old
//! data and an import conflict can name the row a record came from.

use crate::domain::{Money, Payment, PaymentKind};
use anyhow::{Context, Result};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// The version written by this build. Readers accept this version only and say so otherwise.
pub const RECORD_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored<T> {
    pub v: u32,
    /// Where the record came from: `file:line` of an import, or `chat:<key>`.
    pub origin: String,
    pub data: T,
}

impl<T: Serialize> Stored<T> {
    pub fn new(origin: impl Into<String>, data: T) -> Self {
        Stored {
            v: RECORD_VERSION,
            origin: origin.into(),
            data,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A payment and the order it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRow {
    pub order_id: String,
    pub payment: Payment,
    /// When it was recorded: the store's payment counter taken in the write (every row of one
    /// import file shares one number). Same-day payments replay in this order. 0 in older data.
    #[serde(default)]
    pub seq: u64,
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<Stored<T>> {
    let stored: Stored<T> = serde_json::from_slice(bytes).context("undecodable record")?;
    anyhow::ensure!(
        stored.v == RECORD_VERSION,
        "record version {} is not {RECORD_VERSION}",
        stored.v
    );
    Ok(stored)
}

pub fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &[u8]) -> Result<Option<Stored<T>>> {
    match tree.get(key)? {
        Some(bytes) => decode(&bytes)
            .with_context(|| format!("reading {}", String::from_utf8_lossy(key)))
            .map(Some),
        None => Ok(None),
    }
}

/// Tags of the compact payment value kept in the `order_payments` index (see the layout table):
/// version 1 has no recording sequence (read as 0), version 2 ends with it.
const INDEX_V1: u8 = 1;
const INDEX_V2: u8 = 2;

/// The `order_payments` value of a payment: tag, kind, amount (`Decimal::serialize`), paid_on
/// as days since 0001-01-01, recording sequence (u64 BE). The id is the end of the key; the full
/// record stays in `payments`.
pub fn payment_index_value(p: &Payment, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(30);
    out.push(INDEX_V2);
    out.push(match p.kind {
        PaymentKind::Installment => 0,
        PaymentKind::Settlement => 1,
    });
    out.extend_from_slice(&p.amount.0.serialize());
    out.extend_from_slice(&p.paid_on.num_days_from_ce().to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

/// Reads a value written by `payment_index_value` (or its version 1): the payment and its
/// recording sequence. None for any other value (e.g. empty).
pub fn payment_from_index(id: &str, value: &[u8]) -> Option<(Payment, u64)> {
    let seq = match (value.len(), value.first()) {
        (22, Some(&INDEX_V1)) => 0,
        (30, Some(&INDEX_V2)) => u64::from_be_bytes(value[22..30].try_into().ok()?),
        _ => return None,
    };
    let kind = match value[1] {
        0 => PaymentKind::Installment,
        1 => PaymentKind::Settlement,
        _ => return None,
    };
    let amount = Decimal::deserialize(value[2..18].try_into().ok()?);
    let days = i32::from_be_bytes(value[18..22].try_into().ok()?);
    let payment = Payment {
        id: id.to_string(),
        amount: Money(amount),
        paid_on: NaiveDate::from_num_days_from_ce_opt(days)?,
        kind,
    };
    Some((payment, seq))
}
