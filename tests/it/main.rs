//! The one integration-test binary: every test module of the project.

mod binding;
mod chat_robustness;
mod confirmations;
mod dialog;
mod domain;
mod domain_props;
mod fake_telegram;
mod import;
mod negotiation;
mod nlu;
mod receipts;
mod reminders;
mod support;
mod telegram_e2e;
mod telegram_units;
mod tidy;
mod transcripts;
