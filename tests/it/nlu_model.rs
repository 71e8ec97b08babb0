//! Tests of the learned intent model: determinism (scores, training, the shipped model file),
//! homophone typos, re-installment wording, the slot fixes of SPEC 2.3 (money context, card
//! digits, month-days forward) and a bare number answering a state that expects a count.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput};
use repaybot::nlu::model::{exp_neg, Compact};
use repaybot::nlu::{builtin_files, data, params_of, Nlu, SourceFile, MODEL_BYTES};
use repaybot::settings::Settings;
use repaybot::store::Store;
use serde_json::Value;
use std::sync::OnceLock;

fn nlu() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| Nlu::from_files(&builtin_files()).expect("builtin NLU loads"))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

/// The training files as on disk, as `repaybot nlu train` reads them.
fn training_files() -> Vec<SourceFile> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/dialogs/nlu/train");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut files = builtin_files();
    for p in paths {
        files.push(SourceFile {
            path: format!(
                "dialogs/nlu/train/{}",
                p.file_name().unwrap().to_string_lossy()
            ),
            text: std::fs::read_to_string(&p).unwrap(),
        });
    }
    files
}

#[test]
fn nlu_model_same_input_gives_same_scores() {
    let other = Nlu::from_files(&builtin_files()).unwrap();
    for text in [
        "我要还500",
        "帐单多少",
        "how much do i owe",
        "",
        "😀",
        "hello?",
    ] {
        let a = nlu().classify(text, today());
        let b = other.classify(text, today());
        assert_eq!(a.intent, b.intent, "{text}");
        assert_eq!(a.confidence.to_bits(), b.confidence.to_bits(), "{text}");
        assert_eq!(a, nlu().classify(text, today()), "{text}");
    }
}

#[test]
fn nlu_training_twice_gives_identical_weights() {
    let files = training_files();
    let params = params_of(&files).unwrap();
    let set = data::training_set(&files).unwrap();
    let part: Vec<_> = set.iter().take(400).cloned().collect();
    let a = data::train_model(&part, &params).to_bytes();
    let b = data::train_model(&part, &params).to_bytes();
    assert!(a == b, "two trainings differ");
    let back = Compact::from_bytes(&a).unwrap();
    assert!(back.to_bytes() == a, "the model file does not round-trip");
}

/// `dialogs/nlu/model.bin` is exactly what training on `dialogs/nlu/train/*.jsonl` with
/// `model.toml` gives: run `repaybot nlu train` after changing either.
#[test]
fn nlu_shipped_model_is_reproduced_by_training() {
    let files = training_files();
    let params = params_of(&files).unwrap();
    let set = data::training_set(&files).unwrap();
    let model = data::train_model(&set, &params).to_bytes();
    assert!(
        model == MODEL_BYTES,
        "dialogs/nlu/model.bin is stale: run `cargo run -- nlu train`"
    );
}

#[test]
fn nlu_model_file_errors_are_reported_not_panics() {
    assert!(Compact::from_bytes(b"").is_err());
    assert!(Compact::from_bytes(b"RBNLU\x00\x01\x00").is_err());
    let mut cut = MODEL_BYTES.to_vec();
    cut.truncate(cut.len() - 1);
    assert!(Compact::from_bytes(&cut).is_err());
    let mut extra = MODEL_BYTES.to_vec();
    extra.push(0);
    assert!(Compact::from_bytes(&extra).is_err());
}

#[test]
fn nlu_own_exponential_matches_the_real_one() {
    for i in 0..2000 {
        let x = -(i as f32) * 0.04;
        let want = (x as f64).exp();
        let got = exp_neg(x) as f64;
        assert!(
            (got - want).abs() <= want * 1e-5 + 1e-30,
            "exp({x}) = {got}, want {want}"
        );
    }
    assert_eq!(exp_neg(-1000.0), 0.0);
    assert_eq!(exp_neg(f32::NAN), 0.0);
}

fn intent(text: &str) -> &'static str {
    nlu().understand(text, today()).intent.as_str()
}

/// Pinyin-keyboard slips: the wrong character with the right sound means the same.
#[test]
fn nlu_homophone_typos_map_to_the_right_intent() {
    let cases = [
        ("我的帐单是多少", "bill_query"),
        ("查下这个月帐单", "bill_query"),
        ("转客福", "human"),
        ("我要找人公客服", "human"),
        ("鱼期了会怎么样", "overdue_help"),
        ("会影响正信吗", "credit_impact"),
        ("我想提前节清", "early_settle"),
        ("利习怎么算的", "fees"),
        ("帮我还宽", "repay"),
    ];
    let misses: Vec<String> = cases
        .iter()
        .filter(|(t, want)| intent(t) != *want)
        .map(|(t, want)| format!("{t}: want {want}, got {}", intent(t)))
        .collect();
    assert!(misses.is_empty(), "{misses:#?}");
}

