//! The bot's own code paths leave the events the report counts, beyond turns and payments
//! (tests/it/ops/wired.rs): reminders sent and failed (one per installment), agreements
//! (deferral, re-installment, hardship approved, rejected, accepted, declined), an agent's first
//! reply (once per ticket) and tickets closing. A scripted day through the chat, the desk and
//! the scheduler gives exactly those numbers in the report.

use anyhow::Result;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use repaybot::app::{App, ChatInput, Reply};
use repaybot::dialog::Lang;
use repaybot::reminders::{self, Deliver, DeliverFuture};
use repaybot::report::{self, Period};
use repaybot::settings::Settings;
use repaybot::store::events::Event;
use repaybot::store::{AgentRef, DecisionKind, Store};
use repaybot::support::{apply_decision, Content, Desk, GroupMessage, Outgoing};
use rust_decimal_macros::dec;
use serde_json::json;
use std::sync::Mutex;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

/// 10:00 in Shanghai on the day, plus `minutes`.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn settings() -> Settings {
    let mut s = Settings::default();
    s.support.group_id = Some(-100_555);
    s.support.forum_topics = true;
    s
}

fn demo_app() -> App {
    let store = Store::temporary().unwrap();
    repaybot::demo::load_if_empty(&store, today(), &Settings::default().policy).unwrap();
    App::new(store, settings()).unwrap()
}

fn bind(app: &App, chat: &str, account: &str) {
    assert!(app.store.bind(chat, account).unwrap());
    app.set_lang(chat, Lang::En).unwrap();
}

