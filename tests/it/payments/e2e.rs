//! The real `repaybot serve` with `[payments] gateway = "http"` against the fake payment API
//! (fake_api.rs) and the fake Bot API: a customer pays A1001's bill (¥267.90) at the cashier
//! link, the API calls back (or does not), and `statement --json` afterwards shows exactly the
//! confirmed payments. Helpers in harness.rs.

use super::fake_api::{callback_body, post_callback, signed, FakePayApi, SECRET};
use super::harness::*;
use crate::fake_telegram::FakeTelegram;
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn a_confirmed_payment_is_applied_once_and_callback_replays_change_nothing() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[("RUST_LOG", "debug")]);
    let mut c = Customer::new(&fake, 6101);
    let waiting = c.start_payment();
    let id = created_id(&api);
    let (body, signed_ok) = &api.creates()[0];
    assert!(signed_ok, "the create call is signed");
    assert_eq!(body["amount"], BILL);
    assert_eq!(body["currency"], "CNY");
    assert_eq!(body["order_id"], "MI2026050101");
    assert_eq!(body["callback_url"], bot.callback);
    assert!(waiting.text().contains(BILL), "{}", waiting.text());
    assert_eq!(
        links(&waiting),
        vec![(
            format!("去支付 ¥{BILL}"),
            format!("https://cashier.shop.example/pay/{id}")
        )]
    );
    // Before the callback the bill shows the payment as pending.
    c.say("我这个月要还多少", "处理中的支付");
    for _ in 0..4 {
        assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    }
    c.until(RECEIPT);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(c.count(RECEIPT), 1, "one receipt for one payment");
    let log = bot.stop();
    assert!(!log.contains(SECRET), "the secret must never be logged");
    assert!(log.contains("DEBUG"), "the run logged at debug level");
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
    let listed = payments(&s.data);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "succeeded");
}

#[test]
fn callbacks_with_a_bad_signature_body_id_or_amount_are_refused_and_apply_nothing() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6102);
    c.start_payment();
    let id = created_id(&api);
    let body = callback_body(&id, "succeeded", BILL);
    let now = chrono::Utc::now().timestamp();
    let other = repaybot::settings::Secret::new("not-the-secret");
    let forged = repaybot::payments::sign::sign(&other, now, body.as_bytes());
    let stale = repaybot::payments::sign::sign(
        &repaybot::settings::Secret::new(SECRET),
        now - 301,
        body.as_bytes(),
    );
    let url = bot.callback.clone();
    assert_eq!(
        post_callback(&url, &body, Some(forged)),
        Some(401),
        "bad signature"
    );
    assert_eq!(
        post_callback(&url, &body, Some(stale)),
        Some(401),
        "stale timestamp"
    );
    assert_eq!(
        post_callback(&url, &body, None),
        Some(401),
        "missing header"
    );
    assert_eq!(
        post_callback(&url, &body, Some("t=1,v1".into())),
        Some(401),
        "malformed header"
    );
    let malformed = r#"{"payment_id": 7, "status": "succeeded"}"#;
    assert_eq!(
        post_callback(&url, malformed, signed(malformed)),
        Some(400),
        "malformed body"
    );
    assert_eq!(
        bot.callback("C-unknown-1", "succeeded", BILL),
        Some(404),
        "unknown id"
    );
    assert_eq!(
        bot.callback(&id, "succeeded", "1.00"),
        Some(422),
        "wrong amount"
    );
    assert_eq!(bot.callback(&id, "succeeded", "1.00"), Some(422), "again");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.count(RECEIPT), 0);
    bot.stop();
    assert_eq!(paid_fen(&s.data), demo_paid_fen(), "nothing applied");
    let listed = payments(&s.data);
    assert_eq!(listed[0]["status"], "pending");
    let notes = listed[0]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "the mismatch is recorded once: {notes:?}");
}

#[test]
fn a_payment_that_failed_and_then_succeeded_is_applied_and_the_customer_told() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6103);
    c.start_payment();
    let id = created_id(&api);
    assert_eq!(bot.callback(&id, "failed", BILL), Some(200));
    c.until("支付未成功");
    assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    c.until("最终已到账");
    assert_eq!(
        bot.callback(&id, "failed", BILL),
        Some(200),
        "a late failed changes nothing"
    );
    bot.stop();
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
    assert_eq!(payments(&s.data)[0]["status"], "succeeded");
}

