//! The payment a customer is about to confirm, carried in the session from the quote to the
//! confirmation: one line per order (order, amount, kind, the order's payment count when quoted).
//! Session vars are text, so this type owns the one encoding (`order TAB amount TAB kind TAB
//! seen`, lines joined by newlines) and its checked parsing; nothing else splits it.

use crate::domain::{Money, PaymentKind};

/// One order's part of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanLine {
    pub order_id: String,
    pub amount: Money,
    pub kind: PaymentKind,
    /// How many payments the order had when quoted (a payment since makes the quote stale).
    pub seen: usize,
}

/// Every line of the plan, in the order quoted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayPlan {
    pub lines: Vec<PlanLine>,
}

/// A plan text that is not what `PayPlan::encode` writes (an old or tampered session).
#[derive(Debug, PartialEq, Eq)]
pub struct BadPlan;

impl PlanLine {
    /// What was bought, without the quote's payment count: `order TAB amount TAB kind`. The
    /// same item paid again (a retry, a pending payment) is recognised by it.
    pub fn item(&self) -> String {
        format!(
            "{}\t{}\t{}",
            self.order_id,
            self.amount,
            crate::payments::kind_str(self.kind)
        )
    }

    /// The line as the session keeps it; also part of a payment's idempotency key.
    pub fn encode(&self) -> String {
        format!("{}\t{}", self.item(), self.seen)
    }

    fn parse(line: &str) -> Result<PlanLine, BadPlan> {
        let parts: Vec<&str> = line.split('\t').collect();
        let [order_id, amount, kind, seen] = parts[..] else {
            return Err(BadPlan);
        };
        let kind = match kind {
            "installment" => PaymentKind::Installment,
            "settlement" => PaymentKind::Settlement,
            _ => return Err(BadPlan),
        };
        Ok(PlanLine {
            order_id: order_id.to_string(),
            amount: Money::parse_positive(amount).map_err(|_| BadPlan)?,
            kind,
            seen: seen.parse().map_err(|_| BadPlan)?,
        })
    }
}

impl PayPlan {
    /// The plan of the session var `pay_plan` (empty text: an empty plan).
    pub fn parse(text: &str) -> Result<PayPlan, BadPlan> {
        let lines = text
            .lines()
            .map(PlanLine::parse)
            .collect::<Result<_, _>>()?;
        Ok(PayPlan { lines })
    }

    /// The text of the session var `pay_plan`.
    pub fn encode(&self) -> String {
        let lines: Vec<String> = self.lines.iter().map(PlanLine::encode).collect();
        lines.join("\n")
    }

    /// The items of the plan (see [`PlanLine::item`]).
    pub fn items(&self) -> Vec<String> {
        self.lines.iter().map(PlanLine::item).collect()
    }
}
