//! A hardship case (个性化分期, SPEC 4.8): what the customer asked for, with their documents,
//! waiting for the support group's decision. Plain data; the store numbers and keeps it.

use super::money::Money;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a case is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Waiting for an agent's decision; overdue reminders are paused.
    Open,
    /// An agent approved a plan; the customer has still to confirm it.
    Approved,
    /// The customer confirmed the approved plan and it was applied.
    Accepted,
    Rejected,
    /// The customer withdrew it.
    Withdrawn,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Approved => "approved",
            CaseStatus::Accepted => "accepted",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    /// Open or approved: the decision or the customer's confirmation is still pending.
    pub fn is_pending(self) -> bool {
        matches!(self, CaseStatus::Open | CaseStatus::Approved)
    }
}

/// A document the customer sent: a Telegram file id (or a local path in the terminal chat).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDocument {
    pub file_id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardshipCase {
    /// Shown to people: small and sequential.
    pub number: u64,
    pub account_id: String,
    pub chat: String,
    /// The orders the case is about (every active order of the account when it opened).
    pub order_ids: Vec<String>,
    /// `unemployment`, `illness`, `family`, `income_drop` or `other`.
    pub reason: String,
    /// The customer's own words (required for `other`).
    pub reason_text: String,
    /// What the customer says they can pay a month.
    pub monthly_amount: Money,
    pub documents: Vec<CaseDocument>,
    pub status: CaseStatus,
    pub opened_on: NaiveDate,
    /// The ticket that carries the case to the support group.
    pub ticket: Option<u64>,
    /// The agent's decision, as the customer was told it.
    #[serde(default)]
    pub decision: Option<String>,
    /// The plan an agent approved, waiting for the customer's confirmation.
    #[serde(default)]
    pub approved: Option<ApprovedPlan>,
}

/// What an agent approved (`/approve PERIODS FEE_RATE`): every order of the case is re-planned
/// over `periods` at `monthly_rate` (flat fee), without a down payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedPlan {
    pub periods: u32,
    pub monthly_rate: rust_decimal::Decimal,
}
