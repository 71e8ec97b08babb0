//! A payment's receipt cannot be lost and a retry does not pay twice: the receipt is owed in
//! the outbox from the payment's own transaction until the front end sent it, the confirm button
//! pressed again answers with the receipt, and the same payment again within minutes asks first.

use anyhow::Result;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, TurnOutput};
use repaybot::settings::Settings;
use repaybot::store::Store;

const ORDER: &str = "MI2026050101"; // A1001's order, 267.90 due next

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid date")
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).expect("valid time").and_utc()
}

fn bound() -> Result<(App, String)> {
    let store = Store::temporary()?;
    repaybot::demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    let app = App::new(store, Settings::default())?;
    let chat = "tg:900".to_string();
    assert!(app.store.bind(&chat, "A1001")?);
    app.turn(&chat, ChatInput::Start, today(), now())?;
    Ok((app, chat))
}

fn text(out: &TurnOutput) -> String {
    let texts: Vec<&str> = out.replies.iter().map(|r| r.text.as_str()).collect();
    texts.join("\n")
}

fn press(
    app: &App,
    chat: &str,
    out: &TurnOutput,
    k: usize,
    at: DateTime<Utc>,
) -> Result<TurnOutput> {
    let (_, data) = out.last_buttons()[k - 1].clone();
    app.turn(chat, ChatInput::Button(data), today(), at)
}

/// /repay, "pay this bill": the confirm step.
fn to_confirm(app: &App, chat: &str, at: DateTime<Utc>) -> Result<TurnOutput> {
    let choose = app.turn(chat, ChatInput::Text("/repay".into()), today(), at)?;
    press(app, chat, &choose, 1, at)
}

fn payments(app: &App) -> usize {
    app.store.payments_of(ORDER).unwrap().len()
}

#[test]
fn the_receipt_is_owed_from_the_payment_until_it_is_sent() -> Result<()> {
    let (app, chat) = bound()?;
    let confirm = to_confirm(&app, &chat, now())?;
    let paid = press(&app, &chat, &confirm, 1, now())?;
    assert!(text(&paid).contains("C20261121-"), "{}", text(&paid));
    // The turn says what it owes: its own receipt, already among its replies.
    assert_eq!(paid.owed.len(), 1, "{:?}", paid.owed);
    assert!(paid.owed[0].reply.is_none() && paid.owed[0].chat == chat);
    // A crash now (nothing settled): the next start finds the receipt to send.
    let owed = app.owed_replies(None)?;
    assert_eq!(owed.len(), 1);
    let receipt = owed[0].reply.as_ref().expect("a message");
    let id = app.store.payments_of(ORDER)?.last().unwrap().id.clone();
    assert!(receipt.text.contains(&id), "{}", receipt.text);
    assert_eq!(owed[0].chat, chat);
    // Sent: settled, nothing owed any more.
    app.settle_owed(&paid.owed)?;
    assert!(app.owed_replies(None)?.is_empty());
    Ok(())
}

#[test]
fn the_confirm_button_pressed_again_answers_with_the_receipt_not_expired() -> Result<()> {
    let (app, chat) = bound()?;
    let confirm = to_confirm(&app, &chat, now())?;
    let before = payments(&app);
    let paid = press(&app, &chat, &confirm, 1, now())?;
    let id = app.store.payments_of(ORDER)?.last().unwrap().id.clone();
    assert!(text(&paid).contains(&id));
    let later = now() + Duration::hours(1);
    let again = press(&app, &chat, &confirm, 1, later)?;
    assert!(text(&again).contains(&id), "{}", text(&again));
    let expired = app.flows.text(
        repaybot::dialog::Lang::Zh,
        "common.button_expired",
        &Default::default(),
    );
    assert!(!text(&again).contains(&expired), "{}", text(&again));
    assert_eq!(payments(&app), before + 1, "paid once");
    Ok(())
}

#[test]
fn paying_the_same_again_within_ten_minutes_asks_first_with_the_earlier_receipt() -> Result<()> {
    let (app, chat) = bound()?;
    let confirm = to_confirm(&app, &chat, now())?;
    press(&app, &chat, &confirm, 1, now())?;
    let id = app.store.payments_of(ORDER)?.last().unwrap().id.clone();
    let before = payments(&app);
    // Two minutes later the customer, who never saw the receipt, starts again.
    let soon = now() + Duration::minutes(2);
    let asked = to_confirm(&app, &chat, soon)?;
    assert!(
        text(&asked).contains(&id),
        "shows the earlier receipt: {}",
        text(&asked)
    );
    assert!(
        asked.trace.iter().any(|t| t == "state=repay.confirm_again"),
        "{:?}",
        asked.trace
    );
    let cancel = press(&app, &chat, &asked, 2, soon)?;
    assert!(!cancel.trace.iter().any(|t| t.starts_with("effect=")));
    assert_eq!(payments(&app), before, "nothing paid twice");
    // Asked first, the customer can still pay again on purpose.
    let asked = to_confirm(&app, &chat, soon)?;
    press(&app, &chat, &asked, 1, soon)?;
    assert_eq!(payments(&app), before + 1);
    // Later than ten minutes it is an ordinary payment.
    let later = now() + Duration::minutes(25);
    let plain = to_confirm(&app, &chat, later)?;
    assert!(
        plain.trace.iter().any(|t| t == "state=repay.confirm"),
        "{:?}",
        plain.trace
    );
    Ok(())
}

#[test]
fn forget_deletes_the_chats_owed_replies_but_not_the_payment() -> Result<()> {
    let (app, chat) = bound()?;
    let confirm = to_confirm(&app, &chat, now())?;
    press(&app, &chat, &confirm, 1, now())?;
    let before = payments(&app);
    app.turn(&chat, ChatInput::Text("/forget".into()), today(), now())?;
    assert!(app.owed_replies(Some(&chat))?.is_empty());
    assert_eq!(app.store.last_paid(&chat)?, None);
    assert_eq!(payments(&app), before);
    Ok(())
}
