//! The pay dialogs with `gateway = "http"` in process: a payment API that never answers leaves a
//! `not_started` record written before the call and a "try later" reply, nothing paid; and the
//! re-installment's down payment, which this flow cannot take at the cashier yet, is not
//! recorded as paid (the customer is sent to an agent).

use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, TurnOutput};
use repaybot::settings::Settings;
use repaybot::store::{PendingStatus, Store};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).unwrap().and_utc()
}

/// An app with the http gateway whose API address refuses connections.
fn http_app(account: &str) -> (App, String) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = format!(
        "[payments]\ngateway = \"http\"\napi_url = \"http://{closed}/api\"\ncallback_url = \"https://bot.example/cb\"\ncallback_listen = \"127.0.0.1:0\"\n"
    );
    let mut settings = Settings::from_toml(&text).unwrap();
    settings.payments = settings.payments.with_secret(Some("s3cret".into()));
    let store = Store::temporary().unwrap();
    repaybot::demo::load_if_empty(&store, today(), &settings.policy).unwrap();
    let app = App::new(store, settings).unwrap();
    let chat = format!("pd:{account}");
    assert!(app.store.bind(&chat, account).unwrap());
    app.turn(&chat, ChatInput::Start, today(), now()).unwrap();
    (app, chat)
}

fn text(app: &App, chat: &str, t: &str) -> TurnOutput {
    app.turn(chat, ChatInput::Text(t.into()), today(), now())
        .unwrap()
}

fn press(app: &App, chat: &str, out: &TurnOutput, n: usize) -> TurnOutput {
    let data = out.last_buttons()[n - 1].1.clone();
    app.turn(chat, ChatInput::Button(data), today(), now())
        .unwrap()
}

fn all_text(out: &TurnOutput) -> String {
    out.replies
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_payment_api_that_never_answers_leaves_a_not_started_record_and_nothing_paid() {
    let (app, chat) = http_app("A1001");
    let before = app.store.payments_of("MI2026050101").unwrap().len();
    let bill = text(&app, &chat, "我这个月要还多少");
    let confirm = press(&app, &chat, &bill, 1);
    assert!(
        all_text(&confirm).contains("确认支付吗"),
        "{}",
        all_text(&confirm)
    );
    let out = press(&app, &chat, &confirm, 1);
    assert!(
        all_text(&out).contains("收银台暂时无法连接"),
        "{}",
        all_text(&out)
    );
    assert_eq!(app.store.payments_of("MI2026050101").unwrap().len(), before);
    let records = app.store.pending_payments().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, PendingStatus::NotStarted);
    assert_eq!(records[0].tries, 3, "three tries, one id");
}

#[test]
fn a_re_installment_down_payment_is_not_recorded_as_paid_with_the_http_gateway() {
    let (app, chat) = http_app("A1003");
    let before = app.store.payments_of("OP2026040301").unwrap().len();
    let mut out = text(&app, &chat, "我想二次分期");
    for n in [2, 1, 3] {
        out = press(&app, &chat, &out, n);
    }
    assert!(
        out.trace.iter().any(|t| t == "state=reinstall.pick"),
        "{:?}",
        out.trace
    );
    let out = press(&app, &chat, &out, 1);
    assert!(
        out.trace
            .iter()
            .any(|t| t == "state=reinstall.down_via_agent"),
        "{:?}",
        out.trace
    );
    assert!(!out.trace.iter().any(|t| t == "effect=restructure"));
    assert!(all_text(&out).contains("没有扣款"), "{}", all_text(&out));
    assert_eq!(app.store.payments_of("OP2026040301").unwrap().len(), before);
    let order = app.store.order("OP2026040301").unwrap().unwrap().data;
    assert!(order.agreements.restructure.is_none());
}

#[test]
fn a_create_not_answered_in_time_is_retried_with_the_same_id_and_then_pending() {
    use repaybot::payments::client::{block_on, Client, CreateBody, Created};
    let api = super::fake_api::FakePayApi::start();
    api.script_create(&[0, 0]);
    let http = repaybot::payments::settings::HttpSettings {
        api_url: api.api_url(),
        callback_url: "https://bot.example/cb".into(),
        callback_listen: "127.0.0.1:0".parse().unwrap(),
    };
    let secret = repaybot::settings::Secret::new(super::fake_api::SECRET);
    let client = Client::new(&http, secret).with_timeout(std::time::Duration::from_millis(300));
    let body = CreateBody {
        payment_id: "C-timeout-1".into(),
        account_id: "A1001".into(),
        order_id: "MI2026050101".into(),
        kind: "installment".into(),
        amount: "267.90".into(),
        currency: "CNY".into(),
        description: "test".into(),
        callback_url: "https://bot.example/cb".into(),
        expires_at: "2026-11-21T03:00:00+00:00".into(),
    };
    let (created, tries) = block_on(client.create(&body)).unwrap();
    assert_eq!(tries, 3);
    assert!(matches!(created, Created::Pending { .. }), "{created:?}");
    let creates = api.creates();
    assert_eq!(creates.len(), 3);
    assert!(creates
        .iter()
        .all(|(b, _)| b["payment_id"] == "C-timeout-1"));
}

#[test]
fn a_plan_the_order_can_no_longer_take_is_refused_before_any_cashier_payment() {
    let (app, chat) = http_app("A1001");
    let bill = text(&app, &chat, "我这个月要还多少");
    let confirm = press(&app, &chat, &bill, 1);
    // Meanwhile the order is paid down elsewhere: ¥267.90 more would overpay it.
    let paid = repaybot::domain::Payment {
        id: "OTHER-1".into(),
        amount: repaybot::domain::Money("1499.54".parse().unwrap()),
        paid_on: today(),
        kind: repaybot::domain::PaymentKind::Installment,
    };
    let policy = &app.settings.policy;
    app.store
        .record_payment("MI2026050101", paid, "other-1", "test", policy)
        .unwrap();
    let out = press(&app, &chat, &confirm, 1);
    assert!(all_text(&out).contains("支付未完成"), "{}", all_text(&out));
    assert!(
        app.store.pending_payments().unwrap().is_empty(),
        "no cashier payment"
    );
}
