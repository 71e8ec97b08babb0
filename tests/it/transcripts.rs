//! Golden transcripts of whole conversations, and the check that every amount the chat quotes is
//! the statement's amount for the same day.
//!
//! Each file in `tests/it/transcripts/` is both the script and the expected output:
//!
//! ```text
//! # today: 2026-11-21
//! # account: A1003            (or `none` for an unbound chat)
//! # lang: zh                  (zh | en)
//! > 查账单                     customer lines; everything else is regenerated
//! ```
//!
//! The test replays the header and the `> ` lines against a fresh demo store (a `Start` first),
//! writes after each customer line the engine's decisions (`  ~ ` + the turn's trace joined by
//! ` | `), then each reply's text and its buttons as `[1] label  [2] label`, and compares the whole
//! file. Other `# ` lines are kept as comments where they stand.
//!
//! Special customer lines: `> @button K` sends the callback data of button [K] of the latest
//! reply (as Telegram does); `> @button T.K` sends the data of button [K] shown in answer to
//! customer line T (0 = the start), which is how a stale button is pressed; `> @start` sends
//! `/start` as `ChatInput::Start`.
//!
//! Update: `UPDATE_GOLDEN=1 cargo test --test it transcripts` rewrites every file that changed
//! (and creates the missing ones listed in `SEEDS`), printing which; review with `git diff`.
//! To add a conversation write a file with the header and the `> ` lines (or add a seed) and run
//! the update.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, TurnOutput};
use repaybot::demo;
use repaybot::dialog::Lang;
use repaybot::settings::Settings;
use repaybot::statement;
use repaybot::store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};

const CHAT: &str = "t:1";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/transcripts")
}

fn updating() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// 10:00 in Shanghai on `today`: a fixed clock for every turn.
fn now_on(today: NaiveDate) -> DateTime<Utc> {
    today.and_hms_opt(2, 0, 0).expect("valid time").and_utc()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid date")
}

/// A fresh store with the demo accounts of `today`, and the app over it.
fn demo_app(today: NaiveDate) -> Result<App> {
    let store = Store::temporary()?;
    demo::load_if_empty(&store, today, &Settings::default().policy)?;
    App::new(store, Settings::default())
}

// ---------------------------------------------------------------- the file format

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Comment(String),
    Input(String),
}

#[derive(Clone, Debug)]
struct Script {
    today: NaiveDate,
    account: Option<String>,
    lang: Lang,
    /// Comments before the first customer line (the header included).
    head: Vec<String>,
    items: Vec<Item>,
}

fn parse(text: &str) -> Result<Script> {
    let mut head = Vec::new();
    let mut items = Vec::new();
    let (mut today, mut account, mut lang) = (None, None, None);
    for line in text.lines() {
        if let Some(input) = line.strip_prefix("> ").or((line == ">").then_some("")) {
            items.push(Item::Input(input.to_string()));
        } else if line.starts_with('#') {
            if let Some((k, v)) = line.trim_start_matches('#').trim().split_once(':') {
                let v = v.trim();
                match k.trim() {
                    "today" => today = Some(v.parse::<NaiveDate>().context("# today")?),
                    "account" => account = Some((v != "none").then(|| v.to_string())),
                    "lang" => {
                        lang = Some(match v {
                            "zh" => Lang::Zh,
                            "en" => Lang::En,
                            other => bail!("# lang: {other} (zh or en)"),
                        })
                    }
                    _ => {}
                }
            }
            if items.is_empty() {
                head.push(line.to_string());
            } else {
                items.push(Item::Comment(line.to_string()));
            }
        }
    }
    Ok(Script {
        today: today.context("header line `# today: YYYY-MM-DD` missing")?,
        account: account.context("header line `# account: ID|none` missing")?,
        lang: lang.context("header line `# lang: zh|en` missing")?,
        head,
        items,
    })
}

fn render_turn(out: &mut String, turn: &TurnOutput) {
    out.push_str(&format!("  ~ {}\n", turn.trace.join(" | ")));
    for reply in &turn.replies {
        for line in reply.text.lines() {
            assert!(
                !line.starts_with("> ") && !line.starts_with('#'),
                "a reply line looks like a script line; the golden format cannot hold it: {line:?}"
            );
            out.push_str(line);
            out.push('\n');
        }
        if !reply.buttons.is_empty() {
            let shown: Vec<String> = reply
                .buttons
                .iter()
                .enumerate()
                .map(|(i, (label, _))| format!("[{}] {label}", i + 1))
                .collect();
            out.push_str(&shown.join("  "));
            out.push('\n');
        }
        out.push('\n');
    }
    if turn.replies.is_empty() {
        out.push_str("(no reply)\n\n");
    }
}

/// Buttons (label, data) of the last reply of a turn that had any.
fn last_buttons(turn: &TurnOutput) -> Vec<(String, String)> {
    turn.replies
        .iter()
        .rev()
        .find(|r| !r.buttons.is_empty())
        .map(|r| r.buttons.clone())
        .unwrap_or_default()
}

