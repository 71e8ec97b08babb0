//! The one integration-test binary: every test module of the project.

mod chat_robustness;
mod dialog;
mod domain;
mod domain_props;
mod fake_telegram;
mod import;
mod negotiation;
mod nlu;
mod nlu_model;
mod nlu_traffic;
mod reminders;
mod support;
mod telegram_e2e;
mod telegram_units;
mod tidy;
mod transcripts;
