//! Same-day payments replay in the order they were recorded, and no agreement leaves an order's
//! ledger unreplayable (issue 11): the store-level scenarios behind the chat and the importer.

use super::domain::{date, money};
use repaybot::demo;
use repaybot::domain::{Order, Policy, Restructure};
use repaybot::import::{import, ImportFailure, Kind};
use repaybot::store::{AgreementOutcome, RestructureRequest, Store};

pub const T: &str = "2026-11-21";
pub const LATE_ORDER: &str = "OP2026040301"; // A1003's order, about 40 days overdue on T.

pub fn demo_store() -> Store {
    let store = Store::temporary().unwrap();
    demo::load_if_empty(&store, date(T), &Policy::default()).unwrap();
    store
}

pub fn import_payments(store: &Store, file: &str, rows: &str) -> Result<usize, Vec<String>> {
    let text = format!("payment_id,order_id,amount,paid_on,kind\n{rows}");
    match import(store, Kind::Payments, file, text.as_bytes(), &Policy::default()) {
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
    import_payments(&store, "shop.csv", &format!("P-SHOP-1,{LATE_ORDER},100.00,{T},\n")).unwrap();
    let request = RestructureRequest {
        order_id: LATE_ORDER,
        down_payment: money("500.00"),
        periods: 6,
        today: date(T),
        payment_id: "C20261121-A1003-000001".into(),
        origin: "chat:test:sandbox".into(),
    };
    let outcome = store.restructure(&request, &policy, &confirm).unwrap();
    assert!(matches!(outcome, AgreementOutcome::Agreed(_)), "{outcome:?}");
    let bill = store
        .bill("A1003", date(T), &policy)
        .expect("the statement computes after the re-installment");
    let old = bill.orders.iter().find(|o| o.order.id == LATE_ORDER).unwrap();
    assert_eq!(old.status, "restructured");
    // Both payments count: the imported one first (recorded first), then the down payment.
    let paid: Vec<String> = store
        .payments_of(LATE_ORDER)
        .unwrap()
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(paid[paid.len() - 2..], ["P-SHOP-1", "C20261121-A1003-000001"]);
}
