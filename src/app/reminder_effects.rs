//! The reminder effects the `reminders` flows name: show the plan, change the days before and
//! the time, add a one-off date, pause, stop and resume pre-due reminders, and the `.ics`
//! calendar. Each change is saved (flushed) and the account rescheduled before the event
//! tells the customer.

use super::effects::{EffectCtx, Event};
use super::Attachment;
use crate::domain::Account;
use crate::reminders::{self, ics, message, plan, Prefs};
use anyhow::Result;
use chrono::{Days, NaiveDate};
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;

/// Planned days shown in the chat: enough for one installment's notices before and after.
const PLAN_DAYS: usize = 8;
/// One-off reminders kept per account, and how far ahead they may be.
const MAX_ONE_OFFS: usize = 20;
const MAX_ONE_OFF_DAYS: u64 = 366;

pub fn perform(ctx: &EffectCtx, name: &str, vars: &Vars) -> Result<Option<Event>> {
    let Some(account) = ctx.account else {
        return Ok(None);
    };
    let event = match name {
        "remind_open" => {
            if vars.contains_key("date") {
                add_date(ctx, account, vars)?
            } else if vars.contains_key("days") {
                set_days(ctx, account, vars)?
            } else if vars.contains_key("time") {
                set_time(ctx, account, vars)?
            } else {
                ("remind_plan".into(), plan_vars(ctx, account)?)
            }
        }
        "remind_set_days" => set_days(ctx, account, vars)?,
        "remind_set_time" => set_time(ctx, account, vars)?,
        "remind_add_date" => add_date(ctx, account, vars)?,
        "remind_pause" => {
            let days = u64::from(ctx.app.settings.reminders.pause_days);
            let until = ctx.today + Days::new(days);
            change(ctx, account, |p| p.paused_until = Some(until))?
        }
        "remind_stop" => change(ctx, account, |p| p.pre_due_off = true)?,
        "remind_resume" => change(ctx, account, |p| {
            p.pre_due_off = false;
            p.paused_until = None;
        })?,
        "remind_ics" => calendar(ctx, account)?,
        _ => return Ok(None),
    };
    Ok(Some(event))
}

fn lang(ctx: &EffectCtx, _account: &Account) -> crate::dialog::Lang {
    ctx.lang
}

fn text(ctx: &EffectCtx, account: &Account, key: &str, vars: &Vars) -> String {
    ctx.app.flows.text(lang(ctx, account), key, vars)
}

/// The plan as vars: days, time, zone, status, overdue days and the next planned lines.
fn plan_vars(ctx: &EffectCtx, account: &Account) -> Result<Vars> {
    let app = ctx.app;
    let rp = &app.settings.reminders;
    let Some(o) =
        reminders::overview(&app.store, &app.settings, &account.id, ctx.today, PLAN_DAYS)?
    else {
        return Ok(Vars::new());
    };
    let join = |xs: &[u32]| {
        xs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    };
    let time = o.prefs.send_time(rp);
    let days: Vec<(NaiveDate, Vec<plan::Item>)> =
        o.days.into_iter().map(|d| (d.date, d.items)).collect();
    let status = match (&o.prefs, o.prefs.paused_until) {
        (p, _) if p.pre_due_off => text(ctx, account, "reminders.status_stopped", &Vars::new()),
        (_, Some(until)) if until >= ctx.today => {
            let v = Vars::from([("until".to_string(), until.to_string())]);
            text(ctx, account, "reminders.status_paused", &v)
        }
        _ => text(ctx, account, "reminders.status_on", &Vars::new()),
    };
    Ok(Vars::from([
        ("remind_days".to_string(), join(&o.prefs.days(rp))),
        ("remind_time".to_string(), time.format("%H:%M").to_string()),
        ("remind_tz".to_string(), account.timezone.clone()),
        ("remind_status".to_string(), status),
        ("remind_overdue".to_string(), join(&rp.overdue_days)),
        (
            "remind_quiet".to_string(),
            format!(
                "{}–{}",
                rp.quiet_start.format("%H:%M"),
                rp.quiet_end.format("%H:%M")
            ),
        ),
        (
            "remind_lines".to_string(),
            message::plan_lines(
                &app.flows,
                lang(ctx, account),
                &days,
                time,
                &o.prefs.one_offs,
            ),
        ),
    ]))
}

