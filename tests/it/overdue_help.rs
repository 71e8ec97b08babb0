//! The penalty per day in overdue help (SPEC 4.1): the exact daily growth of every overdue
//! installment of every order is summed at full precision and rounded once when shown.

use super::domain::date;
use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use repaybot::app::{App, ChatInput};
use repaybot::domain::{Money, Policy};
use repaybot::import::{import, Kind};
use repaybot::settings::Settings;
use repaybot::store::Store;
use rust_decimal::Decimal;

const FIRST_DUE: &str = "2026-10-01";

/// One account with one single-period, fee-free order per principal, each due on FIRST_DUE.
fn store_with_orders(principals: &[&str]) -> Store {
    let store = Store::temporary().unwrap();
    let accounts = "account_id,name,phone,id_last4,language\nA1,Li,13800005678,1234,en\n";
    let mut orders = String::from(
        "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n",
    );
    for (i, p) in principals.iter().enumerate() {
        orders += &format!("O{i},A1,Item,{p},1,flat_fee,0,{FIRST_DUE}\n");
    }
    for (kind, text) in [(Kind::Accounts, accounts), (Kind::Orders, orders.as_str())] {
        import(
            &store,
            kind,
            "setup.csv",
            text.as_bytes(),
            &Policy::default(),
        )
        .unwrap();
    }
    store
}

/// The per-day figure of the overdue help answer, as the customer reads it.
fn shown_per_day(principals: &[&str], today: NaiveDate) -> String {
    let app = App::new(store_with_orders(principals), Settings::default()).unwrap();
    assert!(app.store.bind("ovd:1", "A1").unwrap());
    app.set_lang("ovd:1", repaybot::dialog::Lang::En).unwrap();
    let now = today.and_hms_opt(2, 0, 0).unwrap().and_utc();
    app.turn("ovd:1", ChatInput::Start, today, now).unwrap();
    let out = app
        .turn(
            "ovd:1",
            ChatInput::Text("I am overdue, how much is the penalty?".into()),
            today,
            now,
        )
        .unwrap();
    let text: String = out.replies.iter().map(|r| r.text.clone()).collect();
    let tail = text
        .split("the penalty grows by about ¥")
        .nth(1)
        .unwrap_or_else(|| panic!("no per-day figure in: {text}"));
    tail.split_whitespace().next().unwrap().to_string()
}

#[test]
fn penalty_per_day_rounds_once_over_every_order() {
    let today = date(FIRST_DUE) + Days::new(10);
    // principal × 0.0005 a day: 9.00 → 0.0045, 13.00 → 0.0065, 1.00 → 0.0005.
    let table: [(&[&str], &str); 5] = [
        (&["9.00"], "0.00"),
        (&["9.00", "9.00", "9.00"], "0.01"), // 0.0135; rounding each order gave 0.00
        (&["13.00", "13.00", "13.00"], "0.02"), // 0.0195; rounding each gave 0.03
        (&["1.00", "9.00"], "0.01"),         // 0.0050; rounding each gave 0.00
        (&["1000.00", "9.00"], "0.50"),      // 0.5045; rounding each gave 0.50
    ];
    let got: Vec<(Vec<&str>, String)> = table
        .iter()
        .map(|(orders, _)| (orders.to_vec(), shown_per_day(orders, today)))
        .collect();
    let want: Vec<(Vec<&str>, String)> = table
        .iter()
        .map(|(orders, shown)| (orders.to_vec(), shown.to_string()))
        .collect();
    assert_eq!(got, want);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The views' per-day figures add up, unrounded, to Σ unpaid × daily rate of the overdue
    /// installments, computed here from the schedule alone.
    #[test]
    fn penalty_per_day_is_the_exact_sum(fen in prop::collection::vec(1i64..2_000_000, 1..6)) {
        let principals: Vec<String> = fen.iter().map(|f| Money::from_fen(*f).to_string()).collect();
        let refs: Vec<&str> = principals.iter().map(String::as_str).collect();
        let store = store_with_orders(&refs);
        let policy = Policy::default();
        let today = date(FIRST_DUE) + Days::new(10);
        let bill = store.bill("A1", today, &policy).unwrap();
        let sum: Money = bill.orders.iter().map(|o| o.penalty_per_day).sum();
        let exact: Decimal = fen.iter().map(|f| Decimal::new(*f, 2) * policy.penalty_daily_rate).sum();
        prop_assert_eq!(sum.0, exact);
        prop_assert_eq!(sum.round_fen().to_string(), Money(exact).round_fen().to_string());
    }
}
