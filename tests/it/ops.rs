//! Operations (SPEC 2.6): events for the report, the report itself, metrics and health,
//! progress on long work.

mod deploy;
mod events;
mod metrics;
mod progress;
mod report;
pub mod serve;
mod wired;
