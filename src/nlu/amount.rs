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
const NOT_MONEY_AFTER: &str = "%点号日天期月年个次周岁小星折倍人张台部件楼层位:寸代字条页秒斤米";
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

/// Words that make a bare number a sum of money (还500, pay 500, 账单800): without one, a
/// number is an amount only when it is the whole message (the answer to "how much?").
const MONEY_WORDS: &[&str] = &[
    "还",
    "付",
    "交",
    "缴",
    "扣",
    "转",
    "钱",
    "额",
    "欠",
    "账",
    "帐",
    "费",
    "息",
    "款",
    "金",
    "充",
    "支",
    "贷",
    "价",
    "多少",
    "罚",
    "退",
    "收",
    "存",
    "赔",
    "分期",
    "首付",
    "月供",
    "pay",
    "paid",
    "repay",
    "bill",
    "owe",
    "owing",
    "charge",
    "fee",
    "amount",
    "balance",
    "money",
    "cash",
    "transfer",
    "deduct",
    "debit",
    "interest",
    "cost",
    "price",
    "debt",
    "due",
    "total",
    "refund",
    "loan",
    "fine",
    "penalty",
    "installment",
    "instalment",
    "split",
    "send",
    "sent",
    "deposit",
    "rmb",
    "yuan",
    "bucks",
    "kuai",
    "$",
];

/// Chat slang written as digits (886 = bye, 666 = great): never money on their own.
const SLANG: &[u32] = &[88, 886, 666, 6666, 233, 2333, 520, 521, 1314, 555, 5555];

fn money_context(low: &[char]) -> bool {
    MONEY_WORDS.iter().any(|w| {
        (0..low.len()).any(|i| {
            if w.is_ascii() && w.len() > 1 {
                at(low, i, w) && (i == 0 || !low[i - 1].is_ascii_alphabetic())
            } else {
                at(low, i, w)
            }
        })
    })
}

/// Decides about one number not taken by another slot: `None` when it is not money. `alone`:
/// the number is the whole message.
pub fn amount_of(low: &[char], n: &Num, alone: bool) -> Option<Result<Decimal, SlotProblem>> {
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
        let slang = !n.decimal
            && !n.grouped
            && u32::try_from(n.value.mantissa()).is_ok_and(|v| SLANG.contains(&v));
        if slang || !(alone || money_context(low)) {
            return None;
        }
    }
    Some(checked(n.value, n.negative))
}
