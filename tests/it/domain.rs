//! Table tests of the money rules (SPEC 4.1–4.6): schedules, annual rate, penalty, allocation,
//! settlement. Each renders a text table and compares it with the expected one.

use chrono::NaiveDate;
use repaybot::domain::{
    ledger::OrderLedger, rate::annual_rate_percent, schedule, view, Method, Money, Order, Payment,
    PaymentKind, Policy, Terms,
};
use rust_decimal::Decimal;
use std::str::FromStr;

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn money(s: &str) -> Money {
    Money(Decimal::from_str(s).unwrap())
}

pub fn terms(principal: &str, periods: u32, method: Method, rate: &str, first: &str) -> Terms {
    Terms {
        principal: money(principal),
        periods,
        method,
        monthly_rate: Decimal::from_str(rate).unwrap(),
        first_due_date: date(first),
    }
}

pub fn order(t: Terms) -> Order {
    Order {
        id: "O1".into(),
        account_id: "A1".into(),
        item: "phone".into(),
        terms: t,
        agreements: Default::default(),
    }
}

pub fn pay(id: &str, amount: &str, on: &str) -> Payment {
    Payment {
        id: id.into(),
        amount: money(amount),
        paid_on: date(on),
        kind: PaymentKind::Installment,
    }
}

fn render_schedule(t: &Terms) -> String {
    let rows = schedule::build(t).unwrap();
    let mut out = String::new();
    for r in &rows {
        out += &format!(
            "{:>2} {} {:>9} {:>8}\n",
            r.n, r.due_date, r.principal, r.fee
        );
    }
    let flows: Vec<Money> = rows.iter().map(|r| r.amount()).collect();
    out += &format!("annual {}%\n", annual_rate_percent(t.principal, &flows));
    out
}

fn check_schedule(t: Terms, expected: &str) {
    let got = render_schedule(&t);
    assert_eq!(got.trim(), expected.trim(), "\n--- got ---\n{got}");
}

/// Renders every installment of the order on `today` as the statement shows it.
fn render_day(t: Terms, payments: &[Payment], today: &str) -> String {
    let v = view::order_view(&order(t), payments, date(today), &Policy::default()).unwrap();
    let mut out = String::new();
    for i in &v.installments {
        out += &format!(
            "{} {} paid {} penalty {} remaining {} {}\n",
            i.n,
            i.due_date,
            i.paid,
            i.penalty,
            i.remaining,
            i.status.as_str()
        );
    }
    out += &format!("overdue {} status {}", v.overdue_total, v.status);
    if let Some(q) = &v.quote {
        out += &format!(
            "\nquote {} = overdue {} + later principal {} + current fee {} + fee {} (waived {})",
            q.total, q.overdue, q.later_principal, q.current_fee, q.settlement_fee, q.waived_fees
        );
    }
    out
}

fn check_day(t: Terms, payments: &[Payment], today: &str, expected: &str) {
    let got = render_day(t, payments, today);
    assert_eq!(got.trim(), expected.trim(), "\n--- got ---\n{got}");
}

#[test]
fn flat_fee_spec_example_schedule_and_rate() {
    check_schedule(
        terms("2999", 12, Method::FlatFee, "0.006", "2026-06-15"),
        "
 1 2026-06-15    249.91    17.99
 2 2026-07-15    249.91    17.99
 3 2026-08-15    249.91    17.99
 4 2026-09-15    249.91    17.99
 5 2026-10-15    249.91    17.99
 6 2026-11-15    249.91    17.99
 7 2026-12-15    249.91    17.99
 8 2027-01-15    249.91    17.99
 9 2027-02-15    249.91    17.99
10 2027-03-15    249.91    17.99
11 2027-04-15    249.91    17.99
12 2027-05-15    249.99    17.99
annual 13.03%",
    );
}

