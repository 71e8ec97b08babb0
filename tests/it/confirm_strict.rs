//! Unclear replies never confirm money (issue 11): at every step that moves money or makes an
//! agreement, a typed reply confirms only when it is a plain yes of `dialogs/confirm.toml`;
//! questions, negations, mixed and longer replies get the question again (or leave), and the
//! account's statement and auto-debit stay as they were. The button and a plain yes still work.

use anyhow::{ensure, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use repaybot::app::{App, ChatInput, TurnOutput};
use repaybot::demo;
use repaybot::dialog::Lang;
use repaybot::settings::Settings;
use repaybot::store::Store;

const CHAT: &str = "r:confirm";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid date")
}

fn now() -> DateTime<Utc> {
    today().and_hms_opt(2, 0, 0).expect("valid time").and_utc()
}

#[derive(Clone, Copy)]
enum Step {
    Text(&'static str),
    Press(usize),
}

/// A way to one confirming state for one demo account.
struct Case {
    account: &'static str,
    lang: Lang,
    path: &'static [Step],
    state: &'static str,
    plain_yes: &'static str,
}

use Step::{Press, Text};

const CASES: &[Case] = &[
    Case {
        account: "A1003",
        lang: Lang::Zh,
        path: &[Text("还款"), Press(0)],
        state: "repay.confirm",
        plain_yes: "确认",
    },
    Case {
        account: "A1002",
        lang: Lang::En,
        path: &[Text("repay"), Press(0)],
        state: "repay.confirm",
        plain_yes: "yes",
    },
    Case {
        account: "A1001",
        lang: Lang::Zh,
        path: &[Text("提前结清")],
        state: "settle.quote",
        plain_yes: "好的",
    },
    Case {
        account: "A1001",
        lang: Lang::En,
        path: &[Text("settle early")],
        state: "settle.quote",
        plain_yes: "ok",
    },
    Case {
        account: "A1002",
        lang: Lang::En,
        path: &[Text("defer my payment"), Press(0), Press(0)],
        state: "defer.pick",
        plain_yes: "confirm",
    },
    Case {
        account: "A1003",
        lang: Lang::Zh,
        path: &[Text("二次分期"), Press(0), Press(0), Press(0), Press(0)],
        state: "reinstall.pick",
        plain_yes: "确认",
    },
    Case {
        account: "A1001",
        lang: Lang::Zh,
        path: &[Text("自动扣款"), Press(0), Text("6609")],
        state: "autopay.confirm",
        plain_yes: "可以",
    },
];

const UNCLEAR_ZH: &[&str] = &[
    "确认吗",
    "确认？",
    "对吗",
    "可以吗",
    "确认不了",
    "好吧不用了",
    "好的但是等一下",
    "嗯 我再想想",
    "是不是要付这么多",
    "ok吗",
    "确认个啥",
];

const UNCLEAR_EN: &[&str] = &[
    "ok?",
    "is it?",
    "ok no",
    "yes but wait",
    "yes i think so but not sure",
    "confirm?",
    "okay but first tell me the fee",
    "sure... actually no",
    "yes?",
];

fn app_for(case: &Case) -> Result<App> {
    let store = Store::temporary()?;
    demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    let app = App::new(store, Settings::default())?;
    ensure!(app.store.bind(CHAT, case.account)?, "cannot bind");
    app.set_lang(CHAT, case.lang)?;
    Ok(app)
}

fn state_of(turn: &TurnOutput) -> String {
    let mut states = turn.trace.iter().filter_map(|t| t.strip_prefix("state="));
    states.next_back().unwrap_or("?").to_string()
}

/// From the menu, along the case's path; the last turn must rest in the confirming state.
fn walk(app: &App, case: &Case) -> Result<TurnOutput> {
    let mut last = app.turn(CHAT, ChatInput::Start, today(), now())?;
    for step in case.path {
        let input = match *step {
            Text(t) => ChatInput::Text(t.to_string()),
            Press(i) => {
                let buttons = last.last_buttons();
                let (_, data) = buttons.get(i).context("button missing on the path")?;
                ChatInput::Button(data.clone())
            }
        };
        last = app.turn(CHAT, input, today(), now())?;
    }
    ensure!(
        state_of(&last) == case.state,
        "{}: path ends in {} not {}",
        case.account,
        state_of(&last),
        case.state
    );
    Ok(last)
}

/// What money and agreements look like: the statement and every order's auto-debit card.
fn money_of(app: &App, account: &str) -> Result<String> {
    let bill = app.store.bill(account, today(), &app.settings.policy)?;
    let cases = app.store.cases_of(account)?;
    let mut out = repaybot::statement::json(&bill, &cases);
    for order in &bill.orders {
        let card = app.store.autopay_card(&order.order.id)?;
        out.push_str(&format!("\n{}: {card:?}", order.order.id));
    }
    Ok(out)
}

#[test]
fn unclear_replies_at_every_confirming_step_move_no_money() -> Result<()> {
    for case in CASES {
        let app = app_for(case)?;
        let before = money_of(&app, case.account)?;
        let unclear = match case.lang {
            Lang::Zh => UNCLEAR_ZH,
            Lang::En => UNCLEAR_EN,
        };
        for reply in unclear {
            walk(&app, case)?;
            let turn = app.turn(CHAT, ChatInput::Text(reply.to_string()), today(), now())?;
            let after = money_of(&app, case.account)?;
            ensure!(
                after == before,
                "{} {}: {reply:?} moved money",
                case.account,
                case.state
            );
            if state_of(&turn) == case.state {
                let labels: Vec<String> = turn.last_buttons().into_iter().map(|b| b.0).collect();
                ensure!(
                    labels.len() >= 2,
                    "{}: {reply:?} re-asked without the buttons",
                    case.state
                );
            }
        }
    }
    Ok(())
}

#[test]
fn a_plain_yes_or_the_button_still_confirms() -> Result<()> {
    for case in CASES {
        for by_button in [false, true] {
            let app = app_for(case)?;
            let before = money_of(&app, case.account)?;
            let at = walk(&app, case)?;
            let input = if by_button {
                ChatInput::Button(at.last_buttons()[0].1.clone())
            } else {
                ChatInput::Text(case.plain_yes.to_string())
            };
            let turn = app.turn(CHAT, input, today(), now())?;
            ensure!(
                state_of(&turn) != case.state,
                "{}: {:?} did not confirm",
                case.state,
                case.plain_yes
            );
            let after = money_of(&app, case.account)?;
            ensure!(
                after != before,
                "{}: confirmed but nothing changed",
                case.state
            );
        }
    }
    Ok(())
}

#[test]
fn confirm_steps_ask_again_with_a_safety_note() -> Result<()> {
    let case = &CASES[0];
    let app = app_for(case)?;
    walk(&app, case)?;
    let turn = app.turn(CHAT, ChatInput::Text("确认吗".into()), today(), now())?;
    let text: String = turn.replies.iter().map(|r| r.text.clone()).collect();
    ensure!(state_of(&turn) == case.state, "left the confirm step");
    ensure!(text.contains("确认"), "no re-ask: {text}");
    Ok(())
}
