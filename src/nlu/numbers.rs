//! Text normalisation and number tokens: full-width forms, digits with separators and
//! multipliers (1.5万, 2k), Chinese numerals (两千五, 一千二). Never decides what a number means.

use rust_decimal::Decimal;

/// Maps full-width ASCII forms to ASCII, the ideographic space and control characters to a space.
/// Keeps one output char per input char, so char positions stay comparable.
pub fn normalize_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{FFE5}' => '¥',
        '\u{2212}' | '\u{2013}' | '\u{2014}' => '-',
        c if c.is_control() => ' ',
        c => c,
    }
}

/// Normalised chars, original case kept.
pub fn normalize(text: &str) -> Vec<char> {
    text.chars().map(normalize_char).collect()
}

/// A number written in the message, positions in chars of the normalised text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Num {
    pub start: usize,
    pub end: usize,
    pub value: Decimal,
    /// Integer digits as written (ASCII numbers only; 0 for Chinese numerals).
    pub digits: usize,
    pub decimal: bool,
    pub chinese: bool,
    /// A Chinese numeral with a magnitude (十百千万) or a 万/k multiplier.
    pub magnitude: bool,
    pub negative: bool,
    /// Written with a thousands separator or a 万/k multiplier.
    pub grouped: bool,
}

fn cn_digit(c: char) -> Option<u64> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' | '幺' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

fn cn_unit(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1000,
        '万' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

pub fn is_cn_numeral(c: char) -> bool {
    cn_digit(c).is_some() || cn_unit(c).is_some()
}

/// Value of a run of Chinese numeral chars, with the colloquial shortcut 一千二 = 1200.
pub fn cn_value(run: &[char]) -> Option<u64> {
    if run.len() > 1 && run.iter().all(|c| cn_digit(*c).is_some()) {
        // Digit by digit, as in 二零二六.
        return run.iter().try_fold(0u64, |acc, c| {
            acc.checked_mul(10)?.checked_add(cn_digit(*c)?)
        });
    }
    let (mut total, mut section, mut num): (u64, u64, Option<u64>) = (0, 0, None);
    let mut last_unit = 0u64;
    for &c in run {
        if let Some(d) = cn_digit(c) {
            if d == 0 {
                last_unit = 0;
            }
            num = Some(d);
        } else if let Some(u) = cn_unit(c) {
            let n = num.take().unwrap_or(1);
            if u >= 10_000 {
                total = total.checked_add(section.checked_add(n)?.checked_mul(u)?)?;
                section = 0;
            } else {
                section = section.checked_add(n.checked_mul(u)?)?;
            }
            last_unit = u;
        } else {
            return None;
        }
    }
    if let Some(n) = num {
        let scale = if last_unit >= 10 { last_unit / 10 } else { 1 };
        section = section.checked_add(n.checked_mul(scale)?)?;
    }
    total.checked_add(section)
}

fn scan_ascii(chars: &[char], start: usize) -> (usize, Num) {
    let mut i = start;
    let mut int = String::new();
    let mut grouped = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            int.push(c);
            i += 1;
        } else if c == ','
            && !int.is_empty()
            && chars
                .get(i + 1..i + 4)
                .is_some_and(|s| s.iter().all(|c| c.is_ascii_digit()))
            && !chars.get(i + 4).is_some_and(|c| c.is_ascii_digit())
        {
            grouped = true;
            i += 1;
        } else {
            break;
        }
    }
    let mut frac = String::new();
    if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
        i += 1;
        while i < chars.len() && chars[i].is_ascii_digit() {
            frac.push(chars[i]);
            i += 1;
        }
    }
    let digits = int.len();
    let text = if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    };
    let mut value = text.parse::<Decimal>().unwrap_or(Decimal::MAX);
    let mut magnitude = false;
    if let Some(&m) = chars.get(i) {
        let next_is_letter = chars.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic());
        let mult = match m {
            '万' => Some(10_000),
            'w' | 'W' | 'k' | 'K' if !next_is_letter => {
                Some(if m == 'k' || m == 'K' { 1000 } else { 10_000 })
            }
            '千' => Some(1000),
            _ => None,
        };
        if let Some(mult) = mult {
            value = value
                .checked_mul(Decimal::from(mult))
                .unwrap_or(Decimal::MAX);
            magnitude = true;
            grouped = true;
            i += 1;
        }
    }
    let num = Num {
        start,
        end: i,
        value,
        digits,
        decimal: !frac.is_empty(),
        chinese: false,
        magnitude,
        negative: false,
        grouped,
    };
    (i, num)
}

/// Every number in the normalised text, in order.
pub fn scan_numbers(chars: &[char]) -> Vec<Num> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let (end, mut num) = scan_ascii(chars, i);
            num.negative =
                i > 0 && chars[i - 1] == '-' && (i < 2 || !chars[i - 2].is_ascii_alphanumeric());
            out.push(num);
            i = end;
        } else if cn_digit(c).is_some() || matches!(c, '十' | '拾') {
            let mut end = i;
            while end < chars.len() && is_cn_numeral(chars[end]) {
                end += 1;
            }
            let run = &chars[i..end];
            if let Some(v) = cn_value(run) {
                out.push(Num {
                    start: i,
                    end,
                    value: Decimal::from(v),
                    digits: 0,
                    decimal: false,
                    chinese: true,
                    magnitude: run.iter().any(|c| cn_unit(*c).is_some()),
                    negative: i > 0 && chars[i - 1] == '负',
                    grouped: false,
                });
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Does `word` occur at char position `i`?
pub fn at(chars: &[char], i: usize, word: &str) -> bool {
    (i..)
        .zip(word.chars())
        .all(|(j, w)| chars.get(j) == Some(&w))
}

/// Does the ASCII word `word` occur at `i` with no letter on either side?
pub fn word_at(chars: &[char], i: usize, word: &str) -> bool {
    let n = word.chars().count();
    at(chars, i, word)
        && (i == 0 || !chars[i - 1].is_ascii_alphabetic())
        && !chars.get(i + n).is_some_and(|c| c.is_ascii_alphabetic())
}

/// Index of the first non-space char at or after `i`.
pub fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    i
}

/// The ASCII word (letters) starting at `i`, if any.
pub fn ascii_word(chars: &[char], i: usize) -> String {
    chars[i.min(chars.len())..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect()
}

/// Is any of `words` among the `window` chars before `i`?
pub fn before_has(chars: &[char], i: usize, window: usize, words: &[&str]) -> bool {
    let from = i.saturating_sub(window);
    (from..i).any(|k| words.iter().any(|w| at(chars, k, w)))
}
