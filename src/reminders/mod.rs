//! Reminders that survive restarts (SPEC 3.6, 4.10): the rules (`plan`), the durable state and
//! due-time index (`index`), the message and calendar file (`message`, `ics`) and the scheduler
//! that sends them through a front end's [`Deliver`] (`scheduler`).
//!
//! Per account there is one wake in the index. When it is due the scheduler recomputes from the
//! current ledger what that day covers, sends one combined message to the bound chat, and in
//! one transaction marks the day and writes the next wake. [`reschedule`] recomputes the wake
//! after anything that changes what is due (a payment, an agreement, new settings).

pub mod ics;
pub mod index;
pub mod message;
pub mod plan;
pub mod report;
pub mod scheduler;
pub mod wake;

pub use index::{RemindState, Wake};
pub use plan::{Item, Kind, Prefs, RemindPolicy};
pub use scheduler::{
    day_load, run, run_once, run_once_with, spread_day, DayLoad, Deliver, DeliverFuture,
    PassOptions, PassReport, Unreachable,
};
pub use wake::{Delivery, Outcome, Prepared, Ready, Steps, MAX_FAILURES};

use crate::domain::Account;
use crate::settings::Settings;
use crate::store::{Store, TicketReason, TicketStatus};
use anyhow::{bail, Result};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The customer's reminder choices (defaults when never set).
pub fn prefs(store: &Store, account_id: &str) -> Result<Prefs> {
    Ok(store
        .get_chat::<Prefs>(&format!("remind/{account_id}"))?
        .unwrap_or_default())
}

/// Saves the customer's choices (flushed) and reschedules the account from `today`, its
/// calendar day.
pub fn save_prefs(
    store: &Store,
    settings: &Settings,
    account_id: &str,
    prefs: &Prefs,
    origin: &str,
    today: NaiveDate,
) -> Result<Option<Wake>> {
    store.put_chat(&format!("remind/{account_id}"), origin, prefs.clone())?;
    reschedule(store, settings, account_id, today)
}

/// Whether overdue notices are paused for the account (SPEC 4.10): a complaint or dispute ticket
/// still open, or a hardship case waiting for a decision or the customer's confirmation.
pub fn overdue_paused(store: &Store, account_id: &str) -> Result<bool> {
    if store.pending_case(account_id)?.is_some() {
        return Ok(true);
    }
    Ok(store.tickets()?.iter().any(|t| {
        t.account_id.as_deref() == Some(account_id)
            && t.reason == TicketReason::Complaint
            && t.status != TicketStatus::Closed
    }))
}

pub fn tz_of(account: &Account) -> Tz {
    account
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

/// The instant of a reminder on local `date` at the customer's time (a time skipped by a
/// daylight-saving change moves an hour later).
pub fn send_instant(
    policy: &RemindPolicy,
    prefs: &Prefs,
    tz: Tz,
    date: NaiveDate,
) -> DateTime<Utc> {
    let naive = date.and_time(prefs.send_time(policy));
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| naive.and_utc(), |l| l.with_timezone(&Utc))
}

/// The first day from which the account still has reminders to handle on local `today`.
fn start_day(state: &RemindState, today: NaiveDate) -> NaiveDate {
    let mut start = today;
    if state.last_sent.is_some_and(|d| d >= today) {
        start = today + Days::new(1);
    }
    if let Some(d) = state.done_through {
        start = start.max(d + Days::new(1));
    }
    start
}

/// The day of a wake not handled yet when it is before `from` (after downtime: one catch-up
/// message from its day), else `from`: a restart or a reschedule never skips a reminder day
/// that was not handled. The wake may lie ahead while its day is past (moved to the end of the
/// quiet hours, or to a retry): its day still counts. A wake's day is always after
/// `done_through` (handling a day moves the wake past it).
fn missed_or(state: &RemindState, from: NaiveDate) -> NaiveDate {
    match &state.wake {
        Some(w) if w.date < from => w.date,
        _ => from,
    }
}

