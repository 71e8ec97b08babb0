//! The planned-reminders views (issue 11): `repaybot reminders ACCOUNT_ID` and the customer's
//! reminder list show the overdue notices that follow if an installment stays unpaid, marked
//! as conditional, in both languages.

use anyhow::Result;
use chrono::{NaiveDate, TimeZone, Utc};
use repaybot::app::{App, ChatInput};
use repaybot::demo;
use repaybot::dialog::Lang;
use repaybot::reminders::{self, report};
use repaybot::settings::Settings;
use repaybot::store::Store;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn app() -> Result<App> {
    let store = Store::temporary()?;
    demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    App::new(store, Settings::default())
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 4, 0, 0).unwrap()
}

#[test]
fn the_operator_view_lists_every_notice_that_follows_if_unpaid() -> Result<()> {
    let app = app()?;
    // A1001 is current: installment 7 is due 2026-12-14.
    let o = reminders::overview(&app.store, &app.settings, "A1001", today(), 12)?.unwrap();
    let text = report::render(&o, &app.settings);
    for (day, n) in [
        ("2026-12-15", 1),
        ("2026-12-17", 3),
        ("2026-12-21", 7),
        ("2026-12-29", 15),
        ("2027-01-13", 30),
    ] {
        let line = text
            .lines()
            .skip_while(|l| !l.contains(&format!("{day} 10:00")))
            .nth(1)
            .unwrap_or_else(|| panic!("no planned day {day} in:\n{text}"));
        assert!(
            line.contains(&format!("if unpaid D+{n}")) && line.contains("MI2026050101 #7"),
            "{line}"
        );
    }
    Ok(())
}

#[test]
fn the_customer_list_marks_notices_that_follow_if_unpaid() -> Result<()> {
    let app = app()?;
    for (lang, marker, first_notice) in [
        (
            Lang::En,
            "(only if Xiaomi 15 Pro installment 7",
            "2026-12-15 10:00",
        ),
        (
            Lang::Zh,
            "（如 2026-12-14 到期的 Xiaomi 15 Pro 第7期仍未还清）",
            "2026-12-15 10:00",
        ),
    ] {
        let chat = format!("plan:{lang:?}");
        assert!(app.store.bind(&chat, "A1001")? || app.store.chat_of_account("A1001")?.is_some());
        app.set_lang(&chat, lang)?;
        app.turn(&chat, ChatInput::Start, today(), now())?;
        let out = app.turn(&chat, ChatInput::Text("/remind".into()), today(), now())?;
        let text: String = out.replies.iter().map(|r| r.text.clone()).collect();
        let line = text
            .lines()
            .find(|l| l.contains(first_notice))
            .unwrap_or_else(|| panic!("no {first_notice} in:\n{text}"));
        assert!(line.contains(marker), "{line}");
        app.store.unbind(&chat)?;
    }
    Ok(())
}
