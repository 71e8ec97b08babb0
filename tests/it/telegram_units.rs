//! The Telegram adapter's parts without a server: escaping, splitting, flood protection,
//! language, and the app's contact, `/unbind` and `/forget` turns a Telegram customer uses.

use chrono::{NaiveDate, TimeZone, Utc};
use repaybot::app::{App, ChatInput};
use repaybot::telegram::flood::{FloodGuard, Verdict};
use repaybot::telegram::{escape_html, split_text};
use std::time::Duration;

#[test]
fn html_is_escaped_so_customer_text_cannot_format_or_break_messages() {
    assert_eq!(
        escape_html("<b>1 & 2</b> ¥5"),
        "&lt;b&gt;1 &amp; 2&lt;/b&gt; ¥5"
    );
}

#[test]
fn long_messages_split_at_line_breaks_within_the_limit() {
    let line = "账单明细 line & more".repeat(10);
    let text = vec![line.as_str(); 40].join("\n");
    let parts = split_text(&text, 4096);
    assert!(parts.len() > 1);
    for p in &parts {
        assert!(escape_html(p).chars().count() <= 4096);
        assert!(!p.starts_with('\n') && !p.ends_with('\n'));
    }
    assert_eq!(
        parts.join("\n"),
        text,
        "nothing lost, cut only at line breaks"
    );
    let one_long_line = "x".repeat(9000);
    let parts = split_text(&one_long_line, 4096);
    assert_eq!(parts.concat(), one_long_line);
    assert!(parts.iter().all(|p| p.chars().count() <= 4096));
    assert!(split_text("  \n ", 4096).is_empty());
}

#[test]
fn a_flood_gets_one_notice_and_the_bucket_refills() {
    let guard = FloodGuard::new(3, Duration::from_millis(500));
    let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap();
    let verdicts: Vec<Verdict> = (0..8).map(|_| guard.check(1, t0)).collect();
    assert_eq!(&verdicts[..3], &[Verdict::Pass; 3]);
    assert_eq!(verdicts[3], Verdict::Notice);
    assert!(verdicts[4..].iter().all(|v| *v == Verdict::Drop));
    assert_eq!(
        guard.check(2, t0),
        Verdict::Pass,
        "another customer is unaffected"
    );
    assert_eq!(
        guard.check(1, t0 + chrono::Duration::milliseconds(600)),
        Verdict::Pass
    );
    // A full bucket later: a new flood would get its own notice.
    let later = t0 + chrono::Duration::seconds(10);
    for _ in 0..3 {
        assert_eq!(guard.check(1, later), Verdict::Pass);
    }
    assert_eq!(guard.check(1, later), Verdict::Notice);
}

#[test]
fn telegram_language_codes_pick_the_language() {
    use repaybot::dialog::Lang;
    use repaybot::telegram::inbound::lang_of;
    assert_eq!(lang_of(Some("zh-hans")), Some(Lang::Zh));
    assert_eq!(lang_of(Some("en-GB")), Some(Lang::En));
    assert_eq!(lang_of(Some("de")), None);
    assert_eq!(lang_of(None), None);
    use repaybot::telegram::inbound::{chat_id_of, chat_key};
    assert_eq!(chat_key(-100123), "tg:-100123");
    assert_eq!(chat_id_of("tg:-100123"), Some(-100123));
    assert_eq!(chat_id_of("term:A1001"), None);
}

