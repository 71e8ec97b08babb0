//! `repaybot report` over a scripted set of events: every number equals what a person counts
//! by hand from the script; the HTML page draws each chart as inline SVG with the expected bars
//! and points and fetches nothing; no field carries a phone, a name, an id or message text.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use repaybot::domain::Policy;
use repaybot::import::{import, Kind};
use repaybot::report::{self, html, Period};
use repaybot::store::events::{self, AgreementKind, AgreementOutcome, Event, Handler};
use repaybot::store::Store;
use rust_decimal::Decimal;
use std::process::Command;

const ACCOUNTS: &str =
    "account_id,name,phone,id_last4,language,timezone\nA1,Zhang San,13800005678,123x,,\n";
const ORDERS: &str =
    "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n\
MI1,A1,Phone,1200,12,flat_fee,0.006,2026-12-01\n\
MI2,A1,Watch,1200,12,flat_fee,0.006,2026-12-02\n\
MI3,A1,Tablet,1200,12,flat_fee,0.006,2026-12-05\n";

/// UTC hour `h` of December `day`: shop time (UTC+8) is the same day for h < 16.
fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, h, m, 0).unwrap()
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
}

fn turn(chat: &str, understood: bool, handled: Handler) -> Event {
    Event::Turn {
        chat: chat.into(),
        account: Some("A1".into()),
        intent: if understood { "bill" } else { "unknown" }.into(),
        understood,
        handled,
    }
}

fn ticket(ticket: u64, chat: &str, reason: &str) -> Event {
    Event::TicketOpened {
        ticket,
        chat: chat.into(),
        reason: reason.into(),
    }
}

fn payment(id: &str, gateway: &str, amount: Decimal, status: &str) -> Event {
    Event::Payment {
        chat: Some("tg:1".into()),
        payment_id: id.into(),
        gateway: gateway.into(),
        kind: "installment".into(),
        amount,
        status: status.into(),
    }
}

fn reminder(kind: &str, order: &str, due: u32) -> Event {
    Event::ReminderSent {
        chat: Some("tg:1".into()),
        account: "A1".into(),
        kind: kind.into(),
        due: date(due),
        order: order.into(),
    }
}

/// The store after the scripted two days (see each comment for what a person would count).
pub fn scripted_store() -> Store {
    let store = Store::temporary().unwrap();
    script(&store);
    store
}

