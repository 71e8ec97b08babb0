//! Reminders (SPEC 4.10) with an injected clock and a recording fake front end: the default plan
//! of every demo account, quiet hours, other time zones, one message a day, payments and
//! disputes, restarts and downtime, the scheduler loop under paused tokio time, the reminder
//! buttons and the calendar file.

use anyhow::Result;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use repaybot::app::{App, ChatInput, Reply};
use repaybot::clock::Clock;
use repaybot::demo;
use repaybot::domain::{Money, Payment, PaymentKind};
use repaybot::reminders::{self, Deliver, DeliverFuture, PassReport};
use repaybot::settings::Settings;
use repaybot::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

const START: (i32, u32, u32) = (2026, 11, 21);

fn start_day() -> NaiveDate {
    day(START.0, START.1, START.2)
}

/// `date` at `h:m` in zone `tz`, as UTC.
fn at(tz: Tz, date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    tz.from_local_datetime(&date.and_hms_opt(h, m, 0).expect("valid time"))
        .earliest()
        .expect("not in a DST gap")
        .with_timezone(&Utc)
}

fn shanghai(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    at(chrono_tz::Asia::Shanghai, date, h, m)
}

/// Records every message; can be told to fail.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(String, DateTime<Utc>, Reply)>>,
    now: Mutex<Option<DateTime<Utc>>>,
}

impl Deliver for Recorder {
    fn deliver<'a>(&'a self, chat_key: &'a str, reply: &'a Reply) -> DeliverFuture<'a> {
        Box::pin(async move {
            let now = self.now.lock().unwrap().unwrap_or_default();
            self.sent
                .lock()
                .unwrap()
                .push((chat_key.to_string(), now, reply.clone()));
            Ok(())
        })
    }
}

impl Recorder {
    fn sent(&self) -> Vec<(String, DateTime<Utc>, Reply)> {
        self.sent.lock().unwrap().clone()
    }

    fn to(&self, chat: &str) -> Vec<(DateTime<Utc>, Reply)> {
        self.sent()
            .into_iter()
            .filter(|(c, ..)| c == chat)
            .map(|(_, t, r)| (t, r))
            .collect()
    }
}

fn demo_app(store: Store) -> Result<App> {
    demo::load_if_empty(&store, start_day(), &Settings::default().policy)?;
    App::new(store, Settings::default())
}

/// Every demo account bound to chat `tg:<account>`, scheduled at the start.
fn bound_demo(store: Store) -> Result<App> {
    let app = demo_app(store)?;
    for id in app.store.account_ids()? {
        app.store.bind(&format!("tg:{id}"), &id)?;
    }
    reminders::reschedule_all(&app.store, &app.settings, shanghai(start_day(), 0, 0))?;
    Ok(app)
}

/// Runs a pass every `step_minutes` from `from` until `until` (exclusive), like the loop does.
async fn drive(
    app: &App,
    rec: &Recorder,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    step_minutes: i64,
) -> Result<PassReport> {
    let mut total = PassReport::default();
    let mut now = from;
    while now < until {
        *rec.now.lock().unwrap() = Some(now);
        let r = reminders::run_once(app, rec, now).await?;
        total.due += r.due;
        total.sent += r.sent;
        total.empty += r.empty;
        total.no_chat += r.no_chat;
        total.quiet += r.quiet;
        total.failed += r.failed;
        now += chrono::Duration::minutes(step_minutes);
    }
    Ok(total)
}

/// The days SPEC 4.10 names for an unpaid installment due on `due`.
fn spec_days(due: NaiveDate) -> Vec<NaiveDate> {
    let before = [3u64, 1, 0].map(|d| due - Days::new(d));
    let after = [1u64, 3, 7, 15, 30].map(|d| due + Days::new(d));
    before.into_iter().chain(after).collect()
}

