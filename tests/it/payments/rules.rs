//! The rules of SPEC 2.5 on a real store: which report moves a payment where (`next_step`), what
//! a report body must look like (`parse_report`), and the property that whatever order
//! callbacks, replays, status answers and local expiry come in, every confirmed payment is
//! applied exactly once and no unconfirmed one at all. Also the overpayment for an order that
//! can no longer take the money, and the mismatch ticket.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use repaybot::app::App;
use repaybot::dialog::Lang;
use repaybot::domain::PaymentKind;
use repaybot::payments::outcome::{
    handle, mark, next_step, parse_report, Answer, Report, ReportStatus, Step,
};
use repaybot::settings::Settings;
use repaybot::store::{OwedKind, PendingPayment, PendingStatus, Store};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const ORDER: &str = "MI2026050101";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap()
}

fn app() -> App {
    let store = Store::temporary().unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    repaybot::demo::load_if_empty(&store, today, &Settings::default().policy).unwrap();
    App::new(store, Settings::default()).unwrap()
}

fn record(id: &str, amount: Decimal, kind: PaymentKind) -> PendingPayment {
    PendingPayment {
        payment_id: id.to_string(),
        chat: "tg:7001".into(),
        account_id: "A1001".into(),
        order_id: ORDER.into(),
        kind,
        amount,
        item: format!("{ORDER}\t{amount}\tinstallment"),
        lang: Lang::Zh,
        confirm_turn: 3,
        status: PendingStatus::Pending,
        tries: 1,
        pay_url: Some(format!("https://pay.example/c/{id}")),
        created_at: now(),
        expires_at: now() + chrono::Duration::minutes(30),
        updated_at: now(),
        paid_at: None,
        notes: Vec::new(),
    }
}

fn start(app: &App, rec: &PendingPayment) {
    let (_, new) = app
        .store
        .start_pending(&format!("key-{}", rec.payment_id), rec)
        .unwrap();
    assert!(new);
}

fn report(id: &str, status: ReportStatus, amount: Decimal) -> Report {
    Report {
        payment_id: id.to_string(),
        status,
        amount,
        paid_at: (status == ReportStatus::Succeeded).then(now),
    }
}

fn ledger_ids(app: &App) -> Vec<String> {
    app.store
        .payments_of(ORDER)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect()
}

#[test]
fn a_succeeded_report_applies_unless_already_final_and_failed_only_closes_open_ones() {
    use PendingStatus::*;
    let ok = |s| report("P", s, dec!(10.00));
    assert_eq!(
        next_step(Pending, dec!(10.00), &ok(ReportStatus::Succeeded)),
        Step::Apply
    );
    assert_eq!(
        next_step(Failed, dec!(10.00), &ok(ReportStatus::Succeeded)),
        Step::Apply
    );
    assert_eq!(
        next_step(Expired, dec!(10.00), &ok(ReportStatus::Succeeded)),
        Step::Apply
    );
    assert_eq!(
        next_step(NotStarted, dec!(10.00), &ok(ReportStatus::Succeeded)),
        Step::Apply
    );
    assert_eq!(
        next_step(Succeeded, dec!(10.00), &ok(ReportStatus::Succeeded)),
        Step::Nothing
    );
    assert_eq!(
        next_step(Refund, dec!(10.00), &ok(ReportStatus::Succeeded)),
        Step::Nothing
    );
    assert_eq!(
        next_step(Pending, dec!(10.00), &ok(ReportStatus::Failed)),
        Step::Mark(Failed)
    );
    assert_eq!(
        next_step(Creating, dec!(10.00), &ok(ReportStatus::Expired)),
        Step::Mark(Expired)
    );
    assert_eq!(
        next_step(Succeeded, dec!(10.00), &ok(ReportStatus::Failed)),
        Step::Nothing
    );
    assert_eq!(
        next_step(Expired, dec!(10.00), &ok(ReportStatus::Failed)),
        Step::Nothing
    );
    assert_eq!(
        next_step(Pending, dec!(10.00), &ok(ReportStatus::Pending)),
        Step::Nothing
    );
    assert_eq!(
        next_step(Pending, dec!(10.01), &ok(ReportStatus::Succeeded)),
        Step::Mismatch
    );
}

