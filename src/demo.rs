//! Built-in demo data, dated relative to today so every status shows on any day: one current
//! account, one in grace, one overdue about 40 days, one with two orders, one settled. Loaded
//! through the ordinary importer, so the demo obeys every import rule.

use crate::domain::{ledger::OrderLedger, schedule, Money, Policy, Terms};
use crate::import::{self, Kind};
use crate::store::Store;
use anyhow::{anyhow, Result};
use chrono::{Days, Months, NaiveDate};

pub const ACCOUNTS: &str = "\
account_id,name,phone,id_last4,language,timezone
A1001,张伟,13800005678,123X,zh,Asia/Shanghai
A1002,Li Na,+86 139-0000-1234,4521,en,Asia/Shanghai
A1003,王芳,13700002468,8806,zh,Asia/Shanghai
A1004,陈杰,13600001357,0042,zh,Asia/Shanghai
A1005,Emma Zhou,15900009999,7788,en,Europe/London
";

/// One demo order: terms, and how many installments were paid on time.
struct DemoOrder {
    id: &'static str,
    account: &'static str,
    item: &'static str,
    principal: &'static str,
    periods: u32,
    method: &'static str,
    rate: &'static str,
    first_due: NaiveDate,
    paid_on_time: u32,
}

fn orders(today: NaiveDate) -> Vec<DemoOrder> {
    let back = |months: u32, days: u64| {
        today
            .checked_sub_months(Months::new(months))
            .unwrap_or(today)
            - Days::new(days)
    };
    let ahead = |days: u64| today + Days::new(days);
    let o =
        |id, account, item, principal, periods, method, rate, first_due, paid_on_time| DemoOrder {
            id,
            account,
            item,
            principal,
            periods,
            method,
            rate,
            first_due,
            paid_on_time,
        };
    vec![
        // current: six paid, the seventh due in 24 days
        o(
            "MI2026050101",
            "A1001",
            "Xiaomi 15 Pro",
            "2999.00",
            12,
            "flat_fee",
            "0.006",
            back(6, 0) + Days::new(24),
            6,
        ),
        // in grace: two paid, the third due two days ago
        o(
            "HW2026080201",
            "A1002",
            "Huawei MatePad",
            "3599.00",
            6,
            "equal_installment",
            "0.008",
            back(2, 2),
            2,
        ),
        // overdue about 40 days: three paid, the fourth 40 days late, the fifth 10 days late
        o(
            "OP2026040301",
            "A1003",
            "OPPO Find X8",
            "4599.00",
            12,
            "flat_fee",
            "0.0075",
            back(4, 10),
            3,
        ),
        // two orders
        o(
            "LX2026060401",
            "A1004",
            "Lenovo ThinkBook 14",
            "5999.00",
            24,
            "equal_installment",
            "0.006",
            back(4, 0) + Days::new(10),
            4,
        ),
        o(
            "JD2026090402",
            "A1004",
            "AirPods Pro",
            "1899.00",
            3,
            "equal_principal",
            "0.005",
            ahead(5),
            0,
        ),
        // settled early, nine days after its seventh installment
        o(
            "SN2026010501",
            "A1005",
            "Sony WH-1000XM5",
            "2399.00",
            12,
            "flat_fee",
            "0.006",
            back(9, 0),
            7,
        ),
    ]
}

pub fn orders_csv(today: NaiveDate) -> String {
    let mut csv = "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n"
        .to_string();
    for o in orders(today) {
        let t = (
            o.id,
            o.account,
            o.item,
            o.principal,
            o.periods,
            o.method,
            o.rate,
            o.first_due,
        );
        csv += &format!(
            "{},{},{},{},{},{},{},{}\n",
            t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7
        );
    }
    csv
}

/// On-time payments of the first installments; the settled account pays its quote afterwards.
pub fn payments_csv(today: NaiveDate, policy: &Policy) -> Result<String> {
    let mut csv = "payment_id,order_id,amount,paid_on,kind\n".to_string();
    for o in orders(today) {
        let (id, p, n, m, r, first, paid) = (
            o.id,
            o.principal,
            o.periods,
            o.method,
            o.rate,
            o.first_due,
            o.paid_on_time,
        );
        let terms = Terms {
            principal: Money::parse_positive(p)?,
            periods: n,
            method: crate::domain::Method::parse(m).ok_or_else(|| anyhow!("demo method"))?,
            monthly_rate: r.parse()?,
            first_due_date: first,
        };
        let rows = schedule::build(&terms)?;
        for inst in rows.iter().take(paid as usize) {
            csv += &format!(
                "{id}-P{:02},{id},{},{},installment\n",
                inst.n,
                inst.amount(),
                inst.due_date
            );
        }
        if id.starts_with("SN") {
            let settle_on = rows[paid as usize - 1].due_date + Days::new(9);
            let mut ledger = OrderLedger::new(rows.clone(), policy);
            for inst in rows.iter().take(paid as usize) {
                ledger.advance_to(inst.due_date);
                let pay = crate::domain::Payment {
                    id: format!("x{}", inst.n),
                    amount: inst.amount(),
                    paid_on: inst.due_date,
                    kind: crate::domain::PaymentKind::Installment,
                };
                ledger
                    .apply(&pay)
                    .map_err(|e| anyhow!("demo payment: {e}"))?;
            }
            ledger.advance_to(settle_on);
            csv += &format!(
                "{id}-S,{id},{},{settle_on},settlement\n",
                ledger.quote(settle_on).total
            );
        }
    }
    Ok(csv)
}

/// Loads the demo accounts into an empty store. Returns false when the store already had data.
pub fn load_if_empty(store: &Store, today: NaiveDate, policy: &Policy) -> Result<bool> {
    if store.has_accounts() {
        return Ok(false);
    }
    let files = [
        (Kind::Accounts, "demo/accounts.csv", ACCOUNTS.to_string()),
        (Kind::Orders, "demo/orders.csv", orders_csv(today)),
        (
            Kind::Payments,
            "demo/payments.csv",
            payments_csv(today, policy)?,
        ),
    ];
    for (kind, name, text) in files {
        import::import(store, kind, name, text.as_bytes(), policy)
            .map_err(|e| anyhow!("demo data did not import: {e:?}"))?;
    }
    Ok(true)
}
