//! The negotiation actions dialog files name (SPEC 3.7–3.8, 4.7, 4.8): deferral and
//! re-installment offers for the chosen order, the hardship case being put together, and the
//! status of a case already open. The domain computes; this fills session vars from it.

use super::actions::{set, ActionCtx, ActionFn};
use crate::domain::negotiation::{self, DownPaymentProblem, ReinstallmentQuote};
use crate::domain::Money;
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;

/// The negotiation actions with their handlers (see `actions::ACTIONS`).
pub const ACTIONS: &[(&str, ActionFn)] = &[
    ("negotiation_entry", |c, v| c.negotiation_entry(v)),
    ("deferral_offer", |c, v| c.deferral_offer(v)),
    ("deferral_pick", |c, v| c.deferral_pick(v)),
    ("reinstall_quote", |c, v| c.reinstall_quote(v)),
    ("reinstall_offers", |c, v| c.reinstall_offers(v)),
    ("reinstall_pick", |c, v| c.reinstall_pick(v)),
    ("add_document", |_, vars| add_document(vars)),
    ("case_summary", |c, v| c.case_summary(v)),
];

pub const VARS: &[&str] = &[
    "defer_choices",
    "defer_days",
    "new_due",
    "defer_fee",
    "refusal",
    "balance",
    "overdue_principal",
    "overdue_fee",
    "later_principal",
    "min_down",
    "down_choices",
    "down_payment",
    "new_principal",
    "offer_lines",
    "offer_choices",
    "per_period",
    "last_period",
    "total_cost",
    "total_repay",
    "first_due",
    "new_order_id",
    "confirmation",
    "reason",
    "reason_label",
    "note",
    "document",
    "documents",
    "doc_count",
    "monthly_amount",
    "case_no",
    "case_status",
    "case_decision",
    "opened_on",
    "documents_list",
    "defer_base",
    "defer_total",
];

/// Why an agreement is refused, in the customer's words (`negotiate.why_<reason>`): the same
/// explanation whether the offer or the durable write found it.
pub(super) fn refusal_text(
    flows: &crate::dialog::Flows,
    lang: crate::dialog::Lang,
    reason: &str,
    vars: &Vars,
) -> String {
    flows.text(lang, &format!("negotiate.why_{reason}"), vars)
}

fn money(vars: &Vars, key: &str) -> Option<Money> {
    vars.get(key).and_then(|t| Money::parse_positive(t).ok())
}

