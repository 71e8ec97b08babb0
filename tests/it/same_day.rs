//! Same-day payments replay in the order they were recorded, and no agreement leaves an order's
//! ledger unreplayable (issue 11): the store-level scenarios behind the chat and the importer.

use super::domain::{date, money};
use chrono::Days;
use repaybot::demo;
use repaybot::domain::{Order, Payment, Policy, Restructure};
use repaybot::import::{import, ImportFailure, Kind};
use repaybot::store::{
    AgreementOutcome, PaymentOutcome, PaymentRow, PaymentWriteError, RestructureRequest, Store,
    Stored,
};

pub const T: &str = "2026-11-21";
pub const LATE_ORDER: &str = "OP2026040301"; // A1003's order, about 40 days overdue on T.

pub fn demo_store() -> Store {
    let store = Store::temporary().unwrap();
    demo::load_if_empty(&store, date(T), &Policy::default()).unwrap();
    store
}

pub fn import_payments(store: &Store, file: &str, rows: &str) -> Result<usize, Vec<String>> {
    let text = format!("payment_id,order_id,amount,paid_on,kind\n{rows}");
    match import(
        store,
        Kind::Payments,
        file,
        text.as_bytes(),
        &Policy::default(),
    ) {
        Ok(r) => Ok(r.added),
        Err(ImportFailure::Invalid(errors)) => Err(errors.iter().map(|e| e.to_string()).collect()),
        Err(ImportFailure::Storage(e)) => panic!("storage: {e:#}"),
    }
}

pub fn confirm(_: &Restructure, _: &Order) -> String {
    "confirmed".into()
}

#[test]
fn a_reinstallment_on_the_day_of_an_imported_payment_keeps_the_statement_computing() {
    let store = demo_store();
    let policy = Policy::default();
    // The shop's export: a payment on day T, with an id that sorts after the chat's ids.
    import_payments(
        &store,
        "shop.csv",
        &format!("P-SHOP-1,{LATE_ORDER},100.00,{T},\n"),
    )
    .unwrap();
    let request = RestructureRequest {
        order_id: LATE_ORDER,
        down_payment: money("500.00"),
        periods: 6,
        today: date(T),
        payment_id: "C20261121-A1003-000001".into(),
        origin: "chat:test:sandbox".into(),
    };
    let outcome = store.restructure(&request, &policy, &confirm).unwrap();
    assert!(
        matches!(outcome, AgreementOutcome::Agreed(_)),
        "{outcome:?}"
    );
    let bill = store
        .bill("A1003", date(T), &policy)
        .expect("the statement computes after the re-installment");
    let old = bill
        .orders
        .iter()
        .find(|o| o.order.id == LATE_ORDER)
        .unwrap();
    assert_eq!(old.status, "restructured");
    // Both payments count: the imported one first (recorded first), then the down payment.
    let paid: Vec<String> = store
        .payments_of(LATE_ORDER)
        .unwrap()
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(
        paid[paid.len() - 2..],
        ["P-SHOP-1", "C20261121-A1003-000001"]
    );
}

fn chat_payment(id: &str, amount: &str, on: &str) -> Payment {
    super::domain::pay(id, amount, on)
}

fn ids(store: &Store, order_id: &str) -> Vec<String> {
    let all = store.payments_of(order_id).unwrap();
    all.iter().map(|p| p.id.clone()).collect()
}

#[test]
fn same_day_payments_follow_recording_order_and_one_file_follows_payment_id() {
    let store = demo_store();
    let policy = Policy::default();
    let before = ids(&store, LATE_ORDER).len();
    // One file: two rows on day T, given in reverse id order; they replay in id order (2.2).
    let rows = format!("Z-2,{LATE_ORDER},20.00,{T},\nZ-1,{LATE_ORDER},10.00,{T},\n");
    import_payments(&store, "a.csv", &rows).unwrap();
    // A chat payment the same day goes after them, although its id sorts first.
    let outcome = store
        .record_payment(
            LATE_ORDER,
            chat_payment("A-CHAT", "5.00", T),
            "k1",
            "chat:t",
            &policy,
        )
        .unwrap();
    assert!(
        matches!(outcome, PaymentOutcome::Applied { .. }),
        "{outcome:?}"
    );
    // A later file with an earlier-sorting id on the same day goes after all of them.
    import_payments(
        &store,
        "b.csv",
        &format!("0-LATER,{LATE_ORDER},1.00,{T},\n"),
    )
    .unwrap();
    assert_eq!(
        ids(&store, LATE_ORDER)[before..],
        ["Z-1", "Z-2", "A-CHAT", "0-LATER"]
    );
    // Re-importing either file changes nothing, the order included.
    assert_eq!(import_payments(&store, "a.csv", &rows), Ok(0));
    assert_eq!(
        ids(&store, LATE_ORDER)[before..],
        ["Z-1", "Z-2", "A-CHAT", "0-LATER"]
    );
    store.bill("A1003", date(T), &policy).unwrap();
}

