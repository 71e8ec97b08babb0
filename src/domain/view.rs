//! What an order and an account look like on a date: installment statuses, overdue totals, the
//! next amount due and the settlement quote (SPEC 2.4, 3.2). The statement and the chat both
//! read these, so they always say the same numbers.

use super::account::Order;
use super::ledger::{Closure, OrderLedger, Payment, PaymentError, SettlementQuote};
use super::money::Money;
use super::policy::Policy;
use super::rate::annual_rate_percent;
use super::schedule::{self, Installment};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallmentStatus {
    Paid,
    Due,
    Grace,
    Overdue,
    Restructured,
}

impl InstallmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallmentStatus::Paid => "paid",
            InstallmentStatus::Due => "due",
            InstallmentStatus::Grace => "grace",
            InstallmentStatus::Overdue => "overdue",
            InstallmentStatus::Restructured => "restructured",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallmentView {
    pub n: u32,
    pub due_date: NaiveDate,
    pub principal: Money,
    pub fee: Money,
    pub paid: Money,
    pub penalty: Money,
    pub remaining: Money,
    pub status: InstallmentStatus,
    /// Days since the due date (0 when not past due).
    pub days_past_due: i64,
    /// Set when the installment was deferred: by how many days, and the fee added to it.
    pub deferred: Option<(u32, Money)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextDue {
    pub date: NaiveDate,
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub order: Order,
    pub today: NaiveDate,
    /// `active`, `settled` or `restructured`.
    pub status: &'static str,
    pub annual_rate: Decimal,
    pub installments: Vec<InstallmentView>,
    pub overdue_total: Money,
    /// Penalty inside `overdue_total`.
    pub penalty_total: Money,
    pub next_due: Option<NextDue>,
    /// None when the order is settled or restructured.
    pub quote: Option<SettlementQuote>,
    /// What the penalty grows by per day from tomorrow if nothing is paid, exact (SPEC 4.1:
    /// sums over orders keep full precision; round once when shown).
    pub penalty_per_day: Money,
    /// The outstanding balance of a re-installment (4.8) and its parts; zero when closed.
    pub balance: BalanceParts,
}

/// Overdue and in-grace amounts (principal, fee, penalty) and every later unpaid principal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BalanceParts {
    pub overdue_principal: Money,
    pub overdue_fee: Money,
    pub penalty: Money,
    pub later_principal: Money,
}

impl BalanceParts {
    pub fn total(&self) -> Money {
        self.overdue_principal + self.overdue_fee + self.penalty + self.later_principal
    }
}

/// An order's view on `today`, replaying its payments (sorted by date, then id).
pub fn order_view(
    order: &Order,
    payments: &[Payment],
    today: NaiveDate,
    policy: &Policy,
) -> Result<OrderView, (usize, PaymentError)> {
    order_view_at_rate(order, None, payments, today, policy)
}

/// `order_view` with the order's annual rate when it is already known (the store keeps the
/// rate computed at import): the IRR is the costliest part of a view.
pub fn order_view_at_rate(
    order: &Order,
    annual_rate: Option<Decimal>,
    payments: &[Payment],
    today: NaiveDate,
    policy: &Policy,
) -> Result<OrderView, (usize, PaymentError)> {
    let annual_rate = annual_rate.unwrap_or_else(|| annual_rate_of_terms(order));
    let ledger = OrderLedger::replay_order(order, payments, today, policy)?;
    Ok(view_of_ledger(order, &ledger, annual_rate, today))
}

/// Whether `payments` (sorted by date, then id) can all be applied to the order up to `today`:
/// `order_view`'s error without building the view.
pub fn check_payments(
    order: &Order,
    payments: &[Payment],
    today: NaiveDate,
    policy: &Policy,
) -> Result<(), (usize, PaymentError)> {
    OrderLedger::replay_order(order, payments, today, policy).map(|_| ())
}

/// The disclosed annual rate of an order's schedule (as agreed: a deferral fee is not in it).
pub fn annual_rate_of(order: &Order, schedule: &[Installment]) -> Decimal {
    let flows: Vec<Money> = schedule.iter().map(Installment::amount).collect();
    annual_rate_percent(order.terms.principal, &flows)
}

/// The disclosed annual rate of an order, from its terms.
pub fn annual_rate_of_terms(order: &Order) -> Decimal {
    annual_rate_of(order, &schedule::build(&order.terms).unwrap_or_default())
}

