//! Events: a date range is a range scan, `/forget` removes a chat's, old ones are pruned, and
//! the only message text kept is the redacted text of messages not understood.

use chrono::{DateTime, TimeZone, Utc};
use repaybot::settings::Settings;
use repaybot::store::events::{self, redact_unknown, Event, Handler};
use repaybot::store::Store;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
}

fn turn(chat: &str, intent: &str) -> Event {
    Event::Turn {
        chat: chat.into(),
        account: Some("A1001".into()),
        intent: intent.into(),
        understood: true,
        handled: Handler::Bot,
    }
}

#[test]
fn events_come_back_by_date_range_in_time_order() {
    let store = Store::temporary().unwrap();
    events::record(&store, turn("tg:1", "bill"), at(3, 9));
    events::record(&store, turn("tg:2", "pay"), at(1, 9));
    events::record(&store, turn("tg:1", "detail"), at(2, 9));
    events::record(&store, turn("tg:1", "later"), at(5, 9));
    let got = store.events_between(at(2, 0), at(3, 23)).unwrap();
    let intents: Vec<_> = got
        .iter()
        .map(|r| match &r.event {
            Event::Turn { intent, .. } => intent.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(intents, ["detail", "bill"]);
    assert_eq!(got[0].at, at(2, 9));
}

#[test]
fn forget_removes_only_that_chats_events() {
    let store = Store::temporary().unwrap();
    events::record(&store, turn("tg:1", "bill"), at(1, 9));
    events::record(&store, Event::not_understood("tg:1", "blah"), at(1, 9));
    events::record(&store, turn("tg:2", "bill"), at(1, 10));
    assert_eq!(events::forget_chat(&store, "tg:1").unwrap(), 2);
    let left = store.events_between(at(1, 0), at(2, 0)).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].event.chat(), Some("tg:2"));
}

#[test]
fn events_older_than_keep_days_are_pruned() {
    let store = Store::temporary().unwrap();
    events::record(&store, turn("tg:1", "old"), at(1, 9));
    events::record(&store, turn("tg:1", "new"), at(10, 9));
    assert_eq!(store.prune_events(at(12, 0), 5).unwrap(), 1);
    let left = store.events_between(at(1, 0), at(31, 0)).unwrap();
    assert_eq!(left.len(), 1);
    // The pruned event's chat index entry went with it: forgetting finds only the new one.
    assert_eq!(events::forget_chat(&store, "tg:1").unwrap(), 1);
}

#[test]
fn not_understood_text_is_digit_masked_and_short() {
    assert_eq!(
        redact_unknown("my phone  13812345678 and id 11010519491231002X"),
        "my phone ########### and id #################X"
    );
    let long = "字".repeat(100);
    assert_eq!(redact_unknown(&long).chars().count(), 60);
    match Event::not_understood("tg:1", "pay 1500 now") {
        Event::NotUnderstood { text, .. } => assert_eq!(text, "pay #### now"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn keep_days_out_of_range_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[ops]\nkeep_days = 0\n").unwrap();
    let err = format!("{:#}", Settings::load(Some(&file)).unwrap_err());
    assert!(err.contains("ops.keep_days"), "{err}");
    std::fs::write(&file, "[ops]\nkeep_days = 30\n").unwrap();
    assert_eq!(Settings::load(Some(&file)).unwrap().ops.keep_days, 30);
    assert_eq!(Settings::load(None).unwrap().ops.keep_days, 400);
}

#[test]
fn forget_chat_of_the_store_removes_the_chats_events_too() {
    let store = Store::temporary().unwrap();
    events::record(&store, turn("tg:7", "bill"), at(1, 9));
    store.forget_chat("tg:7", at(2, 0)).unwrap();
    assert!(store.events_between(at(1, 0), at(3, 0)).unwrap().is_empty());
}
