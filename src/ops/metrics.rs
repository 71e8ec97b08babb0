//! The Prometheus metrics of SPEC 2.6, registered once, with one small function per thing the
//! bot counts. Labels carry intents, kinds, reasons, methods, gateways and statuses only: a
//! label value that looks like anything else (digits, spaces, long text) is recorded as
//! `other`, so no id, phone, name or message text can become a label.
//!
//! Why `prometheus-client` and not the `metrics` facade with `metrics-exporter-prometheus`: it
//! adds three small crates here (prometheus-client, its derive macro, dtoa; parking_lot and syn
//! were already built), while the exporter brings `metrics-util` (quanta, crossbeam,
//! sketches-ddsketch, indexmap...) and a global recorder that parallel tests would share. Its
//! text is the OpenMetrics exposition, which Prometheus scrapes natively.

use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

/// The content type of `render`'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of `repaybot_turn_seconds`, in seconds.
const TURN_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntentLabel {
    intent: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GatewayLabel {
    gateway: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GatewayStatusLabel {
    gateway: String,
    status: String,
}

/// A label value as recorded: kept when it is a short code word (a letter first, then letters,
/// digits, `_ - + .`, at most 40 characters and 3 digits), `other` otherwise.
pub fn label(value: &str) -> String {
    let code_like = value.len() <= 40
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+.".contains(c))
        && value.chars().filter(char::is_ascii_digit).count() <= 3;
    if code_like {
        value.to_string()
    } else {
        "other".to_string()
    }
}

/// Every metric of SPEC 2.6 in one registry.
pub struct Metrics {
    registry: Registry,
    updates: Family<KindLabel, Counter>,
    turns: Family<IntentLabel, Counter>,
    turn_seconds: Histogram,
    nlu_unknown: Counter,
    replies_queued: Gauge,
    telegram_errors: Family<MethodLabel, Counter>,
    payments: Family<GatewayStatusLabel, Counter>,
    payments_amount: Family<GatewayLabel, Counter<f64, AtomicU64>>,
    reminders_sent: Family<KindLabel, Counter>,
    reminders_failed: Counter,
    tickets_opened: Family<ReasonLabel, Counter>,
    tickets_open: Gauge,
    /// Debug: `App::handle` calls moved off the async threads (one per handled event).
    blocking_hops: Counter,
    /// Debug: store flushes in this process (set from the store's count at each scrape).
    store_flushes: Gauge,
    /// Debug: disk syncs that served those flushes (group commit).
    store_syncs: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry (tests make their own; the bot uses [`global`]).
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            updates: Family::default(),
            turns: Family::default(),
            turn_seconds: Histogram::new(TURN_BUCKETS),
            nlu_unknown: Counter::default(),
            replies_queued: Gauge::default(),
            telegram_errors: Family::default(),
            payments: Family::default(),
            payments_amount: Family::default(),
            reminders_sent: Family::default(),
            reminders_failed: Counter::default(),
            tickets_opened: Family::default(),
            tickets_open: Gauge::default(),
            blocking_hops: Counter::default(),
            store_flushes: Gauge::default(),
            store_syncs: Gauge::default(),
        };
        let r = &mut m.registry;
        // Counters are registered without `_total`; the encoder appends it.
        r.register(
            "repaybot_updates",
            "Telegram updates received, by kind",
            m.updates.clone(),
        );
        r.register(
            "repaybot_turns",
            "Conversation turns, by recognised intent",
            m.turns.clone(),
        );
        r.register(
            "repaybot_turn_seconds",
            "Time to handle one turn",
            m.turn_seconds.clone(),
        );
        r.register(
            "repaybot_nlu_unknown",
            "Messages not understood",
            m.nlu_unknown.clone(),
        );
        r.register(
            "repaybot_replies_queued",
            "Replies waiting to be sent",
            m.replies_queued.clone(),
        );
        r.register(
            "repaybot_telegram_errors",
            "Bot API calls that failed, by method",
            m.telegram_errors.clone(),
        );
        r.register(
            "repaybot_payments",
            "Payments through the bot, by gateway and status",
            m.payments.clone(),
        );
        r.register(
            "repaybot_payments_amount_cny",
            "Amount of applied payments through the bot (CNY)",
            m.payments_amount.clone(),
        );
        r.register(
            "repaybot_reminders_sent",
            "Reminders sent, by kind (D-3, D0, D+1...)",
            m.reminders_sent.clone(),
        );
        r.register(
            "repaybot_reminders_failed",
            "Reminders that could not be sent",
            m.reminders_failed.clone(),
        );
        r.register(
            "repaybot_tickets_opened",
            "Support tickets opened, by reason",
            m.tickets_opened.clone(),
        );
        r.register(
            "repaybot_tickets_open",
            "Support tickets open now",
            m.tickets_open.clone(),
        );
        r.register(
            "repaybot_blocking_hops",
            "Debug: events handled off the async threads (one blocking hop each)",
            m.blocking_hops.clone(),
        );
        r.register(
            "repaybot_store_flushes",
            "Debug: store flushes since the process started",
            m.store_flushes.clone(),
        );
        r.register(
            "repaybot_store_syncs",
            "Debug: disk syncs since the process started (concurrent flushes share one)",
            m.store_syncs.clone(),
        );
        m.create_zero_series();
        m
    }

    /// A family shows in the text only once it has a series: these start at zero so every
    /// SPEC 2.6 name is there from the first scrape (others appear at their first use).
    fn create_zero_series(&self) {
        for kind in ["message", "callback_query"] {
            let _ = self.updates.get_or_create(&KindLabel { kind: kind.into() });
        }
        let _ = self.turns.get_or_create(&IntentLabel {
            intent: "unknown".into(),
        });
        let method = MethodLabel {
            method: "getUpdates".into(),
        };
        let _ = self.telegram_errors.get_or_create(&method);
        for status in ["applied", "pending", "failed", "expired"] {
            let l = GatewayStatusLabel {
                gateway: "sandbox".into(),
                status: status.into(),
            };
            let _ = self.payments.get_or_create(&l);
        }
        let _ = self.payments_amount.get_or_create(&GatewayLabel {
            gateway: "sandbox".into(),
        });
        let _ = self
            .reminders_sent
            .get_or_create(&KindLabel { kind: "D0".into() });
        use crate::store::TicketReason as R;
        let reasons = [
            R::Request,
            R::NotUnderstood,
            R::Complaint,
            R::Hardship,
            R::InternalError,
        ];
        for reason in reasons {
            let l = ReasonLabel {
                reason: reason.as_str().into(),
            };
            let _ = self.tickets_opened.get_or_create(&l);
        }
    }

    /// The exposition text (OpenMetrics, ending in `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            tracing::warn!("metrics could not be encoded");
        }
        out
    }

    pub fn update(&self, kind: &str) {
        self.updates
            .get_or_create(&KindLabel { kind: label(kind) })
            .inc();
    }

    /// A turn handled: its intent and how long it took.
    pub fn turn(&self, intent: &str, seconds: f64) {
        self.turns
            .get_or_create(&IntentLabel {
                intent: label(intent),
            })
            .inc();
        self.turn_seconds.observe(seconds);
    }

    pub fn nlu_unknown(&self) {
        self.nlu_unknown.inc();
    }

    pub fn replies_queued(&self, n: i64) {
        self.replies_queued.set(n);
    }

    /// Jobs added to (positive) or taken from (negative) the chats' queues.
    pub fn replies_queued_by(&self, delta: i64) {
        self.replies_queued.inc_by(delta);
    }

    pub fn telegram_error(&self, method: &str) {
        let l = MethodLabel {
            method: label(method),
        };
        self.telegram_errors.get_or_create(&l).inc();
    }

    /// A payment's status change; an `applied` one also adds its amount.
    pub fn payment(&self, gateway: &str, status: &str, amount: Decimal) {
        let (gateway, status) = (label(gateway), label(status));
        if status == "applied" {
            let g = GatewayLabel {
                gateway: gateway.clone(),
            };
            self.payments_amount
                .get_or_create(&g)
                .inc_by(amount.to_f64().unwrap_or(0.0));
        }
        self.payments
            .get_or_create(&GatewayStatusLabel { gateway, status })
            .inc();
    }

    pub fn reminder_sent(&self, kind: &str) {
        let _ = self
            .reminders_sent
            .get_or_create(&KindLabel { kind: label(kind) })
            .inc();
    }

    pub fn reminder_failed(&self) {
        self.reminders_failed.inc();
    }

    pub fn ticket_opened(&self, reason: &str) {
        let l = ReasonLabel {
            reason: label(reason),
        };
        self.tickets_opened.get_or_create(&l).inc();
    }

    pub fn tickets_open(&self, n: i64) {
        self.tickets_open.set(n);
    }

    /// `repaybot_store_flushes` and `repaybot_store_syncs` (debug): the store's flush requests
    /// and the disk syncs that served them, set at each scrape.
    pub fn store_flushes(&self, flushes: u64, syncs: u64) {
        self.store_flushes
            .set(i64::try_from(flushes).unwrap_or(i64::MAX));
        self.store_syncs
            .set(i64::try_from(syncs).unwrap_or(i64::MAX));
    }

    pub fn blocking_hop(&self) {
        self.blocking_hops.inc();
    }
}

