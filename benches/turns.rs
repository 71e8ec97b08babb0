//! Conversation benchmark (not a timed test): full turns through `App::turn` (NLU, dialog step,
//! actions over the bill, sled session write) for many chats, with turns/s and p99 latency.
//! Run: `cargo bench --bench turns` (TURNS=20000 by default).

use chrono::{NaiveDate, TimeZone, Utc};
use repaybot::app::{App, ChatInput};
use repaybot::settings::Settings;
use repaybot::store::Store;
use std::time::{Duration, Instant};

fn main() {
    let turns: usize = std::env::var("TURNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 2, 0, 0)
        .single()
        .expect("now");
    let store = Store::temporary().expect("store");
    repaybot::demo::load_if_empty(&store, today, &Settings::default().policy).expect("demo");
    let app = App::new(store, Settings::default()).expect("app");
    let accounts = ["A1001", "A1002", "A1003", "A1004", "A1005"];
    // 100 chats spread over the demo accounts (several chats may read one account's bill).
    for c in 0..100 {
        app.store
            .bind(&format!("bench:{c}"), accounts[c % accounts.len()])
            .ok();
    }
    let script = [
        "你好",
        "查账单",
        "取消",
        "我想提前结清",
        "取消",
        "手续费怎么算",
        "what is my bill",
        "cancel",
        "征信会有影响吗",
        "谢谢",
    ];
    let mut lat: Vec<Duration> = Vec::with_capacity(turns);
    let start = Instant::now();
    for i in 0..turns {
        let chat = format!("bench:{}", i % 100);
        let text = script[(i / 100) % script.len()].to_string();
        let t = Instant::now();
        let out = app
            .turn(&chat, ChatInput::Text(text), today, now)
            .expect("turn");
        lat.push(t.elapsed());
        assert!(!out.replies.is_empty());
    }
    let total = start.elapsed();
    lat.sort();
    println!(
        "{turns} turns over 100 chats: {:.0} turns/s, mean {:.1?}, p50 {:.1?}, p99 {:.1?}",
        turns as f64 / total.as_secs_f64(),
        total / turns as u32,
        lat[turns / 2],
        lat[turns * 99 / 100]
    );
}