#[test]
fn agreements_that_would_refuse_a_later_dated_payment_are_refused() {
    let store = demo_store();
    let policy = Policy::default();
    // A1001's current order: the shop exported a settlement dated ten days on.
    let order = "MI2026050101";
    let later = date(T) + Days::new(10);
    let quote = store.bill("A1001", later, &policy).unwrap().orders[0]
        .quote
        .clone()
        .unwrap();
    let row = format!("S-LATER,{order},{},{later},settlement\n", quote.total);
    import_payments(&store, "s.csv", &row).unwrap();
    let deferral = store
        .defer(order, 14, date(T), &policy, &|_| String::new())
        .unwrap();
    assert_eq!(deferral, AgreementOutcome::Refused("later_payments"));
    // A1003's overdue order: a payment dated five days on blocks a re-installment today.
    let five = date(T) + Days::new(5);
    import_payments(
        &store,
        "p.csv",
        &format!("P-LATER,{LATE_ORDER},10.00,{five},\n"),
    )
    .unwrap();
    let request = RestructureRequest {
        order_id: LATE_ORDER,
        down_payment: money("500.00"),
        periods: 6,
        today: date(T),
        payment_id: "C-DOWN".into(),
        origin: "chat:test:sandbox".into(),
    };
    let outcome = store.restructure(&request, &policy, &confirm).unwrap();
    assert!(
        matches!(outcome, AgreementOutcome::Refused("later_payments")),
        "{outcome:?}"
    );
    for day in [date(T), later, later + Days::new(400)] {
        store.bill("A1001", day, &policy).unwrap();
        store.bill("A1003", day, &policy).unwrap();
    }
}

#[test]
fn a_payment_under_an_existing_id_is_refused_not_overwritten() {
    let store = demo_store();
    let policy = Policy::default();
    let first = chat_payment("C20261121-A1003-000007", "10.00", T);
    store
        .record_payment(LATE_ORDER, first.clone(), "k-first", "chat:a", &policy)
        .unwrap();
    let other = chat_payment("C20261121-A1003-000007", "20.00", T);
    let err = store
        .record_payment(LATE_ORDER, other, "k-second", "chat:b", &policy)
        .unwrap_err();
    assert!(err.downcast_ref::<PaymentWriteError>().is_some(), "{err:#}");
    let kept = store.payment("C20261121-A1003-000007").unwrap().unwrap();
    assert_eq!((kept.data.payment, kept.origin.as_str()), (first, "chat:a"));
}

#[test]
fn payment_records_without_a_sequence_still_load() {
    let old = r#"{"v":1,"origin":"x.csv:2","data":{"order_id":"O1","payment":{"id":"P1","amount":"10.00","paid_on":"2026-11-21","kind":"installment"}}}"#;
    let row: Stored<PaymentRow> = serde_json::from_str(old).unwrap();
    assert_eq!((row.data.seq, row.data.payment.id.as_str()), (0, "P1"));
}

#[test]
fn an_import_row_that_no_longer_fits_after_a_chat_payment_the_same_day_names_its_line() {
    let store = demo_store();
    let policy = Policy::default();
    // The customer clears almost everything in the chat on day T …
    let bill = store.bill("A1003", date(T), &policy).unwrap();
    let order = bill
        .orders
        .iter()
        .find(|o| o.order.id == LATE_ORDER)
        .unwrap();
    let owed: repaybot::domain::Money = order.installments.iter().map(|i| i.remaining).sum();
    let most = owed - money("1.00");
    let chat = chat_payment("C-MOST", &most.to_string(), T);
    store
        .record_payment(LATE_ORDER, chat, "k-most", "chat:t", &policy)
        .unwrap();
    // … then the shop's file has a payment that day: it is replayed after the chat's, too large.
    let rows = format!("OK-1,{LATE_ORDER},0.50,{T},\nBIG-1,{LATE_ORDER},100.00,{T},\n");
    let e = import_payments(&store, "late.csv", &rows).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("late.csv:3: payment BIG-1: payment 100.00 is larger than"),
        "{e:?}"
    );
    store.bill("A1003", date(T), &policy).unwrap();
}
