//! The numbers of `repaybot report` (SPEC 2.6), computed from recorded events: a pure function
//! of the events, the date range and a ledger question ("was this installment paid by its due
//! date?") that the caller answers from the store. No I/O, no clock; counts and ids only, so no
//! field can carry a phone, a name or message text (except the redacted not-understood texts).

use crate::store::events::{AgreementKind, AgreementOutcome, Event, Handler, Recorded};
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Days are counted in the shop's time zone.
pub const REPORT_TZ: Tz = chrono_tz::Asia::Shanghai;

/// How many of the most frequent not-understood messages the report lists.
pub const TOP_UNKNOWN: usize = 10;

/// What was asked: the days `from ..= to` (shop time) and the day the report is made.
#[derive(Clone, Copy, Debug)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub today: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub timezone: String,
    pub conversations: Conversations,
    pub understanding: Understanding,
    pub tickets: Tickets,
    pub payments: Payments,
    pub reminders: Reminders,
    pub negotiation: Vec<NegotiationCount>,
}

/// A conversation is one chat's turns on one day; it is contained when no person took part
/// (no turn handed to a person and no ticket opened by that chat that day).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conversations {
    pub total: u64,
    pub contained: u64,
    /// `contained / total`, 4 decimals; null without conversations.
    pub containment_rate: Option<Decimal>,
    /// Every day of the period, in order.
    pub per_day: Vec<DayConversations>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayConversations {
    pub day: NaiveDate,
    pub conversations: u64,
    pub contained: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Understanding {
    pub turns: u64,
    pub not_understood: u64,
    pub not_understood_rate: Option<Decimal>,
    /// The most frequent redacted not-understood texts, most frequent first.
    pub top_not_understood: Vec<TextCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextCount {
    pub text: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tickets {
    pub opened: u64,
    pub closed: u64,
    /// Median seconds from opening to the first agent reply, over answered tickets.
    pub median_first_reply_seconds: Option<Decimal>,
    pub by_reason: Vec<ReasonTickets>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReasonTickets {
    pub reason: String,
    pub opened: u64,
    pub answered: u64,
    pub median_first_reply_seconds: Option<Decimal>,
}

/// Payments made through the bot that were applied (confirmed), by gateway and day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Payments {
    pub count: u64,
    pub amount: Decimal,
    pub by_gateway: Vec<GatewayPayments>,
    pub per_day: Vec<DayPayments>,
    /// Every payment event by its status (`applied`, `pending`, `failed`, `expired`).
    pub by_status: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GatewayPayments {
    pub gateway: String,
    pub count: u64,
    pub amount: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayPayments {
    pub day: NaiveDate,
    pub gateway: String,
    pub count: u64,
    pub amount: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reminders {
    pub sent: u64,
    pub failed: u64,
    pub sent_by_kind: BTreeMap<String, u64>,
    /// Distinct installments (order, due date) reminded in the period.
    pub reminded_installments: u64,
    /// Of those, the ones whose due date is before the report's day (their outcome is known).
    pub due_passed: u64,
    pub paid_by_due: u64,
    /// `paid_by_due / due_passed`, 4 decimals.
    pub paid_by_due_share: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NegotiationCount {
    pub kind: AgreementKind,
    pub outcome: AgreementOutcome,
    pub count: u64,
}

/// `a / b` to 4 decimals (no trailing zeros); None when `b` is 0.
pub fn rate(a: u64, b: u64) -> Option<Decimal> {
    (b > 0).then(|| {
        (Decimal::from(a) / Decimal::from(b))
            .round_dp(4)
            .normalize()
    })
}

/// The median of whole seconds; the mean of the two middle values for an even count.
pub fn median(mut values: Vec<i64>) -> Option<Decimal> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(Decimal::from(values[n / 2])),
        _ => Some((Decimal::from(values[n / 2 - 1]) + Decimal::from(values[n / 2])) / Decimal::TWO),
    }
}

fn day_of(r: &Recorded) -> NaiveDate {
    r.at.with_timezone(&REPORT_TZ).date_naive()
}

/// The report over `events` (recorded from the period's first day on, oldest first; later
/// events only answer "when was this ticket first answered"). `paid_by_due(order, due)` says
/// whether the order's installment due that day was fully paid by then (None: unknown).
pub fn compute(
    events: &[Recorded],
    period: Period,
    paid_by_due: &dyn Fn(&str, NaiveDate) -> Option<bool>,
) -> Report {
    let inside: Vec<&Recorded> = events
        .iter()
        .filter(|r| (period.from..=period.to).contains(&day_of(r)))
        .collect();
    Report {
        from: period.from,
        to: period.to,
        timezone: REPORT_TZ.name().to_string(),
        conversations: conversations(&inside, period),
        understanding: understanding(&inside),
        tickets: tickets(&inside, events),
        payments: payments(&inside),
        reminders: reminders(&inside, period.today, paid_by_due),
        negotiation: negotiation(&inside),
    }
}

fn conversations(events: &[&Recorded], period: Period) -> Conversations {
    let mut talked: BTreeMap<(NaiveDate, &str), bool> = BTreeMap::new();
    let mut escalated: BTreeSet<(NaiveDate, &str)> = BTreeSet::new();
    for r in events {
        match &r.event {
            Event::Turn { chat, handled, .. } => {
                let person = talked.entry((day_of(r), chat.as_str())).or_insert(false);
                *person |= *handled == Handler::Person;
            }
            Event::TicketOpened { chat, .. } => {
                escalated.insert((day_of(r), chat.as_str()));
            }
            _ => {}
        }
    }
    let mut per_day: BTreeMap<NaiveDate, (u64, u64)> = period
        .from
        .iter_days()
        .take_while(|d| *d <= period.to)
        .take(3660)
        .map(|d| (d, (0, 0)))
        .collect();
    for (key, person) in &talked {
        let day = per_day.entry(key.0).or_default();
        day.0 += 1;
        if !*person && !escalated.contains(key) {
            day.1 += 1;
        }
    }
    let total = per_day.values().map(|d| d.0).sum();
    let contained = per_day.values().map(|d| d.1).sum();
    Conversations {
        total,
        contained,
        containment_rate: rate(contained, total),
        per_day: per_day
            .into_iter()
            .map(|(day, (conversations, contained))| DayConversations {
                day,
                conversations,
                contained,
            })
            .collect(),
    }
}

fn understanding(events: &[&Recorded]) -> Understanding {
    let (mut turns, mut missed) = (0, 0);
    let mut texts: HashMap<&str, u64> = HashMap::new();
    for r in events {
        match &r.event {
            Event::Turn { understood, .. } => {
                turns += 1;
                missed += u64::from(!understood);
            }
            Event::NotUnderstood { text, .. } => *texts.entry(text.as_str()).or_default() += 1,
            _ => {}
        }
    }
    let mut top: Vec<TextCount> = texts
        .into_iter()
        .map(|(text, count)| TextCount {
            text: text.to_string(),
            count,
        })
        .collect();
    top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
    top.truncate(TOP_UNKNOWN);
    Understanding {
        turns,
        not_understood: missed,
        not_understood_rate: rate(missed, turns),
        top_not_understood: top,
    }
}

fn tickets(inside: &[&Recorded], all: &[Recorded]) -> Tickets {
    let mut first_reply: HashMap<u64, chrono::DateTime<Utc>> = HashMap::new();
    for r in all {
        if let Event::FirstAgentReply { ticket, .. } = &r.event {
            first_reply.entry(*ticket).or_insert(r.at);
        }
    }
    let mut by_reason: BTreeMap<&str, (u64, Vec<i64>)> = BTreeMap::new();
    let mut closed = 0;
    for r in inside {
        match &r.event {
            Event::TicketOpened { ticket, reason, .. } => {
                let entry = by_reason.entry(reason.as_str()).or_default();
                entry.0 += 1;
                if let Some(reply) = first_reply.get(ticket) {
                    entry.1.push((*reply - r.at).num_seconds().max(0));
                }
            }
            Event::TicketClosed { .. } => closed += 1,
            _ => {}
        }
    }
    let all_waits: Vec<i64> = by_reason.values().flat_map(|v| v.1.clone()).collect();
    Tickets {
        opened: by_reason.values().map(|v| v.0).sum(),
        closed,
        median_first_reply_seconds: median(all_waits),
        by_reason: by_reason
            .into_iter()
            .map(|(reason, (opened, waits))| ReasonTickets {
                reason: reason.to_string(),
                opened,
                answered: waits.len() as u64,
                median_first_reply_seconds: median(waits),
            })
            .collect(),
    }
}

fn payments(events: &[&Recorded]) -> Payments {
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_day: BTreeMap<(NaiveDate, &str), (u64, Decimal)> = BTreeMap::new();
    for r in events {
        if let Event::Payment {
            gateway,
            amount,
            status,
            ..
        } = &r.event
        {
            *by_status.entry(status.clone()).or_default() += 1;
            if status == "applied" {
                let e = per_day.entry((day_of(r), gateway.as_str())).or_default();
                e.0 += 1;
                e.1 += *amount;
            }
        }
    }
    let mut by_gateway: BTreeMap<&str, (u64, Decimal)> = BTreeMap::new();
    for ((_, gateway), (count, amount)) in &per_day {
        let e = by_gateway.entry(gateway).or_default();
        e.0 += count;
        e.1 += amount;
    }
    Payments {
        count: by_gateway.values().map(|g| g.0).sum(),
        amount: by_gateway.values().map(|g| g.1).sum(),
        by_gateway: by_gateway
            .into_iter()
            .map(|(gateway, (count, amount))| GatewayPayments {
                gateway: gateway.to_string(),
                count,
                amount,
            })
            .collect(),
        per_day: per_day
            .into_iter()
            .map(|((day, gateway), (count, amount))| DayPayments {
                day,
                gateway: gateway.to_string(),
                count,
                amount,
            })
            .collect(),
        by_status,
    }
}

fn reminders(
    events: &[&Recorded],
    today: NaiveDate,
    paid_by_due: &dyn Fn(&str, NaiveDate) -> Option<bool>,
) -> Reminders {
    let mut sent_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut failed = 0;
    let mut reminded: BTreeSet<(&str, NaiveDate)> = BTreeSet::new();
    for r in events {
        match &r.event {
            Event::ReminderSent {
                kind, due, order, ..
            } => {
                *sent_by_kind.entry(kind.clone()).or_default() += 1;
                reminded.insert((order.as_str(), *due));
            }
            Event::ReminderFailed { .. } => failed += 1,
            _ => {}
        }
    }
    let passed: Vec<_> = reminded.iter().filter(|(_, due)| *due < today).collect();
    let paid = passed
        .iter()
        .filter(|(order, due)| paid_by_due(order, *due) == Some(true))
        .count() as u64;
    Reminders {
        sent: sent_by_kind.values().sum(),
        failed,
        sent_by_kind,
        reminded_installments: reminded.len() as u64,
        due_passed: passed.len() as u64,
        paid_by_due: paid,
        paid_by_due_share: rate(paid, passed.len() as u64),
    }
}

fn negotiation(events: &[&Recorded]) -> Vec<NegotiationCount> {
    let mut counts: BTreeMap<(AgreementKind, AgreementOutcome), u64> = BTreeMap::new();
    for r in events {
        if let Event::Agreement { kind, outcome, .. } = &r.event {
            *counts.entry((*kind, *outcome)).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((kind, outcome), count)| NegotiationCount {
            kind,
            outcome,
            count,
        })
        .collect()
}
