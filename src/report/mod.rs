//! `repaybot report` (SPEC 2.6): what operators ask of a service bot, computed from the
//! operations events (store/events.rs) and the ledger. `compute` decides the numbers, `text`
//! and `html` only lay them out. Never shows ids of people, phones, names or message text
//! beyond the redacted not-understood messages.

pub mod compute;
pub mod html;
pub mod text;

pub use compute::{Period, Report, REPORT_TZ};

use crate::domain::{view, InstallmentStatus, Policy};
use crate::store::Store;
use anyhow::Result;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

/// How long after the period the events are read, to find late first agent replies.
const REPLY_LOOKAHEAD_DAYS: u64 = 90;

/// The report of `period` from the store's events and ledger.
pub fn build(store: &Store, policy: &Policy, period: Period) -> Result<Report> {
    build_with(store, policy, period, &mut |_| {}).map(|(r, _)| r)
}

/// `build`, calling `seen(at)` for each event read; also returns how many were read.
pub fn build_with(
    store: &Store,
    policy: &Policy,
    period: Period,
    seen: &mut dyn FnMut(chrono::DateTime<Utc>),
) -> Result<(Report, usize)> {
    let start = start_of(period.from);
    let end = start_of(
        period
            .to
            .checked_add_days(Days::new(1 + REPLY_LOOKAHEAD_DAYS))
            .unwrap_or(period.to),
    );
    let events = store.events_between_with(start, end, seen)?;
    let paid = |order: &str, due: NaiveDate| paid_by_due(store, policy, order, due);
    Ok((compute::compute(&events, period, &paid), events.len()))
}

/// [`build_with`] behind a progress bar over the period's days (stderr; see ops/progress.rs),
/// ending with a line of how many events were read and how long it took.
pub fn build_showing_progress(store: &Store, policy: &Policy, period: Period) -> Result<Report> {
    let days = (period.to - period.from).num_days().max(0) as u64 + 1;
    let mut progress = crate::ops::progress::Progress::steps("report", days, "days");
    let first = start_of(period.from);
    let mut seen = |at: chrono::DateTime<Utc>| {
        progress.set(((at - first).num_days().max(0) as u64 + 1).min(days));
    };
    let (report, events) = build_with(store, policy, period, &mut seen)?;
    let (from, to) = (period.from, period.to);
    progress.finish_steps(&format!("{events} events read for {from} to {to}"));
    Ok(report)
}

/// The instant a shop-time day begins.
fn start_of(day: NaiveDate) -> chrono::DateTime<Utc> {
    REPORT_TZ
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Whether the order's installment due on `due` was fully paid by the end of that day, from
/// the ledger (payments dated after it are left out). None when the order or installment is
/// unknown (e.g. the order was re-imported with other dates).
pub fn paid_by_due(store: &Store, policy: &Policy, order_id: &str, due: NaiveDate) -> Option<bool> {
    let order = store.order(order_id).ok()??.data;
    let payments: Vec<_> = store
        .payments_of(order_id)
        .ok()?
        .into_iter()
        .filter(|p| p.paid_on <= due)
        .collect();
    // The rate only labels the view; passing one skips computing it.
    let v = view::order_view_at_rate(&order, Some(Decimal::ZERO), &payments, due, policy).ok()?;
    let inst = v.installments.iter().find(|i| i.due_date == due)?;
    Some(inst.status == InstallmentStatus::Paid)
}
