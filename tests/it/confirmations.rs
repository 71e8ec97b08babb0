//! Every step that moves money or makes an agreement (pay, settle, defer, re-instal, accept a
//! hardship plan, auto-debit on and off) confirms a typed reply only when it is a clear yes on
//! its own: questions, negations mixed with a yes, and longer replies get the question again
//! with its buttons, and nothing happens. Both languages, through the chat engine.

use anyhow::{ensure, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, TurnOutput};
use repaybot::dialog::Lang;
use repaybot::settings::Settings;
use repaybot::store::Store;

/// Replies that must never confirm: questions, yes-and-no mixes, hesitations, longer sentences.
const UNCLEAR: &[&str] = &[
    "确认吗",
    "确认吗？",
    "对吗",
    "可以吗",
    "是吗?",
    "确认不了",
    "好吧不用了",
    "好的，不过等一下",
    "确认，不过先等我看看余额够不够再说",
    "ok?",
    "is it?",
    "okay??",
    "ok no",
    "yes but wait",
    "yes, but I want to check the amount first",
    "sure... actually not sure",
    "y?",
];

#[derive(Clone, Copy, Debug)]
enum Step {
    Text(&'static str),
    /// Button [k] (1-based) of the latest reply that had buttons.
    Button(usize),
    /// An approved hardship plan for the account's open case (as an agent's `/approve` does).
    Approve,
}

/// One confirming state: how to reach it, and the effect a clear yes performs there.
struct Case {
    account: &'static str,
    path: &'static [Step],
    state: &'static str,
    effect: &'static str,
}

const CASES: &[Case] = &[
    Case {
        account: "A1001",
        path: &[Step::Text("/repay"), Step::Button(1)],
        state: "repay.confirm",
        effect: "post_payment",
    },
    Case {
        account: "A1001",
        path: &[Step::Text("我想提前结清")],
        state: "settle.confirm",
        effect: "post_payment",
    },
    Case {
        account: "A1001",
        path: &[
            Step::Text("下个月的能延期还款吗"),
            Step::Button(1),
            Step::Button(2),
        ],
        state: "defer.pick",
        effect: "defer",
    },
    Case {
        account: "A1003",
        path: &[
            Step::Text("我想二次分期"),
            Step::Button(2),
            Step::Button(1),
            Step::Button(3),
        ],
        state: "reinstall.pick",
        effect: "restructure",
    },
    Case {
        account: "A1001",
        path: &[
            Step::Text("开通自动扣款"),
            Step::Button(1),
            Step::Text("6789"),
        ],
        state: "autopay.confirm",
        effect: "set_autopay",
    },
    Case {
        account: "A1001",
        path: &[
            Step::Text("开通自动扣款"),
            Step::Button(1),
            Step::Text("6789"),
            Step::Button(1),
            Step::Text("自动扣款"),
            Step::Button(2),
        ],
        state: "autopay.stop_confirm",
        effect: "stop_autopay",
    },
    Case {
        account: "A1003",
        path: &[
            Step::Text("我失业了，还不上"),
            Step::Button(3),
            Step::Button(1),
            Step::Text("300"),
            Step::Text("@file"),
            Step::Button(1),
            Step::Button(1),
            Step::Approve,
            Step::Text("申请进度"),
        ],
        state: "negotiate.case_approved",
        effect: "accept_plan",
    },
];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid date")
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).expect("valid time").and_utc()
}

fn bound(account: &str, lang: Lang) -> Result<(App, String)> {
    let store = Store::temporary()?;
    repaybot::demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    let app = App::new(store, Settings::default())?;
    let chat = format!("cf:{account}");
    ensure!(app.store.bind(&chat, account)?);
    app.set_lang(&chat, lang)?;
    app.turn(&chat, ChatInput::Start, today(), now())?;
    Ok((app, chat))
}

fn state_of(out: &TurnOutput) -> String {
    out.trace
        .iter()
        .rev()
        .find_map(|t| t.strip_prefix("state="))
        .unwrap_or("")
        .to_string()
}

