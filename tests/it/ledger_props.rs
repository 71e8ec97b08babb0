//! Property test of the stored ledger with agreements (issue 11): random imported payments, chat
//! payments, deferrals and re-installments on random days, interleaved with later imports. After
//! every step the statement computes, and it equals an independent replay of what was accepted:
//! the test keeps its own list of accepted payments in the order it recorded them and its own
//! copy of every order and agreement. `PROPTEST_CASES=2000 cargo test --test it ledger_props`
//! runs a longer search (CI runs the default, 24 cases).

use super::domain::date;
use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use repaybot::domain::negotiation::reinstallment_quote;
use repaybot::domain::{view, Money, Order, OrderView, Payment, PaymentKind, Policy};
use repaybot::import::{import, Kind};
use repaybot::store::{AgreementOutcome, PaymentOutcome, RestructureRequest, Store};
use rust_decimal::Decimal;

const ACCOUNTS: &str = "account_id,name,phone,id_last4\nA1,Zhang,13800005678,1234\n";
const ORDERS: &str =
    "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n\
O1,A1,Phone,3000,12,flat_fee,0.006,2026-01-15\n\
O2,A1,Laptop,6000,6,equal_installment,0.01,2026-02-10\n";
const START: &str = "2025-12-25";

/// One thing that happens; shares are percentages, `order` picks among the known orders.
#[derive(Clone, Debug)]
enum Op {
    /// A file from the shop: (order, share, day offset from today, settlement?, id letter).
    Import(Vec<(usize, u8, i8, bool, char)>),
    ChatPay {
        order: usize,
        share: u8,
        settle: bool,
    },
    Defer {
        order: usize,
        option: usize,
    },
    Reinstall {
        order: usize,
        share: u8,
        option: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let row = (
        0usize..4,
        1u8..=60,
        -8i8..=12,
        prop::bool::weighted(0.15),
        prop::char::range('0', 'Z'),
    );
    prop_oneof![
        3 => prop::collection::vec(row, 1..4).prop_map(Op::Import),
        3 => (0usize..4, 1u8..=60, prop::bool::weighted(0.1))
            .prop_map(|(order, share, settle)| Op::ChatPay { order, share, settle }),
        1 => (0usize..4, 0usize..3).prop_map(|(order, option)| Op::Defer { order, option }),
        1 => (0usize..4, 10u8..=70, 0usize..3)
            .prop_map(|(order, share, option)| Op::Reinstall { order, share, option }),
    ]
}

/// What the test itself knows was accepted.
struct Model {
    orders: Vec<Order>,
    /// (recorded as the n-th write, order id, payment)
    payments: Vec<(u64, String, Payment)>,
    writes: u64,
    ids: u64,
}

impl Model {
    /// The statement's order views by an independent replay: date, then recording order, then id.
    fn views(&self, day: NaiveDate, policy: &Policy) -> Vec<OrderView> {
        let mut orders = self.orders.clone();
        orders.sort_by(|a, b| a.id.cmp(&b.id));
        orders
            .iter()
            .map(|o| {
                let mut mine: Vec<&(u64, String, Payment)> = self
                    .payments
                    .iter()
                    .filter(|(_, id, _)| *id == o.id)
                    .collect();
                mine.sort_by(|a, b| (a.2.paid_on, a.0, &a.2.id).cmp(&(b.2.paid_on, b.0, &b.2.id)));
                let list: Vec<Payment> = mine.into_iter().map(|(_, _, p)| p.clone()).collect();
                view::order_view(o, &list, day, policy).expect("the model's own replay computes")
            })
            .collect()
    }

    fn order(&self, pick: usize) -> Order {
        self.orders[pick % self.orders.len()].clone()
    }