/// Imports the accounts, orders and payments and records the scripted events.
pub fn script(store: &Store) {
    for (kind, text) in [(Kind::Accounts, ACCOUNTS), (Kind::Orders, ORDERS)] {
        import(store, kind, "x.csv", text.as_bytes(), &Policy::default()).unwrap();
    }
    // MI1's first installment is paid on its due date; MI2's a day late.
    let bill = store.bill("A1", date(1), &Policy::default()).unwrap();
    let first = |id: &str| {
        bill.orders
            .iter()
            .find(|o| o.order.id == id)
            .unwrap()
            .installments[0]
            .remaining
    };
    let pays = format!(
        "payment_id,order_id,amount,paid_on,kind\nP1,MI1,{},2026-12-01,installment\nP2,MI2,{},2026-12-03,installment\n",
        first("MI1"),
        first("MI2")
    );
    import(
        store,
        Kind::Payments,
        "p.csv",
        pays.as_bytes(),
        &Policy::default(),
    )
    .unwrap();
    let script = [
        // Day 1: tg:1 three turns by the bot (one not understood): contained.
        (at(1, 1, 0), turn("tg:1", true, Handler::Bot)),
        (at(1, 1, 1), turn("tg:1", true, Handler::Bot)),
        (at(1, 1, 2), turn("tg:1", false, Handler::Bot)),
        (
            at(1, 1, 2),
            Event::not_understood("tg:1", "what about 1500??"),
        ),
        // tg:2 asks for a person: ticket 1 (request), answered after 300 s, closed.
        (at(1, 2, 0), turn("tg:2", true, Handler::Bot)),
        (at(1, 2, 0), ticket(1, "tg:2", "request")),
        (at(1, 2, 1), turn("tg:2", true, Handler::Person)),
        (
            at(1, 2, 5),
            Event::FirstAgentReply {
                ticket: 1,
                chat: "tg:2".into(),
            },
        ),
        (
            at(1, 3, 0),
            Event::TicketClosed {
                ticket: 1,
                chat: "tg:2".into(),
            },
        ),
        // tg:3 one turn not understood: contained.
        (at(1, 4, 0), turn("tg:3", false, Handler::Bot)),
        (
            at(1, 4, 0),
            Event::not_understood("tg:3", "what about 2000??"),
        ),
        (at(1, 5, 0), Event::not_understood("tg:3", "zzz")),
        // Payments: two sandbox ones applied on day 1.
        (
            at(1, 5, 0),
            payment("P10", "sandbox", Decimal::new(10050, 2), "applied"),
        ),
        (
            at(1, 6, 0),
            payment("P11", "sandbox", Decimal::new(200, 0), "applied"),
        ),
        (at(1, 7, 0), reminder("D0", "MI1", 1)),
        (at(1, 7, 0), reminder("D-1", "MI2", 2)),
        // Day 2: tg:1 complaint (120 s to reply), tg:4 request (600 s), tg:5 hardship (no reply).
        (at(2, 1, 0), turn("tg:1", true, Handler::Bot)),
        (at(2, 1, 0), ticket(2, "tg:1", "complaint")),
        (
            at(2, 1, 2),
            Event::FirstAgentReply {
                ticket: 2,
                chat: "tg:1".into(),
            },
        ),
        (at(2, 2, 0), turn("tg:4", true, Handler::Bot)),
        (at(2, 2, 0), ticket(3, "tg:4", "request")),
        (
            at(2, 2, 10),
            Event::FirstAgentReply {
                ticket: 3,
                chat: "tg:4".into(),
            },
        ),
        (at(2, 3, 0), turn("tg:5", true, Handler::Bot)),
        (at(2, 3, 0), ticket(4, "tg:5", "hardship")),
        (
            at(2, 4, 0),
            payment("P12", "http", Decimal::new(30025, 2), "applied"),
        ),
        (
            at(2, 4, 1),
            payment("P13", "sandbox", Decimal::new(50, 0), "failed"),
        ),
        (at(2, 7, 0), reminder("D0", "MI2", 2)),
        (at(2, 7, 0), reminder("D-3", "MI3", 5)),
        (
            at(2, 7, 0),
            Event::ReminderFailed {
                chat: Some("tg:1".into()),
                account: "A1".into(),
                kind: "D0".into(),
                due: date(2),
                order: "MI2".into(),
            },
        ),
        (
            at(2, 8, 0),
            agreement(AgreementKind::Deferral, AgreementOutcome::Agreed),
        ),
        (
            at(2, 8, 1),
            agreement(AgreementKind::Hardship, AgreementOutcome::Rejected),
        ),
        (
            at(2, 8, 2),
            agreement(AgreementKind::Deferral, AgreementOutcome::Agreed),
        ),
        // Outside the period (day 3): counted nowhere.
        (at(3, 1, 0), turn("tg:9", true, Handler::Bot)),
    ];
    for (when, event) in script {
        events::record(store, event, when);
    }
}

fn agreement(kind: AgreementKind, outcome: AgreementOutcome) -> Event {
    Event::Agreement {
        chat: Some("tg:1".into()),
        account: "A1".into(),
        kind,
        outcome,
    }
}

fn period() -> Period {
    Period {
        from: date(1),
        to: date(2),
        today: date(5),
    }
}

fn scripted_report() -> serde_json::Value {
    let r = report::build(&scripted_store(), &Policy::default(), period()).unwrap();
    serde_json::to_value(&r).unwrap()
}

