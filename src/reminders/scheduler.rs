//! The scheduler: `run_once` handles every account whose wake is due (one combined message per
//! account and day, sent through a front end's [`Deliver`], then marked in one transaction with
//! the next wake); `run` loops it inside `serve` until shutdown, pacing sends within Telegram's
//! limits and warning when a day's reminders cannot fit in the allowed hours.
//!
//! Exactly once: a message is sent, then its day is marked (state + next wake, one
//! transaction, flushed). A crash between the send and the flush can repeat that one message
//! after the restart; nothing is ever skipped. Missed days after downtime make one catch-up
//! message (the window from the missed wake to today), never a burst.

use super::wake::{out_of_quiet, Delivery, Outcome, Prepared, Steps};
use super::{index, plan, RemindState, Wake};
use crate::core::{Core, Reply};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What `deliver` returns: a boxed future, so the trait is object-safe and the future `Send`.
pub type DeliverFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// Sends one proactive message to a chat (`tg:<id>`, `term:<account>`): the Telegram adapter
/// implements it; tests record. Ok means the front end accepted the message.
pub trait Deliver: Send + Sync {
    fn deliver<'a>(&'a self, chat_key: &'a str, reply: &'a Reply) -> DeliverFuture<'a>;
}

/// The error a [`Deliver`] returns for a chat it cannot reach at all (another front end's chat,
/// e.g. `term:...`): the day is marked delivered nowhere (like an account without a chat),
/// never retried.
#[derive(Debug)]
pub struct Unreachable;

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the chat is not reachable through this front end")
    }
}

impl std::error::Error for Unreachable {}

/// What one pass did (counts only: logs carry no amounts or texts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Accounts whose wake was due.
    pub due: usize,
    pub sent: usize,
    /// Nothing left to remind of (paid, paused): no message, day marked.
    pub empty: usize,
    /// No chat bound to the account, or one the front end cannot reach: nothing sent, day marked.
    pub no_chat: usize,
    /// The chat is marked undeliverable (the bot blocked by the user, the chat gone): nothing
    /// sent, day marked, never retried.
    pub blocked: usize,
    /// Due inside the quiet hours: moved to their end.
    pub quiet: usize,
    /// Delivery failed (retried later, or given up for the day after three tries).
    pub failed: usize,
    /// The pass stopped at its limit: more accounts are due.
    pub more: bool,
}

/// Limits of one pass.
#[derive(Clone, Debug)]
pub struct PassOptions {
    pub max_accounts: usize,
    /// Pause between two sends (None: no pacing, for benchmarks).
    pub pace: Option<Duration>,
}

impl PassOptions {
    /// A minute's worth of messages at the policy's rate, paced at that rate.
    pub fn from_app(app: &Core) -> PassOptions {
        let rate = app.settings.reminders.messages_per_second.max(1);
        PassOptions {
            max_accounts: rate as usize * 60,
            pace: Some(Duration::from_millis(1000 / u64::from(rate))),
        }
    }
}

/// One pass at `now` with the policy's limits, the core taking the decisions.
pub async fn run_once(app: &Core, deliver: &dyn Deliver, now: DateTime<Utc>) -> Result<PassReport> {
    run_once_with(app, app, deliver, now, &PassOptions::from_app(app)).await
}

/// One pass at `now`: every account whose wake is due, up to `opts.max_accounts`.
pub async fn run_once_with(
    app: &Core,
    steps: &dyn Steps,
    deliver: &dyn Deliver,
    now: DateTime<Utc>,
    opts: &PassOptions,
) -> Result<PassReport> {
    let mut report = PassReport::default();
    let mut changed = false;
    // Sends are spaced `pace` apart from start to start (a send's own time counts).
    let mut next = tokio::time::Instant::now();
    // The due index is read as a stream, never collected (a handled account's next wake is
    // after `now`, so it does not come round again).
    for entry in index::due(&app.store, now).take(opts.max_accounts) {
        let (at, account_id) = entry?;
        report.due += 1;
        let outcome = handle(steps, deliver, &account_id, at, now).await;
        match outcome {
            Ok(o) => {
                changed |= o != Outcome::Skipped;
                count(&mut report, o);
                if o == Outcome::Sent {
                    if let Some(pace) = opts.pace {
                        next = (next + pace).max(tokio::time::Instant::now());
                        tokio::time::sleep_until(next).await;
                    }
                }
            }
            Err(e) => {
                report.failed += 1;
                tracing::warn!(account = %account_id, "reminder failed: {e:#}");
            }
        }
    }
    report.more = report.due >= opts.max_accounts;
    if changed {
        // sled's `flush_async` waits for the background flusher (up to 500 ms); a blocking
        // flush on the blocking pool is done in milliseconds and keeps the runtime free.
        let store = app.store.clone();
        tokio::task::spawn_blocking(move || store.flush()).await??;
    }
    Ok(report)
}

fn count(r: &mut PassReport, o: Outcome) {
    match o {
        Outcome::Sent => r.sent += 1,
        Outcome::Empty => r.empty += 1,
        Outcome::NoChat => r.no_chat += 1,
        Outcome::Blocked => r.blocked += 1,
        Outcome::Quiet => r.quiet += 1,
        Outcome::Failed => r.failed += 1,
        Outcome::Skipped => {}
    }
}

