//! Binding safety (SPEC 3.1) below Telegram: only the sender's own contact starts binding, a
//! typed number is never looked up, failures count per chat and per account and survive
//! `/forget` and `/unbind`, refusals read the same whatever failed, the owner is told, a store
//! error is not a failure, and the operator's `chat --account` does not hold the binding.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, TurnOutput};
use repaybot::settings::Settings;
use repaybot::store::{BindSubject, Store};
use std::path::Path;

const PHONE: &str = "13800005678"; // A1001, ID ending 123X
const RIGHT: &str = "123X";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid date")
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).expect("valid time").and_utc()
}

fn app_on(store: Store) -> App {
    repaybot::demo::load_if_empty(&store, today(), &Settings::default().policy).unwrap();
    App::new(store, Settings::default())
        .unwrap()
        .with_clock(repaybot::clock::Clock::on_day(today()))
}

fn app() -> App {
    app_on(Store::temporary().unwrap())
}

fn turn_at(app: &App, chat: &str, input: ChatInput, at: DateTime<Utc>) -> TurnOutput {
    app.turn(chat, input, today(), at).unwrap()
}

fn text(out: &TurnOutput) -> String {
    let texts: Vec<&str> = out.replies.iter().map(|r| r.text.as_str()).collect();
    texts.join("\n")
}

fn say(app: &App, chat: &str, words: &str) -> TurnOutput {
    turn_at(app, chat, ChatInput::Text(words.into()), now())
}

fn contact(app: &App, chat: &str, phone: &str) -> TurnOutput {
    let own = ChatInput::Contact {
        phone: phone.into(),
        own: true,
    };
    turn_at(app, chat, own, now())
}

/// /bind, the sender's own contact, then `last4`.
fn attempt(app: &App, chat: &str, phone: &str, last4: &str) -> TurnOutput {
    say(app, chat, "/bind");
    contact(app, chat, phone);
    say(app, chat, last4)
}

fn refusal(app: &App) -> String {
    let no_vars = Default::default();
    app.flows
        .text(repaybot::dialog::Lang::Zh, "bind.not_matched", &no_vars)
}

fn locked(app: &App) -> String {
    let no_vars = Default::default();
    app.flows
        .text(repaybot::dialog::Lang::Zh, "bind.locked", &no_vars)
}

#[test]
fn a_typed_phone_is_answered_with_the_contact_button_and_never_binds() {
    let app = app();
    let chat = "tg:700";
    say(&app, chat, "/bind");
    let out = say(&app, chat, PHONE);
    assert!(out.replies.iter().any(|r| r.request_contact.is_some()));
    assert!(
        !out.trace.iter().any(|t| t.contains("bind.ask_id")),
        "{:?}",
        out.trace
    );
    assert!(
        !text(&out).contains("138****5678"),
        "no lookup: {}",
        text(&out)
    );
    let after = say(&app, chat, RIGHT);
    assert_eq!(app.store.binding(chat).unwrap(), None, "{}", text(&after));
}

#[test]
fn the_refusal_of_a_forged_contact_does_not_suggest_typing_the_number() {
    let app = app();
    let other = ChatInput::Contact {
        phone: PHONE.into(),
        own: false,
    };
    let out = turn_at(&app, "tg:701", other, now());
    assert!(
        out.replies[0].request_contact.is_some(),
        "offers the button"
    );
    for t in [
        text(&out),
        app.flows.text(
            repaybot::dialog::Lang::En,
            "bind.contact_not_own",
            &Default::default(),
        ),
    ] {
        assert!(
            !t.contains("输入") && !t.to_lowercase().contains("type"),
            "{t}"
        );
    }
}

#[test]
fn forget_and_unbind_do_not_clear_the_lock() {
    let app = app();
    let chat = "tg:702";
    for _ in 0..4 {
        attempt(&app, chat, PHONE, "0000");
        say(&app, chat, "/forget");
        say(&app, chat, "/unbind");
    }
    let fifth = attempt(&app, chat, PHONE, "0000");
    assert!(text(&fifth).contains(&refusal(&app)));
    say(&app, chat, "/forget");
    say(&app, chat, "/bind");
    let after = contact(&app, chat, PHONE);
    assert!(text(&after).contains(&locked(&app)), "{}", text(&after));
    say(&app, chat, RIGHT);
    assert_eq!(app.store.binding(chat).unwrap(), None);
    // Thirty minutes later the right answer binds.
    let later = now() + Duration::minutes(31);
    say(&app, chat, "/bind");
    let own = ChatInput::Contact {
        phone: PHONE.into(),
        own: true,
    };
    turn_at(&app, chat, own, later);
    turn_at(&app, chat, ChatInput::Text(RIGHT.into()), later);
    assert_eq!(app.store.binding(chat).unwrap().as_deref(), Some("A1001"));
}

#[test]
fn failures_from_several_chats_lock_the_account() {
    let app = app();
    for n in 0..5 {
        attempt(&app, &format!("tg:71{n}"), PHONE, &format!("000{n}"));
    }
    let fresh = "tg:720";
    let out = attempt(&app, fresh, PHONE, RIGHT);
    assert!(text(&out).contains(&locked(&app)), "{}", text(&out));
    assert_eq!(app.store.binding(fresh).unwrap(), None);
    let f = app
        .store
        .bind_failures(BindSubject::Account("A1001"))
        .unwrap();
    assert!(f.locked_at(now()));
}

