//! Turning one CSV row into a domain value, with a reason for every field that is wrong.

use super::csvfile::RowRef;
use crate::domain::{
    schedule, Account, IdLast4, Language, Method, Money, Order, Payment, PaymentKind, Phone, Terms,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

/// An id: 1 to 64 characters, no control characters or spaces.
pub fn id(row: &RowRef, column: &str) -> Result<String, String> {
    let v = row.get(column);
    if v.is_empty() {
        return Err(format!("{column} is empty"));
    }
    if v.chars().count() > 64 || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "{column} '{}' must be 1 to 64 characters without spaces",
            v.escape_debug()
        ));
    }
    Ok(v.to_string())
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
    Money::parse_positive(row.get(column)).map_err(|e| format!("{column}: {e}"))
}

pub fn account(row: &RowRef) -> Result<Account, String> {
    let name = row.get("name");
    if name.is_empty() {
        return Err("name is empty".into());
    }
    let phone = Phone::parse(row.get("phone")).ok_or_else(|| {
        format!(
            "phone '{}' is not a mainland mobile number (11 digits starting 13–19)",
            row.get("phone")
        )
    })?;
    let id_last4 = IdLast4::parse(row.get("id_last4"))
        .ok_or("id_last4 must be three digits then a digit or X".to_string())?;
    let language = Language::parse(row.get("language"))
        .ok_or_else(|| format!("language '{}' must be zh or en", row.get("language")))?;
    let tz = match row.get("timezone") {
        "" => DEFAULT_TIMEZONE,
        other => other,
    };
    chrono_tz::Tz::from_str(tz)
        .map_err(|_| format!("timezone '{tz}' is not an IANA time zone name"))?;
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
    let item = row.get("item");
    if item.is_empty() {
        return Err("item is empty".into());
    }
    let periods: u32 = row
        .get("periods")
        .parse()
        .ok()
        .filter(|n| (1..=schedule::MAX_PERIODS).contains(n))
        .ok_or_else(|| {
            format!(
                "periods '{}' must be a whole number from 1 to 60",
                row.get("periods")
            )
        })?;
    let method = Method::parse(row.get("method")).ok_or_else(|| {
        format!(
            "method '{}' must be flat_fee, equal_installment or equal_principal",
            row.get("method")
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
            format!("monthly_rate '{rate_text}' must be a fraction from 0 to 0.05 (0.006 = 0.6 %)")
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
        other => return Err(format!("kind '{other}' must be installment or settlement")),
    };
    let p = Payment {
        id: id(row, "payment_id")?,
        amount: amount(row, "amount")?,
        paid_on: date(row, "paid_on")?,
        kind,
    };
    Ok((id(row, "order_id")?, p))
}
