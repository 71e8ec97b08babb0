//! Reconciliation and the `http` gateway's background work: at start and every minute, a status
//! query for each payment open longer than 2 minutes (a lost callback costs minutes, not money),
//! and expiry after `pending_minutes`. [`run_once`] is one pass (what tests call); [`start`]
//! runs it in a loop next to the callback server until [`PaymentTasks::stop`].

use super::callback::{self, Apply, CallbackState, Notify};
use super::client::Client;
use super::outcome::{Report, ReportStatus};
use crate::core::Core;
use crate::store::PendingPayment;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// A payment open this long gets a status query.
pub const QUERY_AFTER_MINUTES: i64 = 2;
/// How often the reconciler runs.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// Test hook, never set in production: the reconciler runs every this many milliseconds and
/// queries every open payment at once (no 2-minute wait). tests/it/payments uses it.
pub const TEST_INTERVAL_ENV: &str = "REPAYBOT_TEST_RECONCILE_MS";

/// One pass: returns the chats with something new to be told.
pub async fn run_once(
    app: &Arc<Core>,
    apply: &Apply,
    client: &Client,
    query_after: chrono::Duration,
) -> Vec<String> {
    let now = app.clock.now();
    let store = app.store.clone();
    let records = match tokio::task::spawn_blocking(move || store.pending_payments()).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "cannot read pending payments");
            return Vec::new();
        }
        Err(_) => return Vec::new(),
    };
    let mut chats = Vec::new();
    for rec in records
        .into_iter()
        .filter(|r| r.status.is_open() && now - r.created_at >= query_after)
    {
        let answer = client.status(&rec.payment_id).await;
        let apply = Arc::clone(apply);
        let id = rec.payment_id.clone();
        match tokio::task::spawn_blocking(move || settle(&apply, &rec, answer, now)).await {
            Ok(Ok(Some(chat))) => chats.push(chat),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!(payment = %id, error = %format!("{e:#}"), "cannot reconcile a payment")
            }
            Err(_) => {}
        }
    }
    chats.sort();
    chats.dedup();
    chats
}

/// What a status answer (or its absence) does to an open payment.
fn settle(
    apply: &Apply,
    rec: &PendingPayment,
    answer: Result<Report>,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    match answer {
        Ok(report) if report.status != ReportStatus::Pending => {
            return Ok(apply(report, now)?.1);
        }
        Ok(_) => {}
        Err(e) => {
            tracing::info!(payment = %rec.payment_id, error = %format!("{e:#}"), "payment status query failed")
        }
    }
    if now < rec.expires_at {
        return Ok(None);
    }
    // Past `pending_minutes` without an answer: the same as the API reporting it expired.
    let expired = Report {
        payment_id: rec.payment_id.clone(),
        status: ReportStatus::Expired,
        amount: rec.amount,
        paid_at: None,
    };
    Ok(apply(expired, now)?.1)
}

/// The callback server and the reconciler, running until [`PaymentTasks::stop`].
pub struct PaymentTasks {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub addr: std::net::SocketAddr,
}

/// Starts both on the current runtime when the gateway is `http` (None for the sandbox).
pub async fn start(app: Arc<Core>, apply: Apply, notify: Notify) -> Result<Option<PaymentTasks>> {
    let settings = &app.settings.payments;
    let (Some(http), Some(secret)) = (settings.http.clone(), settings.secret.clone()) else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(http.callback_listen)
        .await
        .with_context(|| {
            format!(
                "payments.callback_listen {}: cannot listen",
                http.callback_listen
            )
        })?;
    let addr = listener.local_addr()?;
    let path = reqwest::Url::parse(&http.callback_url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| "/".into());
    let state = CallbackState {
        app: Arc::clone(&app),
        secret: secret.clone(),
        notify: Arc::clone(&notify),
        apply: Arc::clone(&apply),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut server_stop = stopped.clone();
    let server = tokio::spawn(async move {
        let served = axum::serve(listener, callback::router(state, &path))
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the payment callback server stopped");
        }
    });
    tracing::info!(listen = %addr, "serving payment callbacks");
    let client = Client::new(&http, secret);
    let reconciler = tokio::spawn(reconcile_loop(app, apply, client, notify, stopped));
    Ok(Some(PaymentTasks {
        stop,
        tasks: vec![server, reconciler],
        addr,
    }))
}

async fn reconcile_loop(
    app: Arc<Core>,
    apply: Apply,
    client: Client,
    notify: Notify,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let test_ms = std::env::var(TEST_INTERVAL_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let (every, after) = match test_ms {
        Some(ms) => (Duration::from_millis(ms.max(10)), chrono::Duration::zero()),
        None => (INTERVAL, chrono::Duration::minutes(QUERY_AFTER_MINUTES)),
    };
    loop {
        for chat in run_once(&app, &apply, &client, after).await {
            notify(chat);
        }
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => break,
            () = tokio::time::sleep(every) => {}
        }
    }
}

impl PaymentTasks {
    /// Stops the server (answers in hand finish) and the reconciler (after its pass in hand).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// For the terminal chat: the same tasks on a runtime of their own thread, stopped when the
/// returned guard is dropped. Replies owed are shown by the chat at its next turn.
pub struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn start_in_thread(app: Arc<Core>, apply: Apply) -> Result<Option<Background>> {
    if app.settings.payments.gateway != super::GatewayKind::Http {
        return Ok(None);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the payments runtime")?;
    let notify: Notify = Arc::new(|_chat| {});
    let tasks = runtime.block_on(start(app, apply, notify))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("repaybot-payments".into())
        .spawn(move || {
            runtime.block_on(async move {
                let _ = stopped.await;
                if let Some(t) = tasks {
                    t.stop().await;
                }
            });
        })
        .context("starting the payments thread")?;
    Ok(Some(Background {
        stop: Some(stop),
        thread: Some(thread),
    }))
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
