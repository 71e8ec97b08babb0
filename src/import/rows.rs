//! Turning one CSV row into a domain value, with a reason for every field that is wrong.

use super::csvfile::{echo, RowRef};
use crate::domain::{
    schedule, Account, IdLast4, Language, Method, Money, Order, Payment, PaymentKind, Phone, Terms,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

/// Longest account name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest item name, in characters.
pub const MAX_ITEM_CHARS: usize = 200;
/// Longest id, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// An id: 1 to 64 of `A-Z a-z 0-9 . _ -` (ids end up in keys, file names and messages).
pub fn id(row: &RowRef, column: &str) -> Result<String, String> {
    let v = row.get(column);
    if v.is_empty() {
        return Err(format!("{column} is empty"));
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if v.chars().count() > MAX_ID_CHARS || !v.chars().all(safe) {
        return Err(format!(
            "{column} '{}' must be 1 to {MAX_ID_CHARS} of the characters A-Z a-z 0-9 . _ -",
            echo(v)
        ));
    }
    Ok(v.to_string())
}

/// Marks that reorder displayed text (Unicode bidirectional embeddings, overrides, isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A text shown to people (a name, an item): not empty, at most `max` characters, no control
/// characters (newlines included) and no bidirectional marks.
fn display_text<'r>(row: &'r RowRef, column: &str, max: usize) -> Result<&'r str, String> {
    let v = row.get(column);
    if v.is_empty() {
        return Err(format!("{column} is empty"));
    }
    if v.chars().count() > max {
        return Err(format!("{column} is longer than {max} characters"));
    }
    if let Some(c) = v.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        return Err(format!(
            "{column} '{}' contains the control character U+{:04X} (newlines and direction marks are not allowed)",
            echo(v),
            u32::from(c)
        ));
    }
    Ok(v)
}

pub fn date(row: &RowRef, column: &str) -> Result<NaiveDate, String> {
    let v = row.get(column);
    let shaped = v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if shaped => Ok(d),
        _ => Err(format!("{column} '{v}' is not a date YYYY-MM-DD")),
    }
}

fn amount(row: &RowRef, column: &str) -> Result<Money, String> {
    let v = row.get(column);
    if v.chars().count() > 32 {
        return Err(format!("{column} '{}' is not an amount", echo(v)));
    }
    Money::parse_positive(v).map_err(|e| format!("{column}: {e}"))
}

pub fn account(row: &RowRef) -> Result<Account, String> {
    let name = display_text(row, "name", MAX_NAME_CHARS)?;
    let phone = Phone::parse(row.get("phone")).ok_or_else(|| {
        format!(
            "phone '{}' is not a mainland mobile number (11 digits starting 13–19)",
            echo(row.get("phone"))
        )
    })?;
    let id_last4 = IdLast4::parse(row.get("id_last4"))
        .ok_or("id_last4 must be three digits then a digit or X".to_string())?;
    let language = Language::parse(row.get("language"))
        .ok_or_else(|| format!("language '{}' must be zh or en", echo(row.get("language"))))?;
    let tz = match row.get("timezone") {
        "" => DEFAULT_TIMEZONE,
        other => other,
    };
    chrono_tz::Tz::from_str(tz)
        .map_err(|_| format!("timezone '{}' is not an IANA time zone name", echo(tz)))?;
    Ok(Account {
        id: id(row, "account_id")?,
        name: name.to_string(),
        phone,
        id_last4,
        language,
        timezone: tz.to_string(),
    })
}

pub fn order(row: &RowRef) -> Result<Order, String> {
    let item = display_text(row, "item", MAX_ITEM_CHARS)?;
    let periods: u32 = row
        .get("periods")
        .parse()
        .ok()
        .filter(|n| (1..=schedule::MAX_PERIODS).contains(n))
        .ok_or_else(|| {
            format!(
                "periods '{}' must be a whole number from 1 to 60",
                echo(row.get("periods"))
            )
        })?;
    let method = Method::parse(row.get("method")).ok_or_else(|| {
        format!(
            "method '{}' must be flat_fee, equal_installment or equal_principal",
            echo(row.get("method"))
        )
    })?;
    let rate_text = row.get("monthly_rate");
    let monthly_rate = rate_text
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
        .then(|| Decimal::from_str(rate_text).ok())
        .flatten()
        .filter(|r| *r >= Decimal::ZERO && *r <= schedule::MAX_MONTHLY_RATE)
        .ok_or_else(|| {
            format!(
                "monthly_rate '{}' must be a fraction from 0 to 0.05 (0.006 = 0.6 %)",
                echo(rate_text)
            )
        })?;
    let terms = Terms {
        principal: amount(row, "principal")?,
        periods,
        method,
        monthly_rate: monthly_rate.normalize(),
        first_due_date: date(row, "first_due_date")?,
    };
    schedule::build(&terms).map_err(|e| format!("cannot make a schedule: {e}"))?;
    Ok(Order {
        id: id(row, "order_id")?,
        account_id: id(row, "account_id")?,
        item: item.to_string(),
        terms,
        agreements: Default::default(),
    })
}

pub fn payment(row: &RowRef) -> Result<(String, Payment), String> {
    let kind = match row.get("kind") {
        "" | "installment" => PaymentKind::Installment,
        "settlement" => PaymentKind::Settlement,
        other => {
            return Err(format!(
                "kind '{}' must be installment or settlement",
                echo(other)
            ))
        }
    };
    let p = Payment {
        id: id(row, "payment_id")?,
        amount: amount(row, "amount")?,
        paid_on: date(row, "paid_on")?,
        kind,
    };
    Ok((id(row, "order_id")?, p))
}
