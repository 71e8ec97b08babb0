//! The bot itself leaves the events the report reads: a chat turn, a message not understood
//! (redacted), a human request's ticket and a chat payment, each exactly once.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use repaybot::app::{App, ChatInput};
use repaybot::settings::Settings;
use repaybot::store::events::Event;
use repaybot::store::Store;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(3, 0, 0).unwrap().and_utc()
}

#[test]
fn turns_tickets_and_a_chat_payment_leave_their_events() {
    let store = Store::temporary().unwrap();
    repaybot::demo::load_if_empty(&store, today(), &Settings::default().policy).unwrap();
    let app = App::new(store, Settings::default()).unwrap();
    let chat = "tg:4242";
    assert!(app.store.bind(chat, "A1003").unwrap());
    let say = |input: ChatInput| app.respond(chat, input, today(), now());
    say(ChatInput::Start);
    say(ChatInput::Text("qwertyuiop 13800005678".into()));
    let choose = say(ChatInput::Text("还款".into()));
    let confirm = say(ChatInput::Button(choose.last_buttons()[0].1.clone()));
    say(ChatInput::Button(confirm.last_buttons()[0].1.clone()));
    say(ChatInput::Text("转人工".into()));
    let events: Vec<Event> = app
        .store
        .events_between(now() - Duration::hours(1), now() + Duration::hours(1))
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    let turns = events.iter().filter(|e| matches!(e, Event::Turn { .. }));
    assert_eq!(turns.count(), 6, "{events:?}");
    let unknown: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::NotUnderstood { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(unknown.len(), 1, "{events:?}");
    assert!(
        !unknown[0].contains("13800005678"),
        "phone kept: {}",
        unknown[0]
    );
    let paid: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Payment { amount, status, .. } => Some(format!("{amount} {status}")),
            _ => None,
        })
        .collect();
    assert_eq!(paid, ["1263.87 applied"], "{events:?}");
    let tickets = events
        .iter()
        .filter(|e| matches!(e, Event::TicketOpened { reason, .. } if reason == "request"));
    assert_eq!(tickets.count(), 1, "{events:?}");
}