#[test]
fn equal_installment_published_example_with_month_end_dates() {
    // 10,000 at 1 % a month over 12 months: the textbook level payment is 888.49.
    check_schedule(
        terms("10000", 12, Method::EqualInstallment, "0.01", "2026-01-31"),
        "
 1 2026-01-31    788.49   100.00
 2 2026-02-28    796.37    92.12
 3 2026-03-31    804.34    84.15
 4 2026-04-30    812.38    76.11
 5 2026-05-31    820.51    67.98
 6 2026-06-30    828.71    59.78
 7 2026-07-31    837.00    51.49
 8 2026-08-31    845.37    43.12
 9 2026-09-30    853.82    34.67
10 2026-10-31    862.36    26.13
11 2026-11-30    870.98    17.51
12 2026-12-31    879.67     8.80
annual 12.00%",
    );
}

#[test]
fn equal_principal_in_a_leap_year() {
    check_schedule(
        terms("1200", 4, Method::EqualPrincipal, "0.01", "2028-01-31"),
        "
 1 2028-01-31    300.00    12.00
 2 2028-02-29    300.00     9.00
 3 2028-03-31    300.00     6.00
 4 2028-04-30    300.00     3.00
annual 12.00%",
    );
}

#[test]
fn zero_rate_equal_installment_has_no_interest_and_last_takes_the_rest() {
    check_schedule(
        terms("1000", 3, Method::EqualInstallment, "0", "2026-12-31"),
        "
 1 2026-12-31    333.33     0.00
 2 2027-01-31    333.33     0.00
 3 2027-02-28    333.34     0.00
annual 0.00%",
    );
}

#[test]
fn one_period_flat_fee() {
    check_schedule(
        terms("99.9", 1, Method::FlatFee, "0.006", "2026-12-01"),
        "
 1 2026-12-01     99.90     0.60
annual 7.21%",
    );
}

#[test]
fn sixty_periods_sum_to_principal_and_end_five_years_later() {
    let t = terms("50000", 60, Method::EqualInstallment, "0.005", "2026-01-29");
    let rows = schedule::build(&t).unwrap();
    assert_eq!(rows.len(), 60);
    assert_eq!(
        rows.iter().map(|r| r.principal).sum::<Money>(),
        money("50000")
    );
    assert_eq!(rows[1].due_date, date("2026-02-28"));
    assert_eq!(rows[25].due_date, date("2028-02-29"));
    assert_eq!(rows[59].due_date, date("2030-12-29"));
    // 0.5 % a month: textbook level payment 966.64
    assert_eq!(rows[0].amount(), money("966.64"));
}

#[test]
fn tiny_principal_per_period_is_rejected() {
    let t = terms("0.50", 60, Method::FlatFee, "0.006", "2026-12-01");
    assert!(matches!(
        schedule::build(&t),
        Err(schedule::ScheduleError::TinyPrincipal(1))
    ));
    let t = terms("100", 61, Method::FlatFee, "0.006", "2026-12-01");
    assert!(schedule::build(&t).is_err());
}

fn spec_order() -> Terms {
    terms("2999", 12, Method::FlatFee, "0.006", "2026-06-15")
}

fn six_on_time() -> Vec<Payment> {
    ["06", "07", "08", "09", "10", "11"]
        .iter()
        .map(|m| pay(&format!("P{m}"), "267.90", &format!("2026-{m}-15")))
        .collect()
}

#[test]
fn spec_statement_example_quote_is_1517_53() {
    let v = view::order_view(
        &order(spec_order()),
        &six_on_time(),
        date("2026-11-21"),
        &Policy::default(),
    )
    .unwrap();
    let q = v.quote.unwrap();
    assert_eq!(q.total.to_string(), "1517.53");
    assert_eq!(q.later_principal.to_string(), "1499.54");
    assert_eq!(q.current_fee.to_string(), "17.99");
    assert_eq!(q.waived_fees.to_string(), "89.95");
    let next = v.next_due.unwrap();
    assert_eq!(
        (next.date, next.amount.to_string()),
        (date("2026-12-15"), "267.90".into())
    );
    assert_eq!(v.overdue_total, Money::ZERO);
}

