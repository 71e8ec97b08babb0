//! The plain-text layout of the report for a terminal; numbers come from `compute` only.
//! (Operator-facing, English, like the other operator commands.)

use super::compute::Report;
use rust_decimal::Decimal;
use std::fmt::Write;

/// A rate as a percentage with one decimal, `-` when there is nothing to divide.
pub fn percent(rate: Option<Decimal>) -> String {
    match rate {
        Some(r) => format!("{}%", (r * Decimal::ONE_HUNDRED).round_dp(1)),
        None => "-".into(),
    }
}

fn seconds(s: Option<Decimal>) -> String {
    s.map_or_else(|| "-".into(), |s| format!("{s} s"))
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "repaybot report {} .. {} ({})",
        r.from, r.to, r.timezone
    );
    let c = &r.conversations;
    let _ = writeln!(
        out,
        "\nConversations: {} ({} without a person; containment {})",
        c.total,
        c.contained,
        percent(c.containment_rate)
    );
    for d in c.per_day.iter().filter(|d| d.conversations > 0) {
        let _ = writeln!(
            out,
            "  {}  {:>5}  contained {:>5}",
            d.day, d.conversations, d.contained
        );
    }
    let u = &r.understanding;
    let _ = writeln!(
        out,
        "\nTurns: {}; not understood {} ({})",
        u.turns,
        u.not_understood,
        percent(u.not_understood_rate)
    );
    for t in &u.top_not_understood {
        let _ = writeln!(out, "  {:>4}  {}", t.count, t.text);
    }
    let t = &r.tickets;
    let _ = writeln!(
        out,
        "\nTickets: {} opened, {} closed; median first agent reply {}",
        t.opened,
        t.closed,
        seconds(t.median_first_reply_seconds)
    );
    for x in &t.by_reason {
        let _ = writeln!(
            out,
            "  {:<16} {:>4} opened, {:>4} answered, median {}",
            x.reason,
            x.opened,
            x.answered,
            seconds(x.median_first_reply_seconds)
        );
    }
    render_money_and_reminders(r, &mut out);
    out
}

fn render_money_and_reminders(r: &Report, out: &mut String) {
    let p = &r.payments;
    let _ = writeln!(
        out,
        "\nPayments through the bot: {} for {} CNY",
        p.count, p.amount
    );
    for g in &p.by_gateway {
        let _ = writeln!(
            out,
            "  {:<10} {:>5}  {:>12} CNY",
            g.gateway, g.count, g.amount
        );
    }
    for d in &p.per_day {
        let _ = writeln!(
            out,
            "  {}  {:<10} {:>5}  {:>12} CNY",
            d.day, d.gateway, d.count, d.amount
        );
    }
    let m = &r.reminders;
    let kinds: Vec<String> = m
        .sent_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "\nReminders: {} sent ({}), {} failed",
        m.sent,
        kinds.join(", "),
        m.failed
    );
    let _ = writeln!(
        out,
        "  reminded installments {}, due already {}, paid by their due date {} ({})",
        m.reminded_installments,
        m.due_passed,
        m.paid_by_due,
        percent(m.paid_by_due_share)
    );
    let _ = writeln!(out, "\nNegotiation outcomes:");
    if r.negotiation.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for n in &r.negotiation {
        let _ = writeln!(out, "  {:?} {:?}: {}", n.kind, n.outcome, n.count);
    }
}
