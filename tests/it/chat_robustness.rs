//! The chat cannot be crashed or left stuck (SPEC 3): every state reachable from the menu by
//! buttons (breadth-first, depth 3) and by a few scripted lines, for a bound overdue account and
//! for an unbound chat, gets hostile texts and hostile button data; every turn must succeed and
//! answer, and "取消"/"cancel" must bring the session back to the menu. A session record that
//! cannot be decoded (or has an old version) restarts with an apology.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, TurnOutput};
use repaybot::demo;
use repaybot::dialog::Lang;
use repaybot::settings::Settings;
use repaybot::store::Store;
use std::collections::{BTreeMap, VecDeque};

const CHAT: &str = "r:1";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid date")
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).expect("valid time").and_utc()
}

/// One thing the customer does on the way to a state.
#[derive(Clone, Debug)]
enum Step {
    Text(&'static str),
    /// Press button `i` (0-based) of the latest reply, by its callback data.
    Press(usize),
    /// Share this phone number with the contact button (the sender's own).
    Contact(&'static str),
}

#[derive(Clone, Copy, Debug)]
struct Setup {
    account: Option<&'static str>,
    lang: Lang,
}

impl Setup {
    fn cancel_word(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "取消",
            Lang::En => "cancel",
        }
    }
}

/// A fresh demo store and app, the chat bound (or not) and started.
fn fresh(setup: Setup) -> Result<(App, TurnOutput)> {
    let store = Store::temporary()?;
    demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    let app = App::new(store, Settings::default())?;
    if let Some(a) = setup.account {
        assert!(app.store.bind(CHAT, a)?, "cannot bind {a}");
    }
    app.set_lang(CHAT, setup.lang)?;
    let first = app.turn(CHAT, ChatInput::Start, today(), now())?;
    Ok((app, first))
}

fn buttons(turn: &TurnOutput) -> Vec<(String, String)> {
    turn.last_buttons()
}

fn state_of(turn: &TurnOutput) -> String {
    turn.trace
        .iter()
        .rev()
        .find_map(|t| t.strip_prefix("state="))
        .unwrap_or("?")
        .to_string()
}

/// From the menu (a `Start`), performs `path`; returns the last turn. `None` when a button the
/// path presses is not there (the account changed under it).
fn walk(app: &App, path: &[Step]) -> Result<Option<TurnOutput>> {
    let mut last = app.turn(CHAT, ChatInput::Start, today(), now())?;
    for step in path {
        let input = match step {
            Step::Text(t) => ChatInput::Text(t.to_string()),
            Step::Contact(p) => ChatInput::Contact {
                phone: p.to_string(),
                own: true,
            },
            Step::Press(i) => match buttons(&last).get(*i) {
                Some((_, data)) => ChatInput::Button(data.clone()),
                None => return Ok(None),
            },
        };
        last = app.turn(CHAT, input, today(), now())?;
    }
    Ok(Some(last))
}

/// Every `flow.state` the chat can rest in, with the shortest way there: breadth-first over the
/// buttons up to `depth` presses, from the menu and from each scripted start.
fn reachable(
    setup: Setup,
    starts: &[Vec<Step>],
    depth: usize,
) -> Result<BTreeMap<String, Vec<Step>>> {
    let mut found: BTreeMap<String, Vec<Step>> = BTreeMap::new();
    let (app, _) = fresh(setup)?;
    let mut queue: VecDeque<(Vec<Step>, usize)> = VecDeque::new();
    queue.push_back((Vec::new(), 0));
    for s in starts {
        queue.push_back((s.clone(), 0));
    }
    while let Some((path, presses)) = queue.pop_front() {
        let Some(turn) = walk(&app, &path)? else {
            continue;
        };
        let state = state_of(&turn);
        if found.contains_key(&state) {
            continue;
        }
        found.insert(state, path.clone());
        if presses >= depth {
            continue;
        }
        for i in 0..buttons(&turn).len() {
            let mut next = path.clone();
            next.push(Step::Press(i));
            queue.push_back((next, presses + 1));
        }
    }
    Ok(found)
}

fn hostile_texts() -> Vec<String> {
    vec![
        String::new(),
        "   ".to_string(),
        "x".repeat(10_000),
        "还".repeat(3_000) + &"9".repeat(4_000),
        "😀💸🙏🏽👨‍👩‍👧".to_string(),
        "\u{0}\u{7}\u{1b}[31m red \u{1b}[0m".to_string(),
        "\u{200b}\u{202e}\u{feff}".to_string(),
        "<b>x</b> *y* [z](http://e) `c` _u_ </pre>".to_string(),
        "-500".to_string(),
        "还-500".to_string(),
        "99999999999999".to_string(),
        "还99999999999999999999999999999".to_string(),
        "2月30号".to_string(),
        "0".to_string(),
        "９９".to_string(),
        "/start@repaybot".to_string(),
        "/nonsense".to_string(),
        "back".to_string(),
        "b:1:0".to_string(),
    ]
}

fn hostile_buttons() -> Vec<String> {
    vec![
        "b:999:999".to_string(),
        "b:0:0".to_string(),
        "b:-1:0".to_string(),
        "b:18446744073709551615:0".to_string(),
        "b:1:18446744073709551616".to_string(),
        "b::".to_string(),
        "b:".to_string(),
        String::new(),
        "garbage".to_string(),
        "\u{0}b:1:1".to_string(),
        "b:1:1:1".to_string(),
    ]
}

/// Drives the chat into `state` by `path` and sends `input` there; checks the turn answers and
/// that cancelling afterwards lands in the menu. Returns a problem, if any.
fn attack(
    app: &App,
    setup: Setup,
    state: &str,
    path: &[Step],
    input: ChatInput,
) -> Result<Option<String>> {
    let shown = format!("{input:?}");
    let shown: String = shown.chars().take(60).collect();
    let Some(turn) = walk(app, path)? else {
        return Ok(None);
    };
    let here = state_of(&turn);
    let out = app
        .turn(CHAT, input, today(), now())
        .with_context(|| format!("{state}: turn failed on {shown}"))?;
    if out.replies.is_empty() || out.replies.iter().all(|r| r.text.trim().is_empty()) {
        return Ok(Some(format!(
            "{here}: no reply to {shown} (trace {:?})",
            out.trace
        )));
    }
    let back = app
        .turn(
            CHAT,
            ChatInput::Text(setup.cancel_word().into()),
            today(),
            now(),
        )
        .with_context(|| format!("{state}: cancel failed after {shown}"))?;
    if back.trace.last().map(String::as_str) != Some("state=menu.main") {
        return Ok(Some(format!(
            "{here}: after {shown}, cancel did not reach the menu: {:?}",
            back.trace
        )));
    }
    if back.replies.is_empty() {
        return Ok(Some(format!("{here}: cancel after {shown} said nothing")));
    }
    Ok(None)
}

fn run_setup(setup: Setup, starts: &[Vec<Step>], min_states: usize) -> Result<()> {
    let states = reachable(setup, starts, 3)?;
    assert!(
        states.len() >= min_states,
        "{setup:?}: only {} states reached: {:?}",
        states.len(),
        states.keys().collect::<Vec<_>>()
    );
    let mut problems = Vec::new();
    for (state, path) in &states {
        // A fresh store per state, so payments made on the way to other states don't change
        // what this path leads to.
        let (app, _) = fresh(setup)?;
        for text in hostile_texts() {
            problems.extend(attack(&app, setup, state, path, ChatInput::Text(text))?);
        }
        for data in hostile_buttons() {
            problems.extend(attack(&app, setup, state, path, ChatInput::Button(data))?);
        }
        problems.extend(attack(&app, setup, state, path, ChatInput::Start)?);
    }
    assert!(
        problems.is_empty(),
        "{setup:?}: {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    Ok(())
}

#[test]
fn chat_robustness_bound_overdue_account() -> Result<()> {
    use Step::*;
    let starts = vec![
        vec![Text("还99999")],
        vec![Text("还500")],
        vec![Text("开通自动扣款"), Press(0)],
        vec![Text("开通自动扣款"), Press(1)],
        vec![Text("开通自动扣款"), Press(0), Text("1234")],
        vec![Text("还500"), Press(0), Text("提前结清")],
        vec![Text("我想提前结清")],
        vec![Text("还不上了想协商")],
        vec![Text("账单明细")],
        vec![Text("English"), Text("repay")],
    ];
    run_setup(
        Setup {
            account: Some("A1003"),
            lang: Lang::Zh,
        },
        &starts,
        12,
    )
}

#[test]
fn chat_robustness_two_orders_in_english() -> Result<()> {
    use Step::*;
    let starts = vec![
        vec![Text("pay 100")],
        vec![Text("repay"), Press(2)],
        vec![Text("settle early")],
        vec![Text("autopay"), Press(0)],
    ];
    run_setup(
        Setup {
            account: Some("A1004"),
            lang: Lang::En,
        },
        &starts,
        8,
    )
}

#[test]
fn chat_robustness_unbound_chat() -> Result<()> {
    use Step::*;
    let starts = vec![
        vec![Text("绑定账户")],
        vec![Text("绑定账户"), Text("13800005678")],
        vec![Text("绑定账户"), Contact("13800001111")],
        vec![Text("绑定账户"), Contact("13800005678")],
        vec![Text("绑定账户"), Contact("13800005678"), Text("0000")],
        vec![Text("还500")],
        vec![
            Text("绑定账户"),
            Contact("13800001111"),
            Text("0000"),
            Text("0000"),
            Text("0000"),
            Text("0000"),
            Text("0000"),
        ],
    ];
    run_setup(
        Setup {
            account: None,
            lang: Lang::Zh,
        },
        &starts,
        5,
    )
}

// ---------------------------------------------------------------- undecodable sessions

/// A scratch folder for a real (on-disk) store; removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Scratch(std::env::temp_dir().join(format!(
            "repaybot-robustness-{tag}-{}-{nanos}",
            std::process::id()
        )))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store whose session record for CHAT holds `bytes` (written through the raw sessions tree).
