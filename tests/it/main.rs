//! The one integration-test binary: every test module of the project.

mod chat_robustness;
mod confirm_strict;
mod dialog;
mod domain;
mod domain_props;
mod fake_telegram;
mod import;
mod import_hardening;
mod ledger_props;
mod negotiation;
mod nlu;
mod nlu_model;
mod nlu_traffic;
mod ops;
mod overdue_help;
mod payment_ids;
mod reminders;
mod reminders_plan;
mod reminders_restart;
mod same_day;
mod support;
mod telegram_e2e;
mod telegram_limits;
mod telegram_units;
mod tidy;
mod transcripts;