#[test]
fn a_report_body_must_be_the_spec_json() {
    let good = br#"{"payment_id":"P1","status":"succeeded","amount":"267.90","paid_at":"2026-11-21T10:00:00+08:00"}"#;
    let r = parse_report(good, false).unwrap();
    assert_eq!(r.amount, dec!(267.90));
    assert_eq!(r.paid_at.unwrap().to_rfc3339(), "2026-11-21T02:00:00+00:00");
    for bad in [
        &br#"{"payment_id":"P1","status":"succeeded","amount":"267.90"}"#[..],
        br#"{"payment_id":"P1","status":"paid","amount":"267.90","paid_at":"2026-11-21T10:00:00Z"}"#,
        br#"{"payment_id":"P1","status":"failed","amount":"267.9"}"#,
        br#"{"payment_id":"P1","status":"failed","amount":267.90}"#,
        br#"{"payment_id":"P1","status":"failed","amount":"-1.00"}"#,
        br#"{"payment_id":"P1","status":"pending","amount":"1.00"}"#,
        br#"{"status":"failed","amount":"1.00"}"#,
        b"not json",
    ] {
        assert!(parse_report(bad, false).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    let pending = br#"{"payment_id":"P1","status":"pending","amount":"1.00"}"#;
    assert!(
        parse_report(pending, true).is_ok(),
        "a status answer may say pending"
    );
}

#[test]
fn money_for_an_order_that_can_no_longer_take_it_is_kept_for_refund_with_a_ticket() {
    let app = app();
    // The demo's SN2026010501 (A1005) is settled: it can take no more money.
    let mut rec = record("PS-1", dec!(199.92), PaymentKind::Installment);
    rec.order_id = "SN2026010501".into();
    rec.account_id = "A1005".into();
    start(&app, &rec);
    let before = app.store.payments_of("SN2026010501").unwrap().len();
    let (a, chat) = handle(
        &app,
        &report("PS-1", ReportStatus::Succeeded, dec!(199.92)),
        now(),
    )
    .unwrap();
    assert_eq!(
        a,
        Answer::Done,
        "the money arrived: the callback is answered"
    );
    assert_eq!(chat.as_deref(), Some("tg:7001"), "the customer is told");
    assert_eq!(app.store.payments_of("SN2026010501").unwrap().len(), before);
    let rec = app.store.pending_payment("PS-1").unwrap().unwrap();
    assert_eq!(rec.status, PendingStatus::Refund);
    assert!(
        rec.notes.iter().any(|n| n.contains("refund")),
        "{:?}",
        rec.notes
    );
    let ticket = app
        .store
        .open_ticket_of("tg:7001")
        .unwrap()
        .expect("a ticket");
    assert!(ticket.notes.iter().any(|n| n.text.contains("PS-1")));
    let owed = app.store.owed_to("tg:7001").unwrap();
    assert!(owed.iter().any(|o| o.owed.kind == OwedKind::PayRefund));
    // A replay of the refunded one changes nothing.
    handle(
        &app,
        &report("PS-1", ReportStatus::Succeeded, dec!(199.92)),
        now(),
    )
    .unwrap();
    assert_eq!(app.store.payments_of("SN2026010501").unwrap().len(), before);
    assert_eq!(app.store.owed_to("tg:7001").unwrap().len(), owed.len());
}

#[test]
fn a_different_amount_is_refused_with_one_ticket_note_and_nothing_applied() {
    let app = app();
    start(&app, &record("PM-1", dec!(10.00), PaymentKind::Installment));
    for _ in 0..3 {
        let (a, _) = handle(
            &app,
            &report("PM-1", ReportStatus::Succeeded, dec!(1.00)),
            now(),
        )
        .unwrap();
        assert_eq!(a, Answer::Mismatch);
    }
    assert!(!ledger_ids(&app).contains(&"PM-1".to_string()));
    let rec = app.store.pending_payment("PM-1").unwrap().unwrap();
    assert_eq!(rec.status, PendingStatus::Pending);
    assert_eq!(rec.notes.len(), 1, "{:?}", rec.notes);
    let ticket = app
        .store
        .open_ticket_of("tg:7001")
        .unwrap()
        .expect("a ticket");
    assert_eq!(ticket.notes.len(), 1);
    let (a, _) = handle(
        &app,
        &report("PM-1", ReportStatus::Succeeded, dec!(10.00)),
        now(),
    )
    .unwrap();
    assert_eq!(a, Answer::Done);
    assert!(ledger_ids(&app).contains(&"PM-1".to_string()));
}

/// One thing that can happen to payment `idx`.
#[derive(Clone, Copy, Debug)]
enum Happening {
    Succeeded,
    SucceededWrongAmount,
    Failed,
    Expired,
    StatusPending,
    LocalExpiry,
}

fn happening() -> impl Strategy<Value = Happening> {
    prop_oneof![
        Just(Happening::Succeeded),
        Just(Happening::SucceededWrongAmount),
        Just(Happening::Failed),
        Just(Happening::Expired),
        Just(Happening::StatusPending),
        Just(Happening::LocalExpiry),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn whatever_the_order_every_confirmed_payment_is_applied_exactly_once(
        payments in 1usize..4,
        events in proptest::collection::vec((0usize..4, happening()), 0..14),
    ) {
        let app = app();
        let amount = dec!(1.00);
        let ids: Vec<String> = (0..payments).map(|i| format!("PP-{i}")).collect();
        for id in &ids {
            start(&app, &record(id, amount, PaymentKind::Installment));
        }
        let mut confirmed = std::collections::BTreeSet::new();
        for (idx, what) in events {
            let id = ids.get(idx).cloned().unwrap_or_else(|| "PP-unknown".into());
            let known = idx < payments;
            match what {
                Happening::LocalExpiry => {
                    if let Some(rec) = app.store.pending_payment(&id).unwrap() {
                        mark(&app, &rec, PendingStatus::Expired, OwedKind::PayExpired, now()).unwrap();
                    }
                    continue;
                }
                Happening::SucceededWrongAmount => {
                    let (a, _) = handle(&app, &report(&id, ReportStatus::Succeeded, dec!(2.00)), now()).unwrap();
                    prop_assert_eq!(a, if known { Answer::Mismatch } else { Answer::Unknown });
                    continue;
                }
                _ => {}
            }
            let status = match what {
                Happening::Succeeded => ReportStatus::Succeeded,
                Happening::Failed => ReportStatus::Failed,
                Happening::Expired => ReportStatus::Expired,
                _ => ReportStatus::Pending,
            };
            let (a, _) = handle(&app, &report(&id, status, amount), now()).unwrap();
            prop_assert_eq!(a, if known { Answer::Done } else { Answer::Unknown });
            if known && status == ReportStatus::Succeeded {
                confirmed.insert(id.clone());
            }
        }
        let in_ledger = ledger_ids(&app);
        for id in &ids {
            let times = in_ledger.iter().filter(|p| *p == id).count();
            let expected = usize::from(confirmed.contains(id));
            prop_assert_eq!(times, expected, "payment {} in the ledger {:?}", id, in_ledger);
            let status = app.store.pending_payment(id).unwrap().unwrap().status;
            prop_assert_eq!(status == PendingStatus::Succeeded, confirmed.contains(id));
        }
    }
}
