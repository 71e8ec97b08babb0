//! Who may defer or re-instal an order on a date, and the offers they see (SPEC 4.7, 4.8).
//! Pure: reads an order's view and the policy, returns offers or the reason for a refusal.

use super::agreement::{restructured_order_id, Agreements};
use super::money::Money;
use super::policy::Policy;
use super::schedule::{self, Method, Terms};
use super::view::{annual_rate_of_terms, InstallmentStatus, OrderView};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

/// Why a self-service agreement is not possible; each has its own explanation in dialogs/.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Settled or already restructured: nothing left to agree on.
    Closed,
    /// Nothing is owed.
    NothingOwed,
    /// This order had its deferral already.
    AlreadyDeferred,
    /// This order was re-installed already, or is itself a re-installment plan.
    AlreadyRestructured,
    /// The next installment is past its grace period (deferral).
    Overdue,
    /// The oldest unpaid installment is more than the policy's days overdue (re-installment).
    TooLongOverdue,
    /// The balance is above the policy's maximum (re-installment).
    BalanceTooLarge,
    /// No offer is within the annual-rate cap.
    NoOffer,
}

impl Refusal {
    /// The name used for dialog outcomes and text keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Closed => "closed",
            Refusal::NothingOwed => "nothing_owed",
            Refusal::AlreadyDeferred => "already_deferred",
            Refusal::AlreadyRestructured => "already_restructured",
            Refusal::Overdue => "overdue",
            Refusal::TooLongOverdue => "too_long_overdue",
            Refusal::BalanceTooLarge => "balance_too_large",
            Refusal::NoOffer => "no_offer",
        }
    }
}

/// One way to defer the next installment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeferralOption {
    pub days: u32,
    pub new_due: NaiveDate,
    pub fee: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeferralOffer {
    pub n: u32,
    pub due_date: NaiveDate,
    /// Unpaid principal and fee of the installment: the fee's base.
    pub base: Money,
    pub options: Vec<DeferralOption>,
}

fn open_for_agreement(view: &OrderView, agreements: &Agreements) -> Result<(), Refusal> {
    if agreements.restructure.is_some() || agreements.restructured_from.is_some() {
        return Err(Refusal::AlreadyRestructured);
    }
    if view.status != "active" {
        return Err(Refusal::Closed);
    }
    Ok(())
}

/// The deferral options of 4.7 on `today`: once per order, for the next unpaid installment while
/// it is due or in grace.
pub fn deferral_offer(view: &OrderView, policy: &Policy) -> Result<DeferralOffer, Refusal> {
    let agreements = &view.order.agreements;
    open_for_agreement(view, agreements)?;
    if agreements.deferral.is_some() {
        return Err(Refusal::AlreadyDeferred);
    }
    let next = view
        .installments
        .iter()
        .find(|i| i.remaining.is_positive())
        .ok_or(Refusal::NothingOwed)?;
    if !matches!(
        next.status,
        InstallmentStatus::Due | InstallmentStatus::Grace
    ) {
        return Err(Refusal::Overdue);
    }
    let base = next.remaining - next.penalty;
    let options = policy
        .deferral
        .day_options
        .iter()
        .filter_map(|&days| {
            let new_due = next.due_date.checked_add_days(Days::new(u64::from(days)))?;
            (new_due >= view.today).then(|| DeferralOption {
                days,
                new_due,
                fee: deferral_fee(base, days, policy),
            })
        })
        .collect::<Vec<_>>();
    if options.is_empty() {
        return Err(Refusal::NoOffer);
    }
    Ok(DeferralOffer {
        n: next.n,
        due_date: next.due_date,
        base,
        options,
    })
}

/// round(unpaid principal and fee × daily rate × days).
pub fn deferral_fee(base: Money, days: u32, policy: &Policy) -> Money {
    base.times(policy.deferral.daily_fee_rate * Decimal::from(days))
        .round_fen()
}

/// The outstanding balance of 4.8 and its parts, with the smallest down payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReinstallmentQuote {
    pub order_id: String,
    pub balance: Money,
    pub overdue_principal: Money,
    pub overdue_fee: Money,
    pub penalty: Money,
    pub later_principal: Money,
    pub min_down_payment: Money,
    /// The oldest unpaid installment's days past due (0 when none is past due).
    pub days_overdue: i64,
}

