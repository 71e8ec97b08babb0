//! repaybot: a customer-service assistant for a consumer-installment shop.
//!
//! The pure core (`domain`, `nlu`, `dialog`) never does I/O, never reads the clock and never
//! uses floats; `store`, `import`, `app` and the command line are the edges around it.

pub mod app;
pub mod cli;
pub mod clock;
pub mod core;
pub mod demo;
pub mod dialog;
pub mod domain;
pub mod embedded;
pub mod import;
pub mod nlu;
pub mod ops;
pub mod payments;
pub mod reminders;
pub mod report;
pub mod settings;
pub mod statement;
pub mod store;
pub mod support;
pub mod telegram;