/// The process's metrics, which `/metrics` serves and the functions below update.
pub fn global() -> Arc<Metrics> {
    static GLOBAL: OnceLock<Arc<Metrics>> = OnceLock::new();
    Arc::clone(GLOBAL.get_or_init(|| Arc::new(Metrics::new())))
}

/// `repaybot_updates_total{kind}`: one Telegram update (`message`, `callback_query`, ...).
pub fn update(kind: &str) {
    global().update(kind);
}

/// `repaybot_turns_total{intent}` and `repaybot_turn_seconds`.
pub fn turn(intent: &str, seconds: f64) {
    global().turn(intent, seconds);
}

/// `repaybot_nlu_unknown_total`.
pub fn nlu_unknown() {
    global().nlu_unknown();
}

/// `repaybot_replies_queued`.
pub fn replies_queued(n: i64) {
    global().replies_queued(n);
}

/// `repaybot_replies_queued` moved by `delta` (the chat queues call it as jobs come and go).
pub fn replies_queued_by(delta: i64) {
    global().replies_queued_by(delta);
}

/// `repaybot_telegram_errors_total{method}` (`sendMessage`, `getUpdates`, ...).
pub fn telegram_error(method: &str) {
    global().telegram_error(method);
}

/// `repaybot_payments_total{gateway,status}` and, when applied,
/// `repaybot_payments_amount_cny_total{gateway}`.
pub fn payment(gateway: &str, status: &str, amount: Decimal) {
    global().payment(gateway, status, amount);
}

/// `repaybot_reminders_sent_total{kind}`.
pub fn reminder_sent(kind: &str) {
    global().reminder_sent(kind);
}

/// `repaybot_reminders_failed_total`.
pub fn reminder_failed() {
    global().reminder_failed();
}

/// `repaybot_tickets_opened_total{reason}`.
pub fn ticket_opened(reason: &str) {
    global().ticket_opened(reason);
}

/// `repaybot_tickets_open`.
pub fn tickets_open(n: i64) {
    global().tickets_open(n);
}

/// `repaybot_blocking_hops_total` (debug): one event handed to `App::handle` off the async threads.
pub fn blocking_hop() {
    global().blocking_hop();
}
