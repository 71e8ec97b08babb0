//! The quote actions of a repayment: the bill, an amount, one order or early settlement, each
//! setting the amounts shown and the typed plan (`pay_plan`) the confirmation pays; and what the
//! bill says of payments still waiting at the payment API.

use super::actions::{set, ActionCtx};
use super::pay_plan::{PayPlan, PlanLine};
use crate::domain::{OrderView, PaymentKind};
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;

impl ActionCtx<'_> {
    /// The plan line of paying `amount` of `kind` on order `o` (its payments counted now).
    fn plan_line(
        &self,
        o: &OrderView,
        amount: crate::domain::Money,
        kind: crate::domain::PaymentKind,
    ) -> PlanLine {
        PlanLine {
            order_id: o.order.id.clone(),
            amount,
            kind,
            seen: (self.payment_count)(&o.order.id),
        }
    }

    pub(super) fn quote_bill(&self, vars: &mut Vars) -> &'static str {
        let mut plan = PayPlan::default();
        let mut lines = Vec::new();
        let mut total = crate::domain::Money::ZERO;
        for o in self.active() {
            let amount = current_bill(o);
            if !amount.is_positive() {
                continue;
            }
            let mut v = Self::order_line_vars(o);
            set(&mut v, "amount", amount);
            lines.push(self.line("repay.plan_line", &v));
            plan.lines
                .push(self.plan_line(o, amount, PaymentKind::Installment));
            total += amount;
        }
        if plan.lines.is_empty() {
            return "nothing_due";
        }
        set(vars, "pay_amount", total);
        set(vars, "pay_lines", lines.join("\n"));
        set(vars, "pay_plan", plan.encode());
        "ok"
    }

    pub(super) fn quote_order(&self, vars: &mut Vars) -> &'static str {
        let Some(o) = self.chosen(vars) else {
            return "unknown_order";
        };
        let amount = current_bill(o);
        if !amount.is_positive() {
            return "nothing_due";
        }
        self.quote_installment(o, amount, vars)
    }

    /// Sets the vars of paying `amount` on one order as an ordinary installment payment.
    fn quote_installment(
        &self,
        o: &OrderView,
        amount: crate::domain::Money,
        vars: &mut Vars,
    ) -> &'static str {
        let mut v = Self::order_line_vars(o);
        set(&mut v, "amount", amount);
        set(vars, "pay_amount", amount);
        set(vars, "pay_lines", self.line("repay.plan_line", &v));
        let line = self.plan_line(o, amount, PaymentKind::Installment);
        set(vars, "pay_plan", line.encode());
        "ok"
    }

    pub(super) fn quote_amount(&self, vars: &mut Vars) -> &'static str {
        let Some(text) = vars.get("amount") else {
            return "no_amount";
        };
        let Ok(amount) = crate::domain::Money::parse_positive(text) else {
            return "bad_amount";
        };
        if vars.get("order_id").is_none() {
            if let [only] = self.active().as_slice() {
                set(vars, "order_id", &only.order.id);
            }
        }
        let Some(o) = self.chosen(vars) else {
            return "need_order";
        };
        let Some(ledger_owed) = o.quote.as_ref().map(|_| {
            o.installments
                .iter()
                .map(|i| i.remaining)
                .sum::<crate::domain::Money>()
        }) else {
            return "nothing_due";
        };
        set(vars, "owed_total", ledger_owed);
        if amount > ledger_owed {
            return "too_large";
        }
        self.quote_installment(o, amount, vars)
    }

    pub(super) fn quote_settlement(&self, vars: &mut Vars) -> &'static str {
        let Some(o) = self.chosen(vars) else {
            return "unknown_order";
        };
        let Some(q) = &o.quote else {
            return "nothing_due";
        };
        if !q.total.is_positive() {
            return "nothing_due";
        }
        set(vars, "item", &o.order.item);
        set(vars, "settle_overdue", q.overdue);
        set(vars, "settle_principal", q.later_principal);
        set(vars, "settle_fee", q.current_fee);
        set(vars, "settle_fee_total", q.settlement_fee);
        set(vars, "settle_waived", q.waived_fees);
        set(vars, "pay_amount", q.total);
        let line = self.plan_line(o, q.total, PaymentKind::Settlement);
        set(vars, "pay_plan", line.encode());
        "ok"
    }
}

/// What makes an order current and pays its next installment: overdue plus the next amount due.
fn current_bill(o: &OrderView) -> crate::domain::Money {
    o.overdue_total
        + o.next_due
            .as_ref()
            .map_or(crate::domain::Money::ZERO, |n| n.amount)
}

impl ActionCtx<'_> {
    /// The bill's note on payments still waiting for the payment API ("" when none).
    pub(super) fn pending_note(&self) -> String {
        let open = (self.open_payments)();
        if open.is_empty() {
            return String::new();
        }
        let lines: Vec<String> = open
            .iter()
            .map(|p| {
                let v = Vars::from([
                    ("order_id".to_string(), p.order_id.clone()),
                    ("amount".to_string(), format!("{:.2}", p.amount)),
                ]);
                self.line("pay.pending_line", &v)
            })
            .collect();
        let v = Vars::from([("pending_lines".to_string(), lines.join("\n"))]);
        self.line("pay.bill_pending", &v)
    }

    /// Whether a payment of one of the plan's items (order, amount, kind) is still waiting.
    pub(super) fn same_pending(&self, plan: &PayPlan) -> bool {
        let open = (self.open_payments)();
        plan.items()
            .iter()
            .any(|item| open.iter().any(|p| &p.item == item))
    }
}