#[test]
fn partial_payment_inside_grace_then_overdue_counts_penalty_from_day_one() {
    let mut p = six_on_time();
    p.truncate(4); // paid through 09-15; installment 5 due 10-15
    p.push(pay("G1", "100.00", "2026-10-17"));
    let t = || terms("2999", 12, Method::FlatFee, "0.006", "2026-06-15");
    // due + 3: still grace, penalty shows 0.00
    let on_grace_end = render_day(t(), &p, "2026-10-18");
    assert!(
        on_grace_end.contains("5 2026-10-15 paid 100.00 penalty 0.00 remaining 167.90 grace"),
        "{on_grace_end}"
    );
    // due + 4: days 16,17 on 267.90 and days 18,19 on 167.90 at 0.05 % = 0.2679 + 0.1679 = 0.4358
    let after = render_day(t(), &p, "2026-10-19");
    assert!(
        after.contains("5 2026-10-15 paid 100.00 penalty 0.44 remaining 168.34 overdue"),
        "{after}"
    );
    assert!(after.contains("overdue 168.34 status active"), "{after}");
}

#[test]
fn paid_in_full_within_grace_owes_no_penalty_ever() {
    let mut p = six_on_time();
    p.truncate(4);
    p.push(pay("G1", "267.90", "2026-10-18"));
    check_day(
        spec_order(),
        &p[..],
        "2026-10-25",
        "
1 2026-06-15 paid 267.90 penalty 0.00 remaining 0.00 paid
2 2026-07-15 paid 267.90 penalty 0.00 remaining 0.00 paid
3 2026-08-15 paid 267.90 penalty 0.00 remaining 0.00 paid
4 2026-09-15 paid 267.90 penalty 0.00 remaining 0.00 paid
5 2026-10-15 paid 267.90 penalty 0.00 remaining 0.00 paid
6 2026-11-15 paid 0.00 penalty 0.00 remaining 267.90 due
7 2026-12-15 paid 0.00 penalty 0.00 remaining 267.90 due
8 2027-01-15 paid 0.00 penalty 0.00 remaining 267.90 due
9 2027-02-15 paid 0.00 penalty 0.00 remaining 267.90 due
10 2027-03-15 paid 0.00 penalty 0.00 remaining 267.90 due
11 2027-04-15 paid 0.00 penalty 0.00 remaining 267.90 due
12 2027-05-15 paid 0.00 penalty 0.00 remaining 267.98 due
overdue 0.00 status active
quote 1767.44 = overdue 0.00 + later principal 1749.45 + current fee 17.99 + fee 0.00 (waived 107.94)",
    );
}

