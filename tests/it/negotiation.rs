//! Deferral and re-installment (SPEC 4.7, 4.8): table tests of the fees, eligibility and offers,
//! property tests of the debt they move, a cross-check of the offers against the independent
//! Python implementation, the durable agreements in the store, the policy's cap at start-up,
//! and the chat's numbers against `statement`.

use super::domain::{date, money, order, pay, terms};
use super::domain_props::run_independent;
use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;
use repaybot::app::{App, ChatInput};
use repaybot::demo;
use repaybot::domain::negotiation::{
    deferral_offer, reinstallment_offers, reinstallment_quote, DownPaymentProblem, Refusal,
};
use repaybot::domain::{
    agreement::effective_schedule, schedule, view, Deferral, InstallmentStatus, Method, Money,
    Order, Payment, Policy, Terms,
};
use repaybot::settings::Settings;
use repaybot::store::{AgreementOutcome, RestructureRequest, Store};
use rust_decimal::Decimal;

/// 2999.00 over 12 at 0.6 % flat, first due 2026-06-15; installments 1–6 paid on their dates.
fn spec_order() -> (Order, Vec<Payment>) {
    let o = order(terms("2999.00", 12, Method::FlatFee, "0.006", "2026-06-15"));
    let rows = schedule::build(&o.terms).unwrap();
    let payments = rows[..6]
        .iter()
        .map(|r| {
            pay(
                &format!("P{}", r.n),
                &r.amount().to_string(),
                &r.due_date.to_string(),
            )
        })
        .collect();
    (o, payments)
}

fn view_on(o: &Order, payments: &[Payment], today: &str) -> view::OrderView {
    view::order_view(o, payments, date(today), &Policy::default()).unwrap()
}

fn deferral(o: &Order, n: u32, days: u32, fee: &str) -> Deferral {
    let rows = schedule::build(&o.terms).unwrap();
    let due = rows[n as usize - 1].due_date;
    Deferral {
        n,
        days,
        original_due: due,
        new_due: due + Days::new(u64::from(days)),
        fee: money(fee),
        agreed_on: due,
        confirmation: String::new(),
    }
}

#[test]
fn deferral_fees_and_dates_are_exact() {
    let (o, p) = spec_order();
    let offer = deferral_offer(&view_on(&o, &p, "2026-11-21"), &Policy::default()).unwrap();
    assert_eq!((offer.n, offer.due_date), (7, date("2026-12-15")));
    assert_eq!(offer.base, money("267.90"));
    let shown: Vec<(u32, String, String)> = offer
        .options
        .iter()
        .map(|x| (x.days, x.new_due.to_string(), x.fee.to_string()))
        .collect();
    // 267.90 × 0.0003 × days = 0.56259, 1.12518, 2.4111
    let expected = [
        (7, "2026-12-22", "0.56"),
        (14, "2026-12-29", "1.13"),
        (30, "2027-01-14", "2.41"),
    ];
    let expected: Vec<(u32, String, String)> = expected
        .iter()
        .map(|(d, n, f)| (*d, n.to_string(), f.to_string()))
        .collect();
    assert_eq!(shown, expected);
}

#[test]
fn deferral_eligibility_follows_the_due_date_and_the_order() {
    let (o, p) = spec_order();
    let policy = Policy::default();
    let outcome = |o: &Order, today: &str| {
        deferral_offer(&view_on(o, &p, today), &policy)
            .map(|x| x.n)
            .map_err(Refusal::as_str)
    };
    // Installment 7 is due 2026-12-15; grace runs to 12-18.
    assert_eq!(outcome(&o, "2026-12-01"), Ok(7));
    assert_eq!(outcome(&o, "2026-12-15"), Ok(7));
    assert_eq!(outcome(&o, "2026-12-18"), Ok(7));
    assert_eq!(outcome(&o, "2026-12-19"), Err("overdue"));
    let mut deferred = o.clone();
    deferred.agreements.deferral = Some(deferral(&o, 7, 14, "1.13"));
    assert_eq!(outcome(&deferred, "2026-12-01"), Err("already_deferred"));
    let mut plan = o.clone();
    plan.agreements.restructured_from = Some("X".into());
    assert_eq!(outcome(&plan, "2026-12-01"), Err("already_restructured"));
}

