//! The annual rate shown to customers (年化利率, SPEC 4.2): 12 × the monthly IRR of the scheduled
//! cash flows, as a percentage with two decimals. Newton's method in `Decimal`, no floats.

use super::money::Money;
use rust_decimal::{Decimal, RoundingStrategy};

/// Monthly internal rate of return i of: +principal at period 0, −payments[k−1] at period k.
/// Returns zero when the payments do not exceed the principal.
pub fn monthly_irr(principal: Money, payments: &[Money]) -> Decimal {
    let total: Money = payments.iter().copied().sum();
    if total <= principal || payments.is_empty() {
        return Decimal::ZERO;
    }
    // f(i) = −P + Σ c_k (1+i)^−k is convex and decreasing: Newton from i = 0 climbs to the root
    // from the left without overshooting.
    let tolerance = Decimal::new(1, 18);
    let mut i = Decimal::ZERO;
    for _ in 0..100 {
        let v = Decimal::ONE / (Decimal::ONE + i);
        let mut discount = Decimal::ONE;
        let mut value = -principal.0;
        let mut slope = Decimal::ZERO;
        for (k, c) in payments.iter().enumerate() {
            discount *= v;
            value += c.0 * discount;
            slope -= Decimal::from(k as u64 + 1) * c.0 * discount * v;
        }
        if slope.is_zero() {
            break;
        }
        let step = value / slope;
        i -= step;
        if step.abs() < tolerance {
            break;
        }
    }
    i
}

/// 12 × monthly IRR in percent, two decimals, half away from zero ("13.03").
pub fn annual_rate_percent(principal: Money, payments: &[Money]) -> Decimal {
    let i = monthly_irr(principal, payments);
    let mut percent =
        (i * Decimal::from(1200)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    percent.rescale(2);
    percent
}
