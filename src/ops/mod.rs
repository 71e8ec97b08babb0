//! Operating the bot (SPEC 2.6): Prometheus metrics, the health state behind `/healthz`, the
//! small HTTP server for both, and progress reporting for long commands. Nothing here decides
//! anything for a customer; it only counts, reports and shows.

pub mod health;
pub mod metrics;
pub mod observe;
pub mod progress;
pub mod server;

pub use health::Health;
pub use server::{router, serve_metrics, spawn_metrics_server, MetricsServer, OpsState};
