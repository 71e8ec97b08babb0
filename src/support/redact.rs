//! Redaction of what leaves a customer's chat for the support group (transcripts, relays):
//! phone numbers show as 138****5678, long digit runs (ID or card numbers) as ****, a message
//! that is only an ID's last four as ****, and the account holder's name and ID last four
//! wherever they appear.

use crate::domain::{Account, IdLast4, Phone};
use regex::Regex;
use std::sync::OnceLock;

fn number_runs() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // A constant pattern, not input: compiling it cannot fail at run time.
    RE.get_or_init(|| Regex::new(r"(?-u:\b)\d[\d \-]{5,}[\dXx](?-u:\b)").expect("constant regex"))
}

/// `text` with phones masked, ID/card-like digit runs hidden and the account's name and ID
/// last four (when the account is known) replaced.
pub fn redact(text: &str, account: Option<&Account>) -> String {
    if IdLast4::parse(text.trim()).is_some() {
        return "****".to_string();
    }
    let masked = number_runs().replace_all(text, |c: &regex::Captures| {
        let run = &c[0];
        if let Some(p) = Phone::parse(run) {
            return p.masked();
        }
        let digits = run.chars().filter(char::is_ascii_alphanumeric).count();
        if run.contains('-') || digits < 8 {
            run.to_string()
        } else {
            "****".to_string()
        }
    });
    let Some(a) = account else {
        return masked.into_owned();
    };
    let mut out = masked.into_owned();
    let name = a.name.trim();
    if !name.is_empty() {
        out = out.replace(name, "*");
    }
    let id = a.id_last4.as_str();
    for form in [id.to_string(), id.to_ascii_lowercase()] {
        out = out.replace(&form, "****");
    }
    out
}
