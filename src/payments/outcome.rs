//! What a report from the payment API does: a callback and a status answer carry the same body
//! (SPEC 2.5) and go through [`handle`]. [`next_step`] is the pure rule (which status may follow
//! which); [`handle`] makes the step durable (the store's one transaction per payment id), then
//! says whom to tell. Never answers before the outcome is on disk.

use crate::core::Core;
use crate::store::{Applied, LastPaid, Notices, Owed, OwedKind, PendingPayment, PendingStatus};
use crate::store::{NewTicket, Note, Stored, TicketReason};
use anyhow::Result;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// A status the API reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportStatus {
    /// Only in a status answer: nothing happened yet.
    Pending,
    Succeeded,
    Failed,
    Expired,
}

/// A report, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub payment_id: String,
    pub status: ReportStatus,
    pub amount: Decimal,
    pub paid_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RawReport {
    payment_id: String,
    status: String,
    amount: String,
    #[serde(default)]
    paid_at: Option<String>,
}

/// Reads a report body; `Err` (answered 400) for anything that is not SPEC 2.5's JSON. A
/// callback never says `pending` (`allow_pending` false); a status answer may.
pub fn parse_report(body: &[u8], allow_pending: bool) -> Result<Report, String> {
    let raw: RawReport = serde_json::from_slice(body).map_err(|e| format!("not the JSON: {e}"))?;
    let status = match raw.status.as_str() {
        "succeeded" => ReportStatus::Succeeded,
        "failed" => ReportStatus::Failed,
        "expired" => ReportStatus::Expired,
        "pending" if allow_pending => ReportStatus::Pending,
        other => return Err(format!("unknown status '{other}'")),
    };
    let amount = parse_amount(&raw.amount).ok_or("amount is not a string with two decimals")?;
    let paid_at = match &raw.paid_at {
        Some(t) => Some(
            DateTime::parse_from_rfc3339(t)
                .map_err(|_| "paid_at is not RFC 3339")?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    if status == ReportStatus::Succeeded && paid_at.is_none() {
        return Err("succeeded without paid_at".into());
    }
    if raw.payment_id.is_empty() || raw.payment_id.len() > 200 {
        return Err("bad payment_id".into());
    }
    Ok(Report {
        payment_id: raw.payment_id,
        status,
        amount,
        paid_at,
    })
}

/// `"500.00"`: digits, a point, exactly two decimals, positive.
pub fn parse_amount(text: &str) -> Option<Decimal> {
    let (whole, cents) = text.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || cents.len() != 2 || !digits(cents) || whole.len() > 12 {
        return None;
    }
    text.parse::<Decimal>().ok().filter(|d| *d > Decimal::ZERO)
}

/// What a report does to a payment in `current` created for `created`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Apply it to the ledger (the money arrived).
    Apply,
    /// The payment moves to this status; nothing is applied.
    Mark(PendingStatus),
    /// A replay or a report that changes nothing.
    Nothing,
    /// The reported amount is not the one created: refused (422), nothing applied.
    Mismatch,
}

/// The rule: a succeeded report is applied unless the money is already accounted for (even after
/// failed or expired: the money arrived); failed/expired only close a payment still open.
pub fn next_step(current: PendingStatus, created: Decimal, report: &Report) -> Step {
    if report.amount != created {
        return Step::Mismatch;
    }
    match report.status {
        ReportStatus::Succeeded if current.is_final() => Step::Nothing,
        ReportStatus::Succeeded => Step::Apply,
        ReportStatus::Failed if current.is_open() => Step::Mark(PendingStatus::Failed),
        ReportStatus::Expired if current.is_open() => Step::Mark(PendingStatus::Expired),
        _ => Step::Nothing,
    }
}

/// How a report was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 200: durable (or nothing to do).
    Done,
    /// 404: no such payment.
    Unknown,
    /// 422: the amount differs.
    Mismatch,
}

/// Handles one report durably. Returns the answer and the chat with something new to be told.
pub fn handle(app: &Core, report: &Report, now: DateTime<Utc>) -> Result<(Answer, Option<String>)> {
    let store = &app.store;
    let Some(rec) = store.pending_payment(&report.payment_id)? else {
        tracing::info!(payment = %report.payment_id, "payment report for an unknown id");
        return Ok((Answer::Unknown, None));
    };
    match next_step(rec.status, rec.amount, report) {
        Step::Nothing => Ok((Answer::Done, None)),
        Step::Mismatch => {
            mismatch(app, &rec, report, now)?;
            Ok((Answer::Mismatch, None))
        }
        Step::Mark(status) => {
            let kind = match status {
                PendingStatus::Expired => OwedKind::PayExpired,
                _ => OwedKind::PayFailed,
            };
            let changed = mark(app, &rec, status, kind, now)?;
            Ok((Answer::Done, changed.then(|| rec.chat.clone())))
        }
        Step::Apply => apply(app, &rec, report.paid_at.unwrap_or(now), now),
    }
}

/// Closes an open payment as failed or expired and tells the customer; false when it was no
/// longer open.
pub fn mark(
    app: &Core,
    rec: &PendingPayment,
    status: PendingStatus,
    kind: OwedKind,
    now: DateTime<Utc>,
) -> Result<bool> {
    let notice = notice(rec, kind, now);
    let changed = app.store.update_pending(
        &rec.payment_id,
        |p| {
            if !p.status.is_open() {
                return false;
            }
            p.status = status;
            p.updated_at = now;
            true
        },
        &notice,
    )?;
    let changed = changed.is_some_and(|(_, c)| c);
    if changed {
        tracing::info!(payment = %rec.payment_id, chat = %rec.chat, status = status.as_str(), "payment closed");
        observe(app, rec, status.as_str(), now);
    }
    Ok(changed)
}

