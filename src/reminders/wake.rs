//! One due reminder, in two decisions around its delivery: `prepare` (the wake checked, the
//! quiet hours, the day's items, the chat; settled at once when there is nothing to send) and
//! `settle` (the day marked sent, given up, or retried later). `serve` takes both through
//! `App::handle` behind the [`Steps`] seam; the core implements it too.

use super::{index, message, plan, RemindState, Wake};
use crate::core::{Core, Reply};
use anyhow::Result;
use chrono::{DateTime, Days, Utc};

/// Failed deliveries of one day's message before the day is given up.
pub const MAX_FAILURES: u32 = 3;

/// What became of one due wake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Empty,
    NoChat,
    Blocked,
    Quiet,
    Failed,
    /// The index entry was stale or the state changed under us: nothing to do.
    Skipped,
}

/// Swaps the state, retrying on a concurrent change with `update` applied to the fresh state.
fn commit(
    app: &Core,
    account_id: &str,
    mut old: RemindState,
    update: impl Fn(&RemindState) -> RemindState,
) -> Result<()> {
    for _ in 0..5 {
        if index::swap(&app.store, account_id, &old, &update(&old))? {
            return Ok(());
        }
        old = index::load(&app.store, account_id)?;
    }
    anyhow::bail!("the reminder state of {account_id} kept changing")
}

/// A due reminder ready to go: the message for its chat, and what settling it needs.
#[derive(Clone, Debug)]
pub struct Ready {
    pub account_id: String,
    pub chat: String,
    pub reply: Reply,
    items: Vec<plan::Item>,
    state: RemindState,
    wake: Wake,
    today: chrono::NaiveDate,
    next: Option<Wake>,
}

/// What a due wake comes to: settled already (nothing to send), or a message to deliver.
#[derive(Clone, Debug)]
pub enum Prepared {
    Settled(Outcome),
    Ready(Box<Ready>),
}

/// How the delivery of a [`Ready`] reminder went.
#[derive(Clone, Debug)]
pub enum Delivery {
    Sent,
    /// The front end cannot reach the chat at all (another front end's chat).
    Unreachable,
    /// A failure worth another try later (logged with its reason).
    Failed(String),
}