#[test]
fn a_deferred_installment_has_its_new_date_and_fee_and_penalty_runs_from_the_new_date() {
    let (mut o, p) = spec_order();
    o.agreements.deferral = Some(deferral(&o, 7, 14, "1.13"));
    let rows = effective_schedule(&o.terms, &o.agreements);
    assert_eq!(rows[6].due_date, date("2026-12-29"));
    assert_eq!(rows[6].fee, money("17.99") + money("1.13"));
    assert_eq!(rows[7].due_date, date("2027-01-15"), "later dates stay");
    // On the old due date + 10 it is not even due.
    let v = view_on(&o, &p, "2026-12-25");
    assert_eq!(v.installments[6].status, InstallmentStatus::Due);
    assert_eq!(v.installments[6].remaining, money("269.03"));
    assert_eq!(
        v.installments[6].fee,
        money("17.99"),
        "fee shows the scheduled fee"
    );
    assert_eq!(v.installments[6].deferred, Some((14, money("1.13"))));
    // Grace after the new date, then penalty from new due + 1: 269.03 × 0.0005 × 5 = 0.672575.
    assert!(view_on(&o, &p, "2027-01-01").installments[6]
        .penalty
        .is_zero());
    assert_eq!(
        view_on(&o, &p, "2027-01-03").installments[6].penalty,
        money("0.67")
    );
}

/// The SPEC order with nothing paid after installment 3, on a day in installment 5's overdue.
fn late_order() -> (Order, Vec<Payment>) {
    let (o, p) = spec_order();
    (o, p[..3].to_vec())
}

#[test]
fn reinstallment_quote_names_its_parts() {
    let (o, p) = late_order();
    // Installments 4 (due 09-15) and 5 (due 10-15) unpaid; on 2026-11-21, 6 (11-15) is in… overdue too.
    let v = view_on(&o, &p, "2026-11-21");
    let q = reinstallment_quote(&v, &Policy::default()).unwrap();
    // Overdue: installments 4, 5, 6 (due 09-15, 10-15, 11-15): principal 3 × 249.91, fee 3 × 17.99.
    assert_eq!(q.overdue_principal, money("749.73"));
    assert_eq!(q.overdue_fee, money("53.97"));
    // Penalty: 267.90 × 0.0005 × (67 + 37 + 6) days = 14.7345 → rounded per installment:
    // 8.97465 → 8.97, 4.95615 → 4.96, 0.8037 → 0.80.
    assert_eq!(q.penalty, money("14.73"));
    // Installments 7–12 principal: 5 × 249.91 + 249.99.
    assert_eq!(q.later_principal, money("1499.54"));
    assert_eq!(q.balance, money("2317.97"));
    // 10 % of 2317.97 = 231.797, rounded up.
    assert_eq!(q.min_down_payment, money("231.80"));
    assert_eq!(q.days_overdue, 67);
}

#[test]
fn reinstallment_offers_table() {
    let (o, p) = late_order();
    let v = view_on(&o, &p, "2026-11-21");
    let policy = Policy::default();
    let q = reinstallment_quote(&v, &policy).unwrap();
    let offers = reinstallment_offers(&q, money("317.97"), date("2026-11-21"), &policy).unwrap();
    let shown: Vec<String> = offers
        .iter()
        .map(|x| {
            format!(
                "{} {} {} {} {} {}% {}",
                x.terms.periods,
                x.per_period,
                x.last_period,
                x.total_cost,
                x.total_repay,
                x.annual_rate,
                x.terms.first_due_date
            )
        })
        .collect();
    // 2000.00 left: fee round(2000 × 0.006) = 12.00 a period.
    assert_eq!(
        shown,
        [
            "3 678.66 678.68 36.00 2036.00 10.77% 2026-12-21",
            "6 345.33 345.35 72.00 2072.00 12.24% 2026-12-21",
            "12 178.66 178.74 144.00 2144.00 13.03% 2026-12-21",
        ]
    );
    assert_eq!(
        reinstallment_offers(&q, money("231.79"), date("2026-11-21"), &policy),
        Err(DownPaymentProblem::BelowMinimum)
    );
    assert_eq!(
        reinstallment_offers(&q, q.balance, date("2026-11-21"), &policy),
        Err(DownPaymentProblem::TooLarge)
    );
}

