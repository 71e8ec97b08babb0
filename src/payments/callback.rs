//! The callback endpoint of the `http` gateway (SPEC 2.5): `POST {callback_url}` from the
//! payment API. 401 for a missing, malformed, stale or wrong signature (checked before the body
//! is read as JSON), 400 for a body that is not the report JSON, 404 for an unknown payment,
//! 422 for an amount that differs, 200 only once the outcome is durable. The customer is told
//! through the outbox (`notify` sends what is owed to the chat).

use super::outcome::{parse_report, Answer, Report};
use super::sign;
use crate::core::Core;
use crate::settings::Secret;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::Arc;

/// Tells a front end that a chat has replies owed (a receipt, a notice).
pub type Notify = Arc<dyn Fn(String) + Send + Sync>;

/// Applies a checked report (a callback's or a status answer's) durably and says how it was
/// answered and which chat has something new: the front end hands in the app's
/// `App::handle(Event::PaymentReport)`, so the decision and its one flush happen there.
pub type Apply = Arc<
    dyn Fn(Report, chrono::DateTime<chrono::Utc>) -> anyhow::Result<(Answer, Option<String>)>
        + Send
        + Sync,
>;

/// Test hook, never set in production: milliseconds the endpoint waits after the outcome is
/// durable and before it answers (tests/it/payments: a SIGKILL in that window).
pub const TEST_DELAY_ENV: &str = "REPAYBOT_TEST_CALLBACK_DELAY_MS";

#[derive(Clone)]
pub struct CallbackState {
    pub app: Arc<Core>,
    pub secret: Secret,
    pub notify: Notify,
    pub apply: Apply,
}

/// The router answering `path` (the path of `callback_url`).
pub fn router(state: CallbackState, path: &str) -> axum::Router {
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    axum::Router::new()
        .route(&path, axum::routing::post(callback))
        .with_state(state)
}

async fn callback(State(s): State<CallbackState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = headers.get(sign::HEADER).and_then(|v| v.to_str().ok());
    let now = crate::clock::wall_now().timestamp();
    if let Err(e) = sign::verify(&s.secret, header, &body, now) {
        tracing::warn!(reason = %e, "payment callback refused");
        return StatusCode::UNAUTHORIZED;
    }
    let report = match parse_report(&body, false) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(reason = %e, "payment callback body refused");
            return StatusCode::BAD_REQUEST;
        }
    };
    let (app, apply) = (Arc::clone(&s.app), Arc::clone(&s.apply));
    let handled = tokio::task::spawn_blocking(move || apply(report, app.clock.now())).await;
    let (answer, chat) = match handled {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "payment callback failed");
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let Some(ms) = std::env::var(TEST_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if let Some(chat) = chat {
        (s.notify)(chat);
    }
    match answer {
        Answer::Done => StatusCode::OK,
        Answer::Unknown => StatusCode::NOT_FOUND,
        Answer::Mismatch => StatusCode::UNPROCESSABLE_ENTITY,
    }
}