#[tokio::test(start_paused = true)]
async fn each_demo_account_gets_the_default_plan_at_ten_local_time() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let rec = Recorder::default();
    let end = start_day() + Days::new(45);
    drive(
        &app,
        &rec,
        shanghai(start_day(), 0, 0),
        shanghai(end, 0, 0),
        60,
    )
    .await?;
    for id in app.store.account_ids()? {
        let account = app.store.account(&id)?.expect("demo account").data;
        let tz: Tz = account.timezone.parse()?;
        // Independently of the scheduler: every open installment's SPEC days in the window.
        let bill = app.store.bill(&id, start_day(), &app.settings.policy)?;
        let mut expected = std::collections::BTreeSet::new();
        for o in &bill.orders {
            for i in o.installments.iter().filter(|i| i.remaining.is_positive()) {
                expected.extend(
                    spec_days(i.due_date)
                        .into_iter()
                        .filter(|d| *d >= start_day() && *d < end - Days::new(1)),
                );
            }
        }
        let got: Vec<(NaiveDate, String)> = rec
            .to(&format!("tg:{id}"))
            .iter()
            .map(|(t, _)| {
                let local = t.with_timezone(&tz);
                (local.date_naive(), local.format("%H:%M").to_string())
            })
            .filter(|(d, _)| *d < end - Days::new(1))
            .collect();
        let dates: Vec<NaiveDate> = got.iter().map(|(d, _)| *d).collect();
        assert_eq!(
            dates,
            expected.into_iter().collect::<Vec<_>>(),
            "reminder days of {id}"
        );
        assert!(
            got.iter().all(|(_, t)| t == "10:00"),
            "{id} at 10:00: {got:?}"
        );
    }
    // A1001's first: 3 days before its 2026-12-14 installment, with its amount and buttons.
    let first = &rec.to("tg:A1001")[0].1;
    assert!(first.text.contains("267.90") && first.text.contains("2026-12-14"));
    let data: Vec<&str> = first.buttons.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(data, ["r:pay", "r:snooze", "r:plan"]);
    // A1005 settled everything: never reminded.
    assert!(rec.to("tg:A1005").is_empty());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn one_message_a_day_combines_everything_due() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let rec = Recorder::default();
    // 2026-11-27: AirPods (due 11-26) is 1 day late, the ThinkBook (due 11-30) is 3 days ahead.
    let d = day(2026, 11, 27);
    drive(&app, &rec, shanghai(d, 0, 0), shanghai(d, 23, 59), 10).await?;
    let sent = rec.to("tg:A1004");
    assert_eq!(sent.len(), 1, "one message that day");
    let text = &sent[0].1.text;
    assert!(text.contains("AirPods Pro") && text.contains("Lenovo ThinkBook 14"));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn quiet_hours_hold_a_late_reminder_until_nine() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let rec = Recorder::default();
    // The bot was down on 2026-11-23 (A1004's D-3) until 23:00.
    let d = day(2026, 11, 23);
    let r = drive(
        &app,
        &rec,
        shanghai(d, 23, 0),
        shanghai(d + Days::new(1), 9, 0),
        15,
    )
    .await?;
    assert_eq!(r.sent, 0, "nothing between 21:00 and 09:00");
    assert!(r.quiet >= 1);
    drive(
        &app,
        &rec,
        shanghai(d + Days::new(1), 9, 0),
        shanghai(d + Days::new(1), 9, 1),
        1,
    )
    .await?;
    let sent = rec.to("tg:A1004");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, shanghai(d + Days::new(1), 9, 0));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_london_account_is_reminded_at_ten_london_time() -> Result<()> {
    let app = demo_app(Store::temporary()?)?;
    let orders = "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n\
                  UK2026112101,A1005,Kindle,600.00,3,flat_fee,0.006,2026-12-01\n";
    let policy = app.settings.policy.clone();
    repaybot::import::import(
        &app.store,
        repaybot::import::Kind::Orders,
        "o.csv",
        orders.as_bytes(),
        &policy,
    )
    .map_err(|_| anyhow::anyhow!("import failed"))?;
    app.store.bind("tg:5", "A1005")?;
    reminders::reschedule(&app.store, &app.settings, "A1005", start_day())?;
    let rec = Recorder::default();
    drive(
        &app,
        &rec,
        shanghai(start_day(), 12, 0),
        shanghai(day(2026, 12, 2), 12, 0),
        30,
    )
    .await?;
    let times: Vec<DateTime<Utc>> = rec.to("tg:5").iter().map(|(t, _)| *t).collect();
    let london = chrono_tz::Europe::London;
    assert_eq!(
        times,
        [
            at(london, day(2026, 11, 28), 10, 0),
            at(london, day(2026, 11, 30), 10, 0),
            at(london, day(2026, 12, 1), 10, 0),
        ]
    );
    // In winter London is UTC: 10:00 there is 18:00 in Shanghai, not 10:00 Shanghai.
    assert_eq!(times[0].format("%H:%M").to_string(), "10:00");
    assert!(
        rec.to("tg:5")[0].1.text.contains("Repayment reminder"),
        "in English"
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_payment_cancels_its_reminders_even_without_a_reschedule() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let bill = app
        .store
        .bill("A1004", day(2026, 11, 22), &app.settings.policy)?;
    let jd = bill
        .orders
        .iter()
        .find(|o| o.order.id == "JD2026090402")
        .expect("demo order");
    let amount: Money = jd.installments[0].remaining;
    let payment = Payment {
        id: "P-TEST-1".into(),
        amount,
        paid_on: day(2026, 11, 22),
        kind: PaymentKind::Installment,
    };
    let policy = app.settings.policy.clone();
    app.store
        .record_payment("JD2026090402", payment, "test-key", "test", &policy)?;
    let rec = Recorder::default();
    let r = drive(
        &app,
        &rec,
        shanghai(day(2026, 11, 23), 9, 0),
        shanghai(day(2026, 11, 27), 0, 0),
        60,
    )
    .await?;
    assert!(
        rec.to("tg:A1004").is_empty(),
        "the paid AirPods installment is not reminded"
    );
    assert!(r.empty >= 1, "its wake came and found nothing due");
    // The ThinkBook's own reminder still comes, without the paid one.
    drive(
        &app,
        &rec,
        shanghai(day(2026, 11, 27), 0, 0),
        shanghai(day(2026, 11, 28), 0, 0),
        60,
    )
    .await?;
    let sent = rec.to("tg:A1004");
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].1.text.contains("AirPods") && sent[0].1.text.contains("ThinkBook"));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn overdue_notices_pause_while_a_dispute_is_open() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    app.store.open_ticket(repaybot::store::NewTicket {
        chat: "tg:A1004",
        account_id: Some("A1004"),
        reason: repaybot::store::TicketReason::Complaint,
        case_id: None,
        lang: repaybot::dialog::Lang::Zh,
        now: shanghai(day(2026, 11, 26), 10, 0),
    })?;
    assert!(reminders::overdue_paused(&app.store, "A1004")?);
    assert!(!reminders::overdue_paused(&app.store, "A1001")?);
    let rec = Recorder::default();
    drive(
        &app,
        &rec,
        shanghai(day(2026, 11, 27), 0, 0),
        shanghai(day(2026, 12, 4), 0, 0),
        60,
    )
    .await?;
    let sent = rec.to("tg:A1004");
    // 11-27 (ThinkBook D-3), 11-29 (D-1), 11-30 (D0): only the pre-due ThinkBook lines.
    let days: Vec<NaiveDate> = sent.iter().map(|(t, _)| t.date_naive()).collect();
    assert_eq!(
        days,
        [day(2026, 11, 27), day(2026, 11, 29), day(2026, 11, 30)]
    );
    assert!(sent.iter().all(|(_, r)| !r.text.contains("AirPods")));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_chat_without_binding_gets_nothing() -> Result<()> {
    let app = demo_app(Store::temporary()?)?;
    reminders::reschedule_all(&app.store, &app.settings, shanghai(start_day(), 0, 0))?;
    let rec = Recorder::default();
    let r = drive(
        &app,
        &rec,
        shanghai(day(2026, 11, 23), 9, 0),
        shanghai(day(2026, 11, 23), 11, 0),
        30,
    )
    .await?;
    assert!(rec.sent().is_empty());
    assert!(r.no_chat >= 1);
    let o =
        reminders::overview(&app.store, &app.settings, "A1004", start_day(), 3)?.expect("account");
    let text = reminders::report::render(&o, &app.settings);
    assert!(
        text.contains("chat: none bound: nothing will be sent"),
        "{text}"
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_restart_midway_sends_nothing_twice_and_misses_nothing() -> Result<()> {
    let from = shanghai(start_day(), 0, 0);
    let mid = shanghai(day(2026, 11, 26), 10, 0) + chrono::Duration::seconds(30);
    let end = shanghai(day(2026, 12, 10), 0, 0);
    // Reference: one process all along.
    let reference = Recorder::default();
    let app = bound_demo(Store::temporary()?)?;
    drive(&app, &reference, from, end, 60).await?;
    // On disk, stopped right after 11-26's 10:00 pass, opened again.
    let dir = std::env::temp_dir().join(format!("repaybot-rem-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rec = Recorder::default();
    {
        let app = bound_demo(Store::open(&dir)?)?;
        drive(&app, &rec, from, mid, 60).await?;
        app.store.flush()?;
    }
    {
        let app = App::new(Store::open(&dir)?, Settings::default())?;
        reminders::reschedule_all(&app.store, &app.settings, mid)?;
        drive(&app, &rec, mid, end, 60).await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let key = |v: Vec<(String, DateTime<Utc>, Reply)>| {
        v.into_iter()
            .map(|(c, t, r)| (c, t.date_naive(), r.text))
            .collect::<Vec<_>>()
    };
    let (a, b) = (key(reference.sent()), key(rec.sent()));
    assert!(!a.is_empty());
    assert_eq!(b, a, "the same messages, once each");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn downtime_gives_one_catch_up_message_not_a_burst() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let rec = Recorder::default();
    // Down from 11-21 to 11-27 noon: A1004 missed 11-23, 11-25 and 11-26.
    let back = shanghai(day(2026, 11, 27), 12, 0);
    drive(&app, &rec, back, shanghai(day(2026, 11, 28), 23, 0), 20).await?;
    let sent = rec.to("tg:A1004");
    assert_eq!(sent.len(), 1, "one catch-up message");
    assert_eq!(sent[0].0, back);
    let text = &sent[0].1.text;
    assert!(text.contains("AirPods Pro") && text.contains("ThinkBook"));
    assert!(text.contains("晚到"), "it says it is late: {text}");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_loop_runs_under_paused_time_and_stops_on_shutdown() -> Result<()> {
    let clock = Clock::following_tokio(shanghai(day(2026, 11, 22), 20, 0));
    let app = Arc::new(bound_demo(Store::temporary()?)?.with_clock(clock));
    let rec = Arc::new(Recorder::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let deliver: Arc<dyn Deliver> = rec.clone();
    let task = tokio::spawn(reminders::run(
        app.shared_core(),
        app.clone(),
        deliver,
        shutdown,
    ));
    // Minute by minute, with a moment of real time each: the scheduler's flush runs on the
    // blocking pool, and paused time must not race days ahead while it waits for one.
    for _ in 0..4 * 1440 {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    let _ = stop.send(());
    task.await??;
    // A1004: 11-23 (D-3), 11-25 (D-1), 11-26 (D0) by 11-26 20:00.
    let sent = rec.sent();
    let a1004: Vec<_> = sent.iter().filter(|(c, ..)| c == "tg:A1004").collect();
    assert_eq!(
        a1004.len(),
        3,
        "{:?}",
        sent.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    Ok(())
}

#[test]
fn reminder_buttons_pay_now_and_snooze_in_the_chat() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let now = shanghai(day(2026, 11, 23), 10, 5);
    let today = day(2026, 11, 23);
    let pay = app.turn("tg:A1004", ChatInput::Button("r:pay".into()), today, now)?;
    assert!(
        pay.trace.iter().any(|t| t.starts_with("state=repay.")),
        "{:?}",
        pay.trace
    );
    let snooze = app.turn("tg:A1004", ChatInput::Button("r:snooze".into()), today, now)?;
    assert!(
        snooze.replies[0].text.contains("2026-11-24"),
        "{:?}",
        snooze.replies
    );
    let prefs = reminders::prefs(&app.store, "A1004")?;
    assert_eq!(prefs.one_offs, [day(2026, 11, 24)]);
    Ok(())
}

#[test]
fn the_calendar_file_is_rfc5545() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let now = shanghai(start_day(), 10, 0);
    let chat = "tg:A1001";
    let plan = app.turn(chat, ChatInput::Text("reminders".into()), start_day(), now)?;
    let ics_button = plan.last_buttons()[6].1.clone();
    let out = app.turn(chat, ChatInput::Button(ics_button), start_day(), now)?;
    let file = out
        .replies
        .iter()
        .find_map(|r| r.attachment.clone())
        .expect("a calendar file");
    assert_eq!(file.file_name, "repayments-A1001.ics");
    let text = String::from_utf8(file.bytes)?;
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "CRLF line ends only"
    );
    assert!(text.contains("DTSTART;VALUE=DATE:20261214\r\n"));
    assert_eq!(
        text.matches("BEGIN:VEVENT").count(),
        6,
        "installments 7 to 12"
    );
    assert!(text.contains("UID:MI2026050101-7@repaybot"));
    assert!(text.lines().all(|l| l.len() <= 75), "folded at 75 octets");
    Ok(())
}

#[test]
fn reminder_settings_are_validated_at_start_up() {
    let mut s = reminders::RemindPolicy::default();
    assert!(s.problems().is_empty());
    s.at = reminders::plan::parse_hhmm("22:00").unwrap();
    s.days_before = vec![9];
    let p = s.problems();
    assert!(p.iter().any(|m| m.contains("days_before")), "{p:?}");
    let q = reminders::RemindPolicy {
        at: reminders::plan::parse_hhmm("22:00").unwrap(),
        ..Default::default()
    };
    assert!(q.problems().iter().any(|m| m.contains("quiet")));
    // In the file the times are read once, as times: a bad one names its key.
    let err = repaybot::settings::Settings::from_toml("[reminders]\nquiet_end = \"25:61\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("quiet_end") && err.contains("HH:MM"), "{err}");
    let ok = repaybot::settings::Settings::from_toml("[reminders]\nat = \"11:30\"\n").unwrap();
    assert_eq!(
        ok.reminders.send_time().format("%H:%M").to_string(),
        "11:30"
    );
    let times: BTreeMap<&str, Option<&str>> = BTreeMap::from([
        ("18:30", Some("18:30")),
        ("晚上8点", Some("20:00")),
        ("下午3点半", Some("15:30")),
        ("6pm", Some("18:00")),
        ("12月5号", None),
        ("500", None),
    ]);
    for (text, want) in times {
        let got = reminders::plan::parse_time_of_day(text).map(|t| t.format("%H:%M").to_string());
        assert_eq!(got.as_deref(), want, "{text}");
    }
}

#[test]
fn a_day_that_cannot_fit_is_reported_with_numbers() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let load = reminders::day_load(&app, shanghai(day(2026, 11, 23), 0, 0));
    // 12 allowed hours at 30 a second.
    assert_eq!(load.capacity, 12 * 3600 * 30);
    assert_eq!(load.planned, 1, "A1004's reminder of 11-23");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_restart_after_downtime_keeps_the_missed_day_for_one_catch_up_message() -> Result<()> {
    let app = bound_demo(Store::temporary()?)?;
    let rec = Recorder::default();
    // Down from 11-21 to 11-27 noon; `serve` reschedules every account when it comes back.
    let back = shanghai(day(2026, 11, 27), 12, 0);
    reminders::reschedule_all(&app.store, &app.settings, back)?;
    drive(&app, &rec, back, shanghai(day(2026, 11, 28), 23, 0), 20).await?;
    let sent = rec.to("tg:A1004");
    assert_eq!(sent.len(), 1, "one catch-up message");
    assert_eq!(sent[0].0, back);
    assert!(sent[0].1.text.contains("晚到"), "{}", sent[0].1.text);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_reminder_pass_through_app_handle_sends_exactly_what_the_core_pass_sends() -> Result<()> {
    // `serve` takes each reminder's two decisions through `App::handle` (ReminderDue, then
    // ReminderDelivered); tools may run the core's. Both must send the same messages.
    let (via_core, via_app) = (
        bound_demo(Store::temporary()?)?,
        bound_demo(Store::temporary()?)?,
    );
    let (core_rec, app_rec) = (Recorder::default(), Recorder::default());
    let opts = reminders::PassOptions {
        max_accounts: 1000,
        pace: None,
    };
    let core = via_core.shared_core();
    let mut now = shanghai(start_day(), 0, 0);
    for _ in 0..20 * 24 {
        *core_rec.now.lock().unwrap() = Some(now);
        *app_rec.now.lock().unwrap() = Some(now);
        reminders::run_once_with(&core, core.as_ref(), &core_rec, now, &opts).await?;
        reminders::run_once_with(&via_app, &via_app, &app_rec, now, &opts).await?;
        now += chrono::Duration::hours(1);
    }
    assert!(
        !app_rec.sent().is_empty(),
        "twenty days of the demo remind someone"
    );
    assert_eq!(app_rec.sent(), core_rec.sent());
    // A wake that is not in the index any more settles as skipped, with nothing to send.
    let stale = repaybot::app::Event::ReminderDue {
        account_id: "A1001".into(),
        at: shanghai(start_day(), 3, 17),
    };
    let out = via_app.handle(stale, now)?;
    assert!(
        matches!(
            out.reminder,
            Some(repaybot::app::ReminderStep::Prepared(
                reminders::Prepared::Settled(reminders::Outcome::Skipped)
            ))
        ),
        "{:?}",
        out.reminder
    );
    Ok(())
}