#[test]
fn every_refusal_reads_the_same_and_the_owner_is_told() {
    let app = app();
    let owner = "tg:730";
    attempt(&app, owner, PHONE, RIGHT);
    assert_eq!(app.store.binding(owner).unwrap().as_deref(), Some("A1001"));
    // An unknown phone: asked for the ID like any other, then the same refusal.
    let unknown_ask = {
        say(&app, "tg:731", "/bind");
        text(&contact(&app, "tg:731", "13800001111"))
    };
    let known_ask = {
        say(&app, "tg:732", "/bind");
        text(&contact(&app, "tg:732", PHONE))
    };
    assert_eq!(
        unknown_ask.replace("1111", "5678"),
        known_ask,
        "the ID question does not tell whether the phone has an account"
    );
    let unknown = text(&say(&app, "tg:731", "0000"));
    let wrong = say(&app, "tg:732", "0000");
    // The right last four of an account bound elsewhere: refused the same way.
    let elsewhere = text(&attempt(&app, "tg:733", PHONE, RIGHT));
    assert_eq!(unknown, text(&wrong));
    assert_eq!(unknown, elsewhere);
    assert_eq!(app.store.binding("tg:733").unwrap(), None);
    // The owner's chat is owed a notice (once per lock period, not once per attempt).
    let notices: Vec<_> = wrong.owed.iter().filter(|o| o.chat == owner).collect();
    assert_eq!(notices.len(), 1, "{:?}", wrong.owed);
    let notice = notices[0].reply.as_ref().expect("a message to send");
    assert!(
        notice.text.contains("尝试绑定您的商城账户"),
        "{}",
        notice.text
    );
    let owed = app.owed_replies(Some(owner)).unwrap();
    assert_eq!(owed.len(), 1, "{owed:?}");
}

/// Overwrites A1001's account record with bytes that do not decode.
fn corrupt_account(dir: &Path) {
    let db = sled::open(dir).unwrap();
    db.open_tree("accounts")
        .unwrap()
        .insert("A1001", &b"not a record"[..])
        .unwrap();
    db.flush().unwrap();
}

#[test]
fn a_store_error_while_binding_is_not_a_failed_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(app_on(Store::open(&data).unwrap()));
    corrupt_account(&data);
    let app = App::new(Store::open(&data).unwrap(), Settings::default()).unwrap();
    let chat = "tg:740";
    say(&app, chat, "/bind");
    contact(&app, chat, PHONE);
    let failed = app.turn(chat, ChatInput::Text(RIGHT.into()), today(), now());
    assert!(
        failed.is_err(),
        "the turn fails (answered as an internal error)"
    );
    let store = &app.store;
    assert_eq!(
        store.bind_failures(BindSubject::Chat(chat)).unwrap().count,
        0
    );
    assert_eq!(
        store
            .bind_failures(BindSubject::Account("A1001"))
            .unwrap()
            .count,
        0
    );
}

#[test]
fn the_operators_terminal_chat_does_not_hold_the_customers_binding() {
    let app = app();
    let opts = repaybot::app::chat::ChatOptions {
        account: Some("A1001".into()),
        lang: None,
        interactive: false,
        file_dir: std::env::temp_dir(),
    };
    let mut out = Vec::new();
    let mut input = "查账单\n".as_bytes();
    repaybot::app::chat::run(&app, &opts, &mut input, &mut out).unwrap();
    let shown = String::from_utf8_lossy(&out);
    assert!(
        shown.contains("267.90"),
        "the operator sees the account: {shown}"
    );
    let customer = "tg:750";
    attempt(&app, customer, PHONE, RIGHT);
    assert_eq!(
        app.store.binding(customer).unwrap().as_deref(),
        Some("A1001")
    );
    assert_eq!(
        app.store.chat_of_account("A1001").unwrap().as_deref(),
        Some(customer),
        "reminders go to the customer"
    );
    // The operator can still look at the account afterwards.
    let mut out = Vec::new();
    let mut input = "查账单\n".as_bytes();
    repaybot::app::chat::run(&app, &opts, &mut input, &mut out).unwrap();
    assert!(String::from_utf8_lossy(&out).contains("267.90"));
    assert_eq!(
        app.store.chat_of_account("A1001").unwrap().as_deref(),
        Some(customer)
    );
}

#[test]
fn the_terminal_guest_binds_by_typing_the_number_where_the_button_is_offered() {
    let app = app();
    let opts = repaybot::app::chat::ChatOptions {
        account: None,
        lang: None,
        interactive: false,
        file_dir: std::env::temp_dir(),
    };
    let mut out = Vec::new();
    let mut input = format!("{PHONE}\n查账单\n{PHONE}\n{RIGHT}\n查账单\n");
    repaybot::app::chat::run(&app, &opts, &mut input.as_bytes(), &mut out).unwrap();
    input.clear();
    let shown = String::from_utf8_lossy(&out);
    assert!(shown.contains("绑定成功"), "{shown}");
    assert!(shown.contains("267.90"), "{shown}");
}

#[test]
fn a_store_error_reading_auto_debit_fails_the_turn_instead_of_showing_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let chat = "tg:760";
    {
        let app = app_on(Store::open(&data).unwrap());
        attempt(&app, chat, PHONE, RIGHT);
        let shown = text(&say(&app, chat, "自动扣款"));
        assert!(
            !shown.is_empty(),
            "auto-debit answers while the store is sound"
        );
        say(&app, chat, "取消");
        app.store.flush().unwrap();
    }
    let db = sled::open(&data).unwrap();
    db.open_tree("chat")
        .unwrap()
        .insert("autopay/MI2026050101", &b"not a record"[..])
        .unwrap();
    db.flush().unwrap();
    drop(db);
    let app = App::new(Store::open(&data).unwrap(), Settings::default()).unwrap();
    let failed = app.turn(chat, ChatInput::Text("自动扣款".into()), today(), now());
    assert!(
        failed.is_err(),
        "an unreadable auto-debit record is an error (answered as an internal error), not 'none': {:?}",
        failed.map(|o| text(&o))
    );
}