fn app_with_session_bytes(_dir: &Scratch, bytes: &[u8]) -> Result<App> {
    let store = Store::temporary()?;
    store.sessions_tree().insert(CHAT.as_bytes(), bytes)?;
    demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    assert!(store.bind(CHAT, "A1003")?);
    App::new(store, Settings::default())
}

#[test]
fn chat_robustness_undecodable_session_restarts_politely() -> Result<()> {
    let records: [(&str, &[u8]); 4] = [
        ("garbage", b"\xff\xfe\x00 not json at all"),
        ("empty", b""),
        (
            "old_version",
            br#"{"v":0,"origin":"chat:r:1","data":{"flow":"repay","state":"confirm"}}"#,
        ),
        (
            "wrong_shape",
            br#"{"v":1,"origin":"chat:r:1","data":{"flow":7,"state":null}}"#,
        ),
    ];
    for (tag, bytes) in records {
        for input in [
            ChatInput::Text("查账单".into()),
            ChatInput::Start,
            ChatInput::Button("b:3:0".into()),
        ] {
            let dir = Scratch::new(tag);
            let app = app_with_session_bytes(&dir, bytes)?;
            let shown = format!("{input:?}");
            let out = app
                .turn(CHAT, input, today(), now())
                .with_context(|| format!("{tag}: {shown}"))?;
            let first = out.replies.first().map(|r| r.text.as_str()).unwrap_or("");
            assert!(
                first.contains("刚才的对话已失效"),
                "{tag} {shown}: no apology first: {:?}",
                out.replies
            );
            assert!(out.replies.len() >= 2, "{tag} {shown}: only the apology");
            // The next turn is an ordinary one: no second apology, and cancel reaches the menu.
            let next = app.turn(CHAT, ChatInput::Text("取消".into()), today(), now())?;
            assert!(
                !next.replies.iter().any(|r| r.text.contains("已失效")),
                "{tag}: apologised twice"
            );
            assert_eq!(
                next.trace.last().map(String::as_str),
                Some("state=menu.main")
            );
        }
    }
    Ok(())
}

