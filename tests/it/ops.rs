//! Operations (SPEC 2.6): events for the report, the report itself, metrics and health,
//! progress on long work.

mod deploy;
mod events;
mod metrics;
mod progress;
mod recorded;
mod report;
pub mod serve;
mod serve_counts;
mod wired;
