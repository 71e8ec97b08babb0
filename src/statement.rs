//! `repaybot statement`: the account's bill as the JSON document of SPEC 2.4 or as a text table
//! for operators. Both are built from the same `AccountBill` the chat uses.

use crate::domain::{AccountBill, OrderView};
use serde::Serialize;

#[derive(Serialize)]
pub struct StatementDoc {
    pub account_id: String,
    pub today: String,
    pub overdue_total: String,
    pub orders: Vec<OrderDoc>,
}

#[derive(Serialize)]
pub struct OrderDoc {
    pub order_id: String,
    pub status: String,
    pub method: String,
    pub principal: String,
    pub periods: u32,
    pub annual_rate: String,
    pub installments: Vec<InstallmentDoc>,
    pub overdue_total: String,
    pub next_due: Option<NextDueDoc>,
    pub settlement_quote: Option<String>,
}

#[derive(Serialize)]
pub struct InstallmentDoc {
    pub n: u32,
    pub due_date: String,
    pub principal: String,
    pub fee: String,
    pub paid: String,
    pub penalty: String,
    pub remaining: String,
    pub status: String,
}

#[derive(Serialize)]
pub struct NextDueDoc {
    pub date: String,
    pub amount: String,
}

pub fn document(bill: &AccountBill) -> StatementDoc {
    StatementDoc {
        account_id: bill.account_id.clone(),
        today: bill.today.to_string(),
        overdue_total: bill.overdue_total().to_string(),
        orders: bill.orders.iter().map(order_doc).collect(),
    }
}

fn order_doc(o: &OrderView) -> OrderDoc {
    OrderDoc {
        order_id: o.order.id.clone(),
        status: o.status.to_string(),
        method: o.order.terms.method.as_str().to_string(),
        principal: o.order.terms.principal.to_string(),
        periods: o.order.terms.periods,
        annual_rate: o.annual_rate.to_string(),
        installments: o
            .installments
            .iter()
            .map(|i| InstallmentDoc {
                n: i.n,
                due_date: i.due_date.to_string(),
                principal: i.principal.to_string(),
                fee: i.fee.to_string(),
                paid: i.paid.to_string(),
                penalty: i.penalty.to_string(),
                remaining: i.remaining.to_string(),
                status: i.status.as_str().to_string(),
            })
            .collect(),
        overdue_total: o.overdue_total.to_string(),
        next_due: o.next_due.as_ref().map(|n| NextDueDoc {
            date: n.date.to_string(),
            amount: n.amount.to_string(),
        }),
        settlement_quote: o.quote.as_ref().map(|q| q.total.to_string()),
    }
}

pub fn json(bill: &AccountBill) -> String {
    serde_json::to_string_pretty(&document(bill)).unwrap_or_default()
}

/// A plain-text statement for operators.
pub fn text(bill: &AccountBill) -> String {
    let mut out = format!("Account {} on {}\n", bill.account_id, bill.today);
    out += &format!(
        "Overdue total (penalty included): {}\n",
        bill.overdue_total()
    );
    for o in &bill.orders {
        let t = &o.order.terms;
        out += &format!(
            "\nOrder {} ({}): {}, {} over {} periods, {}, annual rate {}%\n",
            o.order.id,
            o.order.item,
            o.status,
            t.principal,
            t.periods,
            t.method.as_str(),
            o.annual_rate
        );
        out += "   n  due date     principal       fee      paid   penalty  remaining  status\n";
        for i in &o.installments {
            out += &format!(
                "  {:>2}  {}  {:>10} {:>9} {:>9} {:>9} {:>10}  {}\n",
                i.n,
                i.due_date,
                i.principal,
                i.fee,
                i.paid,
                i.penalty,
                i.remaining,
                i.status.as_str()
            );
        }
        out += &format!("  overdue: {}", o.overdue_total);
        if let Some(n) = &o.next_due {
            out += &format!("; next due {} on {}", n.amount, n.date);
        }
        if let Some(q) = &o.quote {
            out += &format!(
                "\n  settlement quote {}: overdue {} + later principal {} + current fee {} + settlement fee {}; waived fees {}",
                q.total, q.overdue, q.later_principal, q.current_fee, q.settlement_fee, q.waived_fees
            );
        }
        out += "\n";
    }
    out
}
