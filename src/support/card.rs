//! The ticket card agents see first: ticket id, reason, the account with MASKED data only (account
//! id, masked phone; no name, never the ID number), its orders with overdue totals, and the last 20
//! turns (redacted when recorded, and again here).

use super::{vars, Desk};
use crate::store::Ticket;
use anyhow::Result;
use chrono::{DateTime, Utc};

impl Desk<'_> {
    /// The reason as the group reads it.
    pub(super) fn reason_label(&self, t: &Ticket) -> String {
        self.group_text(&format!("support.reason_{}", t.reason.as_str()), &vars(&[]))
    }

    /// The card text of a ticket.
    pub fn card(&self, t: &Ticket, now: DateTime<Utc>) -> Result<String> {
        let mut lines = vec![self.group_text(
            "support.card_head",
            &vars(&[
                ("ticket_no", t.number.to_string()),
                ("reason", self.reason_label(t)),
            ]),
        )];
        lines.extend(self.card_account(t, now)?);
        let turns = self.core.store.transcript(&t.chat)?;
        let account = self.account_of(t);
        lines.push(self.group_text(
            "support.card_transcript",
            &vars(&[("lines", turns.len().to_string())]),
        ));
        for turn in &turns {
            let key = match turn.from.as_str() {
                "agent" => "support.card_agent",
                _ => "support.card_customer",
            };
            let text = super::redact(&turn.text, account.as_ref());
            lines.push(self.group_text(key, &vars(&[("text", text)])));
            for reply in &turn.replies {
                let text = super::redact(reply, account.as_ref());
                lines.push(self.group_text("support.card_bot", &vars(&[("text", text)])));
            }
        }
        Ok(lines.join("\n"))
    }

    fn card_account(&self, t: &Ticket, now: DateTime<Utc>) -> Result<Vec<String>> {
        let account = match &t.account_id {
            Some(id) => self.core.store.account(id)?.map(|s| s.data),
            None => None,
        };
        let Some(account) = account else {
            return Ok(vec![self.group_text("support.card_unbound", &vars(&[]))]);
        };
        let mut lines = vec![self.group_text(
            "support.card_account",
            &vars(&[
                ("account_id", account.id.clone()),
                ("phone", account.phone.masked()),
            ]),
        )];
        // The day the customer sees (under --today that day, whatever the zone).
        let today = self
            .core
            .clock
            .day_at(now, crate::reminders::tz_of(&account));
        let bill = self
            .core
            .store
            .bill(&account.id, today, &self.core.settings.policy)?;
        for o in &bill.orders {
            let (next_date, next_amount) = o.next_due.as_ref().map_or_else(
                || ("-".to_string(), "-".to_string()),
                |n| (n.date.to_string(), n.amount.to_string()),
            );
            lines.push(self.group_text(
                "support.card_order",
                &vars(&[
                    ("order_id", o.order.id.clone()),
                    ("status", o.status.to_string()),
                    ("overdue", o.overdue_total.to_string()),
                    ("next_date", next_date),
                    ("next_amount", next_amount),
                ]),
            ));
        }
        lines.push(self.group_text(
            "support.card_total",
            &vars(&[("overdue", bill.overdue_total().to_string())]),
        ));
        Ok(lines)
    }
}