async fn handle(
    steps: &dyn Steps,
    deliver: &dyn Deliver,
    account_id: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let ready = match steps.prepare(account_id, at, now)? {
        Prepared::Settled(outcome) => return Ok(outcome),
        Prepared::Ready(ready) => *ready,
    };
    let delivery = match deliver.deliver(&ready.chat, &ready.reply).await {
        Ok(()) => Delivery::Sent,
        Err(e) if e.is::<Unreachable>() => Delivery::Unreachable,
        Err(e) => Delivery::Failed(format!("{e:#}")),
    };
    steps.settle(ready, delivery, now)
}

/// A wake later than this behind its own time is spread (one pass sends a minute's worth).
pub const SPREAD_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// Spreads the next 24 hours' wakes over the allowed hours when they cannot all be sent at their
/// time within `messages_per_second` (some would wait more than [`SPREAD_AFTER`]): each wake
/// moves to the second it can really go, earliest due first, none inside its quiet hours.
/// Returns how many moved. Not flushed.
pub fn spread_day(app: &Core, now: DateTime<Utc>) -> Result<usize> {
    let rp = &app.settings.reminders;
    let until = now + chrono::Duration::hours(24);
    let mut wakes = Vec::new();
    for entry in app.store.remind_wakes(None, until) {
        let (at, account_id) = entry?;
        let tz = match app.store.account(&account_id)? {
            Some(a) => super::tz_of(&a.data),
            None => crate::clock::HOUSE_TZ,
        };
        // A wake already past is due now.
        wakes.push((at.max(now), (at, account_id, tz)));
    }
    let slots = plan::spread(&wakes, rp.messages_per_second, |(_, _, tz), at| {
        out_of_quiet(rp, *tz, at)
    });
    let late = wakes
        .iter()
        .zip(&slots)
        .any(|((due, _), slot)| *slot - *due > SPREAD_AFTER);
    if !late {
        return Ok(0);
    }
    let mut moved = 0;
    for ((due, (at, account_id, _)), slot) in wakes.iter().zip(slots) {
        if slot == *due {
            continue;
        }
        let old = index::load(&app.store, account_id)?;
        let Some(wake) = old.wake.clone().filter(|w| w.at == *at) else {
            continue;
        };
        let new = RemindState {
            wake: Some(Wake { at: slot, ..wake }),
            ..old.clone()
        };
        if index::swap(&app.store, account_id, &old, &new)? {
            moved += 1;
        }
    }
    app.store.flush()?;
    tracing::info!(
        planned = wakes.len(),
        moved,
        "reminders spread over the allowed hours"
    );
    Ok(moved)
}

/// The coming day's planned reminders against what can be sent inside the allowed hours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayLoad {
    pub planned: usize,
    pub capacity: usize,
}

/// Wakes in the next 24 hours and how many messages fit in a day's allowed hours at the rate.
pub fn day_load(app: &Core, now: DateTime<Utc>) -> DayLoad {
    let rp = &app.settings.reminders;
    let capacity = rp.allowed_seconds_per_day().max(0) as usize * rp.messages_per_second as usize;
    DayLoad {
        planned: index::count_between(&app.store, now, now + chrono::Duration::hours(24)),
        capacity,
    }
}

/// The scheduler loop of `serve`: reschedules every account once (imports run while the bot is
/// stopped), then runs passes until `shutdown` resolves. Pass errors are logged, never fatal.
/// Time is the app's clock.
pub async fn run(
    app: Arc<Core>,
    steps: Arc<dyn Steps>,
    deliver: Arc<dyn Deliver>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let clock = app.clock.clone();
    let start = clock.now();
    let n = super::reschedule_all(&app.store, &app.settings, start)?;
    tracing::info!(accounts = n, "reminder scheduler started");
    tokio::pin!(shutdown);
    let mut checked: Option<DateTime<Utc>> = None;
    loop {
        let now = clock.now();
        if checked.is_none_or(|c| now - c >= chrono::Duration::hours(1)) {
            if let Err(e) = spread_day(&app, now) {
                tracing::error!("spreading the day's reminders failed: {e:#}");
            }
            warn_if_over_capacity(&app, now);
            checked = Some(now);
        }
        let opts = PassOptions::from_app(&app);
        let more = match run_once_with(&app, steps.as_ref(), deliver.as_ref(), now, &opts).await {
            Ok(r) => {
                if r.due > 0 {
                    tracing::info!(
                        due = r.due,
                        sent = r.sent,
                        empty = r.empty,
                        no_chat = r.no_chat,
                        blocked = r.blocked,
                        quiet = r.quiet,
                        failed = r.failed,
                        "reminder pass"
                    );
                }
                r.more
            }
            Err(e) => {
                tracing::error!("reminder pass failed: {e:#}");
                false
            }
        };
        let wait = if more {
            Duration::ZERO
        } else {
            next_wait(&app, clock.now())
        };
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!("reminder scheduler stopped");
    Ok(())
}

/// Until the first wake in the index, between 100 ms and one minute (a reschedule from a chat
/// turn may add an earlier wake at any time; spread wakes follow each other second by second).
fn next_wait(app: &Core, now: DateTime<Utc>) -> Duration {
    let first = index::first_wake(&app.store).ok().flatten();
    let millis = first.map_or(60_000, |at| {
        (at - now).num_milliseconds().clamp(100, 60_000)
    });
    Duration::from_millis(millis as u64)
}

fn warn_if_over_capacity(app: &Core, now: DateTime<Utc>) {
    let load = day_load(app, now);
    if load.planned > load.capacity {
        tracing::warn!(
            planned = load.planned,
            capacity = load.capacity,
            per_second = app.settings.reminders.messages_per_second,
            "the next 24 hours' reminders cannot all be sent inside the allowed hours"
        );
    }
}
