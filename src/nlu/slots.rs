//! Slot extraction: runs the extractors in a fixed order (order ids and phone numbers, dates,
//! durations and periods, then amounts) so that one number fills at most one slot.

use super::amount::amount_of;
use super::date::find_dates;
use super::numbers::{ascii_word, at, before_has, normalize, scan_numbers, skip_spaces, Num};
use super::{SlotProblem, Slots};
use chrono::NaiveDate;

struct Text {
    orig: Vec<char>,
    low: Vec<char>,
    used: Vec<bool>,
    /// What each taken span is, for the intent model's placeholders.
    spans: Vec<(usize, usize, Kind)>,
}

/// What a span of the message was taken as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Amount,
    Date,
    Days,
    Periods,
    Order,
    Card4,
    Phone,
}

impl Kind {
    /// The placeholder token the intent model sees instead of the span's text.
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::Amount => "<AMOUNT>",
            Kind::Date => "<DATE>",
            Kind::Days => "<DAYS>",
            Kind::Periods => "<PERIODS>",
            Kind::Order => "<ORDER>",
            Kind::Card4 => "<CARD4>",
            Kind::Phone => "<PHONE>",
        }
    }
}

/// A message's slots with the spans (in chars of `low`) they were read from.
pub struct Marked {
    pub slots: Slots,
    /// The normalised, lower-cased chars of the message.
    pub low: Vec<char>,
    pub spans: Vec<(usize, usize, Kind)>,
}

impl Text {
    fn free(&self, s: usize, e: usize) -> bool {
        !self.used[s..e.min(self.used.len())].iter().any(|u| *u)
    }
    fn take(&mut self, s: usize, e: usize, kind: Kind) {
        let e = e.min(self.used.len());
        self.used[s..e].iter_mut().for_each(|u| *u = true);
        self.spans.push((s, e, kind));
    }
}

const ORDER_WORDS: &[&str] = &["订单", "单号", "编号", "order", "#", "no.", "单"];
const PERIOD_CONTEXT: &[&str] = &[
    "分",
    "split",
    "spread",
    "over",
    "into",
    "installment",
    "instalment",
    "plan",
    "改成",
    "改为",
];

fn is_phone(run: &[char]) -> bool {
    run.len() == 11 && run[0] == '1' && ('3'..='9').contains(&run[1])
}