/// The wake for the first reminder day on or after `from`, from the views of the bill.
fn next_wake(
    settings: &Settings,
    account: &Account,
    prefs: &Prefs,
    orders: &[crate::domain::OrderView],
    from: NaiveDate,
) -> Option<Wake> {
    let date = plan::fire_dates(orders, prefs, &settings.reminders, from)
        .into_iter()
        .next()?;
    Some(Wake {
        at: send_instant(&settings.reminders, prefs, tz_of(account), date),
        date,
    })
}

/// Recomputes the account's next wake from the current ledger and settings (after a payment,
/// a deferral, a restructuring or new reminder settings) on `today`, the account's calendar day
/// (the turn's). Flushed before it returns.
pub fn reschedule(
    store: &Store,
    settings: &Settings,
    account_id: &str,
    today: NaiveDate,
) -> Result<Option<Wake>> {
    let wake = reschedule_unflushed(store, settings, account_id, &|_| today)?;
    store.flush()?;
    Ok(wake)
}

fn reschedule_unflushed(
    store: &Store,
    settings: &Settings,
    account_id: &str,
    today_in: &dyn Fn(Tz) -> NaiveDate,
) -> Result<Option<Wake>> {
    let Some(account) = store.account(account_id)?.map(|s| s.data) else {
        return Ok(None);
    };
    let today = today_in(tz_of(&account));
    let prefs = prefs(store, account_id)?;
    let bill = store.bill(account_id, today, &settings.policy)?;
    for _ in 0..5 {
        let old = index::load(store, account_id)?;
        let from = missed_or(&old, start_day(&old, today));
        let new = RemindState {
            wake: next_wake(settings, &account, &prefs, &bill.orders, from),
            failures: 0,
            ..old.clone()
        };
        if new == old && index::known(store, account_id)? {
            return Ok(new.wake);
        }
        if index::swap(store, account_id, &old, &new)? {
            return Ok(new.wake);
        }
    }
    bail!("the reminder state of {account_id} kept changing")
}

/// Reschedules every account (at start-up: imports run while the bot is stopped) from the
/// scheduler's instant `now` (each account's day is that instant's day in its zone). One flush.
pub fn reschedule_all(store: &Store, settings: &Settings, now: DateTime<Utc>) -> Result<usize> {
    let mut n = 0;
    let today_in = |tz: Tz| now.with_timezone(&tz).date_naive();
    for id in store.account_ids()? {
        if let Err(e) = reschedule_unflushed(store, settings, &id, &today_in) {
            tracing::warn!(account = %id, "cannot schedule reminders: {e:#}");
        }
        n += 1;
    }
    store.flush()?;
    Ok(n)
}

/// One planned reminder day for the operator's view (`repaybot reminders ACCOUNT_ID`).
pub struct PlannedDay {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    pub items: Vec<Item>,
}

/// What the account will be reminded of, from the current ledger, as of `today` (the account's
/// calendar day).
pub struct Overview {
    pub account: Account,
    pub prefs: Prefs,
    pub state: RemindState,
    pub chat: Option<String>,
    pub overdue_paused: bool,
    pub days: Vec<PlannedDay>,
}

pub fn overview(
    store: &Store,
    settings: &Settings,
    account_id: &str,
    today: NaiveDate,
    count: usize,
) -> Result<Option<Overview>> {
    let Some(account) = store.account(account_id)?.map(|s| s.data) else {
        return Ok(None);
    };
    let prefs = prefs(store, account_id)?;
    let state = index::load(store, account_id)?;
    let paused = overdue_paused(store, account_id)?;
    let bill = store.bill(account_id, today, &settings.policy)?;
    let from = start_day(&state, today);
    let tz = tz_of(&account);
    let days = plan::upcoming(
        &bill.orders,
        &prefs,
        &settings.reminders,
        paused,
        from,
        count,
    )
    .into_iter()
    .map(|(date, items)| PlannedDay {
        date,
        at: send_instant(&settings.reminders, &prefs, tz, date),
        items,
    })
    .collect();
    Ok(Some(Overview {
        chat: store.chat_of_account(account_id)?,
        account,
        prefs,
        state,
        overdue_paused: paused,
        days,
    }))
}
