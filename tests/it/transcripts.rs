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
//! `/start` as `ChatInput::Start`; `> @file NAME` sends a document named NAME (as a photo or
//! file in Telegram); `> @contact PHONE` shares the sender's own contact (Telegram's contact
//! button), `> @contact-of-another PHONE` a contact that is not the sender's.
//!
//! Optional header `# later: N`: the demo data is made for `today`, the conversation happens N
//! days later (an order then N days further overdue).
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
    /// Days between the demo data's day and the conversation.
    later: u64,
    /// Comments before the first customer line (the header included).
    head: Vec<String>,
    items: Vec<Item>,
}

fn parse(text: &str) -> Result<Script> {
    let mut head = Vec::new();
    let mut items = Vec::new();
    let (mut today, mut account, mut lang, mut later) = (None, None, None, 0);
    for line in text.lines() {
        if let Some(input) = line.strip_prefix("> ").or((line == ">").then_some("")) {
            items.push(Item::Input(input.to_string()));
        } else if line.starts_with('#') {
            if let Some((k, v)) = line.trim_start_matches('#').trim().split_once(':') {
                let v = v.trim();
                match k.trim() {
                    "today" => today = Some(v.parse::<NaiveDate>().context("# today")?),
                    "account" => account = Some((v != "none").then(|| v.to_string())),
                    "later" => later = v.parse().context("# later: days")?,
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
        later,
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
        if let Some(line) = reply.button_line() {
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(file) = &reply.attachment {
            out.push_str(&format!(
                "(file: {}, {} bytes)\n",
                file.file_name,
                file.bytes.len()
            ));
        }
        out.push('\n');
    }
    if turn.replies.is_empty() {
        out.push_str("(no reply)\n\n");
    }
}

/// Buttons (label, data) of the last reply of a turn that had any.
fn last_buttons(turn: &TurnOutput) -> Vec<(String, String)> {
    turn.last_buttons()
}

/// Replays a script and renders the whole file.
fn generate(script: &Script) -> Result<String> {
    let app = demo_app(script.today)?;
    if let Some(account) = &script.account {
        anyhow::ensure!(app.store.bind(CHAT, account)?, "cannot bind {account}");
    }
    app.set_lang(CHAT, script.lang)?;
    let day = script.today + chrono::Days::new(script.later);
    let now = now_on(day);
    let mut out = String::new();
    for h in &script.head {
        out.push_str(h);
        out.push('\n');
    }
    out.push('\n');
    let first = app.turn(CHAT, ChatInput::Start, day, now)?;
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
        } else if let Some(phone) = input.strip_prefix("@contact ") {
            ChatInput::Contact {
                phone: phone.trim().to_string(),
                own: true,
            }
        } else if let Some(phone) = input.strip_prefix("@contact-of-another ") {
            ChatInput::Contact {
                phone: phone.trim().to_string(),
                own: false,
            }
        } else if let Some(name) = input.strip_prefix("@file ") {
            ChatInput::Document {
                file_id: format!("tg-file-{}", name.trim()),
                name: name.trim().to_string(),
            }
        } else {
            ChatInput::Text(input.clone())
        };
        out.push_str(&format!("> {input}\n"));
        let turn = app.turn(CHAT, chat_input, day, now)?;
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

// ---------------------------------------------------------------- amounts = statement

use rust_decimal::Decimal;
use statement::StatementDoc;

const DEMO_ACCOUNTS: [&str; 5] = ["A1001", "A1002", "A1003", "A1004", "A1005"];

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|_| panic!("not an amount: {s:?}"))
}

fn statement_of(app: &App, account: &str, today: NaiveDate) -> Result<StatementDoc> {
    let bill = app.store.bill(account, today, &app.settings.policy)?;
    Ok(statement::document(&bill, &app.store.cases_of(account)?))
}

/// Everything paid into an order, per the statement.
fn paid_on_order(doc: &StatementDoc, order: &str) -> Decimal {
    doc.orders
        .iter()
        .filter(|o| o.order_id == order)
        .flat_map(|o| o.installments.iter())
        .map(|i| dec(&i.paid))
        .sum()
}

fn all_text(turn: &TurnOutput) -> String {
    let texts: Vec<&str> = turn.replies.iter().map(|r| r.text.as_str()).collect();
    texts.join("\n")
}

/// Presses the button of the last reply whose label satisfies `pick`.
fn press(
    app: &App,
    chat: &str,
    turn: &TurnOutput,
    pick: impl Fn(&str) -> bool,
) -> Result<(TurnOutput, String)> {
    let (_, data) = last_buttons(turn)
        .into_iter()
        .find(|(label, _)| pick(label))
        .with_context(|| format!("no such button in {:?}", turn.replies))?;
    let t = today();
    Ok((
        app.turn(chat, ChatInput::Button(data.clone()), t, now_on(t))?,
        data,
    ))
}

fn bound_app(account: &str) -> Result<(App, String)> {
    let app = demo_app(today())?;
    let chat = format!("t:{account}");
    assert!(app.store.bind(&chat, account)?);
    app.set_lang(&chat, Lang::Zh)?;
    app.turn(&chat, ChatInput::Start, today(), now_on(today()))?;
    Ok((app, chat))
}

fn say(app: &App, chat: &str, text: &str) -> Result<TurnOutput> {
    let t = today();
    app.turn(chat, ChatInput::Text(text.into()), t, now_on(t))
}

#[test]
fn transcripts_bill_amounts_equal_the_statement() -> Result<()> {
    for account in DEMO_ACCOUNTS {
        let (app, chat) = bound_app(account)?;
        let doc = statement_of(&app, account, today())?;
        let text = all_text(&say(&app, &chat, "查账单")?);
        if dec(&doc.overdue_total) > Decimal::ZERO {
            assert!(
                text.contains(&format!("¥{}", doc.overdue_total)),
                "{account}: the bill does not show the statement's overdue total {}:\n{text}",
                doc.overdue_total
            );
        }
        for o in &doc.orders {
            if let Some(next) = &o.next_due {
                assert!(
                    text.contains(&format!("{} 应还 ¥{}", next.date, next.amount)),
                    "{account} {}: the bill does not show next due {} ¥{}:\n{text}",
                    o.order_id,
                    next.date,
                    next.amount
                );
            }
            if dec(&o.overdue_total) > Decimal::ZERO {
                assert!(
                    text.lines()
                        .any(|l| l.contains(&format!("{}）", o.order_id))
                            && (l.contains(&format!("已逾期 ¥{}", o.overdue_total))
                                || l.contains(&format!("宽限期内待还 ¥{}", o.overdue_total)))),
                    "{account} {}: the bill does not show the order's overdue {}:\n{text}",
                    o.order_id,
                    o.overdue_total
                );
            }
        }
        if doc.orders.iter().all(|o| o.next_due.is_none()) && doc.overdue_total == "0.00" {
            assert!(text.contains("没有待还款项"), "{account}: {text}");
        }
    }
    Ok(())
}

#[test]
fn transcripts_settlement_quotes_equal_the_statement() -> Result<()> {
    let mut quoted = 0;
    for account in DEMO_ACCOUNTS {
        let doc = statement_of(&demo_app(today())?, account, today())?;
        for o in doc.orders.iter().filter(|o| o.status == "active") {
            let quote = o
                .settlement_quote
                .as_ref()
                .with_context(|| format!("{}: active without a quote", o.order_id))?;
            let (app, chat) = bound_app(account)?;
            let mut turn = say(&app, &chat, "我想提前结清")?;
            if turn.trace.last().is_some_and(|s| s == "state=settle.pick") {
                turn = press(&app, &chat, &turn, |l| l.contains(&o.order_id))?.0;
            }
            let text = all_text(&turn);
            assert_eq!(
                turn.trace.last().map(String::as_str),
                Some("state=settle.confirm"),
                "{account} {}: {text}",
                o.order_id
            );
            assert!(
                text.contains(&format!("需支付 ¥{quote}")),
                "{account} {}: the settle flow does not quote the statement's {quote}:\n{text}",
                o.order_id
            );
            quoted += 1;
        }
    }
    assert!(quoted >= 4, "only {quoted} active orders quoted");
    Ok(())
}

/// After a repayment in chat the statement of the same day shows exactly that payment, and the
/// confirm button pressed again pays nothing more.
#[test]
fn transcripts_chat_payments_reach_the_statement_once() -> Result<()> {
    // (account, what the customer does: `bill` = the pay-this-bill button, else the text typed)
    let cases: &[(&str, &str)] = &[
        ("A1003", "还100"),
        ("A1003", "bill"),
        ("A1002", "bill"),
        ("A1001", "bill"),
        ("A1004", "bill"),
    ];
    for (account, how) in cases {
        let (app, chat) = bound_app(account)?;
        let before = statement_of(&app, account, today())?;
        // What the chat should charge per order.
        let expected: Vec<(String, Decimal)> = before
            .orders
            .iter()
            .filter(|o| o.status == "active")
            .map(|o| {
                let amount = if *how == "bill" {
                    dec(&o.overdue_total)
                        + o.next_due
                            .as_ref()
                            .map_or(Decimal::ZERO, |n| dec(&n.amount))
                } else {
                    dec("100.00")
                };
                (o.order_id.clone(), amount)
            })
            .filter(|(_, a)| *a > Decimal::ZERO)
            .collect();
        let total: Decimal = expected.iter().map(|(_, a)| *a).sum();
        let confirm = if *how == "bill" {
            let choose = say(&app, &chat, "还款")?;
            press(&app, &chat, &choose, |l| l == "还本期账单")?.0
        } else {
            say(&app, &chat, how)?
        };
        let text = all_text(&confirm);
        assert!(
            text.contains(&format!("本次将支付 ¥{total:.2}")),
            "{account} {how}: expected to be asked for ¥{total:.2}:\n{text}"
        );
        let counts: Vec<usize> = expected
            .iter()
            .map(|(o, _)| app.store.payments_of(o).map(|p| p.len()))
            .collect::<Result<_>>()?;
        let (receipt, data) = press(&app, &chat, &confirm, |l| l == "确认支付")?;
        assert!(
            receipt.trace.iter().any(|t| t == "event=payment_ok"),
            "{account} {how}: {:?}",
            receipt.trace
        );
        let after = statement_of(&app, account, today())?;
        for ((order, amount), count) in expected.iter().zip(&counts) {
            assert_eq!(
                paid_on_order(&after, order) - paid_on_order(&before, order),
                *amount,
                "{account} {how} {order}: paid did not grow by the amount paid in chat"
            );
            assert_eq!(app.store.payments_of(order)?.len(), count + 1);
        }
        let (old_overdue, new_overdue) = (dec(&before.overdue_total), dec(&after.overdue_total));
        if *how == "bill" {
            assert_eq!(
                new_overdue,
                Decimal::ZERO,
                "{account}: overdue left after paying the bill"
            );
        } else {
            assert_eq!(
                new_overdue,
                old_overdue - total,
                "{account} {how}: overdue not reduced by it"
            );
        }
        // The same confirmation pressed again: expired, nothing more applied.
        let t = today();
        let again = app.turn(&chat, ChatInput::Button(data), t, now_on(t))?;
        assert!(
            !again.trace.iter().any(|t| t.starts_with("effect=")),
            "{:?}",
            again.trace
        );
        for ((order, _), count) in expected.iter().zip(&counts) {
            assert_eq!(
                app.store.payments_of(order)?.len(),
                count + 1,
                "{account} {how} {order}: the stale confirm paid again"
            );
        }
        let last = statement_of(&app, account, today())?;
        assert_eq!(
            serde_json::to_string(&last)?,
            serde_json::to_string(&after)?,
            "{account}: the statement changed after a stale confirm"
        );
    }
    Ok(())
}