/// Order ids (JD20241117A09, 5231108832) and phone numbers (taken, never a slot).
fn order_ids(t: &mut Text, slots: &mut Slots) {
    let mut i = 0;
    while i < t.orig.len() {
        if !t.orig[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let s = i;
        while i < t.orig.len() && t.orig[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let run = &t.orig[s..i];
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        let letters = run.len() - digits;
        let word: String = t.low[s..i].iter().collect();
        let money_prefix = ["rmb", "cny", "usd", "yuan"]
            .iter()
            .any(|p| word.starts_with(p));
        let is_order = if letters > 0 {
            digits >= 5 && run.len() >= 6 && !money_prefix && run[0].is_ascii_alphabetic()
        } else {
            let decimal = matches!(t.orig.get(i), Some('.' | ','))
                && t.orig.get(i + 1).is_some_and(|c| c.is_ascii_digit())
                || s > 0 && matches!(t.orig[s - 1], '.' | ',');
            if is_phone(run) {
                t.take(s, i, Kind::Phone);
                continue;
            }
            let money = t
                .low
                .get(skip_spaces(&t.low, i))
                .is_some_and(|c| "元块".contains(*c))
                || (s > 0 && t.low[s - 1] == '¥');
            !decimal
                && !money
                && (run.len() >= 10 || run.len() >= 6 && before_has(&t.low, s, 10, ORDER_WORDS))
        };
        if is_order && slots.order_id.is_none() {
            slots.order_id = Some(run.iter().collect());
            t.take(s, i, Kind::Order);
        }
    }
}

fn english_number(w: &str) -> Option<u32> {
    const WORDS: &[&str] = &[
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    match w {
        "a" | "an" => Some(1),
        "fifteen" => Some(15),
        "eighteen" => Some(18),
        "twenty" => Some(20),
        "thirty" => Some(30),
        _ => WORDS.iter().position(|x| *x == w).map(|p| p as u32 + 1),
    }
}

enum Unit {
    Days(u32),
    Months,
    Periods,
}

/// The duration unit right after a number ending at `end`, and where it ends.
fn unit_after(low: &[char], end: usize) -> Option<(Unit, usize)> {
    let j = if low.get(end) == Some(&'个') {
        end + 1
    } else {
        end
    };
    let weekday_next = |k: usize| {
        low.get(k)
            .is_some_and(|c| "一二三四五六日天1234567".contains(*c))
    };
    if at(low, j, "天")
        || (at(low, j, "日")
            && (at(low, j + 1, "内")
                || before_has(low, end, 4, &["前", "晚", "延", "缓", "宽限", "推迟"])))
    {
        return Some((Unit::Days(1), j + 1));
    }
    for w in ["星期", "礼拜", "周"] {
        let n = w.chars().count();
        if at(low, j, w) && !weekday_next(j + n) {
            return Some((Unit::Days(7), j + n));
        }
    }
    if j > end && at(low, j, "月") {
        return Some((Unit::Months, j + 1));
    }
    if j == end && at(low, j, "期") {
        return Some((Unit::Periods, j + 1));
    }
    let k = if low.get(end) == Some(&'-') {
        end + 1
    } else {
        skip_spaces(low, end)
    };
    let w = ascii_word(low, k);
    let unit = match w.as_str() {
        "day" | "days" => Unit::Days(1),
        "week" | "weeks" | "wk" | "wks" => Unit::Days(7),
        "month" | "months" | "mo" | "mos" | "mth" | "mths" => Unit::Months,
        "installment" | "installments" | "instalments" | "payments" | "periods" | "terms" => {
            Unit::Periods
        }
        _ => return None,
    };
    Some((unit, k + w.len()))
}

fn put_duration(t: &mut Text, slots: &mut Slots, s: usize, n: u32, unit: Unit, end: usize) {
    if n == 0 || n > 400 {
        return;
    }
    let period_context = before_has(&t.low, s, 12, PERIOD_CONTEXT)
        || (end..(end + 6).min(t.low.len()))
            .any(|k| at(&t.low, k, "分期") || at(&t.low, k, "plan") || at(&t.low, k, "install"));
    let kind = match unit {
        Unit::Days(k) => {
            slots.days = slots.days.or(Some(n * k));
            Kind::Days
        }
        Unit::Months if period_context => {
            slots.periods = slots.periods.or(Some(n));
            Kind::Periods
        }
        Unit::Months => {
            slots.days = slots.days.or(Some(n * 30));
            Kind::Days
        }
        Unit::Periods => {
            let before = if s > 0 { t.low[s - 1] } else { ' ' };
            // 第3期, 这一期, 最近一期 name a period, not how many; nobody splits into 1 period.
            if "第下上这本每当前后首末头近那哪某同".contains(before)
                || n > 120
                || (n == 1 && before != '分')
            {
                return;
            }
            slots.periods = slots.periods.or(Some(n));
            Kind::Periods
        }
    };
    t.take(s, end, kind);
}

fn durations(t: &mut Text, nums: &[Num], slots: &mut Slots) {
    if let Some(k) = (0..t.low.len()).find(|k| at(&t.low, *k, "半个月") && t.free(*k, k + 3)) {
        slots.days = Some(15);
        t.take(k, k + 3, Kind::Days);
    }
    for n in nums {
        if !t.free(n.start, n.end) || n.decimal || n.negative || n.grouped {
            continue;
        }
        let Ok(v) = u32::try_from(n.value.mantissa()) else {
            continue;
        };
        if let Some((unit, end)) = unit_after(&t.low, n.end) {
            put_duration(t, slots, n.start, v, unit, end);
        }
    }
    let mut i = 0;
    while i < t.low.len() {
        if t.low[i].is_ascii_alphabetic() && (i == 0 || !t.low[i - 1].is_ascii_alphabetic()) {
            let w = ascii_word(&t.low, i);
            let end = i + w.len();
            if let Some(v) = english_number(&w) {
                if let Some((unit, uend)) = unit_after(&t.low, end).filter(|_| t.free(i, end)) {
                    put_duration(t, slots, i, v, unit, uend);
                }
            }
            i = end;
        } else {
            i += 1;
        }
    }
}

/// All slots of a message.
pub fn extract(text: &str, today: NaiveDate) -> Slots {
    extract_marked(text, today).slots
}

/// All slots of a message with the spans they were read from.
pub fn extract_marked(text: &str, today: NaiveDate) -> Marked {
    let orig = normalize(text);
    let low: Vec<char> = orig.iter().map(|c| c.to_ascii_lowercase()).collect();
    let used = vec![false; low.len()];
    let mut t = Text {
        orig,
        low,
        used,
        spans: Vec::new(),
    };
    let mut slots = Slots::default();
    order_ids(&mut t, &mut slots);
    let nums = scan_numbers(&t.low);
    let mut decided = false;
    for (s, e, d) in find_dates(&t.low, &nums, today) {
        if !t.free(s, e) {
            continue;
        }
        t.take(s, e, Kind::Date);
        if !decided {
            decided = true;
            match d {
                Some(d) => slots.date = Some(d),
                None => slots.problems.push(SlotProblem::Date),
            }
        }
    }
    durations(&mut t, &nums, &mut slots);
    card_digits(&mut t, &nums);
    let alone = nums.len() == 1 && only_number(&t.low, &nums[0]);
    for n in &nums {
        if !t.free(n.start, n.end) {
            continue;
        }
        if let Some(a) = amount_of(&t.low, n, alone) {
            match a {
                Ok(v) => slots.amount = Some(v),
                Err(p) => slots.problems.push(p),
            }
            t.take(n.start, n.end, Kind::Amount);
            break;
        }
    }
    Marked {
        slots,
        low: t.low,
        spans: t.spans,
    }
}

const CARD_WORDS: &[&str] = &[
    "尾号",
    "尾数",
    "末四位",
    "后四位",
    "后4位",
    "末4位",
    "卡号",
    "ending",
    "ends in",
    "last 4",
    "last four",
    "card",
];

/// Four digits after 尾号 / ending in name a card, never an amount.
fn card_digits(t: &mut Text, nums: &[Num]) {
    for n in nums {
        if n.digits == 4
            && !n.decimal
            && !n.grouped
            && t.free(n.start, n.end)
            && before_has(&t.low, n.start, 10, CARD_WORDS)
        {
            t.take(n.start, n.end, Kind::Card4);
        }
    }
}

/// Whether the message is this number and nothing else but spaces and punctuation (a bare answer).
fn only_number(low: &[char], n: &Num) -> bool {
    let outside = low[..n.start].iter().chain(&low[n.end..]);
    outside
        .into_iter()
        .all(|c| c.is_whitespace() || c.is_ascii_punctuation() || "。，！？负".contains(*c))
}
