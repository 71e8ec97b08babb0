//! A restart at any hour after the bot was down over 10:00 (issue 11): the day's missed
//! reminders reach each customer once, in the next allowed slot (at once outside the quiet
//! hours, else at 09:00), combined with that day's own items.

use anyhow::Result;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use repaybot::app::{App, Reply};
use repaybot::demo;
use repaybot::reminders::{self, Deliver, DeliverFuture};
use repaybot::settings::Settings;
use repaybot::store::Store;
use std::sync::Mutex;

fn shanghai(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let local = date.and_hms_opt(h, m, 0).unwrap();
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Default)]
struct Recorder {
    now: Mutex<Option<DateTime<Utc>>>,
    sent: Mutex<Vec<(String, DateTime<Utc>, String)>>,
}

impl Deliver for Recorder {
    fn deliver<'a>(&'a self, chat: &'a str, reply: &'a Reply) -> DeliverFuture<'a> {
        Box::pin(async move {
            let now = self.now.lock().unwrap().unwrap_or_default();
            let entry = (chat.to_string(), now, reply.text.clone());
            self.sent.lock().unwrap().push(entry);
            Ok(())
        })
    }
}

async fn drive(app: &App, rec: &Recorder, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<()> {
    drive_rescheduling(app, rec, from, until, false).await
}

/// Passes every 15 minutes; with `hourly`, every account is also rescheduled each hour first,
/// as a restart (or a customer's payment or new settings) does.
async fn drive_rescheduling(
    app: &App,
    rec: &Recorder,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    hourly: bool,
) -> Result<()> {
    let mut now = from;
    while now < until {
        if hourly && (now - from).num_minutes() % 60 == 0 {
            reminders::reschedule_all(&app.store, &app.settings, now)?;
        }
        *rec.now.lock().unwrap() = Some(now);
        reminders::run_once(app, rec, now).await?;
        now += chrono::Duration::minutes(15);
    }
    Ok(())
}

const START: &str = "2026-11-21";

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// The demo accounts bound to `tg:<id>`, scheduled (and run) from the evening before `d`.
async fn app_running_until(d: NaiveDate, stop: DateTime<Utc>, rec: &Recorder) -> Result<App> {
    let store = Store::temporary()?;
    demo::load_if_empty(&store, day(START), &Settings::default().policy)?;
    let app = App::new(store, Settings::default())?;
    for id in app.store.account_ids()? {
        app.store.bind(&format!("tg:{id}"), &id)?;
    }
    let evening = shanghai(d - Days::new(1), 12, 0);
    reminders::reschedule_all(&app.store, &app.settings, evening)?;
    drive(&app, rec, evening, stop).await?;
    Ok(app)
}

/// `· 商品 第N期` of every item line of a message.
fn items(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("· "))
        .map(|l| l.split('：').next().unwrap_or(l).to_string())
        .collect()
}

/// The first instant at or after `t` outside the quiet hours (21:00–09:00 Shanghai).
fn next_allowed(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&chrono_tz::Asia::Shanghai);
    let time = local.time();
    let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let date = local.date_naive();
    if time >= nine && time < NaiveTime::from_hms_opt(21, 0, 0).unwrap() {
        t
    } else if time < nine {
        shanghai(date, 9, 0)
    } else {
        shanghai(date + Days::new(1), 9, 0)
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_at_any_hour_after_downtime_over_ten_delivers_the_missed_reminders() -> Result<()>
{
    // Day D: 12-11, A1003's last notice for installment 5 (D+30) and installment 6 due.
    let d = day("2026-12-11");
    let stop = shanghai(d, 9, 30);
    let reference = Recorder::default();
    let app = app_running_until(d, stop, &reference).await?;
    drive(&app, &reference, stop, shanghai(d + Days::new(1), 10, 1)).await?;
    // What the reference (never down) sent each chat on D and on D + 1.
    let sent_on = |date: NaiveDate| -> Vec<(String, String)> {
        let local = |t: &DateTime<Utc>| t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        let sent = reference.sent.lock().unwrap();
        let on_day = sent
            .iter()
            .filter(|(_, t, _)| *t >= stop && local(t) == date);
        on_day
            .map(|(c, _, text)| (c.clone(), text.clone()))
            .collect()
    };
    let (due_on_d, due_next) = (sent_on(d), sent_on(d + Days::new(1)));
    assert!(
        due_on_d.iter().any(|(c, _)| c == "tg:A1003"),
        "{due_on_d:?}"
    );
    let mut failures = Vec::new();
    for (hour, hourly) in (0..24).flat_map(|h| [(h, false), (h, true)]) {
        let back_day = if hour > 10 { d } else { d + Days::new(1) };
        let back = shanghai(back_day, hour, 0);
        let rec = Recorder::default();
        let app = app_running_until(d, stop, &rec).await?;
        let before = rec.sent.lock().unwrap().len();
        reminders::reschedule_all(&app.store, &app.settings, back)?;
        drive_rescheduling(&app, &rec, back, back + chrono::Duration::hours(30), hourly).await?;
        let after: Vec<(String, DateTime<Utc>, String)> =
            rec.sent.lock().unwrap()[before..].to_vec();
        for (chat, missed) in &due_on_d {
            let first = after.iter().find(|(c, ..)| c == chat);
            let Some((_, at, text)) = first else {
                failures.push(format!("{hour:02}:00{} {chat}: nothing sent", mark(hourly)));
                continue;
            };
            if *at != next_allowed(back) {
                failures.push(format!(
                    "{hour:02}:00{} {chat}: sent at {at}, not {}",
                    mark(hourly),
                    next_allowed(back)
                ));
            }
            // Back on D + 1 before 10:00: the one message of that day also carries its own items.
            let mut expected = items(missed);
            if back_day > d {
                let own = due_next.iter().filter(|(c, _)| c == chat);
                expected.extend(own.flat_map(|(_, t)| items(t)));
                let that_day = after
                    .iter()
                    .filter(|(c, t, _)| c == chat && *t < shanghai(back_day, 21, 0));
                if that_day.count() != 1 {
                    failures.push(format!(
                        "{hour:02}:00{} {chat}: not one message",
                        mark(hourly)
                    ));
                }
            }
            let lost: Vec<String> = expected
                .into_iter()
                .filter(|i| !items(text).contains(i))
                .collect();
            if !lost.is_empty() {
                failures.push(format!(
                    "{hour:02}:00{} {chat}: lost {lost:?}",
                    mark(hourly)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

fn mark(hourly: bool) -> &'static str {
    if hourly {
        " (rescheduled hourly)"
    } else {
        ""
    }
}