impl ActionCtx<'_> {
    /// Sets `refusal` to the explanation of `reason` and returns it as the outcome.
    fn refuse(&self, reason: &'static str, vars: &mut Vars) -> &'static str {
        let text = refusal_text(self.flows, self.lang, reason, vars);
        set(vars, "refusal", text);
        reason
    }

    /// A case waiting for a decision (or for the customer's confirmation) is shown first.
    fn negotiation_entry(&self, vars: &mut Vars) -> &'static str {
        let Some(case) = (self.pending_case)() else {
            return "none";
        };
        set(vars, "case_no", case.number);
        set(vars, "opened_on", case.opened_on);
        let status = self.flows.text(
            self.lang,
            &format!("hardship.status_{}", case.status.as_str()),
            vars,
        );
        set(vars, "case_status", status);
        let decision = case.decision.map(|d| format!("\n{d}")).unwrap_or_default();
        set(vars, "case_decision", decision);
        let (Some(plan), Some(bill)) = (&case.approved, self.bill.get()) else {
            return "case_pending";
        };
        let lines: Vec<String> = bill
            .orders
            .iter()
            .filter(|o| case.order_ids.contains(&o.order.id))
            .filter_map(|o| {
                let offer =
                    negotiation::hardship_plan(o, plan.periods, plan.monthly_rate, bill.today)?;
                let mut v = Vars::new();
                set(&mut v, "item", &o.order.item);
                set(&mut v, "order_id", &o.order.id);
                set(&mut v, "new_principal", offer.terms.principal);
                set(&mut v, "periods", offer.terms.periods);
                set(&mut v, "per_period", offer.per_period);
                set(&mut v, "last_period", offer.last_period);
                set(&mut v, "total_cost", offer.total_cost);
                set(&mut v, "annual_rate", offer.annual_rate);
                set(&mut v, "first_due", offer.terms.first_due_date);
                Some(self.line("negotiate.plan_line", &v))
            })
            .collect();
        if case.status != crate::domain::CaseStatus::Approved || lines.is_empty() {
            return "case_pending";
        }
        set(vars, "offer_lines", lines.join("\n"));
        "case_approved"
    }

    fn deferral_offer(&self, vars: &mut Vars) -> &'static str {
        let Some(o) = self.chosen(vars) else {
            return "unknown_order";
        };
        set(vars, "item", &o.order.item);
        let offer = match negotiation::deferral_offer(o, self.policy) {
            Ok(offer) => offer,
            Err(r) => return self.refuse(r.as_str(), vars),
        };
        set(vars, "n", offer.n);
        set(vars, "due_date", offer.due_date);
        set(vars, "defer_base", offer.base);
        let choices: Vec<String> = offer
            .options
            .iter()
            .map(|opt| {
                let mut v = Vars::new();
                set(&mut v, "days", opt.days);
                set(&mut v, "new_due", opt.new_due);
                set(&mut v, "defer_fee", opt.fee);
                format!("{}\t{}", opt.days, self.line("defer.option", &v))
            })
            .collect();
        set(vars, "defer_choices", choices.join("\n"));
        "ok"
    }

    /// The option the customer chose (button `defer_days`, or typed days).
    fn deferral_pick(&self, vars: &mut Vars) -> &'static str {
        let Some(o) = self.chosen(vars) else {
            return "unknown_order";
        };
        let Ok(offer) = negotiation::deferral_offer(o, self.policy) else {
            return "bad";
        };
        let days = vars
            .get("defer_days")
            .or_else(|| vars.get("days"))
            .and_then(|d| d.parse::<u32>().ok());
        let Some(opt) = offer.options.iter().find(|x| Some(x.days) == days) else {
            return "bad";
        };
        set(vars, "defer_days", opt.days);
        set(vars, "new_due", opt.new_due);
        set(vars, "defer_fee", opt.fee);
        set(vars, "defer_total", offer.base + opt.fee);
        "ok"
    }

    fn quote_for(&self, vars: &mut Vars) -> Result<ReinstallmentQuote, &'static str> {
        let Some(o) = self.chosen(vars) else {
            return Err("unknown_order");
        };
        set(vars, "item", &o.order.item);
        negotiation::reinstallment_quote(o, self.policy).map_err(|r| self.refuse(r.as_str(), vars))
    }

    fn reinstall_quote(&self, vars: &mut Vars) -> &'static str {
        let q = match self.quote_for(vars) {
            Ok(q) => q,
            Err(outcome) => return outcome,
        };
        set(vars, "balance", q.balance);
        set(vars, "overdue_principal", q.overdue_principal);
        set(vars, "overdue_fee", q.overdue_fee);
        set(vars, "penalty", q.penalty);
        set(vars, "later_principal", q.later_principal);
        set(vars, "min_down", q.min_down_payment);
        let mut v = Vars::new();
        set(&mut v, "min_down", q.min_down_payment);
        let label = self.line("reinstall.btn_min_down", &v);
        set(
            vars,
            "down_choices",
            format!("{}\t{label}", q.min_down_payment),
        );
        "ok"
    }

    /// The offers for the down payment in `amount` (typed, or the minimum's button).
    fn reinstall_offers(&self, vars: &mut Vars) -> &'static str {
        let q = match self.quote_for(vars) {
            Ok(q) => q,
            Err(outcome) => return outcome,
        };
        let Some(today) = self.bill.get().map(|b| b.today) else {
            return "unknown_order";
        };
        let Some(down) = money(vars, "amount") else {
            return self.refuse("below_minimum", vars);
        };
        set(vars, "down_payment", down);
        set(vars, "min_down", q.min_down_payment);
        let offers = match negotiation::reinstallment_offers(&q, down, today, self.policy) {
            Ok(o) => o,
            Err(DownPaymentProblem::BelowMinimum) => return self.refuse("below_minimum", vars),
            Err(DownPaymentProblem::TooLarge) => return self.refuse("too_large", vars),
        };
        if offers.is_empty() {
            return self.refuse("no_offer", vars);
        }
        set(vars, "new_principal", q.balance - down);
        let mut lines = Vec::new();
        let mut choices = Vec::new();
        for offer in &offers {
            let mut v = Vars::new();
            set(&mut v, "periods", offer.terms.periods);
            set(&mut v, "per_period", offer.per_period);
            set(&mut v, "last_period", offer.last_period);
            set(&mut v, "total_cost", offer.total_cost);
            set(&mut v, "total_repay", offer.total_repay);
            set(&mut v, "annual_rate", offer.annual_rate);
            lines.push(self.line("reinstall.offer_line", &v));
            let label = self.line("reinstall.offer_button", &v);
            choices.push(format!("{}\t{label}", offer.terms.periods));
        }
        set(vars, "offer_lines", lines.join("\n"));
        set(vars, "offer_choices", choices.join("\n"));
        "ok"
    }

    fn reinstall_pick(&self, vars: &mut Vars) -> &'static str {
        let q = match self.quote_for(vars) {
            Ok(q) => q,
            Err(outcome) => return outcome,
        };
        let (Some(today), Some(down)) = (self.bill.get().map(|b| b.today), money(vars, "amount"))
        else {
            return "bad";
        };
        let periods = vars.get("periods").and_then(|p| p.parse::<u32>().ok());
        let offers =
            negotiation::reinstallment_offers(&q, down, today, self.policy).unwrap_or_default();
        let Some(offer) = offers.iter().find(|o| Some(o.terms.periods) == periods) else {
            return "bad";
        };
        set(vars, "periods", offer.terms.periods);
        set(vars, "per_period", offer.per_period);
        set(vars, "last_period", offer.last_period);
        set(vars, "total_cost", offer.total_cost);
        set(vars, "total_repay", offer.total_repay);
        set(vars, "annual_rate", offer.annual_rate);
        set(vars, "first_due", offer.terms.first_due_date);
        set(vars, "new_order_id", &offer.new_order_id);
        set(vars, "new_principal", offer.terms.principal);
        set(vars, "down_payment", down);
        "ok"
    }

    fn case_summary(&self, vars: &mut Vars) -> &'static str {
        let reason = vars
            .get("reason")
            .cloned()
            .unwrap_or_else(|| "other".into());
        let mut label = self.line(&format!("hardship.reason_{reason}"), vars);
        if let (true, Some(words)) = (reason == "other", vars.get("note")) {
            label = format!("{label}: {words}");
        }
        set(vars, "reason_label", label);
        if let Some(m) = money(vars, "amount") {
            set(vars, "monthly_amount", m);
        }
        let names: Vec<String> = vars
            .get("documents")
            .map(|d| {
                d.lines()
                    .map(|l| l.split_once('\t').map_or(l, |(_, n)| n).to_string())
                    .collect()
            })
            .unwrap_or_default();
        set(vars, "doc_count", names.len());
        if names.is_empty() {
            return "no_documents";
        }
        set(vars, "documents_list", names.join(", "));
        "ok"
    }
}

/// Appends the document just sent (`document`: file id TAB name) to `documents`.
fn add_document(vars: &mut Vars) -> &'static str {
    let Some(doc) = vars.remove("document") else {
        return "none";
    };
    let mut all: Vec<String> = vars
        .get("documents")
        .map(|d| d.lines().map(str::to_string).collect())
        .unwrap_or_default();
    if !all.contains(&doc) && all.len() < 10 {
        all.push(doc);
    }
    set(vars, "doc_count", all.len());
    set(vars, "documents", all.join("\n"));
    "ok"
}