/// Replays a script and renders the whole file.
fn generate(script: &Script) -> Result<String> {
    let app = demo_app(script.today)?;
    if let Some(account) = &script.account {
        anyhow::ensure!(app.store.bind(CHAT, account)?, "cannot bind {account}");
    }
    app.set_lang(CHAT, script.lang)?;
    let now = now_on(script.today);
    let mut out = String::new();
    for h in &script.head {
        out.push_str(h);
        out.push('\n');
    }
    out.push('\n');
    let first = app.turn(CHAT, ChatInput::Start, script.today, now)?;
    render_turn(&mut out, &first);
    let mut shown = vec![last_buttons(&first)];
    for item in &script.items {
        let input = match item {
            Item::Comment(c) => {
                out.push_str(c);
                out.push('\n');
                continue;
            }
            Item::Input(text) => text,
        };
        let chat_input = if input == "@start" {
            ChatInput::Start
        } else if let Some(which) = input.strip_prefix("@button ") {
            let (turn_no, k) = match which.trim().split_once('.') {
                Some((t, k)) => (t.parse::<usize>()?, k.parse::<usize>()?),
                None => (shown.len() - 1, which.trim().parse::<usize>()?),
            };
            let buttons = shown
                .get(turn_no)
                .with_context(|| format!("`{input}`: no customer line {turn_no} yet"))?;
            let (_, data) = buttons
                .get(k.wrapping_sub(1))
                .with_context(|| format!("`{input}`: that reply has no button [{k}]"))?;
            ChatInput::Button(data.clone())
        } else {
            ChatInput::Text(input.clone())
        };
        out.push_str(&format!("> {input}\n"));
        let turn = app.turn(CHAT, chat_input, script.today, now)?;
        render_turn(&mut out, &turn);
        shown.push(last_buttons(&turn));
    }
    Ok(out)
}

/// The first line where two texts differ, with a little context, for the failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let n = e.len().max(a.len());
    for i in 0..n {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            return format!(
                "line {}:\n  expected: {}\n  actual:   {}",
                i + 1,
                x.unwrap_or(&"<end of file>"),
                y.unwrap_or(&"<end of file>")
            );
        }
    }
    "only line endings differ".to_string()
}

// ---------------------------------------------------------------- seeds

/// Scripts used only to create a missing file in update mode; once a file exists it is the
/// source (edit its `> ` lines, not this list).
const SEEDS: &[(&str, &str, &str, &[&str])] = &[
    (
        "bill_current_zh",
        "A1001",
        "zh",
        &["查账单", "谢谢", "再见"],
    ),
    (
        "bill_current_en",
        "A1001",
        "en",
        &["check my bill", "thanks", "bye"],
    ),
];

fn seed_text(account: &str, lang: &str, lines: &[&str]) -> String {
    let mut t = format!("# today: 2026-11-21\n# account: {account}\n# lang: {lang}\n");
    for l in lines {
        t.push_str(&format!("> {l}\n"));
    }
    t
}

// ---------------------------------------------------------------- the golden test

#[test]
fn transcripts_match_golden_files() -> Result<()> {
    let dir = golden_dir();
    let update = updating();
    let mut stderr = std::io::stderr();
    if update {
        std::fs::create_dir_all(&dir)?;
        for (name, account, lang, lines) in SEEDS {
            let path = dir.join(format!("{name}.txt"));
            if !path.exists() {
                std::fs::write(&path, seed_text(account, lang, lines))?;
                writeln!(stderr, "transcripts: created {}", path.display())?;
            }
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for (name, ..) in SEEDS {
        let path = dir.join(format!("{name}.txt"));
        if !path.exists() {
            failures.push(format!(
                "{}: missing (run UPDATE_GOLDEN=1 to create it)",
                path.display()
            ));
        }
    }
    assert!(
        files.len() >= 20,
        "expected the golden transcripts in {}, found {}",
        dir.display(),
        files.len()
    );
    for path in &files {
        let expected = std::fs::read_to_string(path)?;
        let script = parse(&expected).with_context(|| format!("{}", path.display()))?;
        let actual = generate(&script).with_context(|| format!("{}", path.display()))?;
        if actual == expected {
            continue;
        }
        if update {
            std::fs::write(path, &actual)?;
            writeln!(stderr, "transcripts: updated {}", path.display())?;
        } else {
            failures.push(format!(
                "{}: differs at {}",
                path.display(),
                first_difference(&expected, &actual)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} transcript(s) differ from their golden files; review and run \
         `UPDATE_GOLDEN=1 cargo test --test it transcripts`:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

#[test]
fn transcript_format_round_trips() -> Result<()> {
    let text = "# today: 2026-11-21\n# account: none\n# lang: en\n# a note\n> hi\n# later\n>\n";
    let s = parse(text)?;
    assert_eq!(s.account, None);
    assert_eq!(s.lang, Lang::En);
    assert_eq!(s.head.len(), 4);
    assert_eq!(
        s.items,
        vec![
            Item::Input("hi".into()),
            Item::Comment("# later".into()),
            Item::Input(String::new())
        ]
    );
    // A generated file parses back to the same script, so regenerating it is stable.
    let generated = generate(&s)?;
    let again = parse(&generated)?;
    assert_eq!(again.items, s.items);
    assert_eq!(generate(&again)?, generated);
    Ok(())
}