#[test]
fn report_json_counts_conversations_containment_and_understanding() {
    let r = scripted_report();
    let c = &r["conversations"];
    assert_eq!(
        (c["total"].as_u64(), c["contained"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(c["containment_rate"], "0.3333");
    assert_eq!(c["per_day"][0]["conversations"], 3);
    assert_eq!(c["per_day"][0]["contained"], 2);
    assert_eq!(c["per_day"][1]["conversations"], 3);
    assert_eq!(c["per_day"][1]["contained"], 0);
    let u = &r["understanding"];
    assert_eq!(
        (u["turns"].as_u64(), u["not_understood"].as_u64()),
        (Some(9), Some(2))
    );
    assert_eq!(u["not_understood_rate"], "0.2222");
    assert_eq!(u["top_not_understood"][0]["text"], "what about ####??");
    assert_eq!(u["top_not_understood"][0]["count"], 2);
    assert_eq!(u["top_not_understood"][1]["text"], "zzz");
}

#[test]
fn report_json_counts_tickets_with_median_first_reply() {
    let t = &scripted_report()["tickets"];
    assert_eq!(
        (t["opened"].as_u64(), t["closed"].as_u64()),
        (Some(4), Some(1))
    );
    // Waits 300, 120 and 600 s: the median is 300.
    assert_eq!(t["median_first_reply_seconds"], "300");
    let reasons: Vec<_> = t["by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["reason"].as_str().unwrap(),
                x["opened"].as_u64().unwrap(),
                x["answered"].as_u64().unwrap(),
                x["median_first_reply_seconds"].clone(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("complaint", 1, 1, serde_json::json!("120")),
            ("hardship", 1, 0, serde_json::Value::Null),
            ("request", 2, 2, serde_json::json!("450")),
        ]
    );
}

#[test]
fn report_json_counts_payments_reminders_and_negotiation() {
    let r = scripted_report();
    let p = &r["payments"];
    assert_eq!(p["count"], 3);
    assert_eq!(p["amount"], "600.75");
    assert_eq!(
        p["by_gateway"][0],
        serde_json::json!({"gateway": "http", "count": 1, "amount": "300.25"})
    );
    assert_eq!(
        p["by_gateway"][1],
        serde_json::json!({"gateway": "sandbox", "count": 2, "amount": "300.50"})
    );
    assert_eq!(
        p["per_day"][0],
        serde_json::json!({"day": "2026-12-01", "gateway": "sandbox", "count": 2, "amount": "300.50"})
    );
    assert_eq!(
        p["by_status"],
        serde_json::json!({"applied": 3, "failed": 1})
    );
    let m = &r["reminders"];
    assert_eq!(m["sent"], 4);
    assert_eq!(m["failed"], 1);
    assert_eq!(
        m["sent_by_kind"],
        serde_json::json!({"D-1": 1, "D-3": 1, "D0": 2})
    );
    // MI1 (due 12-01) paid that day, MI2 (due 12-02) paid on 12-03, MI3 not due by 12-05's eve.
    assert_eq!(m["reminded_installments"], 3);
    assert_eq!(m["due_passed"], 2);
    assert_eq!(m["paid_by_due"], 1);
    assert_eq!(m["paid_by_due_share"], "0.5");
    assert_eq!(
        r["negotiation"],
        serde_json::json!([
            {"kind": "deferral", "outcome": "agreed", "count": 2},
            {"kind": "hardship", "outcome": "rejected", "count": 1},
        ])
    );
}

/// The `<figure>` of chart `id` in the page.
fn figure<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("data-chart=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = start + page[start..].find("</figure>").unwrap();
    &page[start..end]
}

/// How many `<tag` elements of series `i`'s colour the figure holds.
fn shapes(fig: &str, tag: &str, series: usize) -> usize {
    let fill = format!("fill=\"{}\"", html::color_hex(series));
    fig.split(&format!("<{tag} "))
        .skip(1)
        .filter(|e| e[..e.find('>').unwrap()].contains(&fill))
        .count()
}

#[test]
fn report_html_draws_one_svg_per_chart_with_the_expected_bars_and_points() {
    let r = report::build(&scripted_store(), &Policy::default(), period()).unwrap();
    let page = html::render(&r);
    let charts = [
        "conversations",
        "tickets",
        "payment-count",
        "payment-amount",
        "reminders",
        "negotiation",
    ];
    assert_eq!(page.matches("<svg").count(), charts.len());
    for id in charts {
        assert_eq!(figure(&page, id).matches("<svg").count(), 1, "{id}");
    }
    // Conversations: a bar per day with conversations (2), contained only on day 1.
    let f = figure(&page, "conversations");
    assert_eq!((shapes(f, "rect", 0), shapes(f, "rect", 1)), (2, 1));
    // Tickets: opened for three reasons, answered for two.
    let f = figure(&page, "tickets");
    assert_eq!((shapes(f, "rect", 0), shapes(f, "rect", 1)), (3, 2));
    // Payment count: http (first gateway) on day 2, sandbox on day 1.
    let f = figure(&page, "payment-count");
    assert_eq!((shapes(f, "rect", 0), shapes(f, "rect", 1)), (1, 1));
    // Payment amount: a point per day for each gateway.
    let f = figure(&page, "payment-amount");
    assert_eq!((shapes(f, "circle", 0), shapes(f, "circle", 1)), (2, 2));
    assert_eq!(shapes(figure(&page, "reminders"), "rect", 0), 3);
    assert_eq!(shapes(figure(&page, "negotiation"), "rect", 0), 2);
    assert!(page.contains("what about ####??"));
}

#[test]
fn report_html_fetches_nothing() {
    let r = report::build(&scripted_store(), &Policy::default(), period()).unwrap();
    let page = html::render(&r).replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for needle in [
        "http:", "https:", "//", "src=", "href", "url(", "@import", "<script", "<link", "<img",
    ] {
        assert!(!page.contains(needle), "the page contains {needle}");
    }
}

#[test]
fn report_carries_no_phone_name_id_or_message_text() {
    let store = scripted_store();
    // A not-understood message with the holder's name, phone, ID number and ID last four:
    // the support redaction hides the name and the number runs, then every digit is masked.
    let account = store.account("A1").unwrap().unwrap().data;
    let text = "Zhang San 13800005678 110105194912310021 123x";
    events::record(
        &store,
        Event::not_understood("tg:1", &repaybot::support::redact(text, Some(&account))),
        at(1, 9, 0),
    );
    let r = report::build(&store, &Policy::default(), period()).unwrap();
    let outputs = [
        serde_json::to_string(&r).unwrap(),
        report::text::render(&r),
        html::render(&r),
    ];
    let forbidden = [
        "Zhang",
        "13800005678",
        "0021",
        "123x",
        "110105",
        "tg:",
        "A1\"",
        "MI1",
        "MI2",
        "P10",
        "P12",
        "what about 1500",
        "what about 2000",
    ];
    for out in &outputs {
        for f in forbidden {
            assert!(!out.contains(f), "report output contains {f}");
        }
        assert!(out.contains("* ****"), "redacted text missing: {out}");
    }
}

#[test]
fn report_command_writes_json_text_and_html_from_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        script(&store);
        store.flush().unwrap();
    }
    let run = |args: &[&str]| {
        let period = ["report", "--from", "2026-12-01", "--to", "2026-12-02"];
        let all: Vec<&str> = period.iter().chain(args).copied().collect();
        crate::process::run_ok(dir.path(), "2026-12-05", &all)
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["--json"])).unwrap();
    assert_eq!(json, scripted_report());
    assert!(run(&[]).contains("Conversations: 6 (2 without a person; containment 33.3%)"));
    let page = dir.path().join("r.html");
    run(&["--html", page.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(page)
            .unwrap()
            .matches("<svg")
            .count(),
        6
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "report",
            "--from",
            "2026-12-03",
            "--to",
            "2026-12-02",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
