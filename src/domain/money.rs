//! `Money` in CNY on `rust_decimal`, rounded to the fen half away from zero (SPEC 4.1) in one place.
//!
//! Intermediate sums keep full precision; `round_fen` is applied only when an amount is posted or
//! shown. Never constructed from floating point.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

/// An amount of CNY, possibly with more than two decimals while it is an intermediate value.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub Decimal);

/// Why a text is not an amount of money.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not an amount (expected digits with at most two decimals, e.g. 99.90)")]
    NotANumber(String),
    #[error("'{0}' has more than two decimals")]
    TooManyDecimals(String),
    #[error("'{0}' must be greater than 0")]
    NotPositive(String),
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(value: Decimal) -> Money {
        Money(value)
    }

    /// From a whole number of fen (cents).
    pub fn from_fen(fen: i64) -> Money {
        Money(Decimal::new(fen, 2))
    }

    /// Parses an amount as written in an import file: digits with at most two decimals, > 0.
    pub fn parse_positive(text: &str) -> Result<Money, MoneyError> {
        let t = text.trim();
        let valid_shape = !t.is_empty()
            && t.chars().all(|c| c.is_ascii_digit() || c == '.')
            && t.matches('.').count() <= 1
            && !t.starts_with('.')
            && !t.ends_with('.');
        if !valid_shape {
            return Err(MoneyError::NotANumber(t.to_string()));
        }
        let d: Decimal = t
            .parse()
            .map_err(|_| MoneyError::NotANumber(t.to_string()))?;
        if d.scale() > 2 {
            return Err(MoneyError::TooManyDecimals(t.to_string()));
        }
        if d <= Decimal::ZERO {
            return Err(MoneyError::NotPositive(t.to_string()));
        }
        Ok(Money(d))
    }

    /// Rounded to the fen, half away from zero (四舍五入).
    pub fn round_fen(self) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        )
    }

    /// Cut down to the fen (toward zero), as the flat principal split of SPEC 4.2 asks.
    pub fn floor_fen(self) -> Money {
        Money(self.0.round_dp_with_strategy(2, RoundingStrategy::ToZero))
    }

    /// Rounded up to the fen (away from zero), as the minimum down payment of SPEC 4.8 asks.
    pub fn ceil_fen(self) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(2, RoundingStrategy::AwayFromZero),
        )
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }

    /// Zero when negative.
    pub fn at_least_zero(self) -> Money {
        if self.0 < Decimal::ZERO {
            Money::ZERO
        } else {
            self
        }
    }

    pub fn min(self, other: Money) -> Money {
        if self <= other {
            self
        } else {
            other
        }
    }

    /// Times a plain factor (a rate, a number of days), full precision kept.
    pub fn times(self, factor: Decimal) -> Money {
        Money(self.0 * factor)
    }
}

/// Shown rounded to the fen with exactly two decimals ("1517.53").
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut r = self.round_fen().0;
        if r.is_zero() {
            r = Decimal::ZERO; // no "-0.00"
        }
        r.rescale(2);
        f.pad(&r.to_string())
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0;
    }
}
impl Mul<Decimal> for Money {
    type Output = Money;
    fn mul(self, f: Decimal) -> Money {
        Money(self.0 * f)
    }
}
impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}
