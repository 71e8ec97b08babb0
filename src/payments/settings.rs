//! `[payments]` (SPEC 2.5) as typed values: the raw TOML table is checked into
//! [`PaymentSettings`] when the config is read, so a bad URL or address stops the start. The
//! shared secret never comes from the file: only `REPAYBOT_PAYMENT_SECRET` fills it.

use crate::settings::Secret;
use anyhow::{bail, Result};
use serde::Deserialize;
use std::net::SocketAddr;

/// The environment variable holding the shared secret of the `http` gateway.
pub const SECRET_ENV: &str = "REPAYBOT_PAYMENT_SECRET";

/// Which gateway takes the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayKind {
    /// Confirms at once and says it is a sandbox.
    Sandbox,
    /// The shop's payment API (SPEC 2.5).
    Http,
}

impl GatewayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayKind::Sandbox => "sandbox",
            GatewayKind::Http => "http",
        }
    }
}

/// Where the `http` gateway talks to the shop's payment API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// e.g. `https://pay.shop.example/api` (no trailing slash).
    pub api_url: String,
    /// The public URL the API posts callbacks to.
    pub callback_url: String,
    /// The address the callback server listens on.
    pub callback_listen: SocketAddr,
}

/// `[payments]`, checked (from [`RawPayments`] by `TryFrom`).
#[derive(Clone, Debug)]
pub struct PaymentSettings {
    pub gateway: GatewayKind,
    /// Set with `gateway = "http"`.
    pub http: Option<HttpSettings>,
    /// Minutes a payment may stay pending before the customer sees it as expired.
    pub pending_minutes: u32,
    /// From `REPAYBOT_PAYMENT_SECRET` only (`Settings::load`); prints as `***`.
    pub secret: Option<Secret>,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            gateway: GatewayKind::Sandbox,
            http: None,
            pending_minutes: 30,
            secret: None,
        }
    }
}

/// `[payments]` as written in the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawPayments {
    pub gateway: String,
    pub api_url: Option<String>,
    pub callback_url: Option<String>,
    pub callback_listen: Option<String>,
    pub pending_minutes: u32,
}

impl Default for RawPayments {
    fn default() -> Self {
        RawPayments {
            gateway: "sandbox".into(),
            api_url: None,
            callback_url: None,
            callback_listen: None,
            pending_minutes: 30,
        }
    }
}

impl TryFrom<RawPayments> for PaymentSettings {
    type Error = String;

    fn try_from(raw: RawPayments) -> Result<Self, String> {
        let mut problems = Vec::new();
        let gateway = match raw.gateway.as_str() {
            "sandbox" => GatewayKind::Sandbox,
            "http" => GatewayKind::Http,
            other => {
                return Err(format!(
                    "payments.gateway '{other}' is unknown (use sandbox or http)"
                ))
            }
        };
        if !(1..=1440).contains(&raw.pending_minutes) {
            problems.push(format!(
                "payments.pending_minutes is {}: it must be between 1 and 1440",
                raw.pending_minutes
            ));
        }
        let http = match gateway {
            GatewayKind::Sandbox => None,
            GatewayKind::Http => http_settings(&raw, &mut problems),
        };
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(PaymentSettings {
            gateway,
            http,
            pending_minutes: raw.pending_minutes,
            secret: None,
        })
    }
}

fn http_settings(raw: &RawPayments, problems: &mut Vec<String>) -> Option<HttpSettings> {
    let url = |name: &str, value: &Option<String>, problems: &mut Vec<String>| match value {
        None => {
            problems.push(format!(
                "payments.{name} is required with gateway = \"http\""
            ));
            None
        }
        Some(v) => match reqwest::Url::parse(v) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Some(v.trim_end_matches('/').to_string())
            }
            _ => {
                problems.push(format!("payments.{name} '{v}' is not an http(s) URL"));
                None
            }
        },
    };
    let api_url = url("api_url", &raw.api_url, problems);
    let callback_url = url("callback_url", &raw.callback_url, problems);
    let listen = match &raw.callback_listen {
        None => {
            problems.push("payments.callback_listen is required with gateway = \"http\"".into());
            None
        }
        Some(a) => match a.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                problems.push(format!(
                    "payments.callback_listen '{a}' is not an address like 0.0.0.0:8444"
                ));
                None
            }
        },
    };
    Some(HttpSettings {
        api_url: api_url?,
        callback_url: callback_url?,
        callback_listen: listen?,
    })
}

impl PaymentSettings {
    /// Takes the secret from the environment value (empty counts as unset).
    pub fn with_secret(mut self, value: Option<String>) -> Self {
        self.secret = value.filter(|v| !v.trim().is_empty()).map(Secret::new);
        self
    }

    /// `serve` and `chat` refuse to start with the `http` gateway and no secret.
    pub fn check_ready(&self) -> Result<()> {
        if self.gateway == GatewayKind::Http && self.secret.is_none() {
            bail!("payments.gateway is \"http\" but {SECRET_ENV} is not set: export the secret shared with the payment API");
        }
        Ok(())
    }
}
