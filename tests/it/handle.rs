//! `App::handle` (issue 13): one event in, the outcome out, one flush; the support desk's
//! decision is made inside it; and in `serve` each update costs one blocking hop.

use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, CustomerEvent, Event};
use repaybot::settings::Settings;
use repaybot::store::Store;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).unwrap().and_utc()
}

fn app(settings: Settings) -> App {
    let store = Store::temporary().unwrap();
    repaybot::demo::load_if_empty(&store, today(), &settings.policy).unwrap();
    App::new(store, settings)
        .unwrap()
        .with_clock(repaybot::clock::Clock::on_day(today()))
}

fn say(chat: &str, text: &str, desk_message: Option<i32>) -> Event {
    Event::Customer(CustomerEvent {
        chat: chat.into(),
        input: ChatInput::Text(text.into()),
        lang: None,
        desk: desk_message.map(|id| (id, repaybot::support::Content::Text(text.into()))),
    })
}

#[test]
fn a_bill_question_is_one_event_with_one_flush() {
    let app = app(Settings::default());
    let chat = "term:A1001";
    app.store.act_as(chat, "A1001").unwrap();
    let before = app.store.flushes();
    let out = app.handle(say(chat, "查账单", None), now()).unwrap();
    assert_eq!(app.store.flushes() - before, 1, "one flush per event");
    let text: Vec<&str> = out.replies.iter().map(|r| r.text.as_str()).collect();
    assert!(text.join("\n").contains("Xiaomi 15 Pro"), "{text:?}");
    assert!(!out.taken_by_desk && out.desk.is_empty() && out.tickets_opened.is_empty());
}

#[test]
fn unsynced_a_customer_event_hands_back_the_flush_to_wait_for_and_a_reminder_step_none() {
    let app = app(Settings::default());
    let chat = "term:A1001";
    app.store.act_as(chat, "A1001").unwrap();
    let (flushes, syncs) = (app.store.flushes(), app.store.syncs());
    let handled = app
        .handle_unsynced(say(chat, "查账单", None), now())
        .unwrap();
    let ticket = handled
        .durable_at
        .expect("a customer's turn waits for the disk");
    assert_eq!(app.store.flushes() - flushes, 1, "one flush asked");
    assert_eq!(
        app.store.syncs(),
        syncs,
        "nothing synced yet: the caller waits"
    );
    assert!(!handled.outcome.replies.is_empty());
    app.store.wait_durable(ticket).unwrap();
    assert_eq!(app.store.syncs() - syncs, 1, "the wait ran one sync");
    let due = Event::ReminderDue {
        account_id: "A1001".into(),
        at: now(),
    };
    let handled = app.handle_unsynced(due, now()).unwrap();
    assert!(
        handled.durable_at.is_none(),
        "the scheduler flushes its pass"
    );
}

#[test]
fn with_an_open_ticket_the_desk_takes_the_message_inside_handle() {
    let mut settings = Settings::default();
    settings.support.group_id = Some(-100_777);
    settings.support.hours = repaybot::support::Hours::parse("00:00-23:59").unwrap();
    let app = app(settings);
    let chat = "tg:4242";
    let opened = app.handle(say(chat, "转人工", Some(1)), now()).unwrap();
    assert_eq!(opened.tickets_opened.len(), 1, "{:?}", opened.trace);
    assert!(
        !opened.desk.is_empty(),
        "the new ticket is announced to the support group in the same outcome"
    );
    let relayed = app
        .handle(say(chat, "我的订单怎么了", Some(2)), now())
        .unwrap();
    assert!(
        relayed.taken_by_desk,
        "an open ticket: people answer, not the bot"
    );
    assert!(relayed.replies.is_empty(), "{:?}", relayed.replies);
    assert!(!relayed.desk.is_empty(), "the message goes to the group");
}

#[test]
fn in_serve_each_customer_update_costs_one_blocking_hop() {
    use crate::ops::serve::{free_port, try_get};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let token = "123456:TEST-token_for-fake";
    let fake = crate::fake_telegram::FakeTelegram::start(token);
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    /// Stops the bot however the test ends.
    struct Bot(std::process::Child);
    impl Drop for Bot {
        fn drop(&mut self) {
            crate::process::kill(&mut self.0);
        }
    }
    let bot = Bot(Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args(["--data-dir", dir.path().join("data").to_str().unwrap()])
        .args(["--today", "2026-11-21", "serve", "--api-url", &fake.url()])
        .env("REPAYBOT_METRICS_LISTEN", &addr)
        .env("TELOXIDE_TOKEN", token)
        .env_remove("REPAYBOT_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let metric = |text: &str, name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    while try_get(&addr, "/metrics").is_none_or(|(code, _)| code != 200) {
        assert!(Instant::now() < deadline, "no /metrics on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
    for (chat, words) in [(8101, "my bill"), (8102, "hello"), (8103, "how do I repay")] {
        fake.text(chat, "en", words);
        let got = fake.wait_messages(chat, 1, Duration::from_secs(60));
        assert!(!got.is_empty(), "chat {chat} got no reply");
    }
    let (_, text) = try_get(&addr, "/metrics").unwrap();
    drop(bot);
    assert_eq!(metric(&text, "repaybot_blocking_hops_total"), 3.0, "{text}");
    let flushes = metric(&text, "repaybot_store_flushes ");
    assert!(flushes >= 3.0, "{text}");
    let syncs = metric(&text, "repaybot_store_syncs ");
    assert!(syncs >= 1.0 && syncs <= flushes, "{text}");
}

#[test]
fn a_payment_report_is_an_event_of_handle_answered_with_one_flush() {
    use repaybot::payments::outcome::{Answer, Report, ReportStatus};
    let app = app(Settings::default());
    let report = Report {
        payment_id: "C-unknown-1".into(),
        status: ReportStatus::Succeeded,
        amount: rust_decimal::Decimal::new(26790, 2),
        paid_at: Some(now()),
    };
    let before = app.store.flushes();
    let out = app.handle(Event::PaymentReport(report), now()).unwrap();
    assert_eq!(
        out.payment_answer,
        Some(Answer::Unknown),
        "an id never created: 404"
    );
    assert!(out.notify.is_empty() && out.replies.is_empty());
    assert_eq!(app.store.flushes() - before, 1);
}