/// Applies a change to the stored choices, reschedules, and reports the new plan.
fn change(ctx: &EffectCtx, account: &Account, f: impl FnOnce(&mut Prefs)) -> Result<Event> {
    let store = &ctx.app.store;
    let mut prefs = reminders::prefs(store, &account.id)?;
    f(&mut prefs);
    prefs.one_offs.retain(|d| *d > ctx.today);
    reminders::save_prefs(
        store,
        &ctx.app.settings,
        &account.id,
        &prefs,
        ctx.chat,
        ctx.today,
    )?;
    tracing::info!(account = %account.id, "reminder settings changed");
    let mut v = plan_vars(ctx, account)?;
    if let Some(until) = prefs.paused_until {
        v.insert("until".into(), until.to_string());
    }
    Ok(("remind_saved".into(), v))
}

fn set_days(ctx: &EffectCtx, account: &Account, vars: &Vars) -> Result<Event> {
    match vars.get("days").and_then(|d| d.parse::<u32>().ok()) {
        Some(n) if n <= plan::MAX_DAYS_BEFORE => change(ctx, account, |p| p.days_before = Some(n)),
        _ => Ok(("remind_bad_days".into(), Vars::new())),
    }
}

fn set_time(ctx: &EffectCtx, account: &Account, vars: &Vars) -> Result<Event> {
    let rp = &ctx.app.settings.reminders;
    match vars.get("time").and_then(|t| plan::parse_hhmm(t)) {
        Some(t) if !rp.is_quiet(t) => change(ctx, account, |p| {
            p.at = Some(t.format("%H:%M").to_string());
        }),
        _ => Ok(("remind_bad_time".into(), Vars::new())),
    }
}

fn add_date(ctx: &EffectCtx, account: &Account, vars: &Vars) -> Result<Event> {
    let date = vars.get("date").and_then(|d| d.parse::<NaiveDate>().ok());
    let last = ctx.today + Days::new(MAX_ONE_OFF_DAYS);
    let Some(date) = date.filter(|d| *d > ctx.today && *d <= last) else {
        return Ok(("remind_bad_date".into(), Vars::new()));
    };
    let (_, mut v) = change(ctx, account, |p| {
        if !p.one_offs.contains(&date) {
            p.one_offs.push(date);
        }
        p.one_offs.sort_unstable();
        let extra = p.one_offs.len().saturating_sub(MAX_ONE_OFFS);
        p.one_offs.drain(..extra);
    })?;
    v.insert("date".into(), date.to_string());
    Ok(("remind_added".into(), v))
}

/// The `.ics` of every coming due date still owed, attached to the next reply.
fn calendar(ctx: &EffectCtx, account: &Account) -> Result<Event> {
    let app = ctx.app;
    let bill = app
        .store
        .bill(&account.id, ctx.today, &app.settings.policy)?;
    let mut events = Vec::new();
    for o in &bill.orders {
        for i in &o.installments {
            let open = i.remaining.is_positive() && i.due_date >= ctx.today;
            if !open || i.status == crate::domain::InstallmentStatus::Restructured {
                continue;
            }
            let item = plan::Item {
                order_id: o.order.id.clone(),
                item: o.order.item.clone(),
                n: i.n,
                due_date: i.due_date,
                amount: i.remaining,
                kind: plan::kind_on(ctx.today, i.due_date),
            };
            let summary = text(
                ctx,
                account,
                "reminders.ics_summary",
                &message::item_vars(&item),
            );
            events.push(ics::Event {
                uid: format!("{}-{}@repaybot", o.order.id, i.n),
                date: i.due_date,
                summary,
            });
        }
    }
    if events.is_empty() {
        return Ok(("remind_none".into(), Vars::new()));
    }
    let file_name = format!("repayments-{}.ics", account.id);
    *ctx.attachment.borrow_mut() = Some(Attachment {
        file_name: file_name.clone(),
        bytes: ics::calendar(&events, ctx.now).into_bytes(),
    });
    tracing::info!(account = %account.id, events = events.len(), "calendar file made");
    let count = events.len().to_string();
    Ok((
        "remind_ics".into(),
        Vars::from([
            ("file_name".to_string(), file_name),
            ("count".to_string(), count),
        ]),
    ))
}
