//! Features of one message for the intent model, as hashed ids (FNV-1a, `bits` wide).
//!
//! The message is normalised (full-width folded, lower case), its slots replaced by placeholders
//! (`<AMOUNT>`, `<DATE>`, `<DAYS>`, `<PERIODS>`, `<ORDER>`, `<CARD4>`) with the slot extractors,
//! and cut into units: one Chinese character, one English word (contractions expanded, chat
//! abbreviations spelled out, lightly stemmed), one placeholder or one emoji. Features: unit 1–3
//! grams; toneless pinyin of the Chinese characters and its bigrams (帐单 and 账单 meet at
//! "zhang dan"); character 3-grams inside English words (typos); negation scope (the two units
//! after 不/没/别/not/no/never); question, length, language and first/last-unit cues; the whole
//! message when it is short. Every step is deterministic.

use super::numbers::normalize_char;
use super::slots::{extract_marked, Kind, Marked};
use chrono::NaiveDate;
use pinyin::ToPinyin;

/// One unit of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Unit {
    Han(char),
    Word(String),
    Slot(Kind),
    Sym(char),
}

impl Unit {
    fn key(&self, h: &mut Fnv) {
        match self {
            Unit::Han(c) => h.char(*c),
            Unit::Word(w) => h.str(w),
            Unit::Slot(k) => h.str(k.placeholder()),
            Unit::Sym(c) => h.char(*c),
        }
    }
    /// The pinyin key of a character, else the unit itself.
    fn sound(&self, h: &mut Fnv) {
        match self {
            // 还 reads huán in this domain (还款), so 换款 / 环款 meet it.
            Unit::Han('还') => h.str("huan"),
            Unit::Han(c) => match c.to_pinyin() {
                Some(p) => h.str(p.plain()),
                None => h.char(*c),
            },
            other => other.key(h),
        }
    }
    fn is_negation(&self) -> bool {
        match self {
            Unit::Han(c) => matches!(c, '不' | '没' | '别' | '未' | '勿' | '无' | '甭'),
            Unit::Word(w) => matches!(w.as_str(), "not" | "no" | "never" | "without" | "stop"),
            _ => false,
        }
    }
}

/// Every toneless pinyin syllable (from the pinyin table, once per process).
fn syllables() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| {
        ('\u{4E00}'..='\u{9FFF}')
            .filter_map(|c| c.to_pinyin().map(|p| p.plain()))
            .collect()
    })
}

/// A Latin word typed in pinyin (lixi, zidong, shouxufei) as its syllables, longest first;
/// `None` when it does not split into two or more syllables.
fn pinyin_split(word: &str) -> Option<Vec<&str>> {
    if word.len() < 4 || word.len() > 24 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let set = syllables();
    // best[i]: fewest syllables covering word[..i], with where the last one starts.
    let n = word.len();
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0));
    for end in 1..=n {
        for start in end.saturating_sub(6)..end {
            if let (Some((k, _)), true) = (best[start], set.contains(&word[start..end])) {
                if best[end].is_none_or(|(b, _)| k + 1 < b) {
                    best[end] = Some((k + 1, start));
                }
            }
        }
    }
    let (count, _) = best[n]?;
    if count < 2 {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    let mut end = n;
    while end > 0 {
        let (_, start) = best[end]?;
        out.push(&word[start..end]);
        end = start;
    }
    out.reverse();
    Some(out)
}

/// 64-bit FNV-1a over bytes, with a namespace byte per feature kind.
struct Fnv(u64);

impl Fnv {
    fn new(space: u8) -> Fnv {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.byte(space);
        h
    }
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn str(&mut self, s: &str) {
        s.bytes().for_each(|b| self.byte(b));
        self.byte(0xff);
    }
    fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.str(c.encode_utf8(&mut buf));
    }
}