fn app() -> App {
    let store = repaybot::store::Store::temporary().unwrap();
    let settings = repaybot::settings::Settings::default();
    repaybot::demo::load_if_empty(&store, today(), &settings.policy).unwrap();
    App::new(store, settings).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn say(app: &App, chat: &str, input: ChatInput) -> String {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap();
    let out = app.turn(chat, input, today(), now).unwrap();
    out.replies
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn binding_by_contact_accepts_only_the_senders_own_number() {
    let app = app();
    let chat = "tg:42";
    let out = app
        .turn(chat, ChatInput::Text("/bind".into()), today(), Utc::now())
        .unwrap();
    assert!(out.replies.iter().any(|r| r.request_contact.is_some()));
    let other = ChatInput::Contact {
        phone: "+8613800005678".into(),
        own: false,
    };
    assert!(say(&app, chat, other).contains("本人"));
    assert_eq!(app.store.binding(chat).unwrap(), None);
    let own = ChatInput::Contact {
        phone: "8613800005678".into(),
        own: true,
    };
    assert!(say(&app, chat, own).contains("138****5678"));
    say(&app, chat, ChatInput::Text("123X".into()));
    assert_eq!(app.store.binding(chat).unwrap().as_deref(), Some("A1001"));
    assert!(say(&app, chat, ChatInput::Text("/unbind".into())).contains("/start"));
    assert_eq!(app.store.binding(chat).unwrap(), None);
}

#[test]
fn forget_deletes_the_chats_data_and_keeps_payments() {
    let app = app();
    let chat = "tg:43";
    say(&app, chat, ChatInput::Text("/bind".into()));
    let own = ChatInput::Contact {
        phone: "13800005678".into(),
        own: true,
    };
    say(&app, chat, own);
    say(&app, chat, ChatInput::Text("123X".into()));
    assert!(app.store.binding(chat).unwrap().is_some());
    let payments_before = app.store.payments_of("MI2026050101").unwrap().len();
    // Reminder settings and a support transcript are the chat's too.
    app.store
        .put_chat(
            "remind/A1001",
            "test",
            repaybot::reminders::Prefs::default(),
        )
        .unwrap();
    let turn = repaybot::store::TranscriptTurn {
        at: chrono::Utc::now(),
        from: "customer".into(),
        text: "hello".into(),
        replies: Vec::new(),
    };
    app.store.record_turn(chat, turn).unwrap();
    let text = say(&app, chat, ChatInput::Text("/forget".into()));
    assert!(app
        .store
        .get_chat::<repaybot::reminders::Prefs>("remind/A1001")
        .unwrap()
        .is_none());
    assert!(app.store.transcript(chat).unwrap().is_empty());
    assert!(
        text.contains("还款记录"),
        "says what the shop keeps: {text}"
    );
    assert_eq!(app.store.binding(chat).unwrap(), None);
    assert!(!app.store.has_session(chat).unwrap());
    assert_eq!(
        app.store.payments_of("MI2026050101").unwrap().len(),
        payments_before
    );
    // The account can be bound again (its reverse link is gone too).
    say(&app, "tg:44", ChatInput::Text("/bind".into()));
    let own = ChatInput::Contact {
        phone: "13800005678".into(),
        own: true,
    };
    say(&app, "tg:44", own);
    assert!(say(&app, "tg:44", ChatInput::Text("123X".into())).contains("张伟"));
}

#[test]
fn the_same_update_id_is_handled_once() {
    let store = repaybot::store::Store::temporary().unwrap();
    assert!(store.first_delivery(7).unwrap());
    assert!(!store.first_delivery(7).unwrap());
    assert!(store.first_delivery(8).unwrap());
}

#[test]
fn a_contact_button_needs_a_phone_step() {
    use repaybot::dialog::{Flows, SourceFile};
    let mut files = repaybot::embedded::dialog_files();
    let bind = files
        .iter_mut()
        .find(|f| f.path.ends_with("flows/bind.toml"))
        .unwrap();
    bind.text = bind.text.replacen(
        "[states.ask_id]\n",
        "[states.ask_id]\ncontact = \"bind.btn_share_phone\"\n",
        1,
    );
    let errors = Flows::load(&files, &repaybot::app::known()).unwrap_err();
    assert!(
        errors.iter().any(|e| e.message.contains("contact button")),
        "{errors:?}"
    );
    let _: Option<SourceFile> = None;
}

#[test]
fn the_fake_servers_updates_parse_as_telegram_updates() {
    let fake = crate::fake_telegram::FakeTelegram::start("1:x");
    for id in [
        fake.text(1, "zh", "hi"),
        fake.contact(1, "zh", "+8613800005678", 1),
        fake.press(1, "zh", 5, "b:1:0"),
    ] {
        let update = fake.update(id).unwrap();
        // As the bot reads them: from the bytes of the HTTP body.
        let parsed = serde_json::from_str::<teloxide::types::Update>(&update.to_string());
        assert!(parsed.is_ok(), "{update}: {parsed:?}");
        let kind = format!("{:?}", parsed.unwrap().kind);
        assert!(!kind.starts_with("Error"), "{kind}");
    }
}

#[test]
fn the_sender_splits_long_replies_sends_files_and_offers_the_contact_button() {
    use repaybot::app::{Attachment, Reply};
    let fake = crate::fake_telegram::FakeTelegram::start("1:x");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = fake.url().parse().unwrap();
        let bot = teloxide::Bot::new("1:x").set_api_url(url);
        let limits = teloxide::adaptors::throttle::Limits {
            messages_per_sec_chat: 100,
            messages_per_min_chat: 6000,
            messages_per_min_channel_or_supergroup: 6000,
            messages_per_sec_overall: 1000,
        };
        let sender = repaybot::telegram::TelegramSender::new(bot)
            .with_limiter(repaybot::telegram::limiter::Limiter::new(&limits));
        let long = vec!["<b>row</b> & more"; 400].join("\n");
        let reply = Reply {
            text: long.clone(),
            buttons: vec![("OK".into(), "b:1:0".into())],
            attachment: Some(Attachment {
                file_name: "due-dates.ics".into(),
                bytes: b"BEGIN:VCALENDAR".to_vec(),
            }),
            request_contact: None,
        };
        sender.send(7, &reply).await.unwrap();
        let mut ask = Reply::text("phone?".into());
        ask.request_contact = Some("Share".into());
        sender.send(7, &ask).await.unwrap();
        sender.send(7, &Reply::text("thanks".into())).await.unwrap();
    });
    let sent = fake.messages_to(7);
    assert!(sent.len() >= 4, "the long text went in parts");
    let parts = &sent[..sent.len() - 2];
    assert!(parts.iter().all(|m| m.text().chars().count() <= 4096));
    assert!(parts[0]
        .text()
        .starts_with("&lt;b&gt;row&lt;/b&gt; &amp; more"));
    assert!(parts[..parts.len() - 1]
        .iter()
        .all(|m| m.buttons().is_empty()));
    assert_eq!(
        parts[parts.len() - 1].buttons().len(),
        1,
        "buttons on the last part"
    );
    let docs = fake.calls_of("sendDocument");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].params["file_name"], "due-dates.ics");
    assert!(sent[sent.len() - 2].asks_contact());
    assert_eq!(
        sent[sent.len() - 1].params["reply_markup"]["remove_keyboard"],
        true
    );
}

