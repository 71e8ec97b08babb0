//! One clock in `serve` (issue 13): under `--today` and under `--clock-start` the bill the
//! customer reads, the ticket card agents get and the support-hours decision all use the clock's
//! day and time, never the machine's.

use super::{data_dir, serve, statement_on, Customer, TODAY, WAIT, ZH};
use crate::fake_telegram::{Call, FakeTelegram};
use chrono::{DateTime, Duration, Timelike, Utc};
use std::path::{Path, PathBuf};

const GROUP: i64 = -100_555_000_111;
/// A1003: overdue about 40 days, so its penalty (and overdue total) changes every day.
const ACCOUNT: &str = "A1003";

/// A support group without topics, `hours` in Shanghai, a late notice as soon as a ticket waits.
fn config(dir: &Path, hours: &str) -> PathBuf {
    let path = dir.join("repaybot.toml");
    let text = format!(
        "[support]\ngroup_id = {GROUP}\nforum_topics = false\nhours = \"{hours}\"\n\
         wait_notice_minutes = 0\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The first post in the support group containing `expect`.
fn group_post(fake: &FakeTelegram, expect: &str) -> Call {
    let found = fake.wait_until(WAIT, |calls| {
        calls
            .iter()
            .find(|c| {
                c.method == "sendmessage"
                    && c.chat_id() == Some(GROUP)
                    && c.shown().contains(expect)
            })
            .cloned()
    });
    found.unwrap_or_else(|| panic!("the group never got {expect:?}"))
}

/// Binds A1003, reads its bill, asks for an agent; returns the bill text and the ticket card.
fn bill_and_card(fake: &FakeTelegram, c: &mut Customer) -> (String, String) {
    c.bind("13700002468", "8806");
    let bill = c.say("我的账单", "已逾期合计").text();
    c.say("转人工", "人工服务单 #1");
    (bill, group_post(fake, "#T1").shown())
}

/// What the customer and the agents must both see on `day`: the statement's figures.
fn assert_same_day(data: &Path, day: &str, bill: &str, card: &str) {
    let doc = statement_on(data, ACCOUNT, day);
    assert_eq!(doc["today"], day);
    let overdue = doc["overdue_total"].as_str().unwrap();
    assert!(
        bill.contains(&format!("截至 {day}")) && bill.contains(&format!("¥{overdue}")),
        "the bill is not the statement of {day} (overdue ¥{overdue}): {bill}"
    );
    let order = &doc["orders"][0];
    let line = format!(
        "逾期 ¥{}｜下期 {} ¥{}",
        order["overdue_total"].as_str().unwrap(),
        order["next_due"]["date"].as_str().unwrap(),
        order["next_due"]["amount"].as_str().unwrap()
    );
    assert!(
        card.contains(&line),
        "the card is not on {day} ({line}): {card}"
    );
}

#[test]
fn under_today_the_ticket_card_shows_the_day_the_customer_saw() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (dir, data) = data_dir();
    let config = config(dir.path(), "00:00-23:59");
    let served = serve(&data, &fake, &["--config", config.to_str().unwrap()]);
    let mut c = Customer::new(&fake, 7301, ZH);
    let (bill, card) = bill_and_card(&fake, &mut c);
    served.stop();
    assert_same_day(&data, TODAY, &bill, &card);
}

/// Support hours of four hours around the machine's time of day in Shanghai (open by the
/// machine's clock), and a start instant 40 days and 12 hours later (closed by the bot's).
fn hours_open_now_closed_at_start() -> (String, DateTime<Utc>) {
    let real = Utc::now();
    let minutes = real.with_timezone(&chrono_tz::Asia::Shanghai).time();
    let m = i64::from(minutes.hour() * 60 + minutes.minute());
    let (from, to) = ((m - 120).max(0), (m + 120).min(23 * 60 + 59));
    let hm = |x: i64| format!("{:02}:{:02}", x / 60, x % 60);
    let start = real + Duration::days(40) + Duration::hours(12);
    (format!("{}-{}", hm(from), hm(to)), start)
}

#[test]
fn under_clock_start_the_card_and_the_support_hours_follow_the_bot_clock() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (dir, data) = data_dir();
    let (hours, start) = hours_open_now_closed_at_start();
    let config = config(dir.path(), &hours);
    let start_arg = start.to_rfc3339();
    let served = serve(
        &data,
        &fake,
        &[
            "--config",
            config.to_str().unwrap(),
            "--clock-start",
            &start_arg,
        ],
    );
    let mut c = Customer::new(&fake, 7302, ZH);
    let (bill, card) = bill_and_card(&fake, &mut c);
    // Outside the hours by the bot's clock: the waiting customer is told when agents reply.
    fake.text(c.id, ZH, "有人吗？");
    let notice = c.until("现在不在客服工作时间").text();
    served.stop();
    assert!(notice.contains(&hours), "{notice}");
    let day = start
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .to_string();
    assert_same_day(&data, &day, &bill, &card);
}
