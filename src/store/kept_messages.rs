//! Messages the bot did not understand, kept redacted (digit runs masked, phone / ID numbers,
//! e-mail addresses and stated names dropped) per day, so an operator can label the frequent
//! ones into the training data (`repaybot nlu review`). In the `chat` tree under
//! `nlu_unknown/<day>/<seq>/<chat>`: the key ends in `/<chat>`, so `/forget` deletes them with
//! the chat's other records. Off when the settings say `[nlu] keep_unknown = false`.

use super::Store;
use anyhow::Result;
use chrono::NaiveDate;
use std::collections::BTreeMap;

const PREFIX: &str = "nlu_unknown/";
/// Longest kept text, in characters.
const MAX_CHARS: usize = 200;

/// The message with digits masked and anything identifying dropped; `None` when nothing is left.
pub fn redact(text: &str) -> Option<String> {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.contains('@') {
            out.push_str("<email>");
            continue;
        }
        out.push_str(&mask_digits(word));
    }
    let out = drop_names(&out);
    let out: String = out.chars().take(MAX_CHARS).collect();
    (!out.trim().is_empty()).then_some(out)
}

/// Each run of digits becomes `#`; a run of 7 or more (a phone, an ID, a card) becomes `<id>`.
fn mask_digits(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || ('０'..='９').contains(&chars[i]) {
            let s = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || ('０'..='９').contains(&chars[i])
                    || (matches!(chars[i], 'x' | 'X') && i - s >= 14))
            {
                i += 1;
            }
            out.push_str(if i - s >= 7 { "<id>" } else { "#" });
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// What follows 我叫 / 名字是 / my name is (a stated name) becomes `<name>`.
fn drop_names(text: &str) -> String {
    const CUES: &[&str] = &[
        "我叫",
        "名字是",
        "名字叫",
        "本人是",
        "my name is ",
        "name's ",
        "this is ",
    ];
    let lower = text.to_lowercase();
    for cue in CUES {
        if let Some(at) = lower.find(cue) {
            if lower.len() != text.len() {
                break; // lower-casing changed the byte offsets: drop after the cue conservatively
            }
            let start = at + cue.len();
            let rest = &text[start..];
            let end = rest
                .char_indices()
                .find(|(_, c)| c.is_whitespace() || "，,。.!！?？".contains(*c))
                .map_or(rest.len(), |(i, _)| i);
            return format!("{}<name>{}", &text[..start], drop_names(&rest[end..]));
        }
    }
    text.to_string()
}

impl Store {
    /// Keeps one message not understood in chat `chat` on `day`, redacted.
    pub fn keep_unknown(&self, chat: &str, day: NaiveDate, text: &str) -> Result<()> {
        let Some(kept) = redact(text) else {
            return Ok(());
        };
        let seq = self.db.generate_id()?;
        let key = format!("{PREFIX}{day}/{seq:016x}/{chat}");
        self.chat.insert(key.as_bytes(), kept.as_bytes())?;
        Ok(())
    }

    /// The kept messages from `since` on (all without it), most frequent first (then by text),
    /// with how often each was kept.
    pub fn unknown_review(&self, since: Option<NaiveDate>) -> Result<Vec<(String, usize)>> {
        let from = match since {
            Some(d) => format!("{PREFIX}{d}"),
            None => PREFIX.to_string(),
        };
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for item in self.chat.range(from.as_bytes()..) {
            let (key, value) = item?;
            if !key.starts_with(PREFIX.as_bytes()) {
                break;
            }
            *counts
                .entry(String::from_utf8_lossy(&value).into_owned())
                .or_default() += 1;
        }
        let mut list: Vec<(String, usize)> = counts.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(list)
    }
}
