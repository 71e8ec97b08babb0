//! Repayment schedules of SPEC 4.2: flat fee, equal installment (等额本息), equal principal (等额本金),
//! with month-end due dates. Pure arithmetic on `Money`; nothing here knows about payments.

use super::money::Money;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How the installments of an order are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 每期手续费: a fee of principal × m every period, principal split evenly.
    FlatFee,
    /// 等额本息: equal payments, interest on the remaining balance.
    EqualInstallment,
    /// 等额本金: equal principal, interest on the remaining balance.
    EqualPrincipal,
}

impl Method {
    pub fn parse(text: &str) -> Option<Method> {
        match text {
            "flat_fee" => Some(Method::FlatFee),
            "equal_installment" => Some(Method::EqualInstallment),
            "equal_principal" => Some(Method::EqualPrincipal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::FlatFee => "flat_fee",
            Method::EqualInstallment => "equal_installment",
            Method::EqualPrincipal => "equal_principal",
        }
    }
}

/// The terms an order was sold on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub principal: Money,
    pub periods: u32,
    pub method: Method,
    /// Monthly fee or interest rate as a fraction (0.006 = 0.6 % a month).
    pub monthly_rate: Decimal,
    pub first_due_date: NaiveDate,
}

/// One scheduled installment: the amounts the customer was told, before any payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installment {
    /// 1-based period number.
    pub n: u32,
    pub due_date: NaiveDate,
    pub principal: Money,
    /// Fee (flat_fee) or interest (the other methods).
    pub fee: Money,
}

impl Installment {
    pub fn amount(&self) -> Money {
        self.principal + self.fee
    }
}

/// Why terms cannot make a schedule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("periods must be 1 to 60, got {0}")]
    Periods(u32),
    #[error("monthly_rate must be from 0 to 0.05, got {0}")]
    Rate(Decimal),
    #[error("principal must be greater than 0")]
    Principal,
    #[error("installment {0} would have a principal below 0.01")]
    TinyPrincipal(u32),
    #[error("due date of period {0} is out of the calendar")]
    Date(u32),
}

pub const MAX_PERIODS: u32 = 60;
pub const MAX_MONTHLY_RATE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// due_k: first due date plus (k − 1) months, clamped to the month's last day (01-31 → 02-28 → 03-31).
pub fn due_date(first_due_date: NaiveDate, k: u32) -> Option<NaiveDate> {
    let months = k.checked_sub(1)?;
    let shifted = first_due_date.checked_add_months(Months::new(months))?;
    // checked_add_months already clamps to the month end; assert the day rule explicitly.
    debug_assert!(shifted.day() <= first_due_date.day());
    Some(shifted)
}

/// The schedule of SPEC 4.2 for these terms.
pub fn build(terms: &Terms) -> Result<Vec<Installment>, ScheduleError> {
    if terms.periods == 0 || terms.periods > MAX_PERIODS {
        return Err(ScheduleError::Periods(terms.periods));
    }
    if terms.monthly_rate < Decimal::ZERO || terms.monthly_rate > MAX_MONTHLY_RATE {
        return Err(ScheduleError::Rate(terms.monthly_rate));
    }
    if !terms.principal.is_positive() {
        return Err(ScheduleError::Principal);
    }
    let amounts = match terms.method {
        Method::FlatFee => flat_fee(terms),
        Method::EqualInstallment => equal_installment(terms),
        Method::EqualPrincipal => equal_principal(terms),
    };
    let mut out = Vec::with_capacity(amounts.len());
    for (i, (principal, fee)) in amounts.into_iter().enumerate() {
        let n = i as u32 + 1;
        if principal < Money::from_fen(1) {
            return Err(ScheduleError::TinyPrincipal(n));
        }
        let due = due_date(terms.first_due_date, n).ok_or(ScheduleError::Date(n))?;
        out.push(Installment {
            n,
            due_date: due,
            principal,
            fee,
        });
    }
    Ok(out)
}

/// P / n cut down to the fen for every period but the last, which takes the rest.
fn even_principal_split(principal: Money, periods: u32) -> Vec<Money> {
    let n = Decimal::from(periods);
    let each = Money(principal.0 / n).floor_fen();
    let mut parts = vec![each; periods as usize];
    let others = each.times(Decimal::from(periods - 1));
    if let Some(last) = parts.last_mut() {
        *last = principal - others;
    }
    parts
}

fn flat_fee(t: &Terms) -> Vec<(Money, Money)> {
    let fee = t.principal.times(t.monthly_rate).round_fen();
    even_principal_split(t.principal, t.periods)
        .into_iter()
        .map(|p| (p, fee))
        .collect()
}

fn equal_principal(t: &Terms) -> Vec<(Money, Money)> {
    let mut balance = t.principal;
    even_principal_split(t.principal, t.periods)
        .into_iter()
        .map(|p| {
            let interest = balance.times(t.monthly_rate).round_fen();
            balance -= p;
            (p, interest)
        })
        .collect()
}

/// The level payment A of 等额本息, rounded to the fen (m = 0: P / n).
pub fn level_payment(principal: Money, periods: u32, m: Decimal) -> Money {
    let n = Decimal::from(periods);
    if m.is_zero() {
        return Money(principal.0 / n).round_fen();
    }
    let mut growth = Decimal::ONE;
    for _ in 0..periods {
        growth *= Decimal::ONE + m;
    }
    Money(principal.0 * m * growth / (growth - Decimal::ONE)).round_fen()
}

fn equal_installment(t: &Terms) -> Vec<(Money, Money)> {
    let a = level_payment(t.principal, t.periods, t.monthly_rate);
    let mut balance = t.principal;
    (1..=t.periods)
        .map(|k| {
            let interest = balance.times(t.monthly_rate).round_fen();
            let principal = if k == t.periods {
                balance
            } else {
                a - interest
            };
            balance -= principal;
            (principal, interest)
        })
        .collect()
}
