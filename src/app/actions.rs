//! The actions that dialog files name (`action = "..."`): read-only computations over the
//! account's bill that fill session vars and return an outcome. Money logic stays in the domain;
//! every line of text is a template from dialogs/ rendered here.

use crate::dialog::{Flows, Lang};
use crate::domain::{Account, AccountBill, OrderView};
use std::collections::BTreeMap;

type Vars = BTreeMap<String, String>;

/// Everything an action may read for one turn.
pub struct ActionCtx<'a> {
    pub flows: &'a Flows,
    pub lang: Lang,
    /// The account's bill on today, computed on first use (most turns never need it).
    pub bill: &'a LazyBill<'a>,
    /// Whether binding is locked for this chat now (too many failures).
    pub binding_locked: bool,
    /// Whether binding is locked for this account now (too many failures from any chat).
    pub account_locked: &'a dyn Fn(&str) -> bool,
    /// Looks up an account by normalised phone (binding).
    pub account_by_phone: &'a dyn Fn(&str) -> Option<Account>,
    /// The chat's last payment when it was made within the last few minutes.
    pub recent_paid: &'a dyn Fn() -> Option<crate::store::LastPaid>,
    pub autopay_card: &'a dyn Fn(&str) -> Option<String>,
    pub payment_count: &'a dyn Fn(&str) -> usize,
    pub history: &'a dyn Fn(&str) -> Vec<crate::domain::Payment>,
    pub policy: &'a crate::domain::Policy,
    /// The account's hardship case waiting for a decision or a confirmation.
    pub pending_case: &'a dyn Fn() -> Option<crate::domain::HardshipCase>,
    /// The first store error any of the reads above met: the action that met it fails (an
    /// empty history or "no account" is never made of an error).
    pub read_error: &'a std::cell::RefCell<Option<anyhow::Error>>,
    /// `[payments] gateway`: `sandbox` or `http`.
    pub gateway: &'static str,
    /// The chat's payments waiting for the payment API's confirmation.
    pub open_payments: &'a dyn Fn() -> Vec<crate::store::PendingPayment>,
}

/// A bill computed at most once per step, only when an action reads it.
/// A failure to compute it is remembered, so the turn fails instead of showing a wrong "nothing due".
pub struct LazyBill<'a> {
    cell: std::cell::OnceCell<Option<AccountBill>>,
    load: &'a dyn Fn() -> anyhow::Result<Option<AccountBill>>,
    error: std::cell::RefCell<Option<anyhow::Error>>,
}

impl<'a> LazyBill<'a> {
    pub fn new(load: &'a dyn Fn() -> anyhow::Result<Option<AccountBill>>) -> Self {
        LazyBill {
            cell: std::cell::OnceCell::new(),
            load,
            error: std::cell::RefCell::new(None),
        }
    }

    pub fn get(&self) -> Option<&AccountBill> {
        self.cell
            .get_or_init(|| match (self.load)() {
                Ok(bill) => bill,
                Err(e) => {
                    *self.error.borrow_mut() = Some(e);
                    None
                }
            })
            .as_ref()
    }

    /// The error of a failed computation, if any.
    pub fn take_error(&self) -> Option<anyhow::Error> {
        self.error.borrow_mut().take()
    }

    /// The failed computation's error as text (it stays for `take_error`).
    pub fn error_text(&self) -> Option<String> {
        self.error.borrow().as_ref().map(|e| format!("{e:#}"))
    }
}

/// An action: reads the turn's facts, may set vars, returns its outcome.
pub type ActionFn = fn(&ActionCtx, &mut Vars) -> &'static str;

