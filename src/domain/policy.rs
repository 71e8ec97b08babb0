//! The shop's policy: every number of SPEC section 4 with its default, validated before use.
//!
//! Loaded from the `[policy]` table of the config file by the edge; here it is plain data.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Business numbers an operator may change. Defaults are SPEC 4's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Days after the due date during which paying is on time (4.3).
    pub grace_days: u32,
    /// Penalty interest per day, simple (4.4): 0.0005 = 0.05 %.
    pub penalty_daily_rate: Decimal,
    /// Days past due of the oldest unpaid installment from which payments go principal first (4.5).
    pub principal_first_after_days: u32,
    /// Settlement fee as a fraction of all unpaid principal (4.6).
    pub settlement_fee_rate: Decimal,
    pub deferral: DeferralPolicy,
    pub reinstallment: ReinstallmentPolicy,
}

/// Deferral (延期还款, 4.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeferralPolicy {
    pub day_options: Vec<u32>,
    pub daily_fee_rate: Decimal,
}

/// Re-installment (二次分期, 4.8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReinstallmentPolicy {
    pub min_down_payment_fraction: Decimal,
    pub period_options: Vec<u32>,
    pub monthly_fee_rate: Decimal,
    /// Annual-rate cap in percent: offers above it are not made.
    pub annual_rate_cap_percent: Decimal,
    pub max_days_overdue: u32,
    pub max_balance: Decimal,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            grace_days: 3,
            penalty_daily_rate: Decimal::new(5, 4),
            principal_first_after_days: 91,
            settlement_fee_rate: Decimal::ZERO,
            deferral: DeferralPolicy::default(),
            reinstallment: ReinstallmentPolicy::default(),
        }
    }
}

impl Default for DeferralPolicy {
    fn default() -> Self {
        DeferralPolicy {
            day_options: vec![7, 14, 30],
            daily_fee_rate: Decimal::new(3, 4),
        }
    }
}

impl Default for ReinstallmentPolicy {
    fn default() -> Self {
        ReinstallmentPolicy {
            min_down_payment_fraction: Decimal::new(1, 1),
            period_options: vec![3, 6, 12],
            monthly_fee_rate: Decimal::new(6, 3),
            annual_rate_cap_percent: Decimal::from(24),
            max_days_overdue: 90,
            max_balance: Decimal::from(50_000),
        }
    }
}

impl Policy {
    /// Every problem with the numbers, one message each (empty when valid).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let fraction = |name: &str, v: Decimal, max: Decimal, p: &mut Vec<String>| {
            if v < Decimal::ZERO || v > max {
                p.push(format!("policy.{name} must be from 0 to {max}, got {v}"));
            }
        };
        fraction(
            "penalty_daily_rate",
            self.penalty_daily_rate,
            Decimal::new(1, 2),
            &mut p,
        );
        fraction(
            "settlement_fee_rate",
            self.settlement_fee_rate,
            Decimal::new(1, 1),
            &mut p,
        );
        fraction(
            "deferral.daily_fee_rate",
            self.deferral.daily_fee_rate,
            Decimal::new(1, 2),
            &mut p,
        );
        let r = &self.reinstallment;
        fraction(
            "reinstallment.monthly_fee_rate",
            r.monthly_fee_rate,
            Decimal::new(5, 2),
            &mut p,
        );
        if r.min_down_payment_fraction <= Decimal::ZERO
            || r.min_down_payment_fraction >= Decimal::ONE
        {
            p.push(format!(
                "policy.reinstallment.min_down_payment_fraction must be above 0 and below 1, got {}",
                r.min_down_payment_fraction
            ));
        }
        if self.grace_days > 30 {
            p.push(format!(
                "policy.grace_days must be 0 to 30, got {}",
                self.grace_days
            ));
        }
        if self.principal_first_after_days <= self.grace_days {
            p.push("policy.principal_first_after_days must be above grace_days".to_string());
        }
        if self.deferral.day_options.is_empty()
            || self.deferral.day_options.iter().any(|d| *d == 0 || *d > 90)
        {
            p.push("policy.deferral.day_options must list 1 to 90 days".to_string());
        }
        if r.period_options.is_empty() || r.period_options.iter().any(|n| *n == 0 || *n > 60) {
            p.push("policy.reinstallment.period_options must list 1 to 60 periods".to_string());
        }
        for (periods, rate) in r.offer_rates() {
            if rate > r.annual_rate_cap_percent {
                p.push(format!(
                    "policy.reinstallment: the {periods}-period offer at monthly_fee_rate {} has an annual rate of {rate} %, above annual_rate_cap_percent {}",
                    r.monthly_fee_rate, r.annual_rate_cap_percent
                ));
            }
        }
        if r.max_balance <= Decimal::ZERO {
            p.push("policy.reinstallment.max_balance must be above 0".to_string());
        }
        p
    }
}

impl ReinstallmentPolicy {
    /// The annual rate (percent) of each period option's flat-fee plan, on a reference principal
    /// of 10,000.00 (rounding moves small plans by hundredths; the chat still hides any offer
    /// above the cap).
    pub fn offer_rates(&self) -> Vec<(u32, Decimal)> {
        use super::money::Money;
        use super::schedule::{build, Method, Terms};
        let first_due = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default();
        self.period_options
            .iter()
            .filter(|n| (1..=60).contains(*n))
            .filter_map(|&periods| {
                let terms = Terms {
                    principal: Money::from_fen(1_000_000),
                    periods,
                    method: Method::FlatFee,
                    monthly_rate: self.monthly_fee_rate,
                    first_due_date: first_due,
                };
                let rows = build(&terms).ok()?;
                let flows: Vec<Money> = rows.iter().map(|r| r.amount()).collect();
                Some((
                    periods,
                    super::rate::annual_rate_percent(terms.principal, &flows),
                ))
            })
            .collect()
    }
}
