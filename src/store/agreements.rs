//! Writing the agreements of SPEC 4.7 and 4.8: a deferral, and a re-installment with its down
//! payment and new plan. Each re-checks the offer against the ledger as stored, writes every
//! tree in one transaction guarded by the order's revision, and flushes before it returns.
//! An order takes one deferral and one re-installment: asking again returns the one agreed.
//! No agreement is written that would leave a stored payment refused on replay (for instance a
//! payment the shop exported dated after the day): it is refused as `later_payments`.

use super::records::{payment_index_value, PaymentRow, Stored};
use super::writes::{bump_rev, payment_id_state, take_payment_seq, IdState, PaymentWriteError};
use super::{composite_key, sort_for_replay, Store};
use crate::domain::negotiation::{self, DownPaymentProblem};
use crate::domain::{
    agreement::restructured_order_id, view, CaseStatus, Deferral, Money, Order, OrderView, Payment,
    PaymentKind, Policy, Restructure,
};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

/// The refusal of an agreement that would make a stored payment fail on replay.
const LATER_PAYMENTS: &str = "later_payments";

/// What one attempt to write a plan did.
enum Commit<T> {
    Done(T),
    /// Someone wrote the order first: read it again.
    Raced,
    Refused(&'static str),
}

/// What became of a request for an agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgreementOutcome<T> {
    Agreed(T),
    /// The order already has this kind of agreement: it stands, nothing new was written.
    AlreadyAgreed(T),
    /// Not possible (any more) on the stored ledger: the reason's name (`Refusal::as_str`,
    /// `below_minimum`, `too_large`, `no_such_option`).
    Refused(&'static str),
}

/// A new plan for an order: its balance, the down payment (with its origin) if any, the terms.
struct NewPlan<'a> {
    balance: Money,
    down: Option<(Payment, &'a str)>,
    terms: crate::domain::Terms,
}

/// A re-installment as asked in the chat.
pub struct RestructureRequest<'a> {
    pub order_id: &'a str,
    pub down_payment: Money,
    pub periods: u32,
    pub today: NaiveDate,
    /// Id of the payment that carries the down payment (from the gateway).
    pub payment_id: String,
    /// Where it came from, for the records (`chat:<key>:sandbox`).
    pub origin: String,
}

