//! The NLU on one core: `understand` messages per second on the development sample, the
//! model's memory, start-up (loading the shipped model) and training time on dialogs/nlu/train.

use chrono::NaiveDate;
use repaybot::nlu::{builtin_files, data, params_of, Nlu, SourceFile};
use std::hint::black_box;
use std::time::Instant;

fn training_files() -> Vec<SourceFile> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/dialogs/nlu/train");
    let mut files = builtin_files();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("dialogs/nlu/train")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    for p in paths {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        files.push(SourceFile {
            path: format!("dialogs/nlu/train/{name}"),
            text: std::fs::read_to_string(&p).expect("training file"),
        });
    }
    files
}

fn main() {
    let start = Instant::now();
    let nlu = Nlu::from_files(&builtin_files()).expect("builtin NLU");
    let load = start.elapsed();
    let (rows, memory) = nlu.model().size();
    println!(
        "nlu: start-up (load the shipped model) {} ms; {rows} weight rows, {:.1} MiB in memory",
        load.as_millis(),
        memory as f64 / (1024.0 * 1024.0)
    );

    let files = training_files();
    let params = params_of(&files).expect("model.toml");
    let set = data::training_set(&files).expect("training set");
    let start = Instant::now();
    black_box(data::train_model(&set, &params));
    println!(
        "nlu: training on {} messages: {} ms",
        set.len(),
        start.elapsed().as_millis()
    );

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
    let rounds = 1000;
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
