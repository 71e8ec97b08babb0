//! Property tests of the money invariants (SPEC 4.2–4.6) and an independent cross-check of the
//! schedules and annual rates against a second implementation in Python (tools/independent.py).

use super::domain::{date, order, terms};
use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;
use repaybot::domain::{
    ledger::OrderLedger, schedule, view, Method, Money, Payment, PaymentKind, Policy, Terms,
};
use rust_decimal::Decimal;
use std::io::Write;
use std::process::{Command, Stdio};

fn method_strategy() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::FlatFee),
        Just(Method::EqualInstallment),
        Just(Method::EqualPrincipal)
    ]
}

prop_compose! {
    fn any_terms()(fen in 10_000i64..20_000_000, periods in 1u32..=60, method in method_strategy(),
                   rate_bp in 0i64..=500, day_offset in 0u64..1500) -> Terms {
        Terms {
            principal: Money::from_fen(fen),
            periods,
            method,
            monthly_rate: Decimal::new(rate_bp, 4),
            first_due_date: date("2025-01-01") + Days::new(day_offset),
        }
    }
}

/// Payments at random days, each a random share of what is owed that day (never more).
fn pay_randomly(t: &Terms, steps: &[(u64, u32)]) -> (OrderLedger, Vec<Money>, NaiveDate) {
    let mut ledger = OrderLedger::new(schedule::build(t).unwrap(), &Policy::default());
    let mut day = t.first_due_date - Days::new(20);
    let mut amounts = Vec::new();
    for (i, (gap, share)) in steps.iter().enumerate() {
        day = day + Days::new(*gap);
        ledger.advance_to(day);
        let owed = ledger.owed_total(day);
        let amount = owed.times(Decimal::new(i64::from(*share), 2)).round_fen();
        if !amount.is_positive() {
            continue;
        }
        let p = Payment {
            id: format!("P{i:03}"),
            amount,
            paid_on: day,
            kind: PaymentKind::Installment,
        };
        let alloc = ledger.apply(&p).unwrap();
        let allocated: Money = alloc.iter().map(|a| a.principal + a.fee + a.penalty).sum();
        assert_eq!(allocated, amount, "allocation must conserve every fen");
        amounts.push(amount);
    }
    (ledger, amounts, day)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn installments_sum_to_the_principal_with_month_end_dates(t in any_terms()) {
        if let Ok(rows) = schedule::build(&t) {
            prop_assert_eq!(rows.iter().map(|r| r.principal).sum::<Money>(), t.principal);
            for r in &rows {
                prop_assert!(r.principal >= Money::from_fen(1));
                prop_assert!(r.fee >= Money::ZERO);
                let first = t.first_due_date;
                let month_len = days_in_month(r.due_date);
                prop_assert_eq!(r.due_date.day(), first.day().min(month_len));
            }
            if t.method == Method::FlatFee {
                prop_assert!(rows.last().unwrap().principal >= rows[0].principal);
            }
        }
    }

    #[test]
    fn payments_conserve_money_and_nothing_goes_negative(
        t in any_terms(), steps in prop::collection::vec((0u64..70, 1u32..=100), 1..12)
    ) {
        prop_assume!(schedule::build(&t).is_ok());
        let (ledger, amounts, day) = pay_randomly(&t, &steps);
        let paid_in: Money = amounts.iter().copied().sum();
        let paid_out: Money = ledger.installments.iter().map(|i| i.paid()).sum();
        prop_assert_eq!(paid_in, paid_out);
        for i in &ledger.installments {
            prop_assert!(i.unpaid_principal() >= Money::ZERO);
            prop_assert!(i.unpaid_fee() >= Money::ZERO);
            prop_assert!(i.remaining(day, ledger.policy()) >= Money::ZERO);
        }
    }

    #[test]
    fn paying_the_settlement_quote_leaves_nothing_owed(
        t in any_terms(), steps in prop::collection::vec((0u64..70, 1u32..=60), 0..6), later in 0u64..400
    ) {
        prop_assume!(schedule::build(&t).is_ok());
        let (mut ledger, _, day) = pay_randomly(&t, &steps);
        let settle_on = day + Days::new(later);
        ledger.advance_to(settle_on);
        let quote = ledger.quote(settle_on);
        prop_assume!(quote.total.is_positive());
        let p = Payment { id: "S".into(), amount: quote.total, paid_on: settle_on, kind: PaymentKind::Settlement };
        ledger.apply(&p).unwrap();
        for offset in [0u64, 1, 30, 400] {
            let d = settle_on + Days::new(offset);
            ledger.advance_to(d);
            prop_assert_eq!(ledger.owed_total(d), Money::ZERO);
        }
        prop_assert_eq!(ledger.status_word(), "settled");
    }

    #[test]
    fn an_installment_paid_within_grace_never_owes_penalty(
        t in any_terms(), pay_offsets in prop::collection::vec(0u64..=13, 60), look in 0u64..500
    ) {
        let Ok(rows) = schedule::build(&t) else { return Ok(()) };
        let mut ledger = OrderLedger::new(rows.clone(), &Policy::default());
        // pay each installment in full between due − 10 and due + 3, in date order
        for (k, r) in rows.iter().enumerate() {
            let day = r.due_date - Days::new(10) + Days::new(pay_offsets[k]);
            let day = day.max(if k == 0 { day } else { rows[k - 1].due_date });
            ledger.advance_to(day);
            let inst = &ledger.installments[k];
            let amount = inst.unpaid_principal() + inst.unpaid_fee();
            if amount.is_positive() {
                let p = Payment { id: format!("P{k:02}"), amount, paid_on: day, kind: PaymentKind::Installment };
                ledger.apply(&p).unwrap();
            }
        }
        let end = rows.last().unwrap().due_date + Days::new(look);
        ledger.advance_to(end);
        for i in &ledger.installments {
            prop_assert_eq!(i.penalty_owed(end, ledger.policy()), Money::ZERO);
            prop_assert_eq!(i.penalty_paid, Money::ZERO);
        }
        prop_assert_eq!(ledger.owed_total(end), Money::ZERO);
    }
}