/// The two decisions of a due reminder. `serve` takes them through `App::handle`
/// (`Event::ReminderDue`, `Event::ReminderDelivered`); the core itself implements them too,
/// for tools and tests that run a pass without the app.
pub trait Steps: Send + Sync {
    fn prepare(&self, account_id: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Prepared>;
    fn settle(&self, ready: Ready, delivery: Delivery, now: DateTime<Utc>) -> Result<Outcome>;
}

impl Steps for Core {
    fn prepare(&self, account_id: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Prepared> {
        prepare(self, account_id, at, now)
    }

    fn settle(&self, ready: Ready, delivery: Delivery, now: DateTime<Utc>) -> Result<Outcome> {
        settle(self, ready, delivery, now)
    }
}

/// Everything before the delivery: the wake checked, the quiet hours, the day's items, the
/// chat; every case without a message is settled (committed) here.
pub fn prepare(
    app: &Core,
    account_id: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let settled = |o| Ok(Prepared::Settled(o));
    let store = &app.store;
    let state = index::load(store, account_id)?;
    let Some(wake) = state.wake.clone().filter(|w| w.at == at) else {
        index::drop_stale(store, at, account_id)?;
        return settled(Outcome::Skipped);
    };
    let Some(account) = store.account(account_id)?.map(|s| s.data) else {
        commit(app, account_id, state, |s| RemindState {
            wake: None,
            ..s.clone()
        })?;
        return settled(Outcome::Skipped);
    };
    let rp = &app.settings.reminders;
    let tz = super::tz_of(&account);
    let local = now.with_timezone(&tz);
    if rp.is_quiet(local.time()) {
        let at = out_of_quiet(rp, tz, now);
        commit(app, account_id, state, |s| RemindState {
            wake: Some(Wake {
                at,
                date: wake.date,
            }),
            ..s.clone()
        })?;
        return settled(Outcome::Quiet);
    }
    let today = local.date_naive();
    let prefs = super::prefs(store, account_id)?;
    let bill = store.bill(account_id, today, &app.settings.policy)?;
    let next = super::next_wake(
        &app.settings,
        &account,
        &prefs,
        &bill.orders,
        today + Days::new(1),
    );
    let skip = |outcome| -> Result<Prepared> {
        commit(app, account_id, state.clone(), |s| {
            done(s, today, &next, false)
        })?;
        settled(outcome)
    };
    if state.last_sent.is_some_and(|d| d >= today) {
        // Already one message today: the rest waits for the next reminder day.
        return skip(Outcome::Empty);
    }
    let paused = super::overdue_paused(store, account_id)?;
    let from = wake.date.min(today);
    let items = plan::due_in_window(&bill.orders, &prefs, rp, paused, from, today);
    if items.is_empty() {
        return skip(Outcome::Empty);
    }
    let Some(chat) = store.chat_of_account(account_id)? else {
        tracing::info!(account = account_id, "reminder due but no chat is bound");
        return skip(Outcome::NoChat);
    };
    if store.blocked_since(&chat)?.is_some() {
        tracing::info!(account = account_id, chat = %chat, "reminder due but the chat is undeliverable");
        return skip(Outcome::Blocked);
    }
    let lang = app.chat_lang(&chat);
    let reply = message::reminder(&app.flows, lang, &items, from < today);
    Ok(Prepared::Ready(Box::new(Ready {
        account_id: account_id.to_string(),
        chat,
        reply,
        items,
        state,
        wake,
        today,
        next,
    })))
}

/// The day marked: reminded (or not) through `today`, the next wake set, failures cleared.
fn done(s: &RemindState, today: chrono::NaiveDate, next: &Option<Wake>, sent: bool) -> RemindState {
    RemindState {
        done_through: Some(today),
        last_sent: if sent { Some(today) } else { s.last_sent },
        wake: next.clone(),
        failures: 0,
    }
}

/// After the delivery: the day marked sent, or given up for this chat, or retried later.
pub fn settle(app: &Core, ready: Ready, delivery: Delivery, now: DateTime<Utc>) -> Result<Outcome> {
    let Ready {
        account_id,
        chat,
        items,
        state,
        wake,
        today,
        next,
        ..
    } = ready;
    let (store, account_id) = (&app.store, account_id.as_str());
    match delivery {
        Delivery::Sent => {
            crate::ops::observe::reminder(store, &chat, account_id, &items, true, now);
            commit(app, account_id, state, |s| done(s, today, &next, true))?;
            tracing::info!(account = account_id, chat = %chat, items = items.len(), "reminder sent");
            Ok(Outcome::Sent)
        }
        Delivery::Unreachable => {
            tracing::info!(account = account_id, chat = %chat, "reminder due but the chat is not reachable");
            commit(app, account_id, state, |s| done(s, today, &next, false))?;
            Ok(Outcome::NoChat)
        }
        Delivery::Failed(reason) => {
            tracing::warn!(account = account_id, chat = %chat, "reminder delivery failed: {reason}");
            crate::ops::observe::reminder(store, &chat, account_id, &items, false, now);
            let retry =
                now + chrono::Duration::minutes(i64::from(app.settings.reminders.retry_minutes));
            commit(app, account_id, state, |s| {
                if s.failures + 1 >= MAX_FAILURES {
                    done(s, today, &next, false)
                } else {
                    RemindState {
                        wake: Some(Wake {
                            at: retry,
                            date: wake.date,
                        }),
                        failures: s.failures + 1,
                        ..s.clone()
                    }
                }
            })?;
            Ok(Outcome::Failed)
        }
    }
}

/// The end of the quiet hours after `at` when `at` is inside them, else `at`.
pub(super) fn out_of_quiet(
    rp: &super::RemindPolicy,
    tz: chrono_tz::Tz,
    at: DateTime<Utc>,
) -> DateTime<Utc> {
    let local = at.with_timezone(&tz);
    if !rp.is_quiet(local.time()) {
        return at;
    }
    let mut end = local.date_naive().and_time(rp.quiet_end_time());
    if end <= local.naive_local() {
        end += chrono::Duration::days(1);
    }
    end.and_local_timezone(tz)
        .earliest()
        .map_or(at + chrono::Duration::hours(1), |l| l.with_timezone(&Utc))
}
