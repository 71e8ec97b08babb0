//! Hardship cases (SPEC 4.8) in the `cases` tree: numbered from a counter people can read,
//! written and flushed before the customer is told the number.

use super::records::{decode, get, Stored};
use super::Store;
use crate::domain::{ApprovedPlan, CaseStatus, HardshipCase};
use anyhow::{Context, Result};

fn case_key(number: u64) -> String {
    format!("case/{number:020}")
}

impl Store {
    /// Stores a new case under the next number (race-safe) and returns it numbered.
    pub fn open_case(&self, mut case: HardshipCase) -> Result<HardshipCase> {
        let next = self
            .cases
            .update_and_fetch(b"next", |old| {
                let n = old
                    .and_then(|v| v.try_into().ok())
                    .map_or(0, u64::from_be_bytes);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .context("case counter")?;
        case.number = u64::from_be_bytes(next.as_ref().try_into().unwrap_or([0; 8]));
        self.put_case(&case)?;
        Ok(case)
    }

    /// Writes a case as it is now and flushes it.
    pub fn put_case(&self, case: &HardshipCase) -> Result<()> {
        let origin = format!("chat:{}", case.chat);
        self.cases.insert(
            case_key(case.number).as_bytes(),
            Stored::new(origin, case.clone()).to_bytes(),
        )?;
        self.flush()
    }

    pub fn case(&self, number: u64) -> Result<Option<HardshipCase>> {
        Ok(get::<HardshipCase>(&self.cases, case_key(number).as_bytes())?.map(|s| s.data))
    }

    /// Every case of the account, oldest first.
    pub fn cases_of(&self, account_id: &str) -> Result<Vec<HardshipCase>> {
        let mut out = Vec::new();
        for entry in self.cases.scan_prefix(b"case/") {
            let (_, value) = entry?;
            let case = decode::<HardshipCase>(&value)?.data;
            if case.account_id == account_id {
                out.push(case);
            }
        }
        Ok(out)
    }

    /// The account's case waiting for a decision or a confirmation, if any.
    pub fn pending_case(&self, account_id: &str) -> Result<Option<HardshipCase>> {
        Ok(self
            .cases_of(account_id)?
            .into_iter()
            .rev()
            .find(|c| c.status.is_pending()))
    }

    /// Sets a case's status (and the decision text the customer was told).
    pub fn set_case_status(
        &self,
        number: u64,
        status: CaseStatus,
        decision: Option<String>,
    ) -> Result<Option<HardshipCase>> {
        let Some(mut case) = self.case(number)? else {
            return Ok(None);
        };
        case.status = status;
        if decision.is_some() {
            case.decision = decision;
        }
        self.put_case(&case)?;
        Ok(Some(case))
    }

    /// An agent's approval: the plan waits for the customer's confirmation (status `approved`).
    pub fn approve_case(
        &self,
        number: u64,
        plan: ApprovedPlan,
        decision: String,
    ) -> Result<Option<HardshipCase>> {
        let Some(mut case) = self.case(number)? else {
            return Ok(None);
        };
        if case.status != CaseStatus::Open {
            return Ok(Some(case));
        }
        case.status = CaseStatus::Approved;
        case.approved = Some(plan);
        case.decision = (!decision.is_empty()).then_some(decision);
        self.put_case(&case)?;
        Ok(Some(case))
    }
}
