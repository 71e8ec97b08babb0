//! Amount mentions: which numbers are sums of money (¥450, 500元, 两千五, 1.5万, bare 1000)
//! and which amounts are nonsense (negative, zero, absurdly large). Never guesses a value.

use super::numbers::{at, word_at, Num};
use super::SlotProblem;
use rust_decimal::{Decimal, RoundingStrategy};

/// Largest amount a customer can sensibly state (CNY).
pub const MAX_AMOUNT: i64 = 10_000_000;

const UNITS_AFTER: &[&str] = &[
    "元",
    "块",
    "圆",
    "人民币",
    "rmb",
    "yuan",
    "cny",
    "bucks",
    "kuai",
];
const CURRENCY_BEFORE: &[&str] = &["¥", "rmb", "cny", "人民币"];
/// A bare number followed directly by one of these is not money (3点, 24%, 5g, 2号).
const NOT_MONEY_AFTER: &str = "%点号日天期月年个次周岁小星折倍人张台部件楼层位:寸代";
const ARITHMETIC: &str = "+*/=×÷^";

fn currency_before(low: &[char], start: usize) -> bool {
    let mut j = start;
    if j > 0 && matches!(low[j - 1], '-' | '负') {
        j -= 1;
    }
    while j > 0 && low[j - 1] == ' ' {
        j -= 1;
    }
    CURRENCY_BEFORE.iter().any(|c| {
        let n = c.chars().count();
        j >= n
            && at(low, j - n, c)
            && (c.chars().count() == 1 || j == n || !low[j - n - 1].is_ascii_alphabetic())
    })
}

fn unit_after(low: &[char], end: usize) -> bool {
    let mut j = end;
    while j < low.len() && low[j] == ' ' {
        j += 1;
    }
    UNITS_AFTER.iter().any(|u| {
        if u.is_ascii() {
            word_at(low, j, u)
        } else {
            at(low, j, u)
        }
    })
}

/// Model names: the number after them is not money (iphone 15, mate 60).
const PRODUCTS: &[&str] = &[
    "iphone", "ipad", "mate", "pro", "max", "galaxy", "note", "redmi", "xiaomi", "mi", "nova",
    "watch", "macbook", "switch", "ps", "model", "version", "plus", "ultra", "gen",
];

fn product_before(low: &[char], start: usize) -> bool {
    let mut j = start;
    while j > 0 && low[j - 1] == ' ' {
        j -= 1;
    }
    let mut s = j;
    while s > 0 && low[s - 1].is_ascii_alphabetic() {
        s -= 1;
    }
    let word: String = low[s..j].iter().collect();
    PRODUCTS.contains(&word.as_str())
}

/// Rounds to the fen and checks the range.
pub fn checked(value: Decimal, negative: bool) -> Result<Decimal, SlotProblem> {
    if negative || value <= Decimal::ZERO || value > Decimal::from(MAX_AMOUNT) {
        return Err(SlotProblem::Amount);
    }
    let mut v = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(2);
    if v <= Decimal::ZERO {
        return Err(SlotProblem::Amount);
    }
    Ok(v)
}

/// Decides about one number not taken by another slot: `None` when it is not money.
pub fn amount_of(low: &[char], n: &Num) -> Option<Result<Decimal, SlotProblem>> {
    let explicit = currency_before(low, n.start) || unit_after(low, n.end);
    if !explicit {
        let before = n.start.checked_sub(1).map(|i| low[i]);
        let before = if n.negative {
            n.start.checked_sub(2).map(|i| low[i])
        } else {
            before
        };
        let after = low.get(n.end).copied();
        if before.is_some_and(|c| c.is_ascii_alphabetic() || c == '第' || ARITHMETIC.contains(c))
            || after.is_some_and(|c| {
                c.is_ascii_alphabetic() || ARITHMETIC.contains(c) || NOT_MONEY_AFTER.contains(c)
            })
            || at(low, n.end, "分钟")
        {
            return None;
        }
        if product_before(low, n.start) {
            return None;
        }
        if n.chinese && n.value < Decimal::from(100) {
            return None;
        }
        if !n.chinese && n.digits <= 1 && !n.decimal && !n.grouped {
            return None;
        }
    }
    Some(checked(n.value, n.negative))
}