#[test]
fn send_limits_take_an_optional_support_group_rate() {
    use repaybot::telegram::parse_limits;
    let three = parse_limits("1/20/30").unwrap();
    assert_eq!(three.messages_per_min_chat, 20);
    assert_eq!(
        three.messages_per_min_channel_or_supergroup, 20,
        "above teloxide's 10 a minute"
    );
    let four = parse_limits("1/20/30/60").unwrap();
    assert_eq!(four.messages_per_min_channel_or_supergroup, 60);
    assert_eq!(four.messages_per_sec_overall, 30);
    for bad in ["1/20", "1/20/30/40/50", "1/0/30", "1/20/30/0", "a/b/c"] {
        assert!(parse_limits(bad).is_err(), "{bad}");
    }
}

#[test]
fn binding_is_one_chat_one_account_even_when_chats_race_and_a_chat_moves() {
    let store = repaybot::store::Store::temporary().unwrap();
    let winners: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                s.spawn(move || store.bind(&format!("tg:{i}"), "A1001").unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(winners.iter().filter(|w| **w).count(), 1, "{winners:?}");
    let holder = store.chat_of_account("A1001").unwrap().expect("one holder");
    // The holder moves to another account: the first one is released.
    assert!(store.bind(&holder, "A1004").unwrap());
    assert_eq!(store.chat_of_account("A1001").unwrap(), None);
    assert_eq!(store.binding(&holder).unwrap().as_deref(), Some("A1004"));
    assert!(store.bind("tg:other", "A1001").unwrap());
}