/// Whether the order may be re-installed on its view's date, and on what balance.
pub fn reinstallment_quote(
    view: &OrderView,
    policy: &Policy,
) -> Result<ReinstallmentQuote, Refusal> {
    open_for_agreement(view, &view.order.agreements)?;
    let b = &view.balance;
    let balance = b.total();
    if !balance.is_positive() {
        return Err(Refusal::NothingOwed);
    }
    let r = &policy.reinstallment;
    let days_overdue = view
        .installments
        .iter()
        .find(|i| i.remaining.is_positive())
        .map_or(0, |i| i.days_past_due);
    if days_overdue > i64::from(r.max_days_overdue) {
        return Err(Refusal::TooLongOverdue);
    }
    if balance.0 > r.max_balance {
        return Err(Refusal::BalanceTooLarge);
    }
    Ok(ReinstallmentQuote {
        order_id: view.order.id.clone(),
        balance,
        overdue_principal: b.overdue_principal,
        overdue_fee: b.overdue_fee,
        penalty: b.penalty,
        later_principal: b.later_principal,
        min_down_payment: balance.times(r.min_down_payment_fraction).ceil_fen(),
        days_overdue,
    })
}

/// One re-installment plan the customer may choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReinstallmentOffer {
    pub new_order_id: String,
    pub terms: Terms,
    /// The first period's amount (the last period carries the principal's remainder).
    pub per_period: Money,
    pub last_period: Money,
    /// Every fee of the plan: its cost.
    pub total_cost: Money,
    /// Principal + cost: what the plan collects.
    pub total_repay: Money,
    pub annual_rate: Decimal,
}

/// Why a down payment cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownPaymentProblem {
    BelowMinimum,
    /// It would leave nothing (or less than a fen a period) to re-instal: pay or settle instead.
    TooLarge,
}

/// The offers of 4.8 for `down_payment` on `today`, those above the annual-rate cap left out.
pub fn reinstallment_offers(
    quote: &ReinstallmentQuote,
    down_payment: Money,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ReinstallmentOffer>, DownPaymentProblem> {
    if down_payment < quote.min_down_payment {
        return Err(DownPaymentProblem::BelowMinimum);
    }
    let principal = quote.balance - down_payment;
    let r = &policy.reinstallment;
    let most_periods = r.period_options.iter().copied().max().unwrap_or(1);
    if principal < Money::from_fen(i64::from(most_periods)) {
        return Err(DownPaymentProblem::TooLarge);
    }
    let Some(first_due) = schedule::due_date(today, 2) else {
        return Err(DownPaymentProblem::TooLarge);
    };
    let offers: Vec<ReinstallmentOffer> = r
        .period_options
        .iter()
        .filter_map(|&periods| {
            let terms = Terms {
                principal,
                periods,
                method: Method::FlatFee,
                monthly_rate: r.monthly_fee_rate,
                first_due_date: first_due,
            };
            offer(&quote.order_id, terms)
        })
        .filter(|o| o.annual_rate <= r.annual_rate_cap_percent)
        .collect();
    Ok(offers)
}

/// The plan an agent approved for a hardship case (SPEC 4.8): the order's whole balance over
/// `periods` at `monthly_rate`, first due one month after `today`, no down payment. Agents may
/// go beyond self-service limits, so neither eligibility nor the cap applies; None when the
/// order owes nothing or the plan cannot be scheduled.
pub fn hardship_plan(
    view: &OrderView,
    periods: u32,
    monthly_rate: Decimal,
    today: NaiveDate,
) -> Option<ReinstallmentOffer> {
    if view.status != "active" || view.order.agreements.restructure.is_some() {
        return None;
    }
    let principal = view.balance.total();
    if !principal.is_positive() {
        return None;
    }
    let terms = Terms {
        principal,
        periods,
        method: Method::FlatFee,
        monthly_rate,
        first_due_date: schedule::due_date(today, 2)?,
    };
    offer(&view.order.id, terms)
}

fn offer(order_id: &str, terms: Terms) -> Option<ReinstallmentOffer> {
    let rows = schedule::build(&terms).ok()?;
    let total_cost: Money = rows.iter().map(|r| r.fee).sum();
    let order = super::account::Order {
        id: restructured_order_id(order_id),
        account_id: String::new(),
        item: String::new(),
        terms: terms.clone(),
        agreements: Agreements::default(),
    };
    Some(ReinstallmentOffer {
        new_order_id: order.id.clone(),
        per_period: rows.first()?.amount(),
        last_period: rows.last()?.amount(),
        total_cost,
        total_repay: terms.principal + total_cost,
        annual_rate: annual_rate_of_terms(&order),
        terms,
    })
}