impl Store {
    /// The order's view on `today` with its revision, read together.
    fn view_with_rev(
        &self,
        order_id: &str,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<(OrderView, Option<sled::IVec>)> {
        let rev = self.order_rev.get(order_id.as_bytes())?;
        let order = self
            .order(order_id)?
            .with_context(|| format!("order {order_id} not found"))?
            .data;
        let payments = self.payments_of(order_id)?;
        let v = view::order_view(&order, &payments, today, policy)
            .map_err(|(i, e)| anyhow::anyhow!("stored payment {} invalid: {e}", payments[i].id))?;
        Ok((v, rev))
    }

    /// Defers the order's next installment by `days` on `today` (4.7). `confirm` writes the
    /// confirmation the customer receives; it is kept with the agreement.
    pub fn defer(
        &self,
        order_id: &str,
        days: u32,
        today: NaiveDate,
        policy: &Policy,
        confirm: &dyn Fn(&Deferral) -> String,
    ) -> Result<AgreementOutcome<Deferral>> {
        loop {
            let (view, rev) = self.view_with_rev(order_id, today, policy)?;
            if let Some(d) = &view.order.agreements.deferral {
                return Ok(AgreementOutcome::AlreadyAgreed(d.clone()));
            }
            let offer = match negotiation::deferral_offer(&view, policy) {
                Ok(o) => o,
                Err(r) => return Ok(AgreementOutcome::Refused(r.as_str())),
            };
            let Some(option) = offer.options.iter().find(|o| o.days == days) else {
                return Ok(AgreementOutcome::Refused("no_such_option"));
            };
            let mut deferral = Deferral {
                n: offer.n,
                days,
                original_due: offer.due_date,
                new_due: option.new_due,
                fee: option.fee,
                agreed_on: today,
                confirmation: String::new(),
            };
            deferral.confirmation = confirm(&deferral);
            let mut order = view.order.clone();
            order.agreements.deferral = Some(deferral.clone());
            if !self.replays_with(&order, None, policy)? {
                return Ok(AgreementOutcome::Refused(LATER_PAYMENTS));
            }
            if self.write_orders(order_id, &rev, &[&order], None)? {
                return Ok(AgreementOutcome::Agreed(deferral));
            }
        }
    }

    /// Re-instals the order (4.8): records the down payment, closes the order as restructured
    /// and creates the plan `ORDER-R1`, all in one transaction.
    pub fn restructure(
        &self,
        req: &RestructureRequest,
        policy: &Policy,
        confirm: &dyn Fn(&Restructure, &Order) -> String,
    ) -> Result<AgreementOutcome<(Restructure, Order)>> {
        loop {
            let (view, rev) = self.view_with_rev(req.order_id, req.today, policy)?;
            if let Some(r) = &view.order.agreements.restructure {
                let plan = self
                    .order(&r.new_order_id)?
                    .with_context(|| format!("plan {} missing", r.new_order_id))?;
                return Ok(AgreementOutcome::AlreadyAgreed((r.clone(), plan.data)));
            }
            let quote = match negotiation::reinstallment_quote(&view, policy) {
                Ok(q) => q,
                Err(r) => return Ok(AgreementOutcome::Refused(r.as_str())),
            };
            let offers = match negotiation::reinstallment_offers(
                &quote,
                req.down_payment,
                req.today,
                policy,
            ) {
                Ok(o) => o,
                Err(DownPaymentProblem::BelowMinimum) => {
                    return Ok(AgreementOutcome::Refused("below_minimum"))
                }
                Err(DownPaymentProblem::TooLarge) => {
                    return Ok(AgreementOutcome::Refused("too_large"))
                }
            };
            let Some(offer) = offers.into_iter().find(|o| o.terms.periods == req.periods) else {
                return Ok(AgreementOutcome::Refused("no_such_option"));
            };
            let down = Payment {
                id: req.payment_id.clone(),
                amount: req.down_payment,
                paid_on: req.today,
                kind: PaymentKind::Installment,
            };
            let plan = NewPlan {
                balance: quote.balance,
                down: Some((down, req.origin.as_str())),
                terms: offer.terms,
            };
            match self.commit_plan(&view, &rev, plan, req.today, policy, confirm)? {
                Commit::Done(done) => return Ok(AgreementOutcome::Agreed(done)),
                Commit::Refused(why) => return Ok(AgreementOutcome::Refused(why)),
                Commit::Raced => {}
            }
        }
    }

    /// Applies the plan an agent approved for hardship case `number`, once the customer confirms:
    /// every order of the case still owing is re-planned (no down payment) and the case is
    /// marked accepted. Asked again, returns the plans already made.
    pub fn accept_hardship_plan(
        &self,
        number: u64,
        today: NaiveDate,
        policy: &Policy,
        confirm: &dyn Fn(&Restructure, &Order) -> String,
    ) -> Result<AgreementOutcome<Vec<(Restructure, Order)>>> {
        let Some(case) = self.case(number)? else {
            return Ok(AgreementOutcome::Refused("not_approved"));
        };
        let made = |store: &Store| -> Result<Vec<(Restructure, Order)>> {
            let mut out = Vec::new();
            for id in &case.order_ids {
                let Some(order) = store.order(id)? else {
                    continue;
                };
                if let Some(r) = order.data.agreements.restructure {
                    if let Some(plan) = store.order(&r.new_order_id)? {
                        out.push((r, plan.data));
                    }
                }
            }
            Ok(out)
        };
        match (case.status, &case.approved) {
            (CaseStatus::Accepted, _) => return Ok(AgreementOutcome::AlreadyAgreed(made(self)?)),
            (CaseStatus::Approved, Some(_)) => {}
            _ => return Ok(AgreementOutcome::Refused("not_approved")),
        }
        let Some(approved) = case.approved.clone() else {
            return Ok(AgreementOutcome::Refused("not_approved"));
        };
        for id in &case.order_ids {
            loop {
                let (view, rev) = self.view_with_rev(id, today, policy)?;
                let Some(offer) = negotiation::hardship_plan(
                    &view,
                    approved.periods,
                    approved.monthly_rate,
                    today,
                ) else {
                    break; // settled, already re-planned, or nothing owed
                };
                let plan = NewPlan {
                    balance: view.balance.total(),
                    down: None,
                    terms: offer.terms,
                };
                match self.commit_plan(&view, &rev, plan, today, policy, confirm)? {
                    Commit::Done(_) => break,
                    Commit::Refused(why) => return Ok(AgreementOutcome::Refused(why)),
                    Commit::Raced => {}
                }
            }
        }
        self.set_case_status(number, CaseStatus::Accepted, None)?;
        Ok(AgreementOutcome::Agreed(made(self)?))
    }

    /// Closes the order of `view` as restructured and creates its plan `ORDER-R1` with `terms`,
    /// with the down payment if any, in one transaction.
    fn commit_plan(
        &self,
        view: &OrderView,
        rev: &Option<sled::IVec>,
        new: NewPlan,
        today: NaiveDate,
        policy: &Policy,
        confirm: &dyn Fn(&Restructure, &Order) -> String,
    ) -> Result<Commit<(Restructure, Order)>> {
        let old = &view.order;
        let mut plan = Order {
            id: restructured_order_id(&old.id),
            account_id: old.account_id.clone(),
            item: old.item.clone(),
            terms: new.terms,
            agreements: Default::default(),
        };
        plan.agreements.restructured_from = Some(old.id.clone());
        let mut restructure = Restructure {
            on: today,
            balance: new.balance,
            down_payment: new.down.as_ref().map_or(Money::ZERO, |(p, _)| p.amount),
            down_payment_id: new
                .down
                .as_ref()
                .map(|(p, _)| p.id.clone())
                .unwrap_or_default(),
            new_order_id: plan.id.clone(),
            periods: plan.terms.periods,
            monthly_rate: plan.terms.monthly_rate,
            confirmation: String::new(),
        };
        restructure.confirmation = confirm(&restructure, &plan);
        let mut closed = old.clone();
        closed.agreements.restructure = Some(restructure.clone());
        if !self.replays_with(&closed, new.down.as_ref().map(|(p, _)| p), policy)? {
            return Ok(Commit::Refused(LATER_PAYMENTS));
        }
        let row = new.down.map(|(down, origin)| {
            Stored::new(
                origin,
                PaymentRow {
                    order_id: old.id.clone(),
                    payment: down,
                    seq: 0,
                },
            )
        });
        let written = self.write_orders(&old.id, rev, &[&closed, &plan], row.as_ref())?;
        Ok(if written {
            Commit::Done((restructure, plan))
        } else {
            Commit::Raced
        })
    }

    /// Whether every stored payment of `order` (with `down`, recorded after them) still applies
    /// under its agreements, whatever day the ledger is read.
    fn replays_with(&self, order: &Order, down: Option<&Payment>, policy: &Policy) -> Result<bool> {
        let mut all = self.recorded_payments_of(&order.id)?;
        all.extend(down.map(|p| (u64::MAX, p.clone())));
        sort_for_replay(&mut all);
        let all: Vec<Payment> = all.into_iter().map(|(_, p)| p).collect();
        Ok(view::check_payments(order, &all, NaiveDate::MAX, policy).is_ok())
    }

    /// Writes orders (new ones get their `account_orders` entry and rate) and maybe a payment on
    /// `guard_order`, if that order's revision is still `rev_seen`. False when someone wrote first.
    fn write_orders(
        &self,
        guard_order: &str,
        rev_seen: &Option<sled::IVec>,
        orders_to_write: &[&Order],
        payment: Option<&Stored<PaymentRow>>,
    ) -> Result<bool> {
        let records: Vec<(Vec<u8>, Vec<u8>, String)> = orders_to_write
            .iter()
            .map(|o| {
                let origin = format!("agreement:{guard_order}");
                (
                    composite_key(&[&o.account_id, &o.id]),
                    Stored::new(origin, (*o).clone()).to_bytes(),
                    view::annual_rate_of_terms(o).to_string(),
                )
            })
            .collect();
        let result = (
            &self.orders,
            &self.account_orders,
            &self.payments,
            &self.order_payments,
            &self.order_rev,
        )
            .transaction(
                |(orders, account_orders, payments, order_payments, order_rev)| {
                    if order_rev.get(guard_order.as_bytes())? != *rev_seen {
                        return Err(ConflictableTransactionError::Abort(None));
                    }
                    for (o, (index_key, bytes, rate)) in orders_to_write.iter().zip(&records) {
                        orders.insert(o.id.as_bytes(), bytes.as_slice())?;
                        if account_orders.get(index_key.as_slice())?.is_none() {
                            account_orders.insert(index_key.as_slice(), rate.as_bytes())?;
                        }
                        bump_rev(order_rev, &o.id, 1)?;
                    }
                    if let Some(p) = payment {
                        if let IdState::Taken(origin) = payment_id_state(payments, &p.data)? {
                            return Err(ConflictableTransactionError::Abort(Some(origin)));
                        }
                        let seq = take_payment_seq(order_rev)?;
                        let stored = Stored {
                            data: PaymentRow {
                                seq,
                                ..p.data.clone()
                            },
                            ..p.clone()
                        };
                        let pay = &p.data.payment;
                        payments.insert(pay.id.as_bytes(), stored.to_bytes())?;
                        let date = pay.paid_on.to_string();
                        order_payments.insert(
                            composite_key(&[&p.data.order_id, &date, &pay.id]),
                            payment_index_value(pay, seq),
                        )?;
                    }
                    Ok(())
                },
            );
        match result {
            Ok(()) => {
                self.flush()?;
                Ok(true)
            }
            Err(TransactionError::Abort(None)) => Ok(false),
            Err(TransactionError::Abort(Some(origin))) => Err(PaymentWriteError {
                id: payment
                    .map(|p| p.data.payment.id.clone())
                    .unwrap_or_default(),
                origin,
            }
            .into()),
            Err(TransactionError::Storage(e)) => Err(e).context("recording an agreement"),
        }
    }
}
