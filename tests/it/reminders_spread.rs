//! A day's reminders that cannot all go at 10:00 within `messages_per_second` are spread over
//! the allowed hours, earliest due first, never before their time nor inside the quiet hours;
//! a day that fits stays as planned.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use repaybot::app::App;
use repaybot::reminders::{self, index};
use repaybot::settings::Settings;
use repaybot::store::Store;
use std::collections::HashMap;

const DUE: (i32, u32, u32) = (2026, 12, 14);

fn shanghai(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(DUE.0, DUE.1, d, h, m, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc)
}

/// `n` bound accounts with an installment due on Dec 14: a reminder each at 10:00 on Dec 11.
fn app_with(n: usize, per_second: u32, quiet_start: &str) -> Result<App> {
    let store = Store::temporary()?;
    let mut settings = Settings::default();
    settings.reminders.messages_per_second = per_second;
    settings.reminders.quiet_start = repaybot::reminders::plan::parse_hhmm(quiet_start).unwrap();
    let mut a = String::from("account_id,name,phone,id_last4,language,timezone\n");
    let mut o = String::from(
        "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n",
    );
    let due = NaiveDate::from_ymd_opt(DUE.0, DUE.1, DUE.2).expect("date");
    for i in 0..n {
        a += &format!("S{i:04},N{i},137{i:08},1234,zh,Asia/Shanghai\n");
        o += &format!("P{i:04},S{i:04},Phone,1200.00,12,flat_fee,0.006,{due}\n");
    }
    for (kind, text) in [
        (repaybot::import::Kind::Accounts, a),
        (repaybot::import::Kind::Orders, o),
    ] {
        let r = repaybot::import::import(&store, kind, "t.csv", text.as_bytes(), &settings.policy);
        assert!(r.is_ok(), "import");
    }
    for i in 0..n {
        store.bind(&format!("tg:{}", 1000 + i), &format!("S{i:04}"))?;
    }
    reminders::reschedule_all(&store, &settings, shanghai(10, 12, 0))?;
    App::new(store, settings)
}

fn wakes(app: &App, n: usize) -> Result<Vec<DateTime<Utc>>> {
    (0..n)
        .map(|i| {
            let state = index::load(&app.store, &format!("S{i:04}"))?;
            Ok(state.wake.expect("a wake").at)
        })
        .collect()
}

#[test]
fn a_day_too_big_for_ten_oclock_is_spread_earliest_first_outside_the_quiet_hours() -> Result<()> {
    // One a second, quiet from 10:02: 120 fit before the quiet hours, 80 go on the next morning.
    let app = app_with(200, 1, "10:02")?;
    assert!(wakes(&app, 200)?.iter().all(|w| *w == shanghai(11, 10, 0)));
    let moved = reminders::spread_day(&app, shanghai(11, 9, 30))?;
    assert_eq!(moved, 199, "all but the first");
    let after = wakes(&app, 200)?;
    let mut per_second: HashMap<i64, usize> = HashMap::new();
    for w in &after {
        *per_second.entry(w.timestamp()).or_default() += 1;
        assert!(*w >= shanghai(11, 10, 0), "never before its time");
        let local = w.with_timezone(&chrono_tz::Asia::Shanghai).time();
        let quiet = local >= chrono::NaiveTime::from_hms_opt(10, 2, 0).unwrap() || local.hour() < 9;
        assert!(!quiet, "{w} is inside the quiet hours");
    }
    assert!(per_second.values().all(|n| *n == 1), "one a second");
    assert!(
        after.windows(2).all(|w| w[0] < w[1]),
        "earliest due (index order) first"
    );
    assert_eq!(
        after[119],
        shanghai(11, 10, 1) + chrono::Duration::seconds(59)
    );
    assert_eq!(
        after[120],
        shanghai(12, 9, 0),
        "the rest from the end of the quiet hours"
    );
    for i in [0, 150, 199] {
        let state = index::load(&app.store, &format!("S{i:04}"))?;
        assert_eq!(
            state.wake.expect("wake").date.to_string(),
            "2026-12-11",
            "keeps its day"
        );
    }
    // A pass at 10:00:30 sends the first 31 only (the rest wait for their second).
    let due = index::due_accounts(
        &app.store,
        shanghai(11, 10, 0) + chrono::Duration::seconds(30),
        1000,
    )?;
    assert_eq!(due.len(), 31);
    Ok(())
}

#[test]
fn a_day_that_fits_at_ten_oclock_is_left_as_planned() -> Result<()> {
    let app = app_with(200, 30, "21:00")?;
    assert_eq!(reminders::spread_day(&app, shanghai(11, 9, 30))?, 0);
    assert!(wakes(&app, 200)?.iter().all(|w| *w == shanghai(11, 10, 0)));
    Ok(())
}
