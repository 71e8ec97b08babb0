//! Learning from traffic: messages not understood are kept redacted per day, listed most
//! frequent first by `nlu review`, deleted by `/forget`, and not kept when the settings say
//! `[nlu] keep_unknown = false`.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput};
use repaybot::settings::Settings;
use repaybot::store::kept_messages::redact;
use repaybot::store::Store;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).unwrap().and_utc()
}

fn app(keep: bool) -> Result<App> {
    let mut settings = Settings::default();
    settings.nlu.keep_unknown = keep;
    App::new(Store::temporary()?, settings)
}

fn say(app: &App, chat: &str, text: &str) -> Result<()> {
    app.turn(chat, ChatInput::Text(text.into()), today(), now())?;
    Ok(())
}

#[test]
fn nlu_redaction_masks_digits_and_drops_identifying_text() {
    let cases = [
        ("手机壳什么颜色好看", Some("手机壳什么颜色好看")),
        ("我买了3个西瓜花了45块", Some("我买了#个西瓜花了#块")),
        ("我的手机13812345678", Some("我的手机<id>")),
        ("身份证11010519491231002X", Some("身份证<id>")),
        (
            "mail me at a.b@example.com pls",
            Some("mail me at <email> pls"),
        ),
        ("我叫王小明，想问个事", Some("我叫<name>，想问个事")),
        (
            "hi my name is John Smith",
            Some("hi my name is <name> Smith"),
        ),
        ("   ", None),
    ];
    for (text, want) in cases {
        assert_eq!(redact(text).as_deref(), want, "{text}");
    }
}

#[test]
fn nlu_unknown_messages_are_kept_listed_and_forgotten() -> Result<()> {
    let app = app(true)?;
    say(&app, "c:1", "手机壳什么颜色好看")?;
    say(&app, "c:2", "手机壳什么颜色好看")?;
    say(&app, "c:1", "今天天气怎么样 我在3号楼")?;
    say(&app, "c:1", "/help")?;
    let list = app.store.unknown_review(None)?;
    assert_eq!(
        list.first(),
        Some(&("手机壳什么颜色好看".to_string(), 2)),
        "{list:?}"
    );
    assert!(
        list.iter()
            .all(|(t, _)| !t.chars().any(|c| c.is_ascii_digit())),
        "{list:?}"
    );
    assert!(list.iter().all(|(t, _)| t != "/help"), "{list:?}");
    let later = today().succ_opt().unwrap();
    assert!(app.store.unknown_review(Some(later))?.is_empty());
    app.turn("c:1", ChatInput::Text("/forget".into()), today(), now())?;
    let list = app.store.unknown_review(None)?;
    assert_eq!(
        list,
        vec![("手机壳什么颜色好看".to_string(), 1)],
        "only c:2's is left"
    );
    Ok(())
}

#[test]
fn nlu_keep_unknown_false_keeps_nothing() -> Result<()> {
    let app = app(false)?;
    say(&app, "c:1", "手机壳什么颜色好看")?;
    assert!(app.store.unknown_review(None)?.is_empty());
    let settings = Settings::from_toml("[nlu]\nkeep_unknown = false\n")?;
    assert!(!settings.nlu.keep_unknown);
    assert!(Settings::default().nlu.keep_unknown);
    Ok(())
}