#[test]
fn reinstallment_refusals_say_why() {
    let (o, p) = late_order();
    let policy = Policy::default();
    let refusal = |o: &Order, today: &str, policy: &Policy| {
        reinstallment_quote(&view_on(o, &p, today), policy)
            .map(|q| q.balance)
            .map_err(Refusal::as_str)
    };
    // Installment 4 is due 2026-09-15: 90 days overdue on 12-14, 91 on 12-15.
    assert!(refusal(&o, "2026-12-14", &policy).is_ok());
    assert_eq!(refusal(&o, "2026-12-15", &policy), Err("too_long_overdue"));
    let mut small = policy.clone();
    small.reinstallment.max_balance = Decimal::from(2000);
    assert_eq!(refusal(&o, "2026-11-21", &small), Err("balance_too_large"));
    let mut plan = o.clone();
    plan.agreements.restructured_from = Some("X".into());
    assert_eq!(
        refusal(&plan, "2026-11-21", &policy),
        Err("already_restructured")
    );
}

#[test]
fn offers_above_the_cap_are_not_made() {
    let (o, p) = late_order();
    let mut policy = Policy::default();
    policy.reinstallment.annual_rate_cap_percent = Decimal::new(1100, 2); // 11 %
    let q = reinstallment_quote(&view_on(&o, &p, "2026-11-21"), &policy).unwrap();
    let offers = reinstallment_offers(&q, q.min_down_payment, date("2026-11-21"), &policy).unwrap();
    let periods: Vec<u32> = offers.iter().map(|x| x.terms.periods).collect();
    assert_eq!(periods, [3], "6 (12.24 %) and 12 (13.03 %) are above 11 %");
}

#[test]
fn a_policy_whose_offers_exceed_the_cap_is_a_start_up_error() {
    let mut policy = Policy::default();
    policy.reinstallment.monthly_fee_rate = Decimal::new(2, 2); // 2 % a month flat
    let problems = policy.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("12-period offer") && p.contains("annual_rate_cap_percent")),
        "{problems:?}"
    );
    let dir = tempdir();
    let file = dir.join("policy.toml");
    std::fs::write(
        &file,
        "[policy.reinstallment]\nmonthly_fee_rate = \"0.02\"\n",
    )
    .unwrap();
    let err = Settings::load(Some(&file)).unwrap_err();
    assert!(
        format!("{err:#}").contains("annual_rate_cap_percent"),
        "{err:#}"
    );
    assert!(Policy::default().problems().is_empty());
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "repaybot-negotiation-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[test]
fn offers_match_the_independent_implementation() {
    let policy = Policy::default();
    let (o, p) = late_order();
    let mut cases = Vec::new();
    for (i, today) in ["2026-11-21", "2026-12-01", "2026-12-10", "2026-10-31"]
        .iter()
        .enumerate()
    {
        let v = view_on(&o, &p, today);
        let q = reinstallment_quote(&v, &policy).unwrap();
        for extra in [0i64, 1, 12_345, 50_000 + i as i64] {
            let down = q.min_down_payment + Money::from_fen(extra);
            for offer in reinstallment_offers(&q, down, date(today), &policy).unwrap() {
                cases.push(offer);
            }
        }
    }
    let input: String = cases
        .iter()
        .map(|x| {
            let t = &x.terms;
            format!("{{\"principal\":\"{}\",\"periods\":{},\"method\":\"flat_fee\",\"monthly_rate\":\"{}\",\"first_due_date\":\"{}\"}}\n",
                t.principal, t.periods, t.monthly_rate, t.first_due_date)
        })
        .collect();
    let lines = run_independent(&input);
    assert_eq!(lines.len(), cases.len());
    for (offer, expected) in cases.iter().zip(&lines) {
        assert_eq!(
            offer.annual_rate.to_string(),
            expected["annual_rate"].as_str().unwrap(),
            "{offer:?}"
        );
        let rows = expected["installments"].as_array().unwrap();
        let fees: Decimal = rows
            .iter()
            .map(|r| r[2].as_str().unwrap().parse::<Decimal>().unwrap())
            .sum();
        assert_eq!(offer.total_cost.0, fees);
        let first = &rows[0];
        let first_amount = first[1].as_str().unwrap().parse::<Decimal>().unwrap()
            + first[2].as_str().unwrap().parse::<Decimal>().unwrap();
        assert_eq!(offer.per_period.0, first_amount);
        assert_eq!(
            first[0].as_str().unwrap(),
            offer.terms.first_due_date.to_string()
        );
    }
}