#[test]
fn nlu_english_reinstallment_wording_is_negotiate() {
    for text in [
        "can I re-instal the rest",
        "is a reinstallment possible for my order",
        "could you split the rest again",
        "i want to re-install my remaining balance over more months",
    ] {
        assert_eq!(intent(text), "negotiate", "{text}");
    }
}

fn slots(text: &str) -> Value {
    nlu().understand(text, today()).to_json(text)["slots"].clone()
}

/// SPEC 2.3: a number is an amount only in a money context; a month-day is the next one.
#[test]
fn nlu_slot_fixes_table() {
    let cases = [
        ("尾号6609的卡扣款失败", r#"{}"#),
        ("card ending in 6609", r#"{}"#),
        ("用尾号6609的卡还500", r#"{"amount":"500.00"}"#),
        ("iPhone 14还有几期", r#"{}"#),
        ("iphone 14 pro max", r#"{}"#),
        ("写了800字的申请", r#"{}"#),
        ("886", r#"{}"#),
        ("88", r#"{}"#),
        ("666", r#"{}"#),
        ("我在3楼", r#"{}"#),
        ("等我200年", r#"{}"#),
        ("500", r#"{"amount":"500.00"}"#),
        ("还500", r#"{"amount":"500.00"}"#),
        ("pay 800", r#"{"amount":"800.00"}"#),
        ("is my bill 800?", r#"{"amount":"800.00"}"#),
        ("11月3号", r#"{"date":"2027-11-03"}"#),
        ("11月21号", r#"{"date":"2026-11-21"}"#),
        ("Nov 20", r#"{"date":"2027-11-20"}"#),
        ("1月5号还", r#"{"date":"2027-01-05"}"#),
    ];
    for (text, want) in cases {
        let want: Value = serde_json::from_str(want).unwrap();
        assert_eq!(slots(text), want, "{text}");
    }
    assert_eq!(repaybot::nlu::bare_count("14"), Some(14));
    assert_eq!(repaybot::nlu::bare_count(" 十四 "), Some(14));
    assert_eq!(repaybot::nlu::bare_count("14天"), None);
    assert_eq!(repaybot::nlu::bare_count("1.5"), None);
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).unwrap().and_utc()
}

fn said(app: &App, text: &str) -> Result<String> {
    let out = app.turn("c:1", ChatInput::Text(text.into()), today(), now())?;
    Ok(out.trace.join(" "))
}

/// When the bot asks how many days before the due date to remind, a bare "14" answers it.
#[test]
fn nlu_bare_number_answers_an_expected_days_slot() -> Result<()> {
    let store = Store::temporary()?;
    repaybot::demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    let app = App::new(store, Settings::default())?;
    assert!(app.store.bind("c:1", "A1001")?);
    app.set_lang("c:1", repaybot::dialog::Lang::En)?;
    app.turn("c:1", ChatInput::Start, today(), now())?;
    said(&app, "/remind")?;
    let asked = said(&app, "Days before")?;
    assert!(asked.contains("reminders.ask_days"), "{asked}");
    let answer = said(&app, "14")?;
    assert!(answer.contains("reminders.setting_days"), "{answer}");
    Ok(())
}

/// `repaybot nlu` answers each line as it arrives (a pipe from another program gets its answer
/// before sending the next line) and replaces bytes that are not UTF-8 instead of failing.
#[test]
fn nlu_command_answers_line_by_line_and_survives_bad_utf8() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::Duration;
    let mut child = Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args(["--today", "2026-11-21", "nlu"])
        .env(
            "REPAYBOT_DATA",
            std::env::temp_dir().join("repaybot-nlu-lines-unused"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("an answer per line")
    };
    stdin.write_all("我要还500\n".as_bytes()).unwrap();
    stdin.flush().unwrap();
    let first: Value = serde_json::from_str(&next()).unwrap();
    assert_eq!(first["slots"]["amount"], "500.00");
    stdin.write_all(b"pay 300 \xff\xfe yuan\n").unwrap();
    stdin.flush().unwrap();
    let second: Value = serde_json::from_str(&next()).unwrap();
    assert_eq!(second["text"], "pay 300 \u{FFFD}\u{FFFD} yuan");
    assert_eq!(second["slots"]["amount"], "300.00");
    stdin.write_all(b"hi").unwrap();
    drop(stdin);
    let third: Value = serde_json::from_str(&next()).unwrap();
    assert_eq!(third["text"], "hi");
    assert!(child.wait().unwrap().success());
}