#[test]
fn a_payment_crosses_installments_penalty_then_fee_then_principal() {
    // 1000 flat 0 % in 2: 500 due 10-01 and 500 due 11-01, nothing paid; on 11-20:
    // inst 1: 50 days × 0.25 = 12.50 penalty; inst 2: 19 days × 0.25 = 4.75 penalty.
    let t = || terms("1000", 2, Method::FlatFee, "0", "2026-10-01");
    check_day(
        t(),
        &[],
        "2026-11-20",
        "
1 2026-10-01 paid 0.00 penalty 12.50 remaining 512.50 overdue
2 2026-11-01 paid 0.00 penalty 4.75 remaining 504.75 overdue
overdue 1017.25 status active
quote 1017.25 = overdue 1017.25 + later principal 0.00 + current fee 0.00 + fee 0.00 (waived 0.00)",
    );
    // 600 paid on 11-20: 512.50 clears inst 1, 87.50 goes to inst 2 (4.75 penalty, 82.75 principal)
    let mut ledger = OrderLedger::new(schedule::build(&t()).unwrap(), &Policy::default());
    let alloc = ledger.apply(&pay("X", "600", "2026-11-20")).unwrap();
    let shown: Vec<String> = alloc
        .iter()
        .map(|a| {
            format!(
                "{}: pen {} fee {} prin {}",
                a.n, a.penalty, a.fee, a.principal
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "1: pen 12.50 fee 0.00 prin 500.00",
            "2: pen 4.75 fee 0.00 prin 82.75"
        ]
    );
    // the new base of inst 2 (417.25) accrues from 11-21: 0.208625 a day
    check_day(
        t(),
        &[pay("X", "600", "2026-11-20")],
        "2026-11-22",
        "
1 2026-10-01 paid 512.50 penalty 0.00 remaining 0.00 paid
2 2026-11-01 paid 87.50 penalty 0.42 remaining 417.67 overdue
overdue 417.67 status active
quote 417.67 = overdue 417.67 + later principal 0.00 + current fee 0.00 + fee 0.00 (waived 0.00)",
    );
}

#[test]
fn from_91_days_past_due_payments_go_principal_first() {
    let t = || terms("1000", 1, Method::FlatFee, "0.01", "2026-08-01");
    // installment 1000 + 10 fee. On 10-30 (90 days): penalty 1010 × 0.0005 × 90 = 45.45
    let mut l90 = OrderLedger::new(schedule::build(&t()).unwrap(), &Policy::default());
    let a = l90.apply(&pay("A", "100", "2026-10-30")).unwrap();
    assert_eq!(
        (a[0].penalty, a[0].fee, a[0].principal),
        (money("45.45"), money("10.00"), money("44.55"))
    );
    // On 10-31 (91 days): all of it to principal
    let mut l91 = OrderLedger::new(schedule::build(&t()).unwrap(), &Policy::default());
    let a = l91.apply(&pay("A", "100", "2026-10-31")).unwrap();
    assert_eq!(
        (a[0].penalty, a[0].fee, a[0].principal),
        (money("0"), money("0"), money("100"))
    );
}

#[test]
fn settlement_payment_of_the_quote_settles_and_waives_later_fees() {
    let mut p = six_on_time();
    let mut s = pay("S", "1517.53", "2026-11-21");
    s.kind = PaymentKind::Settlement;
    p.push(s);
    let day = render_day(spec_order(), &p, "2026-12-30");
    assert!(
        day.contains("7 2026-12-15 paid 267.90 penalty 0.00 remaining 0.00 paid"),
        "{day}"
    );
    assert!(
        day.contains("8 2027-01-15 paid 249.91 penalty 0.00 remaining 0.00 paid"),
        "{day}"
    );
    assert!(day.ends_with("overdue 0.00 status settled"), "{day}");
}

#[test]
fn settlement_of_a_wrong_amount_and_overpayment_are_refused() {
    let mut l = OrderLedger::new(schedule::build(&spec_order()).unwrap(), &Policy::default());
    let mut s = pay("S", "1517.52", "2026-06-01");
    s.kind = PaymentKind::Settlement;
    assert!(l.apply(&s).is_err());
    let err = l
        .apply(&pay("B", "3214.89", "2026-06-01"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("(3214.88)"), "{err}"); // 2999 + 12 × 17.99
    assert!(l.apply(&pay("C", "3214.88", "2026-06-01")).is_ok());
    assert_eq!(l.owed_total(date("2026-06-01")), Money::ZERO);
}

#[test]
fn money_rounds_half_away_from_zero_and_parses_strictly() {
    assert_eq!(money("0.005").round_fen().to_string(), "0.01");
    assert_eq!(money("-0.005").round_fen().to_string(), "-0.01");
    assert_eq!(money("2.675").to_string(), "2.68");
    assert_eq!(money("-0.001").to_string(), "0.00");
    assert_eq!(Money::parse_positive("99.9").unwrap().to_string(), "99.90");
    for bad in ["", "0", "-5", "1.234", "1e3", "¥5", ".5", "5.", "1,000"] {
        assert!(Money::parse_positive(bad).is_err(), "{bad}");
    }
}