pub fn view_of_ledger(
    order: &Order,
    ledger: &OrderLedger,
    annual_rate: Decimal,
    today: NaiveDate,
) -> OrderView {
    let policy = ledger.policy();
    let restructured = matches!(ledger.closure, Some(Closure::Restructured { .. }));
    let grace = Days::new(u64::from(policy.grace_days));
    let mut installments = Vec::with_capacity(ledger.installments.len());
    let (mut overdue_total, mut penalty_total, mut next_due) = (Money::ZERO, Money::ZERO, None);
    let mut penalty_per_day = Money::ZERO;
    let mut balance = BalanceParts::default();
    let deferral = order.agreements.deferral.as_ref();
    for inst in &ledger.installments {
        let due = inst.plan.due_date;
        let mut penalty = inst.penalty_owed(today, policy);
        let mut remaining = inst.remaining(today, policy);
        if !restructured && ledger.closure.is_none() {
            if due < today {
                balance.overdue_principal += inst.unpaid_principal();
                balance.overdue_fee += inst.unpaid_fee();
                balance.penalty += penalty;
            } else {
                balance.later_principal += inst.unpaid_principal();
            }
        }
        let was_restructured = restructured && remaining.is_positive();
        if was_restructured {
            // The debt moved to the new plan: nothing of it is owed here any more.
            (penalty, remaining) = (Money::ZERO, Money::ZERO);
        }
        let deferred = deferral
            .filter(|d| d.n == inst.plan.n)
            .map(|d| (d.days, d.fee));
        let status = if was_restructured {
            InstallmentStatus::Restructured
        } else if remaining.is_zero() {
            InstallmentStatus::Paid
        } else if today <= due {
            InstallmentStatus::Due
        } else if today <= due + grace {
            InstallmentStatus::Grace
        } else {
            InstallmentStatus::Overdue
        };
        if due < today && status != InstallmentStatus::Restructured {
            overdue_total += remaining;
            penalty_total += penalty;
            if remaining.is_positive() {
                penalty_per_day +=
                    (inst.unpaid_principal() + inst.unpaid_fee()).times(policy.penalty_daily_rate);
            }
        }
        if next_due.is_none() && due >= today && remaining.is_positive() && !restructured {
            next_due = Some(NextDue {
                date: due,
                amount: remaining,
            });
        }
        installments.push(InstallmentView {
            n: inst.plan.n,
            due_date: due,
            principal: inst.plan.principal,
            fee: inst.plan.fee - deferred.map_or(Money::ZERO, |d| d.1),
            paid: inst.paid(),
            penalty,
            remaining,
            status,
            days_past_due: (today - due).num_days().max(0),
            deferred,
        });
    }
    let nothing_left = installments.iter().all(|i| i.remaining.is_zero());
    let status = match (&ledger.closure, nothing_left) {
        (Some(Closure::Restructured { .. }), _) => "restructured",
        (Some(Closure::Settled { .. }), _) | (None, true) => "settled",
        (None, false) => "active",
    };
    let quote = (status == "active").then(|| ledger.quote(today));
    OrderView {
        order: order.clone(),
        today,
        status,
        annual_rate,
        installments,
        overdue_total,
        penalty_total,
        next_due,
        quote,
        penalty_per_day,
        balance,
    }
}

/// An account's bill on a date: every order's view and the totals the customer asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountBill {
    pub account_id: String,
    pub today: NaiveDate,
    pub orders: Vec<OrderView>,
}

impl AccountBill {
    /// Everything past its due date, penalty included: what makes the account current.
    pub fn overdue_total(&self) -> Money {
        self.orders.iter().map(|o| o.overdue_total).sum()
    }

    pub fn penalty_total(&self) -> Money {
        self.orders.iter().map(|o| o.penalty_total).sum()
    }

    /// Overdue plus every order's next amount due: what the customer pays to clear this bill.
    pub fn bill_total(&self) -> Money {
        self.overdue_total()
            + self
                .orders
                .iter()
                .filter_map(|o| o.next_due.as_ref().map(|n| n.amount))
                .sum()
    }

    pub fn active_orders(&self) -> impl Iterator<Item = &OrderView> {
        self.orders.iter().filter(|o| o.status == "active")
    }
}