fn apply(
    app: &Core,
    rec: &PendingPayment,
    paid_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(Answer, Option<String>)> {
    let store = &app.store;
    let tz = store
        .account(&rec.account_id)?
        .and_then(|a| a.data.timezone.parse().ok())
        .unwrap_or(crate::clock::HOUSE_TZ);
    let paid_on = paid_at.with_timezone(&tz).date_naive();
    let late = !rec.status.is_open();
    let line = receipt_line(rec);
    let receipt = Owed {
        kind: if late {
            OwedKind::PayLate
        } else {
            OwedKind::PayReceipt
        },
        lang: rec.lang,
        lines: vec![line.clone()],
        at: now,
    };
    let last = LastPaid {
        confirm_turn: rec.confirm_turn,
        items: vec![rec.item.clone()],
        lines: vec![line],
        at: now,
    };
    let notices = Notices {
        recorded: crate::store::receipt_writes(&rec.chat, &rec.payment_id, &receipt, &last),
        refund: notice(rec, OwedKind::PayRefund, now),
    };
    let policy = &app.settings.policy;
    match store.apply_confirmed(&rec.payment_id, paid_on, paid_at, policy, &notices)? {
        Applied::Recorded { late } => {
            tracing::info!(payment = %rec.payment_id, chat = %rec.chat, order = %rec.order_id, late, "payment applied");
            observe(app, rec, "applied", now);
            let today = app.clock.day_at(now, tz);
            if let Err(e) =
                crate::reminders::reschedule(store, &app.settings, &rec.account_id, today)
            {
                tracing::warn!(account = %rec.account_id, "cannot reschedule reminders: {e:#}");
            }
            Ok((Answer::Done, Some(rec.chat.clone())))
        }
        Applied::Refund(reason) => {
            tracing::warn!(payment = %rec.payment_id, chat = %rec.chat, order = %rec.order_id, "payment recorded for refund");
            observe(app, rec, "refund", now);
            let note = format!(
                "payment {} for order {} (¥{}) arrived but the order cannot take it ({reason}): refund it",
                rec.payment_id, rec.order_id, rec.amount
            );
            ticket(app, rec, &note, now)?;
            Ok((Answer::Done, Some(rec.chat.clone())))
        }
        Applied::AlreadyDone => Ok((Answer::Done, None)),
        Applied::Unknown => Ok((Answer::Unknown, None)),
    }
}

/// A reported amount that is not the one created: kept on the record and an operator ticket,
/// once per reported amount.
fn mismatch(app: &Core, rec: &PendingPayment, report: &Report, now: DateTime<Utc>) -> Result<()> {
    let note = format!(
        "payment {} for order {}: the payment API reported ¥{} ({:?}) but ¥{} was created; nothing applied",
        rec.payment_id, rec.order_id, report.amount, report.status, rec.amount
    );
    let changed = app.store.update_pending(
        &rec.payment_id,
        |p| {
            if p.notes.contains(&note) {
                return false;
            }
            p.notes.push(note.clone());
            true
        },
        &[],
    )?;
    if changed.is_some_and(|(_, c)| c) {
        tracing::warn!(payment = %rec.payment_id, chat = %rec.chat, "payment report with a different amount");
        observe(app, rec, "mismatch", now);
        ticket(app, rec, &note, now)?;
    }
    Ok(())
}

/// Opens (or finds) the chat's ticket and adds `note` for the agent.
fn ticket(app: &Core, rec: &PendingPayment, note: &str, now: DateTime<Utc>) -> Result<()> {
    let (t, new) = app.store.open_ticket(NewTicket {
        chat: &rec.chat,
        account_id: Some(&rec.account_id),
        reason: TicketReason::Request,
        case_id: None,
        lang: rec.lang,
        now,
    })?;
    if new {
        crate::ops::observe::ticket_opened(&app.store, &t);
    }
    app.store.update_ticket(t.number, |t| {
        t.notes.push(Note {
            by: 0,
            at: now,
            text: note.to_string(),
        });
        true
    })?;
    tracing::info!(ticket = t.number, payment = %rec.payment_id, "payment ticket opened");
    Ok(())
}

/// The receipt line: payment id, order, amount (as the sandbox's).
pub fn receipt_line(rec: &PendingPayment) -> String {
    format!("{}  {}  ¥{}", rec.payment_id, rec.order_id, rec.amount)
}

/// The outbox entry telling the customer about `rec`.
fn notice(rec: &PendingPayment, kind: OwedKind, now: DateTime<Utc>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let owed = Owed {
        kind,
        lang: rec.lang,
        lines: vec![receipt_line(rec)],
        at: now,
    };
    let key = crate::store::owed_key(&rec.chat, &format!("{}/{:?}", rec.payment_id, kind));
    vec![(key, Stored::new(rec.chat.as_str(), owed).to_bytes())]
}

fn observe(app: &Core, rec: &PendingPayment, status: &str, now: DateTime<Utc>) {
    let kind = match rec.kind {
        crate::domain::PaymentKind::Settlement => "settlement",
        crate::domain::PaymentKind::Installment => "installment",
    };
    crate::ops::observe::payment_at(
        &app.store,
        ("http", status),
        &rec.chat,
        &rec.payment_id,
        kind,
        rec.amount,
        now,
    );
}
