//! The `http` payment gateway (SPEC 2.5, issue 14): the signature (sign.rs), the status rules
//! and the exactly-once property on a real store (rules.rs), and the real `serve` binary
//! against a fake payment API on loopback and the fake Bot API (e2e.rs, fake_api.rs).

mod dialog;
mod e2e;
mod fake_api;
mod harness;
mod reconcile;
mod rules;
mod settings;
mod sign;
mod terminal;