/// English spellings customers use, mapped to one form (u → you, pls → please, thx → thanks).
fn expand_word(w: &str) -> &[&'static str] {
    match w {
        "u" | "ya" | "yu" => &["you"],
        "ur" | "youre" => &["your"],
        "r" => &["are"],
        "pls" | "plz" | "plez" | "pleas" | "plse" => &["please"],
        "thx" | "thnx" | "thanx" | "ty" | "tks" | "thks" | "thank" => &["thanks"],
        "rn" => &["right", "now"],
        "wanna" => &["want", "to"],
        "gonna" => &["going", "to"],
        "gotta" => &["got", "to"],
        "idk" => &["i", "do", "not", "know"],
        "dont" | "don" => &["do", "not"],
        "doesnt" => &["does", "not"],
        "didnt" => &["did", "not"],
        "cant" | "cannot" => &["can", "not"],
        "couldnt" => &["could", "not"],
        "wont" => &["will", "not"],
        "isnt" => &["is", "not"],
        "arent" => &["are", "not"],
        "havent" => &["have", "not"],
        "hasnt" => &["has", "not"],
        "wasnt" => &["was", "not"],
        "shouldnt" => &["should", "not"],
        "im" => &["i", "am"],
        "ive" => &["i", "have"],
        "ill" => &["i", "will"],
        "bc" | "cuz" | "coz" | "cos" => &["because"],
        "acct" | "acc" => &["account"],
        "pmt" | "pymt" | "paymt" => &["payment"],
        "amt" => &["amount"],
        "tmr" | "tmrw" | "tmrw." | "2moro" | "tomorow" | "tommorow" => &["tomorrow"],
        "k" | "kk" | "okay" | "okey" | "okie" | "oki" => &["ok"],
        "yea" | "yeah" | "yep" | "yup" | "yass" => &["yes"],
        "nope" | "nah" | "naw" => &["no"],
        "msg" => &["message"],
        "info" => &["information"],
        "b4" => &["before"],
        "asap" => &["as", "soon", "as", "possible"],
        _ => &[],
    }
}

