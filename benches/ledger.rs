//! Ledger benchmark (not a timed test): imports 100,000 orders and 300,000 payments through the
//! real importer into a temporary sled store, then computes 100,000 statements.
//! Run: `cargo bench --bench ledger` (ORDERS=10000 for a quicker run).

use chrono::{Days, NaiveDate};
use repaybot::domain::Policy;
use repaybot::import::{import, Kind};
use repaybot::store::Store;
use std::time::Instant;

fn main() {
    let orders: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let accounts = orders / 2;
    let policy = Policy::default();
    let start = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();

    let mut acc = String::from("account_id,name,phone,id_last4\n");
    for a in 0..accounts {
        acc += &format!("A{a:07},Customer {a},13{:09},{:04}\n", a, a % 10_000);
    }
    let methods = ["flat_fee", "equal_installment", "equal_principal"];
    let mut ord = String::from(
        "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n",
    );
    let mut pay = String::from("payment_id,order_id,amount,paid_on,kind\n");
    for o in 0..orders {
        let first = start + Days::new((o % 200) as u64);
        let principal = 1000 + (o % 9000);
        ord += &format!(
            "O{o:08},A{:07},Item,{principal}.00,12,{},0.006,{first}\n",
            o % accounts,
            methods[o % 3]
        );
        for k in 0..3u64 {
            pay += &format!(
                "P{o:08}{k},O{o:08},{}.00,{},\n",
                50 + (o % 50),
                first + Days::new(31 * k)
            );
        }
    }
    let store = Store::temporary().expect("temporary store");
    let t = Instant::now();
    import(
        &store,
        Kind::Accounts,
        "accounts.csv",
        acc.as_bytes(),
        &policy,
    )
    .expect("accounts");
    let t_acc = t.elapsed();
    let t = Instant::now();
    import(&store, Kind::Orders, "orders.csv", ord.as_bytes(), &policy).expect("orders");
    let t_ord = t.elapsed();
    let t = Instant::now();
    import(
        &store,
        Kind::Payments,
        "payments.csv",
        pay.as_bytes(),
        &policy,
    )
    .expect("payments");
    let t_pay = t.elapsed();
    println!("import {accounts} accounts: {:.2?}", t_acc);
    println!("import {orders} orders: {:.2?}", t_ord);
    println!("import {} payments: {:.2?}", orders * 3, t_pay);
    println!("import total: {:.2?}", t_acc + t_ord + t_pay);

    let mut lat = Vec::with_capacity(orders);
    let t = Instant::now();
    let mut check = 0usize;
    for i in 0..orders {
        let s = Instant::now();
        let bill = store
            .bill(&format!("A{:07}", i % accounts), today, &policy)
            .expect("bill");
        check += bill.orders.len();
        lat.push(s.elapsed());
    }
    let total = t.elapsed();
    lat.sort();
    println!(
        "{orders} statements (2 orders, 6 payments each): {:.2?} total, mean {:.1?}, p50 {:.1?}, p99 {:.1?} ({check} order views)",
        total,
        total / orders as u32,
        lat[orders / 2],
        lat[orders * 99 / 100]
    );
}