fn days_in_month(d: NaiveDate) -> u32 {
    let (y, m) = (d.year(), d.month());
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    (next.unwrap() - Days::new(1)).day()
}

/// Schedules and annual rates agree with the independent Python implementation on a spread of
/// terms (deterministic pseudo-random, so a failure reproduces).
#[test]
fn schedules_and_annual_rates_match_an_independent_implementation() {
    let mut seed: u64 = 0x5EED_2026;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let methods = ["flat_fee", "equal_installment", "equal_principal"];
    let mut cases = Vec::new();
    for _ in 0..120 {
        let fen = 10_000 + next(5_000_000) as i64;
        let periods = [1, 3, 6, 12, 24, 36, 60][next(7) as usize];
        let method = methods[next(3) as usize];
        let rate = Decimal::new(next(51) as i64, 3); // 0.000 .. 0.050
        let first = date("2026-01-28") + Days::new(next(400));
        cases.push((Money::from_fen(fen), periods, method, rate, first));
    }
    let input: String = cases
        .iter()
        .map(|(p, n, m, r, f)| {
            format!("{{\"principal\":\"{p}\",\"periods\":{n},\"method\":\"{m}\",\"monthly_rate\":\"{r}\",\"first_due_date\":\"{f}\"}}\n")
        })
        .collect();
    let lines = run_independent(&input);
    assert_eq!(lines.len(), cases.len());
    for ((p, n, m, r, f), expected) in cases.iter().zip(&lines) {
        let t = terms(
            &p.to_string(),
            *n,
            Method::parse(m).unwrap(),
            &r.to_string(),
            &f.to_string(),
        );
        let Ok(rows) = schedule::build(&t) else {
            continue;
        };
        let mine: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.due_date.to_string(),
                    r.principal.to_string(),
                    r.fee.to_string()
                ])
            })
            .collect();
        assert_eq!(
            serde_json::Value::Array(mine),
            expected["installments"],
            "schedule of {t:?}"
        );
        let v =
            view::order_view(&order(t.clone()), &[], t.first_due_date, &Policy::default()).unwrap();
        let theirs: Decimal = expected["annual_rate"].as_str().unwrap().parse().unwrap();
        assert_eq!(v.annual_rate, theirs, "annual rate of {t:?}");
    }
}

/// Runs the independent Python implementation on JSON-lines terms; one JSON value per line.
pub fn run_independent(input: &str) -> Vec<serde_json::Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/tools/independent.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the independent check (.ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines
}
