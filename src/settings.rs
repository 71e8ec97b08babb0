//! One settings struct, loaded at the edge from the TOML config file, validated before use.
//! Unknown keys and bad numbers are start-up errors, never silent fallbacks.

use crate::domain::Policy;
use anyhow::{anyhow, Context, Result};
use serde::Deserialize;
use std::path::Path;

/// The checked settings every part reads (built from [`RawSettings`] by `TryFrom`).
#[derive(Clone, Debug, Default)]
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

/// The config file as TOML gives it: sections whose values are checked and typed on the way to
/// [`Settings`] (times, zones, languages), or kept as they are when serde already types them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    pub policy: Policy,
    pub payments: crate::payments::settings::RawPayments,
    pub support: crate::support::SupportConfig,
    pub reminders: crate::reminders::RemindPolicy,
    pub ops: OpsSettings,
    pub nlu: NluSettings,
}

impl TryFrom<RawSettings> for Settings {
    /// Every problem of the file, worded for the operator.
    type Error = Vec<String>;

    fn try_from(raw: RawSettings) -> Result<Settings, Vec<String>> {
        let mut problems = raw.policy.problems();
        let support = crate::support::SupportSettings::try_from(raw.support);
        if let Err(p) = &support {
            problems.extend(p.iter().cloned());
        }
        problems.extend(raw.reminders.problems());
        problems.extend(raw.ops.problems());
        let payments = PaymentSettings::try_from(raw.payments);
        if let Err(p) = &payments {
            problems.push(p.clone());
        }
        match (support, payments) {
            (Ok(support), Ok(payments)) if problems.is_empty() => Ok(Settings {
                policy: raw.policy,
                payments,
                support,
                reminders: raw.reminders,
                ops: raw.ops,
                nlu: raw.nlu,
            }),
            _ => Err(problems),
        }
    }
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
    /// Reads and checks the config file; `None` gives the built-in defaults of SPEC 4.
    pub fn load(path: Option<&Path>) -> Result<Settings> {
        let raw: RawSettings = match path {
            None => RawSettings::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config {}", p.display()))?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {}", p.display(), e.to_string().trim()))?
            }
        };
        Settings::checked(raw)
    }

    /// Settings from TOML text (tests and tools): the same checks as [`Settings::load`].
    pub fn from_toml(text: &str) -> Result<Settings> {
        let raw: RawSettings =
            toml::from_str(text).map_err(|e| anyhow!("{}", e.to_string().trim()))?;
        Settings::checked(raw)
    }

    /// The checked settings, with the payment secret from the environment only (SPEC 2.5),
    /// never the file.
    fn checked(raw: RawSettings) -> Result<Settings> {
        let mut settings = Settings::try_from(raw)
            .map_err(|problems| anyhow!("invalid settings: {}", problems.join("; ")))?;
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
