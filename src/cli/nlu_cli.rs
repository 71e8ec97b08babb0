//! `repaybot nlu` and its actions: messages on stdin to JSON lines (line by line), `eval` of a
//! labelled file or k-fold cross-validation, `train` (writes dialogs/nlu/model.bin) and `review`
//! (the most frequent messages not understood).

use super::{Cli, Failure};
use crate::clock::Clock;
use crate::nlu::{data, eval, Nlu, SourceFile};
use clap::Subcommand;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum NluAction {
    /// Measure on a labelled jsonl file (text, lang, intent, slots), or cross-validate with --cv.
    Eval {
        /// The labelled file (not with --cv).
        file: Option<PathBuf>,
        /// k-fold cross-validation over the training data instead (deterministic folds).
        #[arg(long)]
        cv: Option<usize>,
        /// The whole report as one JSON document.
        #[arg(long)]
        json: bool,
        /// The dialogs folder with nlu/train/*.jsonl and nlu/model.toml (for --cv).
        #[arg(long, default_value = "dialogs")]
        dir: PathBuf,
    },
    /// Train the model on DIR/nlu/train/*.jsonl and write DIR/nlu/model.bin.
    Train {
        #[arg(long, default_value = "dialogs")]
        dir: PathBuf,
        /// Only check that model.bin is what training gives (exit 2 when not).
        #[arg(long)]
        check: bool,
    },
    /// The most frequent messages the bot did not understand (redacted), for labelling.
    Review {
        /// From this day on (YYYY-MM-DD); all kept days without it.
        #[arg(long, value_parser = super::parse_date)]
        since: Option<chrono::NaiveDate>,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        top: usize,
    },
}

fn builtin_nlu() -> Result<Nlu, Failure> {
    Nlu::from_files(&crate::embedded::dialog_files()).map_err(|e| {
        Failure::Internal(anyhow::anyhow!(
            "NLU files invalid: {}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

fn bad(errors: Vec<crate::dialog::LoadError>) -> Failure {
    super::load_failure(&errors)
}

pub fn run(cli: &Cli, clock: &Clock, action: Option<&NluAction>) -> Result<(), Failure> {
    match action {
        None => run_lines(clock),
        Some(NluAction::Eval {
            file,
            cv,
            json,
            dir,
        }) => run_eval(cli, file.as_deref(), *cv, *json, dir),
        Some(NluAction::Train { dir, check }) => run_train(dir, *check),
        Some(NluAction::Review { since, top }) => run_review(cli, *since, *top),
    }
}

/// One JSON line per input line, written and flushed as each line arrives; bytes that are not
/// UTF-8 are replaced (U+FFFD), never the end of the batch.
fn run_lines(clock: &Clock) -> Result<(), Failure> {
    let nlu = builtin_nlu()?;
    let today = clock.today_in(crate::clock::HOUSE_TZ);
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| Failure::BadInput(format!("stdin: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let json = nlu.understand(line, today).to_json(line);
        let written = writeln!(out, "{json}").and_then(|()| out.flush());
        if written.is_err() {
            return Ok(()); // the reader went away
        }
    }
}

fn read_dir_files(dir: &Path) -> Result<Vec<SourceFile>, Failure> {
    let mut files = crate::embedded::files_on_disk(dir)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", dir.display())))?;
    let train = dir.join("nlu").join("train");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&train)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", train.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))?;
        files.push(SourceFile {
            path: format!(
                "dialogs/nlu/train/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            ),
            text,
        });
    }
    Ok(files)
}

fn print_report(report: &serde_json::Value, json: bool) {
    if json {
        println!("{report}");
    } else {
        print!("{}", eval::to_text(report));
    }
}

fn run_eval(
    cli: &Cli,
    file: Option<&Path>,
    cv: Option<usize>,
    json: bool,
    dir: &Path,
) -> Result<(), Failure> {
    let nlu = builtin_nlu()?;
    if let Some(k) = cv {
        if !(2..=20).contains(&k) {
            return Err(Failure::BadInput("--cv needs 2 to 20 folds".into()));
        }
        let files = read_dir_files(dir)?;
        let nlu = Nlu::from_files(&files).map_err(bad)?;
        let set = data::training_set(&files).map_err(bad)?;
        let label = format!("nlu eval --cv {k}");
        let mut progress = crate::ops::progress::Progress::steps(label, k as u64, "folds");
        let predicted = data::cross_validate_with(&nlu, &set, k, &mut |n| progress.set(n as u64));
        progress.finish_steps(&format!("{k} folds, {} messages", set.len()));
        let pred: Vec<eval::Prediction> = predicted
            .into_iter()
            .map(|intent| eval::Prediction {
                intent,
                slots: None,
            })
            .collect();
        print_report(&eval::report(&set, &pred), json);
        return Ok(());
    }
    let Some(file) = file else {
        return Err(Failure::BadInput(
            "nlu eval needs a FILE.jsonl or --cv K".into(),
        ));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", file.display())))?;
    let source = SourceFile {
        path: file.display().to_string(),
        text,
    };
    let set = data::parse_jsonl(&source).map_err(bad)?;
    let today = cli.today.unwrap_or_else(data::reference_day);
    let pred = eval::predict(&nlu, &set, today);
    print_report(&eval::report(&set, &pred), json);
    Ok(())
}

fn run_train(dir: &Path, check: bool) -> Result<(), Failure> {
    let files = read_dir_files(dir)?;
    let params = crate::nlu::params_of(&files).map_err(bad)?;
    let set = data::training_set(&files).map_err(bad)?;
    let start = std::time::Instant::now();
    let model = data::train_model(&set, &params);
    let took = start.elapsed();
    let bytes = model.to_bytes();
    let path = dir.join("nlu").join("model.bin");
    let (rows, memory) = model.size();
    let summary = format!(
        "{} messages, {rows} weight rows, {} bytes on disk, {memory} bytes in memory, trained in {} ms",
        set.len(),
        bytes.len(),
        took.as_millis()
    );
    if check {
        let old = std::fs::read(&path).unwrap_or_default();
        if old != bytes {
            return Err(Failure::BadInput(format!(
                "{} is not what training gives: run `repaybot nlu train`",
                path.display()
            )));
        }
        println!("{} is up to date: {summary}", path.display());
        return Ok(());
    }
    std::fs::write(&path, &bytes).map_err(|e| Failure::Internal(e.into()))?;
    println!("wrote {}: {summary}", path.display());
    Ok(())
}

fn run_review(cli: &Cli, since: Option<chrono::NaiveDate>, top: usize) -> Result<(), Failure> {
    let store = super::open_store(cli)?;
    let list = store.unknown_review(since)?;
    if list.is_empty() {
        println!("no messages kept");
    }
    for (text, count) in list.into_iter().take(top) {
        println!("{count:>5}  {text}");
    }
    Ok(())
}