/// The actions dialog files may name (`action = "..."`), with their handlers: `dialogs check`
/// accepts exactly these names and `run` dispatches through the same table.
pub const ACTIONS: &[(&str, ActionFn)] = &[
    ("bill_summary", |c, v| {
        let outcome = c.bill_summary(v);
        set(v, "pending_note", c.pending_note());
        outcome
    }),
    ("payment_gateway", |c, _| c.gateway),
    ("order_choices", |c, v| c.order_choices(v)),
    ("order_detail", |c, v| c.order_detail(v)),
    ("payment_history", |c, v| c.payment_history(v)),
    ("quote_bill", |c, v| c.quote_bill(v)),
    ("quote_amount", |c, v| c.quote_amount(v)),
    ("quote_order", |c, v| c.quote_order(v)),
    ("quote_settlement", |c, v| c.quote_settlement(v)),
    ("autopay_status", |c, v| c.autopay_status(v)),
    ("check_card", |c, v| c.check_card(v)),
    ("fee_facts", |c, v| c.fee_facts(v)),
    ("overdue_facts", |c, v| c.overdue_facts(v)),
    ("verify_phone", |c, v| c.verify_phone(v)),
    ("verify_id", |c, v| c.verify_id(v)),
    ("order_name", |c, v| c.order_name(v)),
    ("recent_payment", |c, v| c.recent_payment(v)),
];

/// Every action name with its handler: the bill's and the negotiation's.
pub fn action_table() -> impl Iterator<Item = &'static (&'static str, ActionFn)> {
    ACTIONS.iter().chain(super::negotiation::ACTIONS)
}

/// Every var an action, effect, event or slot can set.
pub const VARS: &[&str] = &[
    "today",
    "order_lines",
    "overdue_total",
    "penalty_total",
    "bill_total",
    "order_choices",
    "order_id",
    "item",
    "principal",
    "periods",
    "annual_rate",
    "schedule_lines",
    "order_status",
    "quote_total",
    "history_lines",
    "pay_amount",
    "pay_lines",
    "pay_plan",
    "owed_total",
    "settle_overdue",
    "settle_principal",
    "settle_fee",
    "settle_waived",
    "settle_fee_total",
    "autopay_lines",
    "card",
    "fee_lines",
    "overdue_lines",
    "penalty_per_day",
    "phone",
    "phone_masked",
    "id_last4",
    "name",
    "receipt_lines",
    "recent_receipt",
    "fail_reason",
    "ticket_no",
    "amount",
    "date",
    "days",
    "n",
    "due_date",
    "status",
    "paid",
    "penalty",
    "remaining",
    "fee",
    "next_date",
    "next_amount",
    "overdue",
    "paid_on",
    "kind",
    "method",
    "account_id",
    "gateway_note",
    "count",
    "since",
    "ticket_reason",
    "support_hours",
    "time",
    "until",
    "remind_lines",
    "remind_days",
    "remind_time",
    "remind_tz",
    "remind_status",
    "remind_overdue",
    "remind_quiet",
    "file_name",
];

impl crate::dialog::Actions for ActionCtx<'_> {
    fn run(&self, name: &str, vars: &mut Vars) -> Result<String, crate::dialog::ActionError> {
        let Some((_, handler)) = action_table().find(|(n, _)| *n == name) else {
            // `dialogs check` refuses unknown names at start-up; a stale session can still ask.
            return Ok("unknown_action".to_string());
        };
        let outcome = handler(self, vars);
        let failed = self.read_error.borrow().as_ref().map(|e| format!("{e:#}"));
        let failed = failed.or_else(|| self.bill.error_text());
        match failed {
            Some(cause) => Err(crate::dialog::ActionError {
                action: name.to_string(),
                cause,
            }),
            None => Ok(outcome.to_string()),
        }
    }
}

/// Sets one session var (every action and effect fills vars this way).
pub(super) fn set(vars: &mut Vars, key: &str, value: impl ToString) {
    vars.insert(key.to_string(), value.to_string());
}