prop_compose! {
    fn overdue_case()(fen in 50_000i64..5_000_000, periods in prop::sample::select(vec![3u32, 6, 12, 24]),
                      rate_bp in 0i64..=100, paid in 0usize..3, late_days in 0u64..=85,
                      partial_bp in 0i64..10_000, extra_fen in 0i64..100_000)
                      -> (Terms, usize, u64, i64, i64) {
        (Terms {
            principal: Money::from_fen(fen),
            periods,
            method: Method::FlatFee,
            monthly_rate: Decimal::new(rate_bp, 4),
            first_due_date: date("2026-01-31"),
        }, paid, late_days, partial_bp, extra_fen)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    /// Re-installment keeps the debt: new principal + down payment = the balance, and the
    /// balance is what 4.8 says, summed independently from the ledger's installments. Each new
    /// schedule obeys 4.2 and starts one month after the day (month-end rule).
    #[test]
    fn reinstallment_preserves_the_debt((t, paid, late_days, partial_bp, extra_fen) in overdue_case()) {
        let o = order(t.clone());
        let rows = schedule::build(&t).unwrap();
        let mut payments: Vec<Payment> = rows.iter().take(paid)
            .map(|r| pay(&format!("P{}", r.n), &r.amount().to_string(), &r.due_date.to_string()))
            .collect();
        let oldest_unpaid = &rows[paid.min(rows.len() - 1)];
        let today = oldest_unpaid.due_date + Days::new(late_days);
        // A part payment a day before today.
        let part = oldest_unpaid.amount().times(Decimal::new(partial_bp, 4)).round_fen();
        if part.is_positive() && paid < rows.len() {
            payments.push(pay("PX", &part.to_string(), &(today - Days::new(1)).to_string()));
        }
        let policy = Policy::default();
        let v = view::order_view(&o, &payments, today, &policy).unwrap();
        let Ok(q) = reinstallment_quote(&v, &policy) else { return Ok(()) };
        // Independent sum over the replayed ledger.
        let ledger = repaybot::domain::OrderLedger::replay_order(&o, &payments, today, &policy).unwrap();
        let mut expected = Money::ZERO;
        for i in &ledger.installments {
            if i.plan.due_date < today {
                expected += i.remaining(today, &policy);
            } else {
                expected += i.plan.principal - i.principal_paid;
            }
        }
        prop_assert_eq!(q.balance, expected);
        prop_assert_eq!(q.min_down_payment, q.balance.times(Decimal::new(1, 1)).ceil_fen());
        let down = q.min_down_payment + Money::from_fen(extra_fen);
        let Ok(offers) = reinstallment_offers(&q, down, today, &policy) else {
            prop_assert!(down > q.balance - Money::from_fen(12));
            return Ok(());
        };
        prop_assert!(!offers.is_empty());
        for x in &offers {
            prop_assert_eq!(x.terms.principal + down, q.balance);
            let new_rows = schedule::build(&x.terms).unwrap();
            let sum: Money = new_rows.iter().map(|r| r.principal).sum();
            prop_assert_eq!(sum, x.terms.principal);
            prop_assert!(new_rows.iter().all(|r| r.fee == x.terms.principal.times(x.terms.monthly_rate).round_fen()));
            prop_assert_eq!(x.terms.first_due_date, schedule::due_date(today, 2).unwrap());
            prop_assert!(x.terms.first_due_date.day() <= today.day());
            prop_assert!(x.annual_rate <= policy.reinstallment.annual_rate_cap_percent);
        }
    }
}

// ------------------------------------------------------------------ the store

fn demo_store(today: NaiveDate) -> Store {
    let store = Store::temporary().unwrap();
    demo::load_if_empty(&store, today, &Policy::default()).unwrap();
    store
}

const T: &str = "2026-11-21";
const LATE_ORDER: &str = "OP2026040301"; // A1003's order, about 40 days overdue on T.

#[test]
fn a_reinstallment_is_durable_once_and_stops_the_penalty() {
    let today = date(T);
    let store = demo_store(today);
    let policy = Policy::default();
    let before = store.bill("A1003", today, &policy).unwrap();
    let q = reinstallment_quote(&before.orders[0], &policy).unwrap();
    let request = RestructureRequest {
        order_id: LATE_ORDER,
        down_payment: money("500.00"),
        periods: 6,
        today,
        payment_id: "CDOWN-1".into(),
        origin: "test".into(),
    };
    let confirm = |_: &repaybot::domain::Restructure, _: &Order| "confirmed".to_string();
    let first = store.restructure(&request, &policy, &confirm).unwrap();
    let AgreementOutcome::Agreed((r, plan)) = first else {
        panic!("not agreed: {first:?}")
    };
    assert_eq!(r.balance, q.balance);
    assert_eq!(plan.terms.principal + r.down_payment, q.balance);
    assert_eq!(plan.id, format!("{LATE_ORDER}-R1"));
    assert_eq!(r.confirmation, "confirmed");
    // Asked again (a double press, a retry): the same agreement, no second down payment.
    let again = store.restructure(&request, &policy, &confirm).unwrap();
    assert!(matches!(again, AgreementOutcome::AlreadyAgreed((ref r2, _)) if *r2 == r));
    let downs = store.payments_of(LATE_ORDER).unwrap();
    assert_eq!(downs.iter().filter(|p| p.id == "CDOWN-1").count(), 1);
    // The plan itself cannot be re-installed, nor the old order paid.
    let plan_view = store.bill("A1003", today, &policy).unwrap();
    let r1 = plan_view
        .orders
        .iter()
        .find(|o| o.order.id == plan.id)
        .unwrap();
    assert_eq!(
        reinstallment_quote(r1, &policy).unwrap_err(),
        Refusal::AlreadyRestructured
    );
    let late_pay = Payment {
        id: "CLATE".into(),
        amount: money("10.00"),
        paid_on: today,
        kind: repaybot::domain::PaymentKind::Installment,
    };
    let outcome = store
        .record_payment(LATE_ORDER, late_pay, "k-late", "test", &policy)
        .unwrap();
    assert!(matches!(
        outcome,
        repaybot::store::PaymentOutcome::Refused(_)
    ));
    // Penalty stopped: the old order owes nothing, today or 30 days on.
    for day in [today, today + Days::new(30)] {
        let bill = store.bill("A1003", day, &policy).unwrap();
        let old = bill
            .orders
            .iter()
            .find(|o| o.order.id == LATE_ORDER)
            .unwrap();
        assert_eq!(old.status, "restructured");
        assert!(old.overdue_total.is_zero() && old.penalty_total.is_zero());
        assert!(old.installments.iter().all(|i| i.remaining.is_zero()));
        assert!(old
            .installments
            .iter()
            .any(|i| i.status == InstallmentStatus::Restructured));
        // The account owes the new plan and nothing else.
        let owed: Money = bill
            .orders
            .iter()
            .flat_map(|o| &o.installments)
            .map(|i| i.remaining)
            .sum();
        let plan_rows = schedule::build(&plan.terms).unwrap();
        let plan_total: Money = plan_rows.iter().map(|r| r.amount()).sum();
        if day == today {
            assert_eq!(owed, plan_total);
        }
    }
    // The ledger stopped accruing on the agreement day.
    let o = store.order(LATE_ORDER).unwrap().unwrap().data;
    let pays = store.payments_of(LATE_ORDER).unwrap();
    let later =
        repaybot::domain::OrderLedger::replay_order(&o, &pays, today + Days::new(30), &policy)
            .unwrap();
    let now = repaybot::domain::OrderLedger::replay_order(&o, &pays, today, &policy).unwrap();
    assert_eq!(later, now, "nothing accrues after the re-installment");
}

#[test]
fn a_deferral_is_durable_once() {
    let today = date(T);
    let store = demo_store(today);
    let policy = Policy::default();
    let order_id = "MI2026050101"; // A1001, current
    let confirm = |d: &Deferral| format!("moved to {}", d.new_due);
    let first = store.defer(order_id, 14, today, &policy, &confirm).unwrap();
    let AgreementOutcome::Agreed(d) = first else {
        panic!("{first:?}")
    };
    assert_eq!(d.confirmation, format!("moved to {}", d.new_due));
    let again = store.defer(order_id, 30, today, &policy, &confirm).unwrap();
    assert_eq!(again, AgreementOutcome::AlreadyAgreed(d.clone()));
    let bill = store.bill("A1001", today, &policy).unwrap();
    let inst = &bill.orders[0].installments[d.n as usize - 1];
    assert_eq!(
        (inst.due_date, inst.deferred),
        (d.new_due, Some((14, d.fee)))
    );
    // Not an option the policy offers.
    let store2 = demo_store(today);
    assert_eq!(
        store2
            .defer(order_id, 10, today, &policy, &confirm)
            .unwrap(),
        AgreementOutcome::Refused("no_such_option")
    );
}

// ------------------------------------------------------------------ chat = statement

fn bound(account: &str, today: NaiveDate) -> (App, String) {
    let store = demo_store(today);
    let app = App::new(store, Settings::default()).unwrap();
    let chat = format!("neg:{account}");
    assert!(app.store.bind(&chat, account).unwrap());
    app.set_lang(&chat, repaybot::dialog::Lang::En).unwrap();
    app.turn(&chat, ChatInput::Start, today, now(today))
        .unwrap();
    (app, chat)
}

fn now(today: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    today.and_hms_opt(2, 0, 0).unwrap().and_utc()
}

fn send(app: &App, chat: &str, text: &str, today: NaiveDate) -> String {
    let out = app
        .turn(chat, ChatInput::Text(text.into()), today, now(today))
        .unwrap();
    out.replies
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

fn statement(app: &App, account: &str, today: NaiveDate) -> serde_json::Value {
    let bill = app
        .store
        .bill(account, today, &app.settings.policy)
        .unwrap();
    let cases = app.store.cases_of(account).unwrap();
    serde_json::to_value(repaybot::statement::document(&bill, &cases)).unwrap()
}

#[test]
fn chat_reinstallment_numbers_equal_the_statement_before_and_after() {
    let today = date(T);
    let (app, chat) = bound("A1003", today);
    let before = statement(&app, "A1003", today);
    let order = &before["orders"][0];
    // 4.8 balance from the statement: everything past due + principal not yet due (unpaid).
    let mut balance = Decimal::ZERO;
    for i in order["installments"].as_array().unwrap() {
        let d = |k: &str| i[k].as_str().unwrap().parse::<Decimal>().unwrap();
        if i["due_date"].as_str().unwrap() < T {
            balance += d("remaining");
        } else {
            assert!(
                d("paid").is_zero(),
                "the demo's later installments are unpaid"
            );
            balance += d("principal");
        }
    }
    send(&app, &chat, "I can't pay, can I restructure", today);
    let quote = send(&app, &chat, "2", today);
    assert!(quote.contains(&format!("¥{balance}")), "{quote}");
    let offers = send(&app, &chat, "1000", today);
    assert!(
        offers.contains(&format!("¥{}", balance - Decimal::from(1000))),
        "{offers}"
    );
    send(&app, &chat, "12 periods", today);
    let done = send(&app, &chat, "yes", today);
    assert!(done.contains("Re-installment agreed"), "{done}");
    let after = statement(&app, "A1003", today);
    let orders = after["orders"].as_array().unwrap();
    assert_eq!(orders[0]["status"], "restructured");
    assert_eq!(orders[0]["restructure"]["balance"], balance.to_string());
    assert_eq!(orders[0]["restructure"]["down_payment"], "1000.00");
    assert_eq!(orders[1]["order_id"], format!("{LATE_ORDER}-R1"));
    assert_eq!(orders[1]["restructured_from"], LATE_ORDER);
    assert_eq!(
        orders[1]["principal"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap()
            + Decimal::from(1000),
        balance
    );
    assert_eq!(after["overdue_total"], "0.00");
    // What the chat now quotes as the bill is the plan's first installment.
    let first = &orders[1]["installments"][0];
    let bill = send(&app, &chat, "my bill", today);
    assert!(
        bill.contains(first["remaining"].as_str().unwrap()),
        "{bill}"
    );
}

#[test]
fn chat_deferral_and_hardship_case_reach_the_statement() {
    let today = date(T);
    let (app, chat) = bound("A1001", today);
    send(&app, &chat, "can I postpone my next payment", today);
    let offer = send(&app, &chat, "1", today);
    assert!(offer.contains("can be deferred once"), "{offer}");
    let confirm = send(&app, &chat, "30 days", today);
    assert!(confirm.contains("Please confirm the deferral"), "{confirm}");
    send(&app, &chat, "yes", today);
    let doc = statement(&app, "A1001", today);
    let deferred: Vec<&serde_json::Value> = doc["orders"][0]["installments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("deferred_days").is_some())
        .collect();
    assert_eq!(deferred.len(), 1);
    let i = deferred[0];
    assert_eq!(i["deferred_days"], 30);
    assert!(
        confirm.contains(i["due_date"].as_str().unwrap()),
        "{confirm}"
    );
    assert!(
        confirm.contains(i["deferral_fee"].as_str().unwrap()),
        "{confirm}"
    );
    assert!(confirm.contains(i["original_due_date"].as_str().unwrap()));
    assert_eq!(doc["orders"][0]["next_due"]["date"], i["due_date"]);

    // A hardship case with one document is listed as open.
    send(&app, &chat, "I lost my job", today);
    send(&app, &chat, "3", today);
    send(&app, &chat, "1", today); // lost my job
    send(&app, &chat, "300", today);
    let got = app
        .turn(
            &chat,
            ChatInput::Document {
                file_id: "AgACAgIAAxkBAAIB".into(),
                name: "letter.jpg".into(),
            },
            today,
            now(today),
        )
        .unwrap();
    assert!(got.replies[0].text.contains("(1 so far)"));
    send(&app, &chat, "That's all", today);
    let opened = send(&app, &chat, "yes", today);
    assert!(opened.contains("#1"), "{opened}");
    let doc = statement(&app, "A1001", today);
    let case = &doc["open_cases"][0];
    assert_eq!(case["status"], "open");
    assert_eq!(case["monthly_amount"], "300.00");
    assert_eq!(case["documents"], 1);
    let stored = app.store.case(1).unwrap().unwrap();
    assert_eq!(stored.documents[0].file_id, "AgACAgIAAxkBAAIB");
    assert!(app
        .store
        .tickets()
        .unwrap()
        .iter()
        .any(|t| Some(t.number) == stored.ticket
            && t.reason == repaybot::store::TicketReason::Hardship));
}

/// Opens a hardship case for A1003 through the chat; returns its number.
fn open_case_in_chat(app: &App, chat: &str, today: NaiveDate) -> u64 {
    send(app, chat, "I can't pay", today);
    send(app, chat, "3", today);
    send(app, chat, "2", today); // illness
    send(app, chat, "200", today);
    app.turn(
        chat,
        ChatInput::Document {
            file_id: "F1".into(),
            name: "record.jpg".into(),
        },
        today,
        now(today),
    )
    .unwrap();
    send(app, chat, "That's all", today);
    send(app, chat, "yes", today);
    app.store.pending_case("A1003").unwrap().unwrap().number
}

#[test]
fn an_approved_hardship_plan_is_confirmed_in_chat_and_reaches_the_statement() {
    let today = date(T);
    let (app, chat) = bound("A1003", today);
    let number = open_case_in_chat(&app, &chat, today);
    assert!(
        repaybot::reminders::overdue_paused(&app.store, "A1003").unwrap(),
        "overdue reminders pause while the case is open"
    );
    let waiting = send(&app, &chat, "what is the status of my request", today);
    assert!(waiting.contains("reviewing"), "{waiting}");
    let before = statement(&app, "A1003", today);
    let plan = repaybot::domain::ApprovedPlan {
        periods: 24,
        monthly_rate: Decimal::ZERO,
    };
    app.store
        .approve_case(number, plan, "Approved: 24 periods, fees waived.".into())
        .unwrap();
    let shown = send(&app, &chat, "request status", today);
    assert!(shown.contains("24 periods"), "{shown}");
    assert!(shown.contains("Approved: 24 periods"), "{shown}");
    let done = send(&app, &chat, "Accept the plan", today);
    assert!(done.contains("Hardship plan confirmation"), "{done}");
    let after = statement(&app, "A1003", today);
    let orders = after["orders"].as_array().unwrap();
    assert_eq!(orders[0]["status"], "restructured");
    let plan = &orders[1];
    assert_eq!(plan["periods"], 24);
    assert_eq!(plan["annual_rate"], "0.00");
    // The whole 4.8 balance moved, without a down payment.
    let mut balance = Decimal::ZERO;
    for i in before["orders"][0]["installments"].as_array().unwrap() {
        let d = |k: &str| i[k].as_str().unwrap().parse::<Decimal>().unwrap();
        balance += if i["due_date"].as_str().unwrap() < T {
            d("remaining")
        } else {
            d("principal")
        };
    }
    assert_eq!(plan["principal"], balance.to_string());
    assert_eq!(after["open_cases"].as_array().unwrap().len(), 0);
    assert!(!repaybot::reminders::overdue_paused(&app.store, "A1003").unwrap());
    assert_eq!(
        app.store.case(number).unwrap().unwrap().status,
        repaybot::domain::CaseStatus::Accepted
    );
    // A second confirmation (a replayed button) changes nothing.
    let again = app
        .store
        .accept_hardship_plan(number, today, &app.settings.policy, &|_, _| String::new())
        .unwrap();
    assert!(matches!(again, AgreementOutcome::AlreadyAgreed(ref p) if p.len() == 1));
    assert_eq!(statement(&app, "A1003", today)["orders"], after["orders"]);
}

#[test]
fn a_declined_hardship_plan_changes_nothing_but_the_case() {
    let today = date(T);
    let (app, chat) = bound("A1003", today);
    let number = open_case_in_chat(&app, &chat, today);
    let before = statement(&app, "A1003", today);
    let plan = repaybot::domain::ApprovedPlan {
        periods: 36,
        monthly_rate: Decimal::new(3, 3),
    };
    app.store.approve_case(number, plan, String::new()).unwrap();
    send(&app, &chat, "request status", today);
    let declined = send(&app, &chat, "Decline", today);
    assert!(declined.contains("declined"), "{declined}");
    let after = statement(&app, "A1003", today);
    assert_eq!(after["orders"], before["orders"]);
    assert_eq!(
        app.store.case(number).unwrap().unwrap().status,
        repaybot::domain::CaseStatus::Withdrawn
    );
}
