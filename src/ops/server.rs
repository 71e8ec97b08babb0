//! The operations HTTP server of `serve --metrics-listen ADDR`: `GET /metrics` (the registry's
//! text) and `GET /healthz` (200 while the front end receives updates and the store answers,
//! 503 with the reason otherwise). It runs beside the bot, on its own thread and runtime, so
//! the bot's front end needs no change to serve it.

use super::health::Health;
use super::metrics::{Metrics, CONTENT_TYPE};
use crate::store::Store;
use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the endpoints read.
#[derive(Clone)]
pub struct OpsState {
    pub metrics: Arc<Metrics>,
    pub health: Health,
    pub store: Store,
}

impl OpsState {
    /// The process's metrics and health handle with this store.
    pub fn global(store: Store) -> OpsState {
        OpsState {
            metrics: super::metrics::global(),
            health: super::health::global(),
            store,
        }
    }
}

pub fn router(state: OpsState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(state)
}

async fn metrics(State(s): State<OpsState>) -> impl IntoResponse {
    s.metrics.store_flushes(s.store.flushes(), s.store.syncs());
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], s.metrics.render())
}

async fn healthz(State(s): State<OpsState>) -> impl IntoResponse {
    let store = s.store.clone();
    let store_ok = tokio::task::spawn_blocking(move || store.ping().is_ok())
        .await
        .unwrap_or(false);
    match (s.health.front_end_alive(), store_ok) {
        (true, true) => (StatusCode::OK, "ok\n"),
        (false, _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "telegram front end silent\n",
        ),
        (true, false) => (StatusCode::SERVICE_UNAVAILABLE, "store not answering\n"),
    }
}

/// Serves the router on `addr` until `shutdown` completes.
pub async fn serve_metrics(
    addr: SocketAddr,
    state: OpsState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--metrics-listen {addr}: cannot listen"))?;
    serve_on(listener, state, shutdown).await
}

/// Serves the router on a bound listener (tests bind port 0 and read the address).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: OpsState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("metrics server")
}

/// The server running on its own thread; dropping it stops the server and joins the thread.
pub struct MetricsServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `addr` (an error now, not later, when it is taken) and serves on a thread of its own.
pub fn spawn_metrics_server(addr: SocketAddr, state: OpsState) -> Result<MetricsServer> {
    // The open-tickets gauge starts from the store, so it is right after a restart.
    match state.store.open_tickets() {
        Ok(open) => state.metrics.tickets_open(open.len() as i64),
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not count open tickets"),
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the metrics runtime")?;
    let std_listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("--metrics-listen {addr}: cannot listen"))?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("repaybot-metrics".into())
        .spawn(move || {
            runtime.block_on(async move {
                let served = match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(l) => {
                        serve_on(l, state, async move {
                            let _ = stopped.await;
                        })
                        .await
                    }
                    Err(e) => Err(e.into()),
                };
                if let Err(e) = served {
                    tracing::error!(error = %format!("{e:#}"), "the metrics server stopped");
                }
            });
        })
        .context("starting the metrics thread")?;
    tracing::info!(%bound, "serving /metrics and /healthz");
    Ok(MetricsServer {
        addr: bound,
        stop: Some(stop),
        thread: Some(thread),
    })
}
