//! The one integration-test binary: every test module of the project.

mod chat_robustness;
mod dialog;
mod domain;
mod domain_props;
mod import;
mod negotiation;
mod nlu;
mod reminders;
mod support;
mod tidy;
mod transcripts;
