//! `/metrics` and `/healthz`: the SPEC 2.6 names in the exposition, counters moved by exactly
//! the calls made, labels that cannot carry personal data, health following the front end and
//! the store.

use repaybot::ops::metrics::{self, Metrics};
use repaybot::ops::{spawn_metrics_server, Health, OpsState};
use repaybot::store::Store;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

/// `GET path` over plain HTTP/1.1: (status, body).
fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|b| b.1.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Samples of an exposition: `name{labels}` → value. Chunked bodies are read line by line,
/// so chunk-size lines (no space) are skipped.
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k.to_string(), v)))
        .collect()
}

fn state(metrics: Arc<Metrics>, health: Health) -> OpsState {
    OpsState {
        metrics,
        health,
        store: Store::temporary().unwrap(),
    }
}

#[test]
fn metrics_endpoint_counts_exactly_the_calls_made_under_the_spec_names() {
    let m = Arc::new(Metrics::new());
    let server = spawn_metrics_server(
        "127.0.0.1:0".parse().unwrap(),
        state(m.clone(), Health::new(Duration::from_secs(60))),
    )
    .unwrap();
    m.update("message");
    m.update("message");
    m.update("callback_query");
    m.turn("bill", 0.02);
    m.turn("bill", 0.2);
    m.turn("human", 3.0);
    m.nlu_unknown();
    m.replies_queued(4);
    m.telegram_error("sendMessage");
    m.payment("sandbox", "applied", Decimal::new(12050, 2));
    m.payment("sandbox", "applied", Decimal::new(100, 0));
    m.payment("http", "failed", Decimal::new(99, 0));
    m.reminder_sent("D-3");
    m.reminder_failed();
    m.ticket_opened("request");
    m.tickets_open(1);
    let (status, body) = get(server.addr, "/metrics");
    assert_eq!(status, 200);
    let s = samples(&body);
    let expect = [
        ("repaybot_updates_total{kind=\"message\"}", 2.0),
        ("repaybot_updates_total{kind=\"callback_query\"}", 1.0),
        ("repaybot_turns_total{intent=\"bill\"}", 2.0),
        ("repaybot_turns_total{intent=\"human\"}", 1.0),
        ("repaybot_turn_seconds_count", 3.0),
        ("repaybot_turn_seconds_bucket{le=\"0.025\"}", 1.0),
        ("repaybot_turn_seconds_bucket{le=\"0.25\"}", 2.0),
        ("repaybot_turn_seconds_bucket{le=\"+Inf\"}", 3.0),
        ("repaybot_nlu_unknown_total", 1.0),
        ("repaybot_replies_queued", 4.0),
        (
            "repaybot_telegram_errors_total{method=\"sendMessage\"}",
            1.0,
        ),
        (
            "repaybot_payments_total{gateway=\"sandbox\",status=\"applied\"}",
            2.0,
        ),
        (
            "repaybot_payments_total{gateway=\"http\",status=\"failed\"}",
            1.0,
        ),
        (
            "repaybot_payments_amount_cny_total{gateway=\"sandbox\"}",
            220.5,
        ),
        ("repaybot_reminders_sent_total{kind=\"D-3\"}", 1.0),
        ("repaybot_reminders_failed_total", 1.0),
        ("repaybot_tickets_opened_total{reason=\"request\"}", 1.0),
        ("repaybot_tickets_open", 1.0),
    ];
    for (name, value) in expect {
        assert_eq!(s.get(name), Some(&value), "{name} in\n{body}");
    }
    assert!(!s.contains_key("repaybot_payments_amount_cny_total{gateway=\"http\"}"));
    assert!((s["repaybot_turn_seconds_sum"] - 3.22).abs() < 1e-9);
}

#[test]
fn metric_labels_never_carry_ids_phones_names_or_text() {
    let m = Metrics::new();
    for junk in [
        "13800005678",
        "tg:12345",
        "Zhang San",
        "帐单",
        "please call me back now",
        "A1001234",
    ] {
        m.turn(junk, 0.1);
        m.ticket_opened(junk);
        m.telegram_error(junk);
    }
    let text = m.render();
    for junk in [
        "13800005678",
        "12345",
        "Zhang",
        "帐单",
        "please",
        "A1001234",
    ] {
        assert!(!text.contains(junk), "{junk} leaked into\n{text}");
    }
    assert_eq!(
        samples(&text)["repaybot_turns_total{intent=\"other\"}"],
        6.0
    );
    assert_eq!(metrics::label("D+1"), "D+1");
    assert_eq!(metrics::label("bill_detail"), "bill_detail");
}

#[test]
fn global_helpers_move_the_process_metrics() {
    let before = samples(&metrics::global().render());
    let key = "repaybot_reminders_sent_total{kind=\"D-7\"}";
    metrics::reminder_sent("D-7");
    metrics::reminder_sent("D-7");
    let after = samples(&metrics::global().render());
    assert_eq!(after[key] - before.get(key).copied().unwrap_or(0.0), 2.0);
}

#[tokio::test(start_paused = true)]
async fn healthz_follows_polling_webhook_and_store() {
    let health = Health::new(Duration::from_secs(90));
    let router = repaybot::ops::router(state(Arc::new(Metrics::new()), health.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let status = |addr| async move {
        tokio::task::spawn_blocking(move || get(addr, "/healthz"))
            .await
            .unwrap()
    };
    // Never polled yet: 503.
    assert_eq!(status(addr).await.0, 503);
    health.polled();
    assert_eq!(status(addr).await, (200, "ok\n".to_string()));
    // Polling silent for longer than allowed: 503 again.
    tokio::time::advance(Duration::from_secs(91)).await;
    let (code, body) = status(addr).await;
    assert_eq!((code, body.as_str()), (503, "telegram front end silent\n"));
    // A webhook keeps it healthy without polling.
    health.webhook_set(true);
    assert_eq!(status(addr).await.0, 200);
    health.webhook_set(false);
    assert_eq!(status(addr).await.0, 503);
}

#[tokio::test]
async fn jobs_waiting_in_a_chat_queue_are_counted_in_replies_queued() {
    let gauge = || {
        repaybot::ops::metrics::global()
            .render()
            .lines()
            .find_map(|l| l.strip_prefix("repaybot_replies_queued "))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (queue, mut jobs) = repaybot::telegram::queue::bounded::<u32>(10);
    for job in 0..3 {
        assert!(matches!(
            queue.push(job),
            repaybot::telegram::queue::Pushed::Queued
        ));
    }
    // Other tests' queues only add to the process-wide gauge while this one holds three.
    assert!(gauge() >= 3.0, "{}", gauge());
    assert_eq!(jobs.next().await, Some(0));
    drop(jobs);
    assert!(gauge() >= 0.0);
}

#[tokio::test(start_paused = true)]
async fn polling_counts_as_working_again_only_long_after_its_last_error() {
    use repaybot::ops::health::{recovered, RECOVERED_AFTER};
    assert!(recovered(None));
    let failed = tokio::time::Instant::now();
    tokio::time::advance(std::time::Duration::from_secs(64 + 27)).await;
    assert!(
        !recovered(Some(failed)),
        "inside the longest back-off and a hung poll"
    );
    tokio::time::advance(RECOVERED_AFTER).await;
    assert!(recovered(Some(failed)));
}
