//! Chat payment ids are unique by construction (issue 11): the day, the account and a number
//! from the store's id generator; two accounts paying on one day never share an id.

use super::domain::date;
use repaybot::app::{App, ChatInput};
use repaybot::demo;
use repaybot::domain::Policy;
use repaybot::settings::Settings;
use repaybot::store::Store;
use std::collections::HashSet;

const T: &str = "2026-11-21";

fn pay_the_bill(app: &App, account: &str) -> String {
    let today = date(T);
    let now = today.and_hms_opt(2, 0, 0).unwrap().and_utc();
    let chat = format!("ids:{account}");
    assert!(app.store.bind(&chat, account).unwrap());
    app.set_lang(&chat, repaybot::dialog::Lang::En).unwrap();
    app.turn(&chat, ChatInput::Start, today, now).unwrap();
    let mut text = String::new();
    for msg in ["I want to repay", "1", "1"] {
        let out = app
            .turn(&chat, ChatInput::Text(msg.into()), today, now)
            .unwrap();
        text = out.replies.iter().map(|r| r.text.clone()).collect();
    }
    let line = text
        .lines()
        .find(|l| l.starts_with("C2026"))
        .unwrap_or_else(|| panic!("no receipt in: {text}"));
    line.split_whitespace().next().unwrap().to_string()
}

#[test]
fn two_accounts_paying_on_one_day_get_distinct_ids_and_both_payments_stay() {
    let store = Store::temporary().unwrap();
    demo::load_if_empty(&store, date(T), &Policy::default()).unwrap();
    let app = App::new(store, Settings::default()).unwrap();
    let a = pay_the_bill(&app, "A1002");
    let b = pay_the_bill(&app, "A1003");
    assert_ne!(a, b);
    for (id, account) in [(&a, "A1002"), (&b, "A1003")] {
        assert!(id.starts_with(&format!("C20261121-{account}-")), "{id}");
        let row = app
            .store
            .payment(id)
            .unwrap()
            .expect("the payment is stored");
        let order = app.store.order(&row.data.order_id).unwrap().unwrap();
        assert_eq!(order.data.account_id, account);
    }
}

#[test]
fn payment_ids_never_repeat_on_one_day() {
    let store = Store::temporary().unwrap();
    let ids: HashSet<String> = (0..5000)
        .flat_map(|_| ["A1", "A2"].map(|a| store.new_payment_id(a, date(T)).unwrap()))
        .collect();
    assert_eq!(ids.len(), 10_000);
}
