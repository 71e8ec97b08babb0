//! Date mentions: absolute (2026-12-05, 12月5号, 12/5, Dec 5) and relative to `today`
//! (明天, 下周五, 15号, next Monday). Never reads the clock: today is always a parameter.

use super::numbers::{ascii_word, at, before_has, skip_spaces, word_at, Num};
use chrono::{Datelike, Days, NaiveDate};

/// A date mention: char span and the resolved date, or `None` when it is nonsense (2月30号).
pub type DateMention = (usize, usize, Option<NaiveDate>);

const RELATIVE: &[(&str, i64)] = &[
    ("the day after tomorrow", 2),
    ("day after tomorrow", 2),
    ("大后天", 3),
    ("大前天", -3),
    ("后天", 2),
    ("明天", 1),
    ("明日", 1),
    ("明儿", 1),
    ("明早", 1),
    ("明晚", 1),
    ("今天", 0),
    ("今日", 0),
    ("今儿", 0),
    ("今晚", 0),
    ("前天", -2),
    ("昨天", -1),
    ("昨日", -1),
    ("tomorrow", 1),
    ("tomorow", 1),
    ("tmrw", 1),
    ("tmr", 1),
    ("today", 0),
    ("tonight", 0),
    ("yesterday", -1),
];

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn shift(today: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        today.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

fn month_of(word: &str) -> Option<u32> {
    if !(word.len() == 3 || word == "sept" || is_full_month(word)) {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| word.starts_with(m))
        .map(|p| p as u32 + 1)
}

fn is_full_month(word: &str) -> bool {
    const FULL: &[&str] = &[
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL.contains(&word)
}

/// The next day `d` of a month on or after today (15号); `None` if no month has it.
pub fn next_day_of_month(today: NaiveDate, d: u32, month_offset: u32) -> Option<NaiveDate> {
    if !(1..=31).contains(&d) {
        return None;
    }
    let (mut y, mut m) = (today.year(), today.month());
    for k in 0..13 {
        if k >= month_offset {
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                if date >= today || month_offset > 0 {
                    return Some(date);
                }
            } else if month_offset > 0 {
                return None;
            }
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    None
}

/// Month and day without a year: the next occurrence on or after today (SPEC 2.3); 2月29号
/// is the next leap day; `None` when no year has it.
pub fn month_day(today: NaiveDate, m: u32, d: u32) -> Option<NaiveDate> {
    (0..=8)
        .filter_map(|k| NaiveDate::from_ymd_opt(today.year().checked_add(k)?, m, d))
        .find(|date| *date >= today)
}

/// `week`: None = next occurrence (today included), Some(k) = that weekday of the week k
/// weeks from this one (0 = this week, 1 = next week, -1 = last week). `wd` 0 = Monday.
pub fn weekday(today: NaiveDate, wd: i64, week: Option<i64>) -> Option<NaiveDate> {
    let now = i64::from(today.weekday().num_days_from_monday());
    match week {
        None => shift(today, (wd - now).rem_euclid(7)),
        Some(k) => shift(today, 7 * k + wd - now),
    }
}

fn int(n: &Num) -> Option<u32> {
    if n.decimal || n.negative || n.grouped {
        return None;
    }
    u32::try_from(n.value.mantissa()).ok()
}

fn cn_week_prefix(low: &[char], i: usize) -> Option<i64> {
    let back = |w: &str| {
        let n = w.chars().count();
        i >= n && at(low, i - n, w)
    };
    if back("下下个") || back("下下") {
        Some(2)
    } else if back("下个") || back("下") {
        Some(1)
    } else if back("这个") || back("这") || back("本") {
        Some(0)
    } else if back("上个") || back("上") {
        Some(-1)
    } else {
        None
    }
}

fn cn_weekday(c: char) -> Option<i64> {
    "一二三四五六".find(c).map(|p| (p / 3) as i64).or(match c {
        '日' | '天' | '七' | '7' => Some(6),
        '1'..='6' => Some(c as i64 - '1' as i64),
        _ => None,
    })
}

/// Weekday and relative-word mentions.
fn words(low: &[char], today: NaiveDate, out: &mut Vec<DateMention>) {
    let mut i = 0;
    while i < low.len() {
        if let Some((w, off)) = RELATIVE.iter().find(|(w, _)| {
            if w.is_ascii() {
                word_at(low, i, w)
            } else {
                at(low, i, w)
            }
        }) {
            let n = w.chars().count();
            out.push((i, i + n, shift(today, *off)));
            i += n;
            continue;
        }
        for prefix in ["星期", "礼拜", "周", "週"] {
            if at(low, i, prefix) {
                let j = i + prefix.chars().count();
                if let Some(wd) = low.get(j).and_then(|c| cn_weekday(*c)) {
                    let week = cn_week_prefix(low, i);
                    out.push((i, j + 1, weekday(today, wd, week)));
                    i = j;
                }
                break;
            }
        }
        if low[i].is_ascii_alphabetic() && (i == 0 || !low[i - 1].is_ascii_alphabetic()) {
            let w = ascii_word(low, i);
            let wd = WEEKDAYS.iter().position(|d| {
                w == *d
                    || (w.len() >= 3 && d.starts_with(&w) && w != "sun" && w != "sat" && w != "mon")
            });
            if let Some(wd) = wd {
                let prev = before_has(low, i, 6, &["next "]);
                let this = before_has(low, i, 6, &["this "]);
                let week = if prev {
                    Some(1)
                } else if this {
                    Some(0)
                } else {
                    None
                };
                out.push((i, i + w.len(), weekday(today, wd as i64, week)));
            }
            i += w.len().max(1);
            continue;
        }
        i += 1;
    }
}

fn after_suffix(low: &[char], i: usize) -> usize {
    for s in ["st", "nd", "rd", "th"] {
        if at(low, i, s) && !low.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic()) {
            return i + 2;
        }
    }
    i
}

/// Mentions built on numbers.
fn numeric(low: &[char], nums: &[Num], today: NaiveDate, out: &mut Vec<DateMention>) {
    let mut k = 0;
    while k < nums.len() {
        let n = &nums[k];
        let next = nums.get(k + 1);
        let sep = low.get(n.end).copied();
        let gap_ok = |m: &Num, from: usize| skip_spaces(low, from) == m.start;
        // 2026-12-05, 2026年12月5日, 2026/12/05
        if let (Some(m), Some(d)) = (next, nums.get(k + 2)) {
            if n.digits == 4
                && matches!(sep, Some('-' | '/' | '.' | '年'))
                && m.start == n.end + 1
                && matches!(low.get(m.end), Some('-' | '/' | '.' | '月'))
                && d.start == m.end + 1
            {
                let date = match (int(n), int(m), int(d)) {
                    (Some(y), Some(mo), Some(da)) => NaiveDate::from_ymd_opt(y as i32, mo, da),
                    _ => None,
                };
                let end = if matches!(low.get(d.end), Some('日' | '号')) {
                    d.end + 1
                } else {
                    d.end
                };
                out.push((n.start, end, date));
                k += 3;
                continue;
            }
        }
        // 12月5号, 12月5
        if sep == Some('月') {
            if let Some(m) = next.filter(|m| gap_ok(m, n.end + 1) && !m.decimal) {
                let after = low.get(m.end).copied();
                if !matches!(after, Some('期' | '天' | '个' | '周' | '块' | '元')) {
                    let date = match (int(n), int(m)) {
                        (Some(mo), Some(da)) => month_day(today, mo, da),
                        _ => None,
                    };
                    let end = if matches!(after, Some('日' | '号')) {
                        m.end + 1
                    } else {
                        m.end
                    };
                    out.push((n.start, end, date));
                    k += 2;
                    continue;
                }
            }
        }
        // 12/5
        if sep == Some('/') && n.digits <= 2 && !n.chinese {
            if let Some(m) = next.filter(|m| m.start == n.end + 1 && m.digits <= 2 && !m.chinese) {
                let date = match (int(n), int(m)) {
                    (Some(mo), Some(da)) => month_day(today, mo, da),
                    _ => None,
                };
                out.push((n.start, m.end, date));
                k += 2;
                continue;
            }
        }
        // 15号, 下个月5号
        if matches!(sep, Some('号' | '日'))
            && (n.chinese || n.digits <= 2)
            && !before_has(low, n.start, 2, &["前", "提前", "后"])
        {
            let offset = if before_has(low, n.start, 3, &["下个月", "下月"]) {
                1
            } else {
                0
            };
            let date = int(n).and_then(|d| next_day_of_month(today, d, offset));
            out.push((n.start, n.end + 1, date));
            k += 1;
            continue;
        }
        // English: dec 5, 5th of december, on the 20th
        if !n.chinese && n.digits <= 2 {
            let end = after_suffix(low, n.end);
            let j = skip_spaces(low, end);
            let j = if word_at(low, j, "of") {
                skip_spaces(low, j + 2)
            } else {
                j
            };
            let word = ascii_word(low, j);
            let month_after =
                month_of(&word).filter(|_| j == 0 || !low[j - 1].is_ascii_alphabetic());
            let prev_word_start = {
                let mut s = n.start;
                while s > 0 && low[s - 1] == ' ' {
                    s -= 1;
                }
                let mut t = s;
                while t > 0 && low[t - 1].is_ascii_alphabetic() {
                    t -= 1;
                }
                (t, low[t..s].iter().collect::<String>())
            };
            let month_before = month_of(&prev_word_start.1);
            if let Some(mo) = month_after.or(month_before) {
                let date = int(n).and_then(|d| month_day(today, mo, d));
                let (s, e) = if month_after.is_some() {
                    (n.start, j + word.len())
                } else {
                    (prev_word_start.0, end)
                };
                out.push((s, e, date));
                k += 1;
                continue;
            }
            if end > n.end && before_has(low, n.start, 4, &["the "]) {
                let date = int(n).and_then(|d| next_day_of_month(today, d, 0));
                out.push((n.start, end, date));
            }
        }
        k += 1;
    }
}

/// Every date mention, in text order.
pub fn find_dates(low: &[char], nums: &[Num], today: NaiveDate) -> Vec<DateMention> {
    let mut out = Vec::new();
    words(low, today, &mut out);
    numeric(low, nums, today, &mut out);
    out.sort_by_key(|m| m.0);
    out
}