fn say(app: &App, chat: &str, text: &str, minute: i64) -> String {
    let out = app.respond(chat, ChatInput::Text(text.into()), today(), at(minute));
    out.replies
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A hardship case opened through the chat; returns its ticket number.
fn open_case(app: &App, chat: &str, account: &str, minute: i64) -> u64 {
    for text in ["I lost my job", "3", "1", "300"] {
        say(app, chat, text, minute);
    }
    let doc = ChatInput::Document {
        file_id: "AgACAgIAAxkBAAIB".into(),
        name: "letter.jpg".into(),
    };
    app.respond(chat, doc, today(), at(minute));
    say(app, chat, "That's all", minute);
    let opened = say(app, chat, "yes", minute);
    let case = app.store.pending_case(account).unwrap();
    let ticket = case.and_then(|c| c.ticket);
    ticket.unwrap_or_else(|| panic!("no case for {account}: {opened}"))
}

fn anna() -> AgentRef {
    AgentRef {
        user_id: 7,
        first_name: "Anna".into(),
    }
}

fn decide(app: &App, ticket: u64, kind: DecisionKind, minute: i64) {
    let desk = Desk::new(app);
    let (outcome, _) = apply_decision(&desk, ticket, kind, &anna(), at(minute)).unwrap();
    assert_eq!(format!("{outcome:?}"), "Recorded");
}

/// The desk's announcement performed like the front end does: the topic gets thread 500+n.
fn announce(app: &App, ticket: u64, minute: i64) -> i32 {
    let desk = Desk::new(app);
    let thread = 500 + ticket as i32;
    for o in desk.announce(ticket, at(minute)).unwrap() {
        if let Outgoing::CreateTopic { ticket, .. } = o {
            desk.topic_created(ticket, thread, at(minute)).unwrap();
        }
    }
    thread
}

fn agent_says(app: &App, thread: i32, text: &str, message_id: i32, minute: i64) -> Vec<Outgoing> {
    let msg = GroupMessage {
        message_id,
        thread_id: Some(thread),
        reply_to: None,
        from: anna(),
        sender_is_member: true,
        content: Content::Text(text.into()),
    };
    Desk::new(app).on_group(&msg, at(minute)).unwrap()
}

fn events(app: &App) -> Vec<Event> {
    app.store
        .events_between(at(-24 * 60), at(24 * 60))
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect()
}

/// The scripted day: a deferral, a re-installment, hardship cases approved and accepted,
/// approved and declined, rejected; a human request answered twice and closed by the agent.
fn scripted_day() -> App {
    let app = demo_app();
    bind(&app, "tg:1", "A1001");
    say(&app, "tg:1", "can I postpone my next payment", 0);
    say(&app, "tg:1", "1", 0);
    say(&app, "tg:1", "30 days", 0);
    let agreed = say(&app, "tg:1", "yes", 0);
    assert!(
        agreed.contains("agreed") || agreed.contains("Deferral"),
        "{agreed}"
    );
    bind(&app, "tg:3", "A1003");
    for text in ["I can't pay, can I restructure", "2", "1000", "12 periods"] {
        say(&app, "tg:3", text, 1);
    }
    let agreed = say(&app, "tg:3", "yes", 1);
    assert!(agreed.contains("Re-installment agreed"), "{agreed}");
    // Approved, then accepted by the customer.
    bind(&app, "tg:4", "A1004");
    let t = open_case(&app, "tg:4", "A1004", 2);
    let approve = || DecisionKind::Approve {
        periods: 12,
        fee_rate_percent: dec!(0.5),
    };
    decide(&app, t, approve(), 3);
    say(&app, "tg:4", "request status", 4);
    let done = say(&app, "tg:4", "Accept the plan", 4);
    assert!(done.contains("Hardship plan confirmation"), "{done}");
    // Approved, then declined.
    bind(&app, "tg:2", "A1002");
    let t = open_case(&app, "tg:2", "A1002", 5);
    decide(&app, t, approve(), 6);
    say(&app, "tg:2", "request status", 7);
    let declined = say(&app, "tg:2", "Decline", 7);
    assert!(declined.contains("declined"), "{declined}");
    // Rejected (the ticket stays open for questions).
    let t = open_case(&app, "tg:1", "A1001", 8);
    let reason = "income proof missing".to_string();
    decide(&app, t, DecisionKind::Reject { reason }, 9);
    // A human request: the agent answers 30 minutes later, twice, then closes it.
    bind(&app, "tg:5", "A1005");
    say(&app, "tg:5", "qwertyuiop", 10);
    say(&app, "tg:5", "I want to talk to a person", 10);
    let ticket = app.store.open_tickets().unwrap();
    let ticket = ticket
        .iter()
        .find(|t| t.chat == "tg:5")
        .expect("ticket")
        .number;
    let thread = announce(&app, ticket, 10);
    let relayed = agent_says(&app, thread, "Hello, I am looking at it", 9001, 40);
    assert!(
        relayed
            .iter()
            .any(|o| matches!(o, Outgoing::ToCustomer { chat_key, .. } if chat_key == "tg:5")),
        "{relayed:?}"
    );
    agent_says(&app, thread, "Done, anything else?", 9002, 45);
    agent_says(&app, thread, "/close", 9003, 50);
    app
}

#[test]
fn agreements_first_replies_and_closings_of_a_scripted_day_are_what_the_report_counts() {
    let app = scripted_day();
    let r = report::build(
        &app.store,
        &app.settings.policy,
        Period {
            from: today(),
            to: today(),
            today: today(),
        },
    )
    .unwrap();
    let r = serde_json::to_value(&r).unwrap();
    assert_eq!(
        r["negotiation"],
        json!([
            { "kind": "deferral", "outcome": "agreed", "count": 1 },
            { "kind": "reinstallment", "outcome": "agreed", "count": 1 },
            { "kind": "hardship", "outcome": "agreed", "count": 1 },
            { "kind": "hardship", "outcome": "approved", "count": 2 },
            { "kind": "hardship", "outcome": "rejected", "count": 1 },
            { "kind": "hardship", "outcome": "withdrawn", "count": 1 },
        ]),
        "{r:#}"
    );
    // Menu numbers and "30 days" are taken by the flows: only the one gibberish message is
    // not understood.
    assert_eq!(r["understanding"]["not_understood"], 1, "{r:#}");
    assert_eq!(
        r["understanding"]["top_not_understood"],
        json!([{ "text": "qwertyuiop", "count": 1 }])
    );
    // Three hardship tickets and one request; closed: two approvals and the agent's /close.
    assert_eq!(r["tickets"]["opened"], 4, "{r:#}");
    assert_eq!(r["tickets"]["closed"], 3, "{r:#}");
    let request = r["tickets"]["by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["reason"] == "request")
        .cloned()
        .unwrap();
    assert_eq!(request["answered"], 1, "{r:#}");
    assert_eq!(request["median_first_reply_seconds"], "1800", "{r:#}");
    // One first-reply event for the two agent messages.
    let firsts = events(&app)
        .into_iter()
        .filter(|e| matches!(e, Event::FirstAgentReply { .. }))
        .count();
    assert_eq!(firsts, 1);
}

#[test]
fn forget_leaves_no_event_of_the_chat_not_even_its_own_turn() {
    let app = scripted_day();
    app.respond("tg:1", ChatInput::Text("/forget".into()), today(), at(60));
    let left: Vec<Event> = events(&app)
        .into_iter()
        .filter(|e| e.chat() == Some("tg:1"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(app
        .store
        .open_tickets()
        .unwrap()
        .iter()
        .all(|t| t.chat != "tg:1"));
}

/// Accepts every message, or fails every one.
struct Front {
    fail: bool,
    sent: Mutex<Vec<String>>,
}

impl Deliver for Front {
    fn deliver<'a>(&'a self, chat_key: &'a str, _reply: &'a Reply) -> DeliverFuture<'a> {
        Box::pin(async move {
            if self.fail {
                anyhow::bail!("Telegram is down");
            }
            self.sent.lock().unwrap().push(chat_key.to_string());
            Ok(())
        })
    }
}

/// Runs a pass every hour for `days` days from the start of the day (Shanghai).
async fn drive(app: &App, front: &Front, days: i64) -> Result<usize> {
    let mut failed = 0;
    let mut now = at(-10 * 60);
    while now < at(days * 24 * 60) {
        failed += reminders::run_once(app, front, now).await?.failed;
        now += Duration::hours(1);
    }
    Ok(failed)
}

fn reminder_app() -> App {
    let app = demo_app();
    bind(&app, "tg:1", "A1001");
    reminders::reschedule_all(&app.store, &app.settings, at(-10 * 60)).unwrap();
    app
}

fn counter(name: &str) -> f64 {
    repaybot::ops::metrics::global()
        .render()
        .lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_sent_reminder_leaves_one_event_per_installment_with_its_day_code() -> Result<()> {
    let app = reminder_app();
    let front = Front {
        fail: false,
        sent: Mutex::default(),
    };
    let before = counter("repaybot_reminders_sent_total{kind=\"D-3\"}");
    drive(&app, &front, 30).await?;
    let messages = front.sent.lock().unwrap().len();
    assert!(messages >= 3, "D-3, D-1 and D0 of A1001's next installment");
    let sent: Vec<(String, String, NaiveDate)> = app
        .store
        .events_between(at(-24 * 60), at(40 * 24 * 60))?
        .into_iter()
        .filter_map(|r| match r.event {
            Event::ReminderSent {
                chat,
                account,
                kind,
                due,
                order,
            } => {
                assert_eq!((chat.as_deref(), account.as_str()), (Some("tg:1"), "A1001"));
                Some((kind, order, due))
            }
            _ => None,
        })
        .collect();
    let kinds: std::collections::BTreeSet<&str> = sent.iter().map(|s| s.0.as_str()).collect();
    assert!(kinds.contains("D-3") && kinds.contains("D0"), "{sent:?}");
    assert!(sent.iter().all(|s| s.1 == "MI2026050101"), "{sent:?}");
    assert!(
        counter("repaybot_reminders_sent_total{kind=\"D-3\"}") >= before + 1.0,
        "the counter moved"
    );
    // The report counts exactly those, and each installment once.
    let period = Period {
        from: today(),
        to: today() + chrono::Days::new(40),
        today: today() + chrono::Days::new(41),
    };
    let r = report::build(&app.store, &app.settings.policy, period)?;
    assert_eq!(r.reminders.sent, sent.len() as u64);
    let installments: std::collections::BTreeSet<_> = sent.iter().map(|s| (&s.1, s.2)).collect();
    assert_eq!(r.reminders.reminded_installments, installments.len() as u64);
    Ok(())
}

#[tokio::test]
async fn a_failed_reminder_leaves_failed_events_and_no_sent_one() -> Result<()> {
    let app = reminder_app();
    let front = Front {
        fail: true,
        sent: Mutex::default(),
    };
    let before = counter("repaybot_reminders_failed_total");
    let failed = drive(&app, &front, 30).await?;
    assert!(failed >= 1);
    let all = app.store.events_between(at(-24 * 60), at(40 * 24 * 60))?;
    let failures = all
        .iter()
        .filter(|r| matches!(r.event, Event::ReminderFailed { .. }))
        .count();
    assert!(
        failures >= failed,
        "{failures} events for {failed} failed sends"
    );
    assert!(!all
        .iter()
        .any(|r| matches!(r.event, Event::ReminderSent { .. })));
    assert!(counter("repaybot_reminders_failed_total") >= before + failures as f64);
    Ok(())
}
