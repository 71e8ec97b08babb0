//! An order's ledger: payments replayed over its schedule with penalty accrual (SPEC 4.3, 4.4),
//! allocation (4.5) and settlement (4.6). Pure: the date is always a parameter.

use super::account::Order;
use super::agreement::effective_schedule;
use super::money::Money;
use super::policy::Policy;
use super::schedule::Installment;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// Whether a payment is an ordinary one or pays off the order (a settlement payment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    Installment,
    Settlement,
}

/// A payment received for an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub kind: PaymentKind,
}

/// Why a payment cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("the order is already {0}; no payment can be applied to it")]
    Closed(&'static str),
    #[error("payment {amount} is larger than what the order owes on {date} ({owed})")]
    TooLarge {
        amount: Money,
        owed: Money,
        date: NaiveDate,
    },
    #[error("settlement payment {amount} does not equal the settlement quote {quote} on {date}")]
    QuoteMismatch {
        amount: Money,
        quote: Money,
        date: NaiveDate,
    },
    #[error("payment amount must be greater than 0")]
    NotPositive,
}

/// How an order was closed other than by paying every installment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Closure {
    Settled {
        on: NaiveDate,
        settlement_fee: Money,
    },
    Restructured {
        on: NaiveDate,
    },
}

/// What a payment did to one installment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    pub n: u32,
    pub principal: Money,
    pub fee: Money,
    pub penalty: Money,
}

/// One installment with what has been paid on it and the penalty accrued so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallmentState {
    pub plan: Installment,
    pub principal_paid: Money,
    pub fee_paid: Money,
    pub penalty_paid: Money,
    /// Set by a settlement: the fee of a later period that the customer no longer owes.
    pub fee_waived: bool,
    /// Exact penalty accrued for the days due + 1 ..= `accrued_through`.
    penalty_accrued: Money,
    accrued_through: NaiveDate,
    /// The day principal and fee were fully paid.
    cleared_on: Option<NaiveDate>,
}

impl InstallmentState {
    fn new(plan: Installment) -> Self {
        let due = plan.due_date;
        InstallmentState {
            plan,
            principal_paid: Money::ZERO,
            fee_paid: Money::ZERO,
            penalty_paid: Money::ZERO,
            fee_waived: false,
            penalty_accrued: Money::ZERO,
            accrued_through: due,
            cleared_on: None,
        }
    }

    pub fn unpaid_principal(&self) -> Money {
        self.plan.principal - self.principal_paid
    }

    pub fn unpaid_fee(&self) -> Money {
        if self.fee_waived {
            Money::ZERO
        } else {
            self.plan.fee - self.fee_paid
        }
    }

    /// The penalty base: unpaid principal and fee.
    fn base(&self) -> Money {
        self.unpaid_principal() + self.unpaid_fee()
    }

    fn accrue_to(&mut self, day: NaiveDate, daily_rate: rust_decimal::Decimal) {
        if day > self.accrued_through {
            let days = (day - self.accrued_through).num_days();
            self.penalty_accrued += self
                .base()
                .times(daily_rate * rust_decimal::Decimal::from(days));
            self.accrued_through = day;
        }
    }

    fn grace_end(&self, policy: &Policy) -> NaiveDate {
        self.plan.due_date + Days::new(u64::from(policy.grace_days))
    }

    /// The unpaid penalty on `day`, exact (the ledger must have been advanced to `day`).
    fn penalty_owed_exact(&self, day: NaiveDate, policy: &Policy) -> Money {
        let grace_end = self.grace_end(policy);
        let cleared_in_grace = self.cleared_on.is_some_and(|c| c <= grace_end);
        if day <= grace_end || cleared_in_grace {
            Money::ZERO
        } else {
            self.penalty_accrued - self.penalty_paid
        }
    }

    /// The unpaid penalty on `day` as shown and payable: rounded, never negative.
    pub fn penalty_owed(&self, day: NaiveDate, policy: &Policy) -> Money {
        self.penalty_owed_exact(day, policy)
            .round_fen()
            .at_least_zero()
    }

    /// Unpaid principal + fee + penalty on `day`.
    pub fn remaining(&self, day: NaiveDate, policy: &Policy) -> Money {
        self.base() + self.penalty_owed(day, policy)
    }

    pub fn paid(&self) -> Money {
        self.principal_paid + self.fee_paid + self.penalty_paid
    }

    fn note_cleared(&mut self, day: NaiveDate) {
        if self.cleared_on.is_none() && self.base().is_zero() {
            self.cleared_on = Some(day);
        }
    }
}

/// Which part of an installment a payment fills.
#[derive(Clone, Copy)]
enum Part {
    Penalty,
    Fee,
    Principal,
}