#[test]
fn a_lost_callback_is_found_by_the_status_query() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[("REPAYBOT_TEST_RECONCILE_MS", "200")]);
    let mut c = Customer::new(&fake, 6104);
    c.start_payment();
    let id = created_id(&api);
    let asked = api.status_calls();
    let deadline = Instant::now() + WAIT;
    while api.status_calls() <= asked + 1 {
        assert!(Instant::now() < deadline, "no status query");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Still pending at the API: nothing happens. Then the customer pays; the callback is lost.
    api.set_status(
        &id,
        json!({"payment_id": id, "status": "succeeded", "amount": BILL, "paid_at": "2026-11-21T10:20:00+08:00"}),
    );
    c.until(RECEIPT);
    bot.stop();
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
    assert_eq!(payments(&s.data)[0]["status"], "succeeded");
}

#[test]
fn create_answering_5xx_twice_then_201_makes_one_payment_with_one_id() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    api.script_create(&[500, 503]);
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6105);
    let waiting = c.start_payment();
    assert_eq!(links(&waiting).len(), 1);
    let creates = api.creates();
    assert_eq!(creates.len(), 3, "three tries");
    let id = created_id(&api);
    assert!(creates
        .iter()
        .all(|(b, ok)| b["payment_id"] == id.as_str() && *ok));
    assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    c.until(RECEIPT);
    bot.stop();
    let listed = payments(&s.data);
    assert_eq!(listed.len(), 1, "one payment");
    assert_eq!(listed[0]["tries"], 3);
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
}

#[test]
fn create_answering_4xx_tells_the_customer_and_applies_nothing() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    api.script_create(&[400]);
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6106);
    c.fake.text(c.id, ZH, "/start");
    c.until("手机号");
    c.fake.contact(c.id, ZH, "+86 138 0000 5678", c.id);
    c.until("身份证号的后四位");
    c.say("123x", "绑定成功");
    let bill = c.say("我这个月要还多少", BILL);
    c.press(&bill, "立即还款");
    let confirm = c.until("确认支付吗");
    c.press(&confirm, "确认支付");
    c.until("收银台未能发起这笔支付");
    assert_eq!(api.creates().len(), 1, "a 4xx is not retried");
    bot.stop();
    assert_eq!(paid_fen(&s.data), demo_paid_fen());
    assert_eq!(payments(&s.data)[0]["status"], "not_started");
    let open = repaybot(&s.data, &["payments", "--pending", "--json"]);
    assert_eq!(open, json!([]), "nothing waits at the cashier");
    let out = Command::new(bin())
        .args(["--data-dir", s.data.to_str().unwrap(), "payments"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("not_started") && listed.contains("MI2026050101"),
        "{listed}"
    );
}

#[test]
fn a_bot_killed_after_the_callback_was_durable_applies_it_once_when_the_api_retries() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[("REPAYBOT_TEST_CALLBACK_DELAY_MS", "30000")]);
    let mut c = Customer::new(&fake, 6107);
    c.start_payment();
    let id = created_id(&api);
    let url = bot.callback.clone();
    let body = callback_body(&id, "succeeded", BILL);
    let first = std::thread::spawn(move || post_callback(&url, &body, signed(&body)));
    let deadline = Instant::now() + WAIT;
    while !bot.log().contains("payment applied") {
        assert!(
            Instant::now() < deadline,
            "the callback was not applied:\n{}",
            bot.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    bot.kill();
    assert_eq!(
        first.join().unwrap(),
        None,
        "the first callback got no answer"
    );
    // The API retries after the restart.
    let bot = serve(&s, &fake, &[]);
    assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    c.until(RECEIPT);
    bot.stop();
    assert_eq!(
        paid_fen(&s.data) - demo_paid_fen(),
        BILL_FEN,
        "applied exactly once"
    );
}

#[test]
fn serve_refuses_the_http_gateway_without_its_secret() {
    let api = FakePayApi::start();
    let s = setup(&api);
    let out = Command::new(bin())
        .args([
            "--data-dir",
            s.data.to_str().unwrap(),
            "--config",
            s.config.to_str().unwrap(),
        ])
        .arg("serve")
        .env("TELOXIDE_TOKEN", TOKEN)
        .env_remove("REPAYBOT_PAYMENT_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("REPAYBOT_PAYMENT_SECRET"), "{err}");
}
