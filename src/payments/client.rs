//! The bot's calls to the shop's payment API (SPEC 2.5): create (a signed POST that reuses the
//! same `payment_id` on every try: 3 tries on a 5xx or no answer within 10 s) and status (a
//! signed GET whose answer must be signed too). reqwest with rustls, the TLS stack teloxide
//! already brings. Knows HTTP only: never the store, never logs the secret or an amount.

use super::outcome::{parse_report, Report};
use super::settings::HttpSettings;
use super::sign;
use crate::settings::Secret;
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How many create calls are made at most.
pub const CREATE_TRIES: u32 = 3;
/// How long one call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The create body of SPEC 2.5.
#[derive(Clone, Debug, Serialize)]
pub struct CreateBody {
    pub payment_id: String,
    pub account_id: String,
    pub order_id: String,
    /// `installment` or `settlement`.
    pub kind: String,
    /// Two decimals, e.g. `"500.00"`.
    pub amount: String,
    pub currency: String,
    pub description: String,
    pub callback_url: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// How a create ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// 200/201 with the cashier link.
    Pending { pay_url: String },
    /// A 4xx: the API will not take it.
    Refused { status: u16 },
    /// 5xx, no answer or a bad answer on every try.
    Unavailable,
}

#[derive(Deserialize)]
struct CreateAnswer {
    payment_id: String,
    status: String,
    pay_url: String,
}

/// A client of one payment API.
#[derive(Clone, Debug)]
pub struct Client {
    api_url: String,
    secret: Secret,
    timeout: Duration,
}

impl Client {
    pub fn new(settings: &HttpSettings, secret: Secret) -> Client {
        Client {
            api_url: settings.api_url.trim_end_matches('/').to_string(),
            secret,
            timeout: CALL_TIMEOUT,
        }
    }

    /// The same client with another per-call timeout (tests: a short one).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    fn http(&self) -> Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .context("building the payment API client")
    }

    /// Creates the payment; returns how it ended and the number of calls made.
    pub async fn create(&self, body: &CreateBody) -> (Created, u32) {
        let Ok(http) = self.http() else {
            return (Created::Unavailable, 0);
        };
        let url = format!("{}/payments", self.api_url);
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        for attempt in 1..=CREATE_TRIES {
            let t = crate::clock::wall_now().timestamp();
            let sent = http
                .post(&url)
                .header(sign::HEADER, sign::sign(&self.secret, t, &bytes))
                .header("content-type", "application/json")
                .body(bytes.clone())
                .send()
                .await;
            match sent {
                Ok(resp) if resp.status().is_success() => {
                    match read_created(resp, &body.payment_id).await {
                        Some(pay_url) => return (Created::Pending { pay_url }, attempt),
                        None => {
                            tracing::warn!(payment = %body.payment_id, attempt, "payment API answered create with an unusable body")
                        }
                    }
                }
                Ok(resp) if resp.status().is_client_error() => {
                    let status = resp.status().as_u16();
                    tracing::warn!(payment = %body.payment_id, status, "payment API refused the payment");
                    return (Created::Refused { status }, attempt);
                }
                Ok(resp) => {
                    tracing::warn!(payment = %body.payment_id, attempt, status = resp.status().as_u16(), "payment API create failed")
                }
                Err(e) => {
                    tracing::warn!(payment = %body.payment_id, attempt, timeout = e.is_timeout(), "payment API create not answered")
                }
            }
            if attempt < CREATE_TRIES {
                tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
            }
        }
        (Created::Unavailable, CREATE_TRIES)
    }

    /// Asks for a payment's status; the answer must carry a valid signature.
    pub async fn status(&self, payment_id: &str) -> Result<Report> {
        let http = self.http()?;
        let url = format!("{}/payments/{payment_id}", self.api_url);
        let t = crate::clock::wall_now().timestamp();
        let resp = http
            .get(&url)
            .header(sign::HEADER, sign::sign(&self.secret, t, b""))
            .send()
            .await
            .context("asking the payment API")?;
        if !resp.status().is_success() {
            bail!("the payment API answered {}", resp.status().as_u16());
        }
        let header = resp
            .headers()
            .get(sign::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.bytes().await.context("reading the status answer")?;
        let now = crate::clock::wall_now().timestamp();
        sign::verify(&self.secret, header.as_deref(), &body, now)
            .map_err(|e| anyhow!("status answer refused: {e}"))?;
        let report = parse_report(&body, true).map_err(|e| anyhow!("status answer: {e}"))?;
        if report.payment_id != payment_id {
            bail!("the status answer names another payment");
        }
        Ok(report)
    }
}

async fn read_created(resp: reqwest::Response, payment_id: &str) -> Option<String> {
    let answer: CreateAnswer = resp.json().await.ok()?;
    let url = reqwest::Url::parse(&answer.pay_url).ok()?;
    let ok = answer.payment_id == payment_id
        && answer.status == "pending"
        && matches!(url.scheme(), "http" | "https");
    ok.then_some(answer.pay_url)
}

/// Runs `fut` to completion from synchronous code (a turn runs on a blocking thread): on a
/// thread of its own with a small runtime, so it works inside or outside another runtime.
pub fn block_on<F>(fut: F) -> Result<F::Output>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the payment client runtime")?;
            Ok(rt.block_on(fut))
        })
        .join()
        .map_err(|_| anyhow!("the payment client thread panicked"))?
    })
}
