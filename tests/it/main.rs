//! The one integration-test binary: every test module of the project.

mod chat_robustness;
mod dialog;
mod domain;
mod domain_props;
mod fake_telegram;
mod import;
mod import_hardening;
mod ledger_props;
mod negotiation;
mod nlu;
mod one_clock;
mod overdue_help;
mod payment_ids;
mod reminders;
mod reminders_plan;
mod reminders_restart;
mod same_day;
mod secrets;
mod support;
mod telegram_e2e;
mod telegram_units;
mod tidy;
mod transcripts;
