//! Reconciliation in process, on a manual clock: a payment open less than 2 minutes is not
//! asked about; an older one is; one still pending after `pending_minutes` is shown expired
//! (the customer told), and money arriving after that is still applied and told.

use super::fake_api::{FakePayApi, SECRET};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use repaybot::app::App;
use repaybot::clock::Clock;
use repaybot::payments::client::Client;
use repaybot::payments::outcome::{handle, Answer, Report, ReportStatus};
use repaybot::payments::reconcile::{run_once, QUERY_AFTER_MINUTES};
use repaybot::settings::{Secret, Settings};
use repaybot::store::{OwedKind, PendingPayment, PendingStatus, Store};
use rust_decimal_macros::dec;
use serde_json::json;
use std::sync::Arc;

fn start() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 11, 21)
        .unwrap()
        .and_hms_opt(2, 0, 0)
        .unwrap()
        .and_utc()
}

/// One reconciler pass with the app's own way of applying reports (as `serve` runs it).
async fn pass(app: &Arc<App>, client: &Client, after: Duration) -> Vec<String> {
    let apply = repaybot::app::payment_applier(Arc::clone(app));
    run_once(&app.shared_core(), &apply, client, after).await
}

fn setup(api: &FakePayApi) -> (Arc<App>, Clock, Client) {
    let text = format!(
        "[payments]\ngateway = \"http\"\napi_url = \"{}\"\ncallback_url = \"https://bot.example/cb\"\ncallback_listen = \"127.0.0.1:0\"\npending_minutes = 30\n",
        api.api_url()
    );
    let mut settings = Settings::from_toml(&text).unwrap();
    settings.payments = settings.payments.with_secret(Some(SECRET.into()));
    let store = Store::temporary().unwrap();
    repaybot::demo::load_if_empty(&store, start().date_naive(), &settings.policy).unwrap();
    let http = settings.payments.http.clone().unwrap();
    let clock = Clock::manual(start());
    let app = App::new(store, settings).unwrap().with_clock(clock.clone());
    (
        Arc::new(app),
        clock,
        Client::new(&http, Secret::new(SECRET)),
    )
}

fn record() -> PendingPayment {
    PendingPayment {
        payment_id: "C-rec-1".into(),
        chat: "tg:8801".into(),
        account_id: "A1001".into(),
        order_id: "MI2026050101".into(),
        kind: repaybot::domain::PaymentKind::Installment,
        amount: dec!(267.90),
        item: "MI2026050101\t267.90\tinstallment".into(),
        lang: repaybot::dialog::Lang::En,
        confirm_turn: 2,
        status: PendingStatus::Pending,
        tries: 1,
        pay_url: Some("https://cashier.shop.example/pay/C-rec-1".into()),
        created_at: start(),
        expires_at: start() + Duration::minutes(30),
        updated_at: start(),
        paid_at: None,
        notes: Vec::new(),
    }
}

#[test]
fn an_open_payment_is_asked_about_after_two_minutes_and_expires_after_pending_minutes() {
    let api = FakePayApi::start();
    let (app, clock, client) = setup(&api);
    app.store.start_pending("k1", &record()).unwrap();
    api.set_status(
        "C-rec-1",
        json!({"payment_id": "C-rec-1", "status": "pending", "amount": "267.90"}),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let after = Duration::minutes(QUERY_AFTER_MINUTES);
    clock.set(start() + Duration::minutes(1));
    assert!(rt.block_on(pass(&app, &client, after)).is_empty());
    assert_eq!(api.status_calls(), 0, "not asked before two minutes");
    clock.set(start() + Duration::minutes(3));
    assert!(rt.block_on(pass(&app, &client, after)).is_empty());
    assert_eq!(api.status_calls(), 1);
    clock.set(start() + Duration::minutes(31));
    let told = rt.block_on(pass(&app, &client, after));
    assert_eq!(told, vec!["tg:8801".to_string()]);
    let rec = app.store.pending_payment("C-rec-1").unwrap().unwrap();
    assert_eq!(rec.status, PendingStatus::Expired);
    let owed = app.store.owed_to("tg:8801").unwrap();
    assert!(owed.iter().any(|o| o.owed.kind == OwedKind::PayExpired));
    let shown = app.owed_replies(Some("tg:8801")).unwrap();
    let text = shown[0].reply.as_ref().unwrap().text.clone();
    assert!(
        text.contains("expired") && text.contains("C-rec-1"),
        "{text}"
    );
    // An expired payment is not asked about again; money arriving later is still applied.
    let calls = api.status_calls();
    rt.block_on(pass(&app, &client, after));
    assert_eq!(api.status_calls(), calls);
    let late = Report {
        payment_id: "C-rec-1".into(),
        status: ReportStatus::Succeeded,
        amount: dec!(267.90),
        paid_at: Some(start() + Duration::minutes(40)),
    };
    let (answer, chat) = handle(&app, &late, clock.now()).unwrap();
    assert_eq!(answer, Answer::Done);
    assert_eq!(chat.as_deref(), Some("tg:8801"));
    let ids: Vec<String> = app
        .store
        .payments_of("MI2026050101")
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert!(ids.contains(&"C-rec-1".to_string()));
    let owed = app.store.owed_to("tg:8801").unwrap();
    assert!(owed.iter().any(|o| o.owed.kind == OwedKind::PayLate));
}

#[test]
fn a_status_answer_that_is_not_signed_is_not_believed() {
    let api = FakePayApi::start();
    let (app, clock, client) = setup(&api);
    app.store.start_pending("k1", &record()).unwrap();
    api.set_status(
        "C-rec-1",
        json!({"payment_id": "C-rec-1", "status": "succeeded", "amount": "267.90", "paid_at": "2026-11-21T10:05:00+08:00"}),
    );
    api.unsign_status();
    let rt = tokio::runtime::Runtime::new().unwrap();
    clock.set(start() + Duration::minutes(5));
    rt.block_on(pass(&app, &client, Duration::minutes(2)));
    assert_eq!(api.status_calls(), 1, "it was asked");
    let rec = app.store.pending_payment("C-rec-1").unwrap().unwrap();
    assert_eq!(
        rec.status,
        PendingStatus::Pending,
        "an unsigned answer is not believed"
    );
    let ids: Vec<String> = app
        .store
        .payments_of("MI2026050101")
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert!(!ids.contains(&"C-rec-1".to_string()));
}
