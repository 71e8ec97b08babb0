//! One settings struct, loaded at the edge from the TOML config file, validated before use.
//! Unknown keys and bad numbers are start-up errors, never silent fallbacks.

use crate::domain::Policy;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::Path;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub policy: Policy,
    pub payments: PaymentSettings,
    pub support: crate::support::SupportSettings,
    /// Reminder defaults of SPEC 4.10 (`[reminders]`).
    pub reminders: crate::reminders::RemindPolicy,
    /// Operations (`[ops]`, SPEC 2.6): how long report events are kept.
    pub ops: OpsSettings,
    /// Language understanding (`[nlu]`).
    pub nlu: NluSettings,
}

/// `[ops]`: the operations events behind `repaybot report`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpsSettings {
    /// Events older than this many days are pruned (default 400: a year and a season to compare).
    pub keep_days: u32,
}

impl Default for OpsSettings {
    fn default() -> Self {
        OpsSettings { keep_days: 400 }
    }
}

impl OpsSettings {
    /// Every problem with the values, worded for the operator.
    pub fn problems(&self) -> Vec<String> {
        if (1..=3650).contains(&self.keep_days) {
            Vec::new()
        } else {
            vec![format!(
                "ops.keep_days is {}: it must be between 1 and 3650",
                self.keep_days
            )]
        }
    }
}

/// `[nlu]`: whether messages not understood are kept (redacted) for `repaybot nlu review`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NluSettings {
    pub keep_unknown: bool,
}

impl Default for NluSettings {
    fn default() -> Self {
        NluSettings { keep_unknown: true }
    }
}

pub use crate::payments::settings::{GatewayKind, PaymentSettings};

impl Settings {
    /// Reads and validates the config file; `None` gives the built-in defaults of SPEC 4.
    pub fn load(path: Option<&Path>) -> Result<Settings> {
        let settings = match path {
            None => Settings::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config {}", p.display()))?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {}", p.display(), e.to_string().trim()))?
            }
        };
        let mut problems = settings.policy.problems();
        problems.extend(settings.support.problems());
        problems.extend(settings.reminders.problems());
        problems.extend(settings.ops.problems());
        if !problems.is_empty() {
            bail!("invalid settings: {}", problems.join("; "));
        }
        let mut settings = settings;
        // The payment secret comes from the environment only (SPEC 2.5), never the file.
        settings.payments = settings
            .payments
            .with_secret(std::env::var(crate::payments::settings::SECRET_ENV).ok());
        Ok(settings)
    }
}

/// A secret (the bot token, the webhook secret): `Debug` and `Display` print `***`, so it never
/// reaches a log or an error message; [`Secret::expose`] gives the value where it is used.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}