impl ActionCtx<'_> {
    pub(super) fn line(&self, key: &str, vars: &Vars) -> String {
        self.flows.text(self.lang, key, vars)
    }

    pub(super) fn active(&self) -> Vec<&OrderView> {
        self.bill
            .get()
            .map(|b| b.active_orders().collect())
            .unwrap_or_default()
    }

    /// The order named by var `order_id`, from the account's bill.
    pub(super) fn chosen(&self, vars: &Vars) -> Option<&OrderView> {
        let id = vars.get("order_id")?;
        self.bill.get()?.orders.iter().find(|o| &o.order.id == id)
    }

    pub(super) fn order_line_vars(o: &OrderView) -> Vars {
        let mut v = Vars::new();
        set(&mut v, "item", &o.order.item);
        set(&mut v, "order_id", &o.order.id);
        set(&mut v, "overdue", o.overdue_total);
        set(&mut v, "penalty", o.penalty_total);
        if let Some(n) = &o.next_due {
            set(&mut v, "next_date", n.date);
            set(&mut v, "next_amount", n.amount);
        }
        v
    }

    fn bill_summary(&self, vars: &mut Vars) -> &'static str {
        let Some(bill) = self.bill.get() else {
            return "no_orders";
        };
        let mut lines = Vec::new();
        let mut late = false;
        for o in bill.active_orders() {
            let v = Self::order_line_vars(o);
            if o.overdue_total.is_positive() {
                let only_grace = o
                    .installments
                    .iter()
                    .filter(|i| i.due_date < bill.today && i.remaining.is_positive())
                    .all(|i| i.status == crate::domain::InstallmentStatus::Grace);
                late |= !only_grace;
                let key = if only_grace {
                    "bill.line_grace"
                } else {
                    "bill.line_overdue"
                };
                lines.push(self.line(key, &v));
            }
            if o.next_due.is_some() {
                lines.push(self.line("bill.line_next", &v));
            }
        }
        set(vars, "today", bill.today);
        set(vars, "order_lines", lines.join("\n"));
        set(vars, "overdue_total", bill.overdue_total());
        set(vars, "penalty_total", bill.penalty_total());
        set(vars, "bill_total", bill.bill_total());
        if lines.is_empty() {
            "nothing_due"
        } else if late {
            "overdue"
        } else if bill.overdue_total().is_positive() {
            "grace"
        } else {
            "ok"
        }
    }

    fn order_choices(&self, vars: &mut Vars) -> &'static str {
        let orders: Vec<&OrderView> = match self.bill.get() {
            Some(b) => b.orders.iter().collect(),
            None => Vec::new(),
        };
        if let Some(id) = vars.get("order_id") {
            if orders.iter().any(|o| &o.order.id == id) {
                return "one";
            }
        }
        let active = self.active();
        let pick: Vec<&OrderView> = if active.is_empty() { orders } else { active };
        match pick.as_slice() {
            [] => "none",
            [only] => {
                set(vars, "order_id", &only.order.id);
                "one"
            }
            many => {
                let lines: Vec<String> = many
                    .iter()
                    .map(|o| format!("{}\t{} ({})", o.order.id, o.order.item, o.order.id))
                    .collect();
                set(vars, "order_choices", lines.join("\n"));
                "many"
            }
        }
    }

    fn order_detail(&self, vars: &mut Vars) -> &'static str {
        let Some(o) = self.chosen(vars) else {
            return "unknown_order";
        };
        let rows: Vec<String> = o
            .installments
            .iter()
            .map(|i| {
                let mut v = Vars::new();
                set(&mut v, "n", i.n);
                set(&mut v, "due_date", i.due_date);
                set(&mut v, "amount", i.principal + i.fee);
                set(&mut v, "paid", i.paid);
                set(&mut v, "penalty", i.penalty);
                set(&mut v, "remaining", i.remaining);
                let status = self.line(&format!("detail.status_{}", i.status.as_str()), &v);
                set(&mut v, "status", status);
                self.line("detail.row", &v)
            })
            .collect();
        let t = &o.order.terms;
        set(vars, "item", &o.order.item);
        set(vars, "principal", t.principal);
        set(vars, "periods", t.periods);
        set(vars, "annual_rate", o.annual_rate);
        let method = self.line(&format!("fees.method_{}", t.method.as_str()), vars);
        set(vars, "method", method);
        set(vars, "schedule_lines", rows.join("\n"));
        let status = self.line(&format!("detail.order_{}", o.status), vars);
        set(vars, "order_status", status);
        set(
            vars,
            "quote_total",
            o.quote
                .as_ref()
                .map(|q| q.total.to_string())
                .unwrap_or_else(|| "0.00".into()),
        );
        "ok"
    }

    fn payment_history(&self, vars: &mut Vars) -> &'static str {
        let Some(bill) = self.bill.get() else {
            return "none";
        };
        let mut lines = Vec::new();
        for o in &bill.orders {
            for p in (self.history)(&o.order.id) {
                let mut v = Vars::new();
                set(&mut v, "paid_on", p.paid_on);
                set(&mut v, "amount", p.amount);
                set(&mut v, "item", &o.order.item);
                let kind = match p.kind {
                    crate::domain::PaymentKind::Installment => "records.kind_installment",
                    crate::domain::PaymentKind::Settlement => "records.kind_settlement",
                };
                let kind = self.line(kind, &v);
                set(&mut v, "kind", kind);
                lines.push((p.paid_on, self.line("records.row", &v)));
            }
        }
        if lines.is_empty() {
            return "none";
        }
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        let shown: Vec<String> = lines.into_iter().take(20).map(|(_, l)| l).collect();
        set(vars, "history_lines", shown.join("\n"));
        "ok"
    }

    fn autopay_status(&self, vars: &mut Vars) -> &'static str {
        let lines: Vec<String> = self
            .active()
            .iter()
            .map(|o| {
                let mut v = Self::order_line_vars(o);
                match (self.autopay_card)(&o.order.id) {
                    Some(card) => {
                        set(&mut v, "card", format!("****{card}"));
                        self.line("autopay.line_on", &v)
                    }
                    None => self.line("autopay.line_off", &v),
                }
            })
            .collect();
        if lines.is_empty() {
            return "none";
        }
        set(vars, "autopay_lines", lines.join("\n"));
        "ok"
    }

    fn fee_facts(&self, vars: &mut Vars) -> &'static str {
        let lines: Vec<String> = self
            .bill
            .get()
            .map(|b| b.orders.iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .iter()
            .map(|o| {
                let mut v = Self::order_line_vars(o);
                let t = &o.order.terms;
                set(&mut v, "annual_rate", o.annual_rate);
                let method = self.line(&format!("fees.method_{}", t.method.as_str()), &v);
                set(&mut v, "method", method);
                set(
                    &mut v,
                    "fee",
                    o.installments
                        .first()
                        .map(|i| i.fee.to_string())
                        .unwrap_or_default(),
                );
                self.line("fees.line", &v)
            })
            .collect();
        set(vars, "fee_lines", lines.join("\n"));
        if lines.is_empty() {
            "none"
        } else {
            "ok"
        }
    }

    fn overdue_facts(&self, vars: &mut Vars) -> &'static str {
        let Some(bill) = self.bill.get() else {
            return "not_overdue";
        };
        let mut lines = Vec::new();
        let mut per_day = crate::domain::Money::ZERO;
        for o in bill.active_orders() {
            per_day += o.penalty_per_day;
            for i in o
                .installments
                .iter()
                .filter(|i| i.due_date < bill.today && i.remaining.is_positive())
            {
                let mut v = Self::order_line_vars(o);
                set(&mut v, "n", i.n);
                set(&mut v, "due_date", i.due_date);
                set(&mut v, "days", i.days_past_due);
                set(&mut v, "remaining", i.remaining);
                set(&mut v, "penalty", i.penalty);
                let key = if i.status == crate::domain::InstallmentStatus::Grace {
                    "overdue.line_grace"
                } else {
                    "overdue.line"
                };
                lines.push(self.line(key, &v));
            }
        }
        if lines.is_empty() {
            return "not_overdue";
        }
        set(vars, "overdue_lines", lines.join("\n"));
        set(vars, "overdue_total", bill.overdue_total());
        set(vars, "penalty_total", bill.penalty_total());
        set(vars, "penalty_per_day", per_day);
        "ok"
    }

    fn order_name(&self, vars: &mut Vars) -> &'static str {
        match self.chosen(vars).map(|o| o.order.item.clone()) {
            Some(item) => {
                set(vars, "item", item);
                "ok"
            }
            None => "unknown_order",
        }
    }

    /// A card's last four digits, and the chosen order's name for the confirmation.
    fn check_card(&self, vars: &mut Vars) -> &'static str {
        if let Some(item) = self.chosen(vars).map(|o| o.order.item.clone()) {
            set(vars, "item", item);
        }
        let ok = vars
            .get("card")
            .is_some_and(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            "ok"
        } else {
            "bad"
        }
    }
}