    fn next_id(&mut self, letter: char) -> String {
        self.ids += 1;
        format!("{letter}{:05}", 99_999 - self.ids)
    }
}

fn share_of(amount: Money, pct: u8) -> Money {
    amount.times(Decimal::new(i64::from(pct), 2)).round_fen()
}

fn view_of(store: &Store, order_id: &str, day: NaiveDate, policy: &Policy) -> Option<OrderView> {
    let bill = store
        .bill("A1", day, policy)
        .expect("the statement computes");
    bill.orders.into_iter().find(|o| o.order.id == order_id)
}

/// A payment of `share` of what `order` owes on `day` (or its settlement quote).
fn payment_for(
    store: &Store,
    order: &str,
    day: NaiveDate,
    share: u8,
    settle: bool,
    id: String,
) -> Option<Payment> {
    let v = view_of(store, order, day, &Policy::default())?;
    let (amount, kind) = if settle {
        (v.quote?.total, PaymentKind::Settlement)
    } else {
        let owed: Money = v.installments.iter().map(|i| i.remaining).sum();
        (share_of(owed, share), PaymentKind::Installment)
    };
    amount.is_positive().then_some(Payment {
        id,
        amount,
        paid_on: day,
        kind,
    })
}

fn step(store: &Store, model: &mut Model, op: &Op, today: NaiveDate, file_no: usize) {
    let policy = Policy::default();
    match op {
        Op::Import(rows) => {
            let mut text = String::from("payment_id,order_id,amount,paid_on,kind\n");
            let mut planned = Vec::new();
            for (pick, share, offset, settle, letter) in rows {
                let order = model.order(*pick).id;
                let day = today
                    .checked_add_signed(chrono::Duration::days(i64::from(*offset)))
                    .unwrap();
                let id = model.next_id(*letter);
                if let Some(p) = payment_for(store, &order, day, *share, *settle, id) {
                    let kind = if p.kind == PaymentKind::Settlement {
                        "settlement"
                    } else {
                        ""
                    };
                    text += &format!("{},{order},{},{},{kind}\n", p.id, p.amount, p.paid_on);
                    planned.push((order, p));
                }
            }
            let file = format!("f{file_no}.csv");
            if import(store, Kind::Payments, &file, text.as_bytes(), &policy).is_ok() {
                model.writes += 1;
                for (order, p) in planned {
                    model.payments.push((model.writes, order, p));
                }
            }
        }
        Op::ChatPay {
            order,
            share,
            settle,
        } => {
            let order = model.order(*order).id;
            let id = model.next_id('C');
            let Some(p) = payment_for(store, &order, today, *share, *settle, id) else {
                return;
            };
            let key = format!("key-{}", p.id);
            match store
                .record_payment(&order, p.clone(), &key, "chat:t", &policy)
                .unwrap()
            {
                PaymentOutcome::Applied { .. } => {
                    model.writes += 1;
                    model.payments.push((model.writes, order, p));
                }
                PaymentOutcome::Refused(_) => {}
                other => panic!("{other:?}"),
            }
        }
        Op::Defer { order, option } => {
            let order = model.order(*order).id;
            let days = [7, 14, 30][*option];
            if let AgreementOutcome::Agreed(d) = store
                .defer(&order, days, today, &policy, &|_| String::new())
                .unwrap()
            {
                let o = model.orders.iter_mut().find(|o| o.id == order).unwrap();
                o.agreements.deferral = Some(d);
            }
        }
        Op::Reinstall {
            order,
            share,
            option,
        } => {
            let order = model.order(*order).id;
            let Some(v) = view_of(store, &order, today, &policy) else {
                return;
            };
            let Ok(q) = reinstallment_quote(&v, &policy) else {
                return;
            };
            let down = share_of(q.balance, *share).max(q.min_down_payment);
            let request = RestructureRequest {
                order_id: &order,
                down_payment: down,
                periods: [3, 6, 12][*option],
                today,
                payment_id: model.next_id('C'),
                origin: "chat:t".into(),
            };
            let confirm = |_: &repaybot::domain::Restructure, _: &Order| String::new();
            if let AgreementOutcome::Agreed((r, plan)) =
                store.restructure(&request, &policy, &confirm).unwrap()
            {
                model.writes += 1;
                let p = Payment {
                    id: r.down_payment_id.clone(),
                    amount: r.down_payment,
                    paid_on: today,
                    kind: PaymentKind::Installment,
                };
                model.payments.push((model.writes, order.clone(), p));
                let o = model.orders.iter_mut().find(|o| o.id == order).unwrap();
                o.agreements.restructure = Some(r);
                model.orders.push(plan);
            }
        }
    }
}

fn check(store: &Store, model: &Model, day: NaiveDate) -> Result<(), TestCaseError> {
    let policy = Policy::default();
    let bill = store.bill("A1", day, &policy);
    prop_assert!(
        bill.is_ok(),
        "statement on {day} fails: {:#}",
        bill.err().unwrap()
    );
    prop_assert_eq!(
        bill.unwrap().orders,
        model.views(day, &policy),
        "statement on {}",
        day
    );
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_statement_always_computes_and_equals_a_replay_of_what_was_accepted(
        ops in prop::collection::vec((0u64..12, op()), 4..16),
    ) {
        let store = Store::temporary().unwrap();
        for (kind, text) in [(Kind::Accounts, ACCOUNTS), (Kind::Orders, ORDERS)] {
            import(&store, kind, "setup.csv", text.as_bytes(), &Policy::default()).unwrap();
        }
        let mut model = Model {
            orders: store.orders_of("A1").unwrap(),
            payments: Vec::new(),
            writes: 0,
            ids: 0,
        };
        let mut today = date(START);
        for (i, (gap, op)) in ops.iter().enumerate() {
            today = today + Days::new(*gap);
            step(&store, &mut model, op, today, i);
            check(&store, &model, today)?;
        }
        if std::env::var("LEDGER_STATS").is_ok() {
            let r = model.orders.iter().filter(|o| o.agreements.restructure.is_some()).count();
            let d = model.orders.iter().filter(|o| o.agreements.deferral.is_some()).count();
            eprintln!("ops {} payments {} deferrals {d} reinstalls {r}", ops.len(), model.payments.len());
        }
        for later in [15, 120, 900] {
            check(&store, &model, today + Days::new(later))?;
        }
    }
}