/// A session saved in a flow/state that no longer exists (dialogs changed between releases)
/// goes back to the menu instead of sticking.
#[test]
fn chat_robustness_session_in_a_removed_state_recovers() -> Result<()> {
    let dir = Scratch::new("removed");
    let record = br#"{"v":1,"origin":"chat:r:1","data":{"flow":"gone","state":"nowhere","vars":{},"lang":"zh","turn":5,"misunderstood":2,"back":[]}}"#;
    let app = app_with_session_bytes(&dir, record)?;
    let out = app.turn(CHAT, ChatInput::Text("查账单".into()), today(), now())?;
    assert!(!out.replies.is_empty());
    assert!(
        !out.replies.iter().any(|r| r.text.contains("已失效")),
        "a decodable session was treated as undecodable: {:?}",
        out.replies
    );
    assert_eq!(
        out.trace.last().map(String::as_str),
        Some("state=bill.show_overdue"),
        "{:?}",
        out.trace
    );
    Ok(())
}

/// Issue 11: the terminal chat exited on one invalid UTF-8 byte; it now answers every line,
/// the bad bytes replaced.
#[test]
fn chat_robustness_invalid_utf8_line_does_not_end_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args(["--data-dir", dir.path().join("d").to_str().unwrap()])
        .args(["--today", "2026-11-21", "chat", "--account", "A1001"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"\xff\xfe\xe6\x9f\n").unwrap();
        stdin.write_all("查账单\n".as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("> 查账单"),
        "the line after the bad one: {shown}"
    );
    assert!(shown.contains("267.90"), "answered: {shown}");
}