/// Light stemming: plural and verb endings (reminders → reminder, paying → pay).
fn stem(w: &str) -> String {
    let n = w.len();
    if n > 5 && w.ends_with("ing") {
        return w[..n - 3].to_string();
    }
    if n > 4 && (w.ends_with("ies") || w.ends_with("ied")) {
        return format!("{}y", &w[..n - 3]);
    }
    if n > 4 && w.ends_with("ed") {
        return w[..n - 2].to_string();
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return w[..n - 1].to_string();
    }
    w.to_string()
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// Joiners and modifiers of emoji sequences (skin tones, ZWJ, variation selectors): not units.
fn is_modifier(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{FE00}'..='\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{202A}'..='\u{202E}')
}

/// Contractions written with an apostrophe: can't → can not, i'm → i am, it's → it.
fn push_contracted(word: &str, out: &mut Vec<String>) {
    let (head, tail) = match word.split_once('\'') {
        Some(x) => x,
        None => return out.push(word.to_string()),
    };
    match (head, tail) {
        ("can", "t") => out.extend(["can".into(), "not".into()]),
        ("won", "t") => out.extend(["will".into(), "not".into()]),
        (h, "t") if h.ends_with('n') => {
            out.push(h[..h.len() - 1].to_string());
            out.push("not".into());
        }
        (h, "m") => out.extend([h.to_string(), "am".into()]),
        (h, "re") => out.extend([h.to_string(), "are".into()]),
        (h, "ll") => out.extend([h.to_string(), "will".into()]),
        (h, "ve") => out.extend([h.to_string(), "have".into()]),
        (h, "d") => out.extend([h.to_string(), "would".into()]),
        (h, _) => out.push(h.to_string()),
    }
}

/// The units of a message and the raw English words (for their character n-grams).
fn units(marked: &Marked) -> (Vec<Unit>, Vec<String>, bool) {
    let low = &marked.low;
    let mut slot_at: Vec<Option<Kind>> = vec![None; low.len()];
    for (s, e, k) in &marked.spans {
        for x in slot_at.iter_mut().take(*e).skip(*s) {
            *x = Some(*k);
        }
    }
    let (mut out, mut raw_words) = (Vec::new(), Vec::new());
    let mut question = false;
    let mut i = 0;
    while i < low.len() {
        let c = low[i];
        if let Some(k) = slot_at[i] {
            while i < low.len() && slot_at[i] == Some(k) {
                i += 1;
            }
            out.push(Unit::Slot(k));
            continue;
        }
        if c.is_ascii_alphanumeric() {
            let s = i;
            while i < low.len()
                && slot_at[i].is_none()
                && (low[i].is_ascii_alphanumeric()
                    || (matches!(low[i], '\'' | '’')
                        && low.get(i + 1).is_some_and(char::is_ascii_alphabetic)))
            {
                i += 1;
            }
            let word: String = low[s..i]
                .iter()
                .map(|c| if *c == '’' { '\'' } else { *c })
                .collect();
            if word.bytes().all(|b| b.is_ascii_digit()) {
                // Chat slang (886 bye, 88, 666) stays itself; any other number is one token.
                let slang = matches!(
                    word.as_str(),
                    "88" | "886" | "666" | "6666" | "520" | "233" | "2333" | "1314" | "555"
                );
                out.push(Unit::Word(if slang { word } else { "<num>".into() }));
                continue;
            }
            let mut parts = Vec::new();
            push_contracted(&word, &mut parts);
            for p in parts {
                raw_words.push(p.clone());
                match expand_word(&p) {
                    [] => out.push(Unit::Word(stem(&p))),
                    many => out.extend(many.iter().map(|w| Unit::Word(stem(w)))),
                }
            }
            continue;
        }
        i += 1;
        if is_han(c) {
            out.push(Unit::Han(c));
        } else if matches!(c, '?' | '？') {
            question = true;
        } else if !c.is_whitespace()
            && !c.is_ascii_punctuation()
            && !is_modifier(c)
            && !"，。！、：；…～~“”‘’（）《》【】".contains(c)
        {
            out.push(Unit::Sym(c));
        }
    }
    (out, raw_words, question)
}

fn cue(name: &str) -> Fnv {
    let mut h = Fnv::new(b'c');
    h.str(name);
    h
}

/// Units read at most.
const MAX_UNITS: usize = 200;

/// The hashed feature ids of a message, sorted and without repeats.
pub fn features(text: &str, today: NaiveDate, bits: u32) -> Vec<u32> {
    let text: String = text.chars().take(MAX_CHARS).map(normalize_char).collect();
    features_of(&extract_marked(&text, today), bits)
}

/// Characters of a message the model reads (a 10,000-character message costs what a long one
/// does).
pub const MAX_CHARS: usize = 800;

/// The features of a message whose slots are already marked.
pub fn features_of(marked: &Marked, bits: u32) -> Vec<u32> {
    let (mut u, raw_words, question) = units(marked);
    u.truncate(MAX_UNITS);
    let mask = (1u64 << bits.clamp(8, 24)) - 1;
    let mut out: Vec<u32> = Vec::with_capacity(u.len() * 8 + 8);
    let mut put = |h: Fnv| out.push(((h.0 ^ (h.0 >> 32)) & mask) as u32);
    unit_ngrams(&u, &mut put);
    char_trigrams(&raw_words, &mut put);
    typed_pinyin(&u, &raw_words, &mut put);
    shape_cues(&u, &raw_words, question, &mut put);
    out.sort_unstable();
    out.dedup();
    out
}

/// Units, pairs and triples; the sound of Chinese characters and their pairs; what follows a
/// negation.
fn unit_ngrams(u: &[Unit], put: &mut dyn FnMut(Fnv)) {
    for (i, x) in u.iter().enumerate() {
        let mut h = Fnv::new(b'1');
        x.key(&mut h);
        put(h);
        if let Some(y) = u.get(i + 1) {
            let mut h = Fnv::new(b'2');
            x.key(&mut h);
            y.key(&mut h);
            put(h);
            if let Some(z) = u.get(i + 2) {
                let mut h = Fnv::new(b'3');
                x.key(&mut h);
                y.key(&mut h);
                z.key(&mut h);
                put(h);
            }
        }
        if let Unit::Han(_) = x {
            let mut h = Fnv::new(b'p');
            x.sound(&mut h);
            put(h);
            if let Some(y) = u.get(i + 1) {
                let mut h = Fnv::new(b'P');
                x.sound(&mut h);
                y.sound(&mut h);
                put(h);
            }
        }
        if x.is_negation() {
            for y in u.iter().skip(i + 1).take(2) {
                let mut h = Fnv::new(b'n');
                y.sound(&mut h);
                put(h);
            }
        }
    }
}

/// Character trigrams of Latin words of five or more (with their edges), for misspellings.
fn char_trigrams(raw_words: &[String], put: &mut dyn FnMut(Fnv)) {
    for w in raw_words {
        let chars: Vec<char> = std::iter::once('^')
            .chain(w.chars())
            .chain(std::iter::once('$'))
            .collect();
        if chars.len() >= 5 {
            for g in chars.windows(3) {
                let mut h = Fnv::new(b'g');
                g.iter().for_each(|c| h.char(*c));
                put(h);
            }
        }
    }
}

/// Pinyin typed in Latin letters next to Chinese (lixi怎么算), or as the whole message, meets
/// the characters' pinyin features.
fn typed_pinyin(u: &[Unit], raw_words: &[String], put: &mut dyn FnMut(Fnv)) {
    let has_han = u.iter().any(|x| matches!(x, Unit::Han(_)));
    let split: Vec<Option<Vec<&str>>> = raw_words.iter().map(|w| pinyin_split(w)).collect();
    if has_han || (!split.is_empty() && split.iter().all(Option::is_some)) {
        for syl in split.iter().flatten() {
            for (i, a) in syl.iter().enumerate() {
                let mut h = Fnv::new(b'p');
                h.str(a);
                put(h);
                if let Some(b) = syl.get(i + 1) {
                    let mut h = Fnv::new(b'P');
                    h.str(a);
                    h.str(b);
                    put(h);
                }
            }
        }
    }
}

/// The message's shape: a question, a negation, its length, its scripts, its first and last
/// units, and the whole of a short one.
fn shape_cues(u: &[Unit], raw_words: &[String], question: bool, put: &mut dyn FnMut(Fnv)) {
    let last_han = u.iter().rev().find_map(|x| match x {
        Unit::Han(c) => Some(*c),
        _ => None,
    });
    let first_word = u.first().and_then(|x| match x {
        Unit::Word(w) => Some(w.as_str()),
        _ => None,
    });
    let asks = question
        || matches!(u.last(), Some(Unit::Han('吗' | '呢' | '么' | '嘛')))
        || matches!(
            first_word,
            Some(
                "what"
                    | "how"
                    | "why"
                    | "when"
                    | "where"
                    | "which"
                    | "who"
                    | "is"
                    | "are"
                    | "can"
                    | "could"
                    | "do"
                    | "does"
                    | "did"
                    | "will"
                    | "would"
                    | "should"
                    | "may"
            )
        );
    put(cue("bias"));
    if asks {
        put(cue("question"));
    }
    if u.iter().any(Unit::is_negation) {
        put(cue("negation"));
    }
    let len = match u.len() {
        0 => "len0",
        1 => "len1",
        2 => "len2",
        3..=4 => "len3",
        5..=8 => "len5",
        9..=16 => "len9",
        _ => "len17",
    };
    put(cue(len));
    let han = last_han.is_some();
    let latin = !raw_words.is_empty();
    put(cue(match (han, latin) {
        (true, true) => "mixed",
        (true, false) => "zh",
        (false, true) => "en",
        (false, false) => "neither",
    }));
    if let Some(x) = u.first() {
        let mut h = Fnv::new(b'f');
        x.key(&mut h);
        put(h);
    }
    if let Some(x) = u.last() {
        let mut h = Fnv::new(b'l');
        x.key(&mut h);
        put(h);
    }
    if (1..=4).contains(&u.len()) {
        let mut h = Fnv::new(b'w');
        u.iter().for_each(|x| x.key(&mut h));
        put(h);
    }
}