/// Walks `case.path` from the menu and checks it ends in the confirming state.
fn reach(app: &App, chat: &str, case: &Case) -> Result<TurnOutput> {
    let mut last = TurnOutput::default();
    for step in case.path {
        let input = match *step {
            Step::Text("@file") => ChatInput::Document {
                file_id: "F1".into(),
                name: "proof.jpg".into(),
            },
            Step::Text(t) => ChatInput::Text(t.into()),
            Step::Button(k) => {
                let buttons = last.last_buttons();
                let (_, data) = buttons.get(k - 1).with_context(|| {
                    format!("{}: no button [{k}] at {:?}", case.state, last.trace)
                })?;
                ChatInput::Button(data.clone())
            }
            Step::Approve => {
                let case_no = app
                    .store
                    .pending_case(case.account)?
                    .context("no hardship case opened")?
                    .number;
                let plan = repaybot::domain::ApprovedPlan {
                    periods: 24,
                    monthly_rate: rust_decimal::Decimal::ZERO,
                };
                app.store.approve_case(case_no, plan, String::new())?;
                continue;
            }
        };
        last = app.turn(chat, input, today(), now())?;
    }
    ensure!(
        state_of(&last) == case.state,
        "the path did not reach {}: {:?}",
        case.state,
        last.trace
    );
    Ok(last)
}

fn all_text(out: &TurnOutput) -> String {
    let texts: Vec<&str> = out.replies.iter().map(|r| r.text.as_str()).collect();
    texts.join("\n")
}

fn check_case(case: &Case, lang: Lang) -> Result<()> {
    let (app, chat) = bound(case.account, lang)?;
    let shown = reach(&app, &chat, case)?;
    let buttons = shown.last_buttons();
    let reask = app
        .flows
        .text(lang, "common.confirm_unclear", &Default::default());
    for reply in UNCLEAR {
        let out = app.turn(&chat, ChatInput::Text((*reply).into()), today(), now())?;
        let what = format!("{} ({lang:?}) answered {reply:?}", case.state);
        ensure!(
            !out.trace.iter().any(|t| t.starts_with("effect=")),
            "{what}: something was done: {:?}",
            out.trace
        );
        ensure!(
            state_of(&out) == case.state,
            "{what}: left the step: {:?}",
            out.trace
        );
        ensure!(
            all_text(&out).contains(&reask),
            "{what}: no re-ask: {}",
            all_text(&out)
        );
        let again: Vec<String> = out.last_buttons().into_iter().map(|b| b.0).collect();
        let before: Vec<String> = buttons.iter().map(|b| b.0.clone()).collect();
        ensure!(
            again == before,
            "{what}: the buttons are not shown again: {again:?}"
        );
    }
    // A clear yes, with the punctuation people add, still confirms.
    let yes = match lang {
        Lang::Zh => "好的！",
        Lang::En => "OK.",
    };
    let out = app.turn(&chat, ChatInput::Text(yes.into()), today(), now())?;
    let effect = format!("effect={}", case.effect);
    ensure!(
        out.trace.contains(&effect),
        "{} ({lang:?}): a clear yes did not confirm: {:?}",
        case.state,
        out.trace
    );
    Ok(())
}

#[test]
fn unclear_replies_never_confirm_at_any_confirming_step_in_either_language() -> Result<()> {
    for case in CASES {
        for lang in [Lang::Zh, Lang::En] {
            check_case(case, lang)?;
        }
    }
    Ok(())
}

#[test]
fn every_confirming_state_of_the_dialogs_is_in_the_table() -> Result<()> {
    let (app, _) = bound("A1001", Lang::Zh)?;
    let mut marked = Vec::new();
    for flow in app.flows.flow_names() {
        for state in app.flows.state_names(&flow) {
            if app.flows.is_confirm_state(&flow, &state) && !state.ends_with("_again") {
                marked.push(format!("{flow}.{state}"));
            }
        }
    }
    let mut tested: Vec<String> = CASES.iter().map(|c| c.state.to_string()).collect();
    marked.sort();
    tested.sort();
    assert_eq!(marked, tested, "each confirming state needs a row in CASES");
    Ok(())
}

#[test]
fn a_clear_no_or_a_refusal_without_a_yes_cancels_the_payment() -> Result<()> {
    for (lang, no) in [
        (Lang::Zh, "算了不还了"),
        (Lang::En, "no thanks"),
        (Lang::Zh, "不用了"),
    ] {
        let (app, chat) = bound("A1001", lang)?;
        reach(&app, &chat, &CASES[0])?;
        let out = app.turn(&chat, ChatInput::Text(no.into()), today(), now())?;
        assert_eq!(state_of(&out), "menu.main", "{no}: {:?}", out.trace);
        assert!(!out.trace.iter().any(|t| t.starts_with("effect=")));
    }
    Ok(())
}
