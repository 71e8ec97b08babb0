//! Versioned records: every stored value is `{"v", "origin", "data"}` so an upgrade can read old
//! data and an import conflict can name the row a record came from.

use crate::domain::Payment;
use anyhow::{Context, Result};
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
