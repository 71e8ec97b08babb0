//! Payment gateways (SPEC 2.5): the `sandbox` (applies at once) and the signed `http` gateway
//! of the shop's payment API behind one seam, [`Gateway::start`], which the pay effect calls.
//! An `http` payment is recorded as pending in the store before the API is called and applied
//! only when a signed callback (callback.rs) or a status answer (reconcile.rs) confirms it
//! (outcome.rs). settings.rs types `[payments]`; sign.rs the HMAC header; client.rs the calls.

pub mod callback;
pub mod client;
pub mod outcome;
pub mod reconcile;
pub mod settings;
pub mod sign;

use crate::domain::{Payment, PaymentKind, Policy};
use crate::store::{PaymentOutcome, PendingPayment, PendingStatus, Store};
use anyhow::Result;
pub use settings::{GatewayKind, PaymentSettings};

/// Vars the payment texts may use (dialogs/text `[pay]`).
pub const TEXT_VARS: &[&str] = &["pending_lines", "pay_expires", "pending_note"];

/// One payment the customer confirmed.
pub struct Charge<'a> {
    pub order_id: &'a str,
    /// Its id, amount, day and kind (the sandbox records it as is; `http` uses id and amount).
    pub payment: Payment,
    /// The confirm's idempotency key: the same confirm arriving twice pays once.
    pub key: &'a str,
    /// Who, for the pending record and the API (`http`).
    pub pending: PendingPayment,
    /// Shown on the cashier page (`http`).
    pub description: String,
    /// For the sandbox: the record's origin and the outbox entries written with the payment.
    pub origin: &'a str,
    pub outbox: &'a [(Vec<u8>, Vec<u8>)],
}

/// How starting a payment ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Started {
    /// Applied at once (the sandbox).
    Applied(PaymentOutcome),
    /// Created at the API: the customer pays at `pay_url` before `expires_at`.
    Pending(PendingPayment),
    /// The ledger would not take it (the order changed since the quote): nothing was created.
    Declined(crate::domain::PaymentError),
    /// The API refused it (4xx): nothing to pay.
    Refused,
    /// The API did not answer (5xx or timeouts, 3 tries): try later.
    Unavailable,
}

/// A gateway, chosen by `[payments] gateway`.
pub enum Gateway {
    Sandbox,
    Http {
        client: client::Client,
        callback_url: String,
    },
}

impl Gateway {
    /// The gateway of the settings (`http` without its secret falls back to nothing: `serve`
    /// and `chat` refuse to start that way, see `PaymentSettings::check_ready`).
    pub fn from_settings(s: &PaymentSettings) -> Option<Gateway> {
        match (s.gateway, &s.http, &s.secret) {
            (GatewayKind::Sandbox, _, _) => Some(Gateway::Sandbox),
            (GatewayKind::Http, Some(http), Some(secret)) => Some(Gateway::Http {
                client: client::Client::new(http, secret.clone()),
                callback_url: http.callback_url.clone(),
            }),
            _ => None,
        }
    }

    /// Starts the payment. The sandbox records it at once; `http` records it as pending (flushed)
    /// and then creates it at the API with the same id on every try.
    pub fn start(&self, store: &Store, policy: &Policy, charge: Charge) -> Result<Started> {
        match self {
            Gateway::Sandbox => Ok(Started::Applied(store.record_payment_owing(
                charge.order_id,
                charge.payment,
                charge.key,
                charge.origin,
                policy,
                charge.outbox,
            )?)),
            Gateway::Http {
                client,
                callback_url,
            } => {
                // Never send the customer to a cashier for money the order cannot take.
                if let Some(e) = store.payment_refusal(charge.order_id, &charge.payment, policy)? {
                    return Ok(Started::Declined(e));
                }
                start_http(store, client, callback_url, charge)
            }
        }
    }
}

fn start_http(
    store: &Store,
    client: &client::Client,
    callback_url: &str,
    charge: Charge,
) -> Result<Started> {
    let (rec, new) = store.start_pending(charge.key, &charge.pending)?;
    if !new && rec.status != PendingStatus::Creating {
        // The same confirm again: what the first one started stands.
        return Ok(match rec.status {
            PendingStatus::NotStarted => Started::Unavailable,
            _ => Started::Pending(rec),
        });
    }
    let body = client::CreateBody {
        payment_id: rec.payment_id.clone(),
        account_id: rec.account_id.clone(),
        order_id: rec.order_id.clone(),
        kind: kind_str(rec.kind).into(),
        amount: format!("{:.2}", rec.amount),
        currency: "CNY".into(),
        description: charge.description,
        callback_url: callback_url.to_string(),
        expires_at: rec.expires_at.to_rfc3339(),
    };
    let (created, tries) = client::block_on(client.create(&body))?;
    let now = rec.created_at;
    let (status, url) = match &created {
        client::Created::Pending { pay_url } => (PendingStatus::Pending, Some(pay_url.clone())),
        _ => (PendingStatus::NotStarted, None),
    };
    let updated = store.update_pending(
        &rec.payment_id,
        |p| {
            p.tries += tries;
            if p.status == PendingStatus::Creating {
                p.status = status;
                p.pay_url = url.clone();
                p.updated_at = now;
            }
            true
        },
        &[],
    )?;
    let rec = updated.map_or(rec, |(r, _)| r);
    tracing::info!(payment = %rec.payment_id, tries, status = rec.status.as_str(), "payment created at the API");
    Ok(match created {
        client::Created::Pending { .. } => Started::Pending(rec),
        client::Created::Refused { .. } => Started::Refused,
        client::Created::Unavailable => Started::Unavailable,
    })
}

pub fn kind_str(kind: PaymentKind) -> &'static str {
    match kind {
        PaymentKind::Settlement => "settlement",
        PaymentKind::Installment => "installment",
    }
}
