//! What the customer reads: the proactive reminder (one message for everything due that day,
//! with "pay now", "remind me tomorrow" and "reminder settings" buttons) and the lines of the
//! reminder plan. Every text is a template from dialogs/text.
//!
//! Buttons of a proactive message carry `r:` callback data that `App::turn` maps to an intent,
//! because no conversation turn produced them: `r:pay` (repay), `r:snooze` (a one-off reminder
//! tomorrow), `r:plan` (the reminder plan).

use super::plan::{Item, Kind};
use crate::core::Reply;
use crate::dialog::{Flows, Lang};
use chrono::{NaiveDate, NaiveTime};
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;

pub const PAY: &str = "r:pay";
pub const SNOOZE: &str = "r:snooze";
pub const PLAN: &str = "r:plan";

/// The intent and slots a reminder button stands for; None for other callback data.
pub fn button_intent(data: &str, today: NaiveDate) -> Option<(&'static str, Vars)> {
    match data {
        PAY => Some(("repay", Vars::new())),
        SNOOZE => {
            let tomorrow = today.succ_opt()?;
            Some((
                "reminder_set",
                Vars::from([("date".to_string(), tomorrow.to_string())]),
            ))
        }
        PLAN => Some(("reminder_set", Vars::new())),
        _ => None,
    }
}

/// The vars of one item's line.
pub fn item_vars(item: &Item) -> Vars {
    let days = match item.kind {
        Kind::Before(d) | Kind::Overdue(d) | Kind::OverdueIfUnpaid(d) => d,
        Kind::DueToday => 0,
    };
    Vars::from([
        ("item".to_string(), item.item.clone()),
        ("order_id".to_string(), item.order_id.clone()),
        ("n".to_string(), item.n.to_string()),
        ("due_date".to_string(), item.due_date.to_string()),
        ("amount".to_string(), item.amount.to_string()),
        ("days".to_string(), days.to_string()),
    ])
}

fn kind_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Before(_) => "before",
        Kind::DueToday => "today",
        Kind::Overdue(_) => "overdue",
        Kind::OverdueIfUnpaid(_) => "overdue_if",
    }
}

/// The proactive message for a day's items (`catch_up` after downtime says so).
pub fn reminder(flows: &Flows, lang: Lang, items: &[Item], catch_up: bool) -> Reply {
    let none = Vars::new();
    let head = if items.iter().any(|i| matches!(i.kind, Kind::Overdue(_))) {
        "reminders.msg_head_overdue"
    } else {
        "reminders.msg_head"
    };
    let mut lines = vec![flows.text(lang, head, &none)];
    if catch_up {
        lines.push(flows.text(lang, "reminders.msg_catch_up", &none));
    }
    for item in items {
        // A message only carries what is due: a conditional notice reads as the notice.
        let kind = match item.kind {
            Kind::OverdueIfUnpaid(n) => Kind::Overdue(n),
            k => k,
        };
        let key = format!("reminders.msg_{}", kind_key(kind));
        lines.push(flows.text(lang, &key, &item_vars(item)));
    }
    lines.push(flows.text(lang, "reminders.msg_foot", &none));
    let button = |key: &str, data: &str| (flows.text(lang, key, &none), data.to_string());
    Reply {
        text: lines.join("\n"),
        buttons: vec![
            button("reminders.btn_pay_now", PAY),
            button("reminders.btn_snooze", SNOOZE),
            button("reminders.btn_settings", PLAN),
        ],
        ..Reply::default()
    }
}

/// The plan's lines: one per planned day and item, or the "nothing planned" line.
pub fn plan_lines(
    flows: &Flows,
    lang: Lang,
    days: &[(NaiveDate, Vec<Item>)],
    time: NaiveTime,
    one_offs: &[NaiveDate],
) -> String {
    let mut lines = Vec::new();
    for (date, items) in days {
        for item in items {
            let mut v = item_vars(item);
            v.insert("date".into(), date.to_string());
            v.insert("time".into(), time.format("%H:%M").to_string());
            let kind = if one_offs.contains(date) {
                "oneoff"
            } else {
                kind_key(item.kind)
            };
            let key = format!("reminders.line_{kind}");
            lines.push(flows.text(lang, &key, &v));
        }
    }
    if lines.is_empty() {
        lines.push(flows.text(lang, "reminders.line_none", &Vars::new()));
    }
    lines.join("\n")
}
