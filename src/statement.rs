//! `repaybot statement`: the account's bill as the JSON document of SPEC 2.4 or as a text table
//! for operators. Both are built from the same `AccountBill` the chat uses.

use crate::domain::{AccountBill, HardshipCase, OrderView};
use serde::Serialize;

#[derive(Serialize)]
pub struct StatementDoc {
    pub account_id: String,
    pub today: String,
    pub overdue_total: String,
    pub orders: Vec<OrderDoc>,
    /// Hardship cases waiting for a decision or the customer's confirmation.
    pub open_cases: Vec<CaseDoc>,
}

#[derive(Serialize)]
pub struct CaseDoc {
    pub case_id: u64,
    pub status: String,
    pub opened_on: String,
    pub reason: String,
    pub monthly_amount: String,
    pub documents: usize,
    pub order_ids: Vec<String>,
}

/// A re-installment that closed the order (SPEC 4.8).
#[derive(Serialize)]
pub struct RestructureDoc {
    pub date: String,
    pub balance: String,
    pub down_payment: String,
    pub new_order_id: String,
    pub periods: u32,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restructure: Option<RestructureDoc>,
    /// On a plan made by a re-installment: the order it replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restructured_from: Option<String>,
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
    /// On a deferred installment (4.7): the days it moved, its original date and the fee added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_due_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferral_fee: Option<String>,
}

#[derive(Serialize)]
pub struct NextDueDoc {
    pub date: String,
    pub amount: String,
}

pub fn document(bill: &AccountBill, cases: &[HardshipCase]) -> StatementDoc {
    StatementDoc {
        account_id: bill.account_id.clone(),
        today: bill.today.to_string(),
        overdue_total: bill.overdue_total().to_string(),
        orders: bill.orders.iter().map(order_doc).collect(),
        open_cases: cases
            .iter()
            .filter(|c| c.status.is_pending())
            .map(|c| CaseDoc {
                case_id: c.number,
                status: c.status.as_str().to_string(),
                opened_on: c.opened_on.to_string(),
                reason: c.reason.clone(),
                monthly_amount: c.monthly_amount.to_string(),
                documents: c.documents.len(),
                order_ids: c.order_ids.clone(),
            })
            .collect(),
    }
}

fn order_doc(o: &OrderView) -> OrderDoc {
    let agreements = &o.order.agreements;
    let deferral = agreements.deferral.as_ref();
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
                deferred_days: i.deferred.map(|d| d.0),
                original_due_date: deferral
                    .filter(|d| d.n == i.n)
                    .map(|d| d.original_due.to_string()),
                deferral_fee: i.deferred.map(|d| d.1.to_string()),
            })
            .collect(),
        overdue_total: o.overdue_total.to_string(),
        next_due: o.next_due.as_ref().map(|n| NextDueDoc {
            date: n.date.to_string(),
            amount: n.amount.to_string(),
        }),
        settlement_quote: o.quote.as_ref().map(|q| q.total.to_string()),
        restructure: agreements.restructure.as_ref().map(|r| RestructureDoc {
            date: r.on.to_string(),
            balance: r.balance.to_string(),
            down_payment: r.down_payment.to_string(),
            new_order_id: r.new_order_id.clone(),
            periods: r.periods,
        }),
        restructured_from: agreements.restructured_from.clone(),
    }
}

pub fn json(bill: &AccountBill, cases: &[HardshipCase]) -> String {
    serde_json::to_string_pretty(&document(bill, cases)).unwrap_or_default()
}

/// A plain-text statement for operators.
pub fn text(bill: &AccountBill, cases: &[HardshipCase]) -> String {
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
        if let Some(d) = &o.order.agreements.deferral {
            out += &format!(
                "\n  deferral agreed {}: installment {} moved {} days from {} to {}, fee {}",
                d.agreed_on, d.n, d.days, d.original_due, d.new_due, d.fee
            );
        }
        if let Some(r) = &o.order.agreements.restructure {
            out += &format!(
                "\n  re-installed {}: balance {} = down payment {} + new plan {} ({} periods)",
                r.on, r.balance, r.down_payment, r.new_order_id, r.periods
            );
        }
        if let Some(from) = &o.order.agreements.restructured_from {
            out += &format!("\n  re-installment plan of order {from}");
        }
        out += "\n";
    }
    for c in cases.iter().filter(|c| c.status.is_pending()) {
        out += &format!(
            "\nHardship case {} ({}), opened {}: reason {}, can pay {} a month, {} document(s)\n",
            c.number,
            c.status.as_str(),
            c.opened_on,
            c.reason,
            c.monthly_amount,
            c.documents.len()
        );
    }
    out
}
