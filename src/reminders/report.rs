//! The operators' view (`repaybot reminders ACCOUNT_ID`, run from `cli`) of an account's reminders: the settings,
//! the bound chat, the scheduler's state and the next planned days (local and UTC, kind, orders
//! and amounts as of today; the overdue notices that follow only if an installment stays
//! unpaid are marked `if unpaid`).

use super::{plan::Kind, Overview};
use crate::settings::Settings;
use chrono::{DateTime, Utc};
use std::fmt::Write;

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The report as text.
pub fn render(o: &Overview, settings: &Settings) -> String {
    let rp = &settings.reminders;
    let tz = super::tz_of(&o.account);
    let mut s = String::new();
    let a = &o.account;
    let _ = writeln!(
        s,
        "account {} ({}, {})",
        a.id,
        a.timezone,
        a.language.as_str()
    );
    let _ = match &o.chat {
        Some(chat) => writeln!(s, "chat: {chat}"),
        None => writeln!(s, "chat: none bound: nothing will be sent"),
    };
    let days: Vec<String> = o.prefs.days(rp).iter().map(|d| d.to_string()).collect();
    let pre_due = if o.prefs.pre_due_off {
        "stopped by the customer".to_string()
    } else {
        match o.prefs.paused_until {
            Some(until) => format!("paused until {until}"),
            None => "on".to_string(),
        }
    };
    let _ = writeln!(
        s,
        "pre-due: {pre_due}; days before {}; at {} local",
        days.join("/"),
        o.prefs.send_time(rp).format("%H:%M")
    );
    let overdue: Vec<String> = rp.overdue_days.iter().map(|d| d.to_string()).collect();
    let paused = if o.overdue_paused {
        "paused (open dispute or hardship case)"
    } else {
        "on"
    };
    let _ = writeln!(
        s,
        "overdue notices: {paused}; days after {}",
        overdue.join("/")
    );
    let one_offs: Vec<String> = o.prefs.one_offs.iter().map(|d| d.to_string()).collect();
    if !one_offs.is_empty() {
        let _ = writeln!(s, "one-off dates: {}", one_offs.join(", "));
    }
    let show = |d: Option<chrono::NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
    let wake = o.state.wake.as_ref().map_or("none".to_string(), |w| {
        let local = w.at.with_timezone(&tz).format("%Y-%m-%d %H:%M");
        format!("{local} local = {}", utc(w.at))
    });
    let _ = writeln!(
        s,
        "state: last sent {}; handled through {}; next wake {wake}",
        show(o.state.last_sent),
        show(o.state.done_through)
    );
    let _ = writeln!(s, "planned (amounts as of today):");
    if o.days.is_empty() {
        let _ = writeln!(s, "  nothing planned");
    }
    for d in &o.days {
        let local = d.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z");
        let _ = writeln!(s, "  {local}  ({})", utc(d.at));
        for i in &d.items {
            let kind = match i.kind {
                Kind::Before(n) => format!("before D-{n}"),
                Kind::DueToday => "due D0".to_string(),
                Kind::Overdue(n) if o.overdue_paused => format!("overdue D+{n} (paused)"),
                Kind::Overdue(n) => format!("overdue D+{n}"),
                Kind::OverdueIfUnpaid(n) if o.overdue_paused => {
                    format!("if unpaid D+{n} (paused)")
                }
                Kind::OverdueIfUnpaid(n) => format!("if unpaid D+{n}"),
            };
            let _ = writeln!(
                s,
                "    {kind:<16} {} #{} due {} {}",
                i.order_id, i.n, i.due_date, i.amount
            );
        }
    }
    s
}