const NORMAL_ORDER: [Part; 3] = [Part::Penalty, Part::Fee, Part::Principal];
const PRINCIPAL_FIRST: [Part; 3] = [Part::Principal, Part::Fee, Part::Penalty];

/// The state of one order after the payments applied so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderLedger {
    pub installments: Vec<InstallmentState>,
    pub closure: Option<Closure>,
    policy: Policy,
}

/// The early-settlement quote of SPEC 4.6 with its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementQuote {
    pub date: NaiveDate,
    /// Everything overdue or in grace, penalty included.
    pub overdue: Money,
    /// The penalty inside `overdue`.
    pub penalty: Money,
    /// Unpaid principal of the installments due on or after the date.
    pub later_principal: Money,
    /// Unpaid fee/interest of the current period (first installment due on or after the date).
    pub current_fee: Money,
    pub settlement_fee: Money,
    /// Later fees the customer no longer owes when settling.
    pub waived_fees: Money,
    pub total: Money,
}

impl OrderLedger {
    pub fn new(schedule: Vec<Installment>, policy: &Policy) -> Self {
        OrderLedger {
            installments: schedule.into_iter().map(InstallmentState::new).collect(),
            closure: None,
            policy: policy.clone(),
        }
    }

    /// An order's ledger on `today`: its effective schedule (deferral applied), its payments
    /// (in replay order: date, then recording order) dated on or before `today`, closed as
    /// restructured right after the down payment of a re-installment, or before the first
    /// payment dated after the re-installment day (which is then refused). On a refused payment,
    /// its index and the reason.
    pub fn replay_order(
        order: &Order,
        payments: &[Payment],
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<OrderLedger, (usize, PaymentError)> {
        let schedule = effective_schedule(&order.terms, &order.agreements);
        let restructure = order.agreements.restructure.as_ref();
        let mut ledger = OrderLedger::new(schedule, policy);
        for (i, p) in payments.iter().enumerate() {
            if p.paid_on > today {
                break;
            }
            if let Some(r) = restructure.filter(|r| p.paid_on > r.on) {
                ledger.close_restructured(r.on);
            }
            ledger.apply(p).map_err(|e| (i, e))?;
            if let Some(r) = restructure.filter(|r| r.down_payment_id == p.id) {
                ledger.close_restructured(r.on);
            }
        }
        if let Some(r) = restructure.filter(|r| r.on <= today) {
            ledger.close_restructured(r.on);
        }
        ledger.advance_to(today);
        Ok(ledger)
    }

    /// Closes the order as restructured on `on`: penalty stops that day, no payment applies after.
    pub fn close_restructured(&mut self, on: NaiveDate) {
        if self.closure.is_none() {
            self.advance_to(on);
            self.closure = Some(Closure::Restructured { on });
        }
    }

    /// Replays `payments` (in replay order) dated on or before `today`, then accrues to
    /// `today`. On a refused payment, returns its index in `payments` and the reason.
    pub fn replay(
        schedule: Vec<Installment>,
        payments: &[Payment],
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<OrderLedger, (usize, PaymentError)> {
        let mut ledger = OrderLedger::new(schedule, policy);
        for (i, p) in payments.iter().enumerate() {
            if p.paid_on > today {
                break;
            }
            ledger.apply(p).map_err(|e| (i, e))?;
        }
        ledger.advance_to(today);
        Ok(ledger)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Accrues penalty on every installment up to and including `day`.
    /// A restructured order accrues nothing after the day it closed.
    pub fn advance_to(&mut self, day: NaiveDate) {
        let day = match self.closure {
            Some(Closure::Restructured { on }) => day.min(on),
            _ => day,
        };
        let rate = self.policy.penalty_daily_rate;
        for inst in &mut self.installments {
            inst.accrue_to(day, rate);
        }
    }

    /// Every unpaid principal and fee of the whole schedule plus penalty, on `day`.
    pub fn owed_total(&self, day: NaiveDate) -> Money {
        self.installments
            .iter()
            .map(|i| i.remaining(day, &self.policy))
            .sum()
    }

    pub fn status_word(&self) -> &'static str {
        match self.closure {
            Some(Closure::Settled { .. }) => "settled",
            Some(Closure::Restructured { .. }) => "restructured",
            None => "active",
        }
    }

    /// The settlement quote on `day` (the ledger advanced to `day`).
    pub fn quote(&self, day: NaiveDate) -> SettlementQuote {
        let p = &self.policy;
        let mut q = SettlementQuote {
            date: day,
            overdue: Money::ZERO,
            penalty: Money::ZERO,
            later_principal: Money::ZERO,
            current_fee: Money::ZERO,
            settlement_fee: Money::ZERO,
            waived_fees: Money::ZERO,
            total: Money::ZERO,
        };
        let mut unpaid_principal = Money::ZERO;
        let mut current_seen = false;
        for inst in &self.installments {
            unpaid_principal += inst.unpaid_principal();
            if inst.plan.due_date < day {
                q.overdue += inst.remaining(day, p);
                q.penalty += inst.penalty_owed(day, p);
            } else {
                q.later_principal += inst.unpaid_principal();
                if current_seen {
                    q.waived_fees += inst.unpaid_fee();
                } else {
                    q.current_fee += inst.unpaid_fee();
                    current_seen = true;
                }
            }
        }
        q.settlement_fee = unpaid_principal.times(p.settlement_fee_rate).round_fen();
        q.total = q.overdue + q.later_principal + q.current_fee + q.settlement_fee;
        q
    }

    /// Applies one payment dated on or after every payment applied so far.
    pub fn apply(&mut self, payment: &Payment) -> Result<Vec<Allocation>, PaymentError> {
        if let Some(c) = &self.closure {
            return Err(PaymentError::Closed(match c {
                Closure::Settled { .. } => "settled",
                Closure::Restructured { .. } => "restructured",
            }));
        }
        if !payment.amount.is_positive() {
            return Err(PaymentError::NotPositive);
        }
        let day = payment.paid_on;
        self.advance_to(day);
        match payment.kind {
            PaymentKind::Settlement => self.settle(payment.amount, day),
            PaymentKind::Installment => {
                let owed = self.owed_total(day);
                if payment.amount > owed {
                    return Err(PaymentError::TooLarge {
                        amount: payment.amount,
                        owed,
                        date: day,
                    });
                }
                Ok(self.allocate(payment.amount, day))
            }
        }
    }

    fn allocate(&mut self, amount: Money, day: NaiveDate) -> Vec<Allocation> {
        let policy = self.policy.clone();
        let oldest_unpaid = self
            .installments
            .iter()
            .find(|i| i.remaining(day, &policy).is_positive());
        let principal_first = oldest_unpaid.is_some_and(|i| {
            (day - i.plan.due_date).num_days() >= i64::from(policy.principal_first_after_days)
        });
        let order = if principal_first {
            PRINCIPAL_FIRST
        } else {
            NORMAL_ORDER
        };
        let mut left = amount;
        let mut out = Vec::new();
        for inst in &mut self.installments {
            if !left.is_positive() {
                break;
            }
            let mut a = Allocation {
                n: inst.plan.n,
                ..Allocation::default()
            };
            for part in order {
                let open = match part {
                    Part::Penalty => inst.penalty_owed(day, &policy),
                    Part::Fee => inst.unpaid_fee(),
                    Part::Principal => inst.unpaid_principal(),
                };
                let take = left.min(open).at_least_zero();
                left -= take;
                match part {
                    Part::Penalty => {
                        inst.penalty_paid += take;
                        a.penalty += take;
                    }
                    Part::Fee => {
                        inst.fee_paid += take;
                        a.fee += take;
                    }
                    Part::Principal => {
                        inst.principal_paid += take;
                        a.principal += take;
                    }
                }
            }
            inst.note_cleared(day);
            if a != (Allocation {
                n: a.n,
                ..Allocation::default()
            }) {
                out.push(a);
            }
        }
        out
    }

    fn settle(&mut self, amount: Money, day: NaiveDate) -> Result<Vec<Allocation>, PaymentError> {
        let q = self.quote(day);
        if amount != q.total {
            return Err(PaymentError::QuoteMismatch {
                amount,
                quote: q.total,
                date: day,
            });
        }
        let policy = self.policy.clone();
        let mut current_seen = false;
        let mut out = Vec::new();
        for inst in &mut self.installments {
            let mut a = Allocation {
                n: inst.plan.n,
                principal: inst.unpaid_principal(),
                ..Allocation::default()
            };
            if inst.plan.due_date < day {
                a.penalty = inst.penalty_owed(day, &policy);
                a.fee = inst.unpaid_fee();
            } else if !current_seen {
                current_seen = true;
                a.fee = inst.unpaid_fee();
            } else {
                inst.fee_waived = true;
            }
            inst.principal_paid += a.principal;
            inst.fee_paid += a.fee;
            inst.penalty_paid += a.penalty;
            inst.note_cleared(day);
            out.push(a);
        }
        self.closure = Some(Closure::Settled {
            on: day,
            settlement_fee: q.settlement_fee,
        });
        Ok(out)
    }
}
