//! Throughput of `Nlu::understand` on the development sample (one core, messages per second).

use chrono::NaiveDate;
use repaybot::nlu::{builtin_files, Nlu};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let nlu = Nlu::from_files(&builtin_files()).expect("builtin patterns");
    let dev = include_str!("../../shared/nlu/dev.jsonl");
    let texts: Vec<String> = dev
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    for t in &texts {
        black_box(nlu.understand(t, today));
    }
    let rounds = 2000;
    let start = Instant::now();
    for _ in 0..rounds {
        for t in &texts {
            black_box(nlu.understand(black_box(t), today));
        }
    }
    let n = (rounds * texts.len()) as u128;
    let micros = start.elapsed().as_micros().max(1);
    println!(
        "nlu: {n} messages in {} ms, {} msgs/sec",
        micros / 1000,
        n * 1_000_000 / micros
    );
}
