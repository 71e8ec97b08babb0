//! Tests of the dialog module: loading and validation (every error with file:line), every rule
//! of `step`, hostile inputs in every state, and the graph.

use proptest::prelude::*;
use repaybot::dialog::{
    check_report, graph, render, ActionError, Actions, Ctx, Effect, Flows, Input, Known, Lang,
    Message, Session, SourceFile,
};
use std::collections::BTreeMap;
use std::path::Path;

// ---------------------------------------------------------------- helpers

fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            let rel: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let text = std::fs::read_to_string(&path).expect("utf-8 fixture");
            out.push(SourceFile {
                path: rel.join("/"),
                text,
            });
        }
    }
}

/// Every file of `tests/it/fixtures/<name>`, paths like `dialogs_ok/flows/pay.toml`.
fn fixture(name: &str) -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures");
    let mut out = Vec::new();
    walk(&root, &root.join(name), &mut out);
    out
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn known() -> Known {
    Known {
        intents: repaybot::nlu::Intent::ALL
            .iter()
            .map(|i| i.as_str().to_string())
            .collect(),
        slots: strings(&["amount", "date", "days", "periods", "order_id"]),
        actions: strings(&["bill_summary"]),
        effects: strings(&["post_payment", "open_ticket"]),
        events: strings(&["payment_ok", "payment_failed", "agent_closed", "bound"]),
        vars: strings(&["amount", "due", "target", "payment_id"]),
    }
}

fn flows() -> Flows {
    match Flows::load(&fixture("dialogs_ok"), &known()) {
        Ok(f) => f,
        Err(errors) => panic!("dialogs_ok must load: {errors:#?}"),
    }
}

/// Actions of a fake app: `bill_summary` sets the amount due and returns `outcome`; the
/// outcome `store_down` stands for a store that cannot be read (the action fails).
struct Fake {
    outcome: &'static str,
}

impl Actions for Fake {
    fn run(&self, name: &str, vars: &mut BTreeMap<String, String>) -> Result<String, ActionError> {
        if self.outcome == "store_down" {
            return Err(ActionError {
                action: name.to_string(),
                cause: "the store did not answer".into(),
            });
        }
        if name == "bill_summary" {
            vars.insert("amount".into(), "1200.00".into());
            vars.insert("due".into(), "2026-12-05".into());
        }
        Ok(self.outcome.to_string())
    }
}

struct Chat {
    flows: Flows,
    session: Session,
    bound: bool,
    fake: Fake,
    last: Vec<Effect>,
}

impl Chat {
    fn new(lang: Lang) -> Chat {
        let mut chat = Chat {
            flows: flows(),
            session: Session::new(lang),
            bound: true,
            fake: Fake { outcome: "ok" },
            last: Vec::new(),
        };
        chat.send(Input::Start);
        chat
    }

    fn send(&mut self, input: Input) -> Vec<Effect> {
        let ctx = Ctx {
            bound: self.bound,
            actions: &self.fake,
        };
        let stepped = self.flows.step(self.session.clone(), input, &ctx);
        let (session, effects) = stepped.expect("the fake's actions answer");
        self.session = session;
        if effects.iter().any(|e| matches!(e, Effect::Reply { .. })) {
            self.last = effects.clone();
        }
        effects
    }

    fn msg(
        &mut self,
        raw: &str,
        intent: &str,
        slots: &[(&str, &str)],
        problem: Option<&str>,
    ) -> Vec<Effect> {
        let slots: BTreeMap<String, String> = slots
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let m = Message {
            raw,
            intent,
            slots: &slots,
            slot_problem: problem,
        };
        self.send(Input::Text(m))
    }

    fn say(&mut self, raw: &str, intent: &str) -> Vec<Effect> {
        self.msg(raw, intent, &[], None)
    }

    /// Presses button `i` of the last reply.
    fn press(&mut self, i: usize) -> Vec<Effect> {
        let data = buttons(&self.last)[i].1.clone();
        self.send(Input::Button(&data))
    }

    fn event(&mut self, name: &str, vars: &[(&str, &str)]) -> Vec<Effect> {
        let vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send(Input::Event { name, vars })
    }

    fn at(&self) -> String {
        format!("{}.{}", self.session.flow, self.session.state)
    }

    fn put(&mut self, flow: &str, state: &str) {
        self.session.flow = flow.into();
        self.session.state = state.into();
    }
}

fn reply(effects: &[Effect]) -> (Vec<String>, String) {
    for e in effects {
        if let Effect::Reply {
            key_trail, text, ..
        } = e
        {
            return (key_trail.clone(), text.clone());
        }
    }
    panic!("no reply in {effects:#?}")
}

fn keys(effects: &[Effect]) -> Vec<String> {
    reply(effects).0
}

fn text(effects: &[Effect]) -> String {
    reply(effects).1
}

fn buttons(effects: &[Effect]) -> Vec<(String, String)> {
    for e in effects {
        if let Effect::Reply { buttons, .. } = e {
            return buttons
                .iter()
                .map(|b| (b.label.clone(), b.data.clone()))
                .collect();
        }
    }
    Vec::new()
}

fn all_states(flows: &Flows) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in flows.flow_names() {
        for s in flows.state_names(&f) {
            out.push((f.clone(), s));
        }
    }
    out
}

// ---------------------------------------------------------------- loading

#[test]
fn ok_fixture_loads_and_other_paths_are_ignored() {
    let (report, ok) = check_report(&fixture("dialogs_ok"), &known());
    assert!(ok, "{report}");
    assert_eq!(report, "ok: 4 flows, 12 states, 29 texts");
    let f = flows();
    assert_eq!(f.flow_names(), ["bind", "human", "menu", "pay"]);
}

#[test]
fn load_error_displays_as_path_line_message() {
    let e = repaybot::dialog::LoadError {
        path: "dialogs/flows/pay.toml".into(),
        line: 7,
        message: "unknown action `x`".into(),
    };
    assert_eq!(
        e.to_string(),
        "dialogs/flows/pay.toml:7: unknown action `x`"
    );
}

#[test]
fn bad_fixture_reports_every_error_with_file_and_line() {
    let errors = match Flows::load(&fixture("dialogs_bad"), &known()) {
        Ok(_) => panic!("dialogs_bad must not load"),
        Err(e) => e,
    };
    let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let m = "dialogs_bad/flows/menu.toml";
    let zh = "dialogs_bad/text/zh.toml";
    let en = "dialogs_bad/text/en.toml";
    let expected: Vec<(String, &str)> = vec![
        ("dialogs_bad/flows/broken.toml:2: ".into(), ""),
        (
            "dialogs_bad/flows/typo.toml:4: ".into(),
            "unknown field `sya`",
        ),
        (format!("{m}:3: "), "unknown intent `no_such_intent`"),
        (format!("{m}:4: "), "text `menu.no_help` missing in zh"),
        (format!("{m}:4: "), "text `menu.no_help` missing in en"),
        (format!("{m}:7: "), "unknown action `no_such_action`"),
        (format!("{m}:8: "), "unknown effect `no_such_effect`"),
        (format!("{m}:9: "), "text `menu.only_en` missing in zh"),
        (format!("{m}:10: "), "unknown target `nowhere`"),
        (
            format!("{m}:10: "),
            "unknown var `no_var` in the button's `set`",
        ),
        (format!("{m}:11: "), "unknown intent `bogus_intent`"),
        (
            format!("{m}:11: "),
            "unknown target `nope.x`: no flow `nope`",
        ),
        (format!("{m}:11: "), "flow `human` has no state `nope`"),
        (format!("{m}:12: "), "unknown slot `no_slot`"),
        (format!("{m}:12: "), "needs a transition on.no_slot"),
        (format!("{m}:13: "), "unknown event `no_event`"),
        (
            format!("{m}:15: "),
            "state `orphan` of flow `menu` is unreachable",
        ),
        (format!("{m}:21: "), "a final state cannot have buttons"),
        (
            "dialogs_bad/flows/other.toml:2: ".into(),
            "start state `missing_start`",
        ),
        (
            "dialogs_bad/flows/other.toml:4: ".into(),
            "state `a` of flow `other` is unreachable",
        ),
        (
            "dialogs_bad/flows/zz_dup.toml:2: ".into(),
            "duplicate flow name `menu`",
        ),
        (
            "dialogs_bad/flows/bind.toml:0: ".into(),
            "required flow `bind` is missing",
        ),
        (
            format!("{zh}:11: "),
            "unknown placeholder `{customer_name}`",
        ),
        (
            format!("{zh}:12: "),
            "text `menu.only_zh` has no translation in en",
        ),
        (
            format!("{zh}:8: "),
            "text `common.bad_date` has no translation in en",
        ),
        (
            format!("{en}:12: "),
            "text `menu.only_en` has no translation in zh",
        ),
        (
            format!("{en}:0: "),
            "required text `common.bad_date` missing in en",
        ),
    ];
    for (at, msg) in &expected {
        assert!(
            got.iter()
                .any(|g| g.starts_with(at.as_str()) && g.contains(msg)),
            "expected `{at}{msg}` among:\n{}",
            got.join("\n")
        );
    }
    assert_eq!(
        got.len(),
        expected.len(),
        "unexpected extra errors:\n{}",
        got.join("\n")
    );
    let (report, ok) = check_report(&fixture("dialogs_bad"), &known());
    assert!(!ok);
    assert_eq!(report.lines().count(), expected.len(), "{report}");
}

#[test]
fn missing_text_files_are_reported() {
    let files: Vec<SourceFile> = fixture("dialogs_ok")
        .into_iter()
        .filter(|f| !f.path.ends_with("en.toml"))
        .collect();
    let errors = Flows::load(&files, &known()).expect_err("no en texts");
    let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(got, ["dialogs_ok/text/en.toml:0: missing text file for en"]);
}

// ---------------------------------------------------------------- step

#[test]
fn start_says_the_menu_prompt() {
    let mut chat = Chat::new(Lang::Zh);
    let e = chat.send(Input::Start);
    assert_eq!(keys(&e), ["menu.main"]);
    assert_eq!(chat.at(), "menu.main");
    assert_eq!(buttons(&e).len(), 2);
}

#[test]
fn fresh_session_takes_a_message_in_menu_idle() {
    let mut chat = Chat::new(Lang::En);
    chat.session = Session::new(Lang::En);
    let e = chat.say("repay", "repay");
    assert_eq!(keys(&e), ["pay.choose"]);
}

#[test]
fn button_press_enters_its_target_and_sets_vars() {
    let mut chat = Chat::new(Lang::En);
    let e = chat.say("I want to repay", "repay");
    assert_eq!(chat.at(), "pay.choose");
    assert_eq!(text(&e), "Due this period: 1200.00 CNY, on 2026-12-05.");
    assert_eq!(buttons(&e)[0].0, "Pay this bill");
    assert!(buttons(&e).iter().all(|(_, d)| d.len() <= 64));
    let e = chat.press(0);
    assert_eq!(chat.at(), "pay.confirm");
    assert_eq!(
        chat.session.vars.get("target").map(String::as_str),
        Some("bill")
    );
    assert_eq!(text(&e), "Pay 1200.00 CNY?");
}

#[test]
fn stale_or_garbage_button_is_expired_and_reshows_the_prompt() {
    let mut chat = Chat::new(Lang::En);
    chat.say("repay", "repay");
    let old = buttons(&chat.last)[0].1.clone();
    chat.say("help", "help");
    for data in [old.as_str(), "b:999:999", "", "b:-1:x", "b:1", "zzz"] {
        let turn = chat.session.turn;
        let e = chat.send(Input::Button(data));
        assert_eq!(keys(&e), ["common.button_expired", "pay.choose"], "{data}");
        assert_eq!(chat.at(), "pay.choose");
        assert_eq!(chat.session.turn, turn + 1);
    }
    // Index out of range on the current turn.
    let data = format!("b:{}:9", chat.session.turn);
    assert_eq!(
        keys(&chat.send(Input::Button(&data)))[0],
        "common.button_expired"
    );
}

#[test]
fn typing_a_number_or_a_label_presses_the_button() {
    let mut chat = Chat::new(Lang::En);
    chat.say("repay", "repay");
    chat.say("2", "unknown");
    assert_eq!(chat.at(), "pay.ask_amount");
    chat.say("back", "unknown");
    assert_eq!(chat.at(), "pay.choose");
    chat.say("  pay THIS bill ", "unknown");
    assert_eq!(chat.at(), "pay.confirm");
    let mut chat = Chat::new(Lang::Zh);
    chat.say("还款", "repay");
    chat.say("１", "unknown");
    assert_eq!(chat.at(), "pay.confirm");
    chat.say("0", "unknown");
    assert_eq!(chat.session.misunderstood, 1, "0 is no button");
}

#[test]
fn cancel_from_every_state_goes_to_the_menu() {
    let mut chat = Chat::new(Lang::Zh);
    for (flow, state) in all_states(&chat.flows) {
        chat.put(&flow, &state);
        chat.session.vars.insert("amount".into(), "1.00".into());
        let e = chat.say("取消", "cancel");
        assert_eq!(
            keys(&e),
            ["common.cancelled", "menu.main"],
            "from {flow}.{state}"
        );
        assert_eq!(chat.at(), "menu.main");
        assert!(chat.session.vars.is_empty());
    }
}

#[test]
fn back_returns_to_the_previous_state() {
    let mut chat = Chat::new(Lang::Zh);
    chat.say("还款", "repay");
    chat.press(1);
    assert_eq!(chat.at(), "pay.ask_amount");
    for word in ["返回", "上一步", "BACK"] {
        chat.say(word, "unknown");
        assert_eq!(chat.at(), "pay.choose", "{word}");
        chat.press(1);
    }
    chat.msg("500", "unknown", &[("amount", "500.00")], None);
    assert_eq!(chat.at(), "pay.confirm");
    chat.say("不是", "deny"); // on.deny = "@back"
    assert_eq!(chat.at(), "pay.ask_amount");
    chat.say("返回", "unknown");
    chat.say("返回", "unknown");
    assert_eq!(chat.at(), "menu.main");
    chat.say("返回", "unknown");
    assert_eq!(
        chat.at(),
        "menu.main",
        "back with an empty history stays in the menu"
    );
}

#[test]
fn back_history_is_capped() {
    let mut chat = Chat::new(Lang::Zh);
    for _ in 0..30 {
        chat.say("还款", "repay");
        chat.press(1);
    }
    assert!(chat.session.back.len() <= 10);
}

#[test]
fn help_shows_the_flow_help_or_the_menu_help_and_stays() {
    let mut chat = Chat::new(Lang::En);
    assert_eq!(keys(&chat.say("help", "help")), ["menu.help", "menu.main"]);
    chat.say("repay", "repay");
    assert_eq!(keys(&chat.say("help", "help")), ["pay.help", "pay.choose"]);
    assert_eq!(chat.at(), "pay.choose");
    chat.say("link my account", "bind_account");
    assert_eq!(keys(&chat.say("help", "help")), ["menu.help", "bind.ask"]);
}

#[test]
fn language_switch_rerenders_the_prompt() {
    let mut chat = Chat::new(Lang::Zh);
    chat.say("还款", "repay");
    let e = chat.say("English please", "language");
    assert!(e.contains(&Effect::SetLang(Lang::En)));
    assert_eq!(chat.session.lang, Lang::En);
    assert_eq!(text(&e), "Due this period: 1200.00 CNY, on 2026-12-05.");
    assert_eq!(buttons(&e)[0].0, "Pay this bill");
    let e = chat.say("switch language", "language");
    assert!(e.contains(&Effect::SetLang(Lang::Zh)));
    assert_eq!(text(&e), "本期应还 1200.00 元，到期日 2026-12-05。");
    let e = chat.say("说中文", "language");
    assert_eq!(chat.session.lang, Lang::Zh, "中文 chooses, never toggles");
    assert!(e.contains(&Effect::SetLang(Lang::Zh)));
    assert_eq!(chat.at(), "pay.choose");
}

#[test]
fn three_misunderstandings_in_a_row_offer_a_human() {
    let mut chat = Chat::new(Lang::En);
    chat.say("repay", "repay");
    assert_eq!(
        keys(&chat.say("asdf", "unknown")),
        ["common.not_understood", "pay.choose"]
    );
    chat.say("qwer", "unknown");
    chat.say("ok", "affirm"); // understood: resets the counter
    assert_eq!(chat.session.misunderstood, 0);
    chat.say("asdf", "unknown");
    chat.say("asdf", "unknown");
    assert_eq!(chat.session.misunderstood, 2);
    let e = chat.say("asdf", "unknown");
    assert_eq!(keys(&e), ["common.offer_human", "human.waiting"]);
    assert!(e
        .iter()
        .any(|x| matches!(x, Effect::Emit { name, .. } if name == "open_ticket")));
    assert_eq!(chat.at(), "human.waiting");
    assert_eq!(chat.session.misunderstood, 0);
}

#[test]
fn expected_slot_sets_the_var_and_moves_on() {
    let mut chat = Chat::new(Lang::En);
    chat.say("repay", "repay");
    chat.press(1);
    let e = chat.msg("500 please", "repay", &[("amount", "500.00")], None);
    assert_eq!(chat.at(), "pay.confirm");
    assert_eq!(text(&e), "Pay 500.00 CNY?");
}

#[test]
fn slot_problem_says_what_was_wrong_and_stays_without_counting() {
    let mut chat = Chat::new(Lang::En);
    chat.say("repay", "repay");
    chat.press(1);
    let e = chat.msg("a lot of money", "unknown", &[], Some("amount"));
    assert_eq!(keys(&e), ["common.bad_amount", "pay.ask_amount"]);
    assert_eq!(chat.at(), "pay.ask_amount");
    assert_eq!(chat.session.misunderstood, 0);
    // A slot problem for a slot the state does not expect is a misunderstanding.
    let e = chat.msg("whenever", "unknown", &[], Some("date"));
    assert_eq!(keys(&e)[0], "common.not_understood");
}

#[test]
fn unbound_customer_is_sent_to_bind_first() {
    let mut chat = Chat::new(Lang::En);
    chat.bound = false;
    let e = chat.say("repay", "repay");
    assert_eq!(keys(&e), ["common.bind_first", "bind.ask"]);
    assert_eq!(chat.at(), "bind.ask");
    let e = chat.say("1", "unknown"); // no buttons in bind.ask
    assert_eq!(keys(&e)[0], "common.not_understood");
    chat.put("menu", "main");
    chat.say("x", "greet");
    chat.press(0); // the menu's "Repay" button
    assert_eq!(chat.at(), "bind.ask");
    let e = chat.event("bound", &[]);
    assert_eq!(keys(&e), ["bind.done"]);
    assert_eq!(chat.at(), "menu.main", "final returns to menu idle");
}

#[test]
fn events_route_only_where_the_state_waits_for_them() {
    let mut chat = Chat::new(Lang::En);
    assert!(chat.event("payment_ok", &[("payment_id", "P1")]).is_empty());
    assert_eq!(chat.at(), "menu.main");
    chat.say("repay", "repay");
    chat.press(0);
    let e = chat.press(0);
    assert_eq!(chat.at(), "pay.paying");
    let emitted = e.iter().find_map(|x| match x {
        Effect::Emit { name, vars } => Some((name.clone(), vars.clone())),
        _ => None,
    });
    let (name, vars) = emitted.expect("post_payment emitted");
    assert_eq!(name, "post_payment");
    assert_eq!(vars.get("amount").map(String::as_str), Some("1200.00"));
    assert!(chat.event("agent_closed", &[]).is_empty());
    assert!(chat.event("no_such_event", &[]).is_empty());
    assert_eq!(chat.at(), "pay.paying");
    let e = chat.event("payment_ok", &[("payment_id", "P-42")]);
    assert_eq!(text(&e), "Paid, payment id P-42.");
    assert_eq!(chat.at(), "menu.main");
    assert!(chat.session.vars.is_empty(), "final clears vars");
}

#[test]
fn payment_failure_offers_a_retry() {
    let mut chat = Chat::new(Lang::En);
    chat.say("repay", "repay");
    chat.say("yes", "affirm");
    chat.say("yes", "affirm");
    let e = chat.event("payment_failed", &[]);
    assert_eq!(keys(&e), ["pay.failed"]);
    chat.say("retry", "unknown");
    assert_eq!(chat.at(), "pay.confirm");
}

#[test]
fn action_outcome_follows_go_and_final_returns_to_menu() {
    let mut chat = Chat::new(Lang::En);
    chat.fake = Fake {
        outcome: "nothing_due",
    };
    let e = chat.say("repay", "repay");
    assert_eq!(keys(&e), ["pay.nothing_due"]);
    assert_eq!(chat.at(), "menu.main");
    assert!(chat.session.vars.is_empty());
}

#[test]
fn an_action_that_cannot_read_its_facts_fails_the_step_instead_of_choosing_an_outcome() {
    let mut chat = Chat::new(Lang::En);
    chat.fake = Fake {
        outcome: "store_down",
    };
    let slots = BTreeMap::new();
    let m = Message {
        raw: "repay",
        intent: "repay",
        slots: &slots,
        slot_problem: None,
    };
    let ctx = Ctx {
        bound: true,
        actions: &chat.fake,
    };
    let stepped = chat.flows.step(chat.session.clone(), Input::Text(m), &ctx);
    let err = stepped.expect_err("a failed action is an error, not an outcome");
    assert_eq!(err.action, "bill_summary");
}

#[test]
fn every_reply_increments_the_turn() {
    let mut chat = Chat::new(Lang::En);
    let t = chat.session.turn;
    chat.say("repay", "repay");
    chat.say("??", "unknown");
    chat.say("help", "help");
    assert_eq!(chat.session.turn, t + 3);
    assert!(buttons(&chat.last)
        .iter()
        .all(|(_, d)| d.starts_with(&format!("b:{}:", t + 3))));
}

#[test]
fn an_old_session_in_a_vanished_state_restarts_in_the_menu() {
    let mut chat = Chat::new(Lang::En);
    chat.put("refund", "gone");
    chat.session.vars.insert("x".into(), "y".into());
    let e = chat.say("hi", "greet");
    assert_eq!(keys(&e), ["menu.main"]);
    assert!(chat.session.vars.is_empty());
}

#[test]
fn session_round_trips_through_json_with_lang_in_snake_case() {
    let mut chat = Chat::new(Lang::Zh);
    chat.say("还款", "repay");
    let json = serde_json::to_string(&chat.session).expect("serialize");
    assert!(json.contains(r#""lang":"zh""#), "{json}");
    let back: Session = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, chat.session);
}

#[test]
fn missing_vars_render_as_a_dash() {
    let vars = BTreeMap::from([("a".to_string(), "1".to_string())]);
    assert_eq!(render("{a} {b} {{c}} {", &vars), "1 — {c} {");
    let f = flows();
    assert_eq!(
        f.text(Lang::En, "pay.confirm", &BTreeMap::new()),
        "Pay — CNY?"
    );
    assert_eq!(f.text(Lang::En, "no.such_key", &vars), "no.such_key");
}

// ---------------------------------------------------------------- hostile inputs

fn hostile_inputs(turn: u64) -> Vec<(String, String, Option<&'static str>)> {
    let long = "长".repeat(10_000);
    let mut raws = vec![
        long,
        "😀🔥👍🏽".to_string(),
        "\u{0}\u{7}\u{1b}[2J\r\n\t".to_string(),
        String::new(),
        "   ".to_string(),
        "１".to_string(),
        "99999999999999999999999".to_string(),
        "b:999:999".to_string(),
        "{amount}{".to_string(),
        "\u{202e}reversed".to_string(),
    ];
    raws.push(format!("b:{turn}:0"));
    let mut out = Vec::new();
    for raw in raws {
        for intent in [
            "unknown", "help", "language", "affirm", "deny", "repay", "", "☃",
        ] {
            out.push((raw.clone(), intent.to_string(), None));
        }
        out.push((raw.clone(), "unknown".into(), Some("amount")));
        out.push((raw.clone(), "unknown".into(), Some("☃")));
    }
    out
}

#[test]
fn hostile_inputs_in_every_state_never_panic_and_cancel_always_reaches_the_menu() {
    let mut chat = Chat::new(Lang::Zh);
    let datas = [
        "b:999:999",
        "",
        "b:-1:x",
        "b:0:0",
        "b:18446744073709551615:0",
        "b::",
        "🙂",
        "b:1:18446744073709551616",
    ];
    for bound in [true, false] {
        chat.bound = bound;
        for (flow, state) in all_states(&chat.flows) {
            for (raw, intent, problem) in hostile_inputs(chat.session.turn) {
                chat.put(&flow, &state);
                let huge = "9".repeat(10_000);
                chat.msg(&raw, &intent, &[("amount", &huge), ("date", &raw)], problem);
                chat.say("cancel", "cancel");
                assert_eq!(
                    chat.at(),
                    "menu.main",
                    "cancel after {raw:?} in {flow}.{state}"
                );
            }
            for data in datas {
                chat.put(&flow, &state);
                chat.send(Input::Button(data));
                chat.send(Input::Event {
                    name: data,
                    vars: BTreeMap::new(),
                });
                chat.send(Input::Start);
                assert_eq!(chat.at(), "menu.main");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_text_and_buttons_never_panic(raw in ".{0,64}", data in ".{0,80}", pick in 0usize..64, lang in any::<bool>()) {
        let mut chat = Chat::new(if lang { Lang::Zh } else { Lang::En });
        let states = all_states(&chat.flows);
        let (flow, state) = states[pick % states.len()].clone();
        chat.put(&flow, &state);
        chat.session.turn = pick as u64 % 3;
        let intents = repaybot::nlu::Intent::ALL;
        chat.say(&raw, intents[pick % intents.len()].as_str());
        chat.send(Input::Button(&data));
        chat.msg(&data, "unknown", &[("amount", &raw)], Some("amount"));
        chat.say(&raw, "cancel");
        prop_assert_eq!(chat.at(), "menu.main");
    }
}

// ---------------------------------------------------------------- graph

#[test]
fn graph_mentions_every_state_and_transition() {
    let f = flows();
    let g = graph(&f);
    assert!(g.starts_with("stateDiagram-v2\n"));
    for (flow, state) in all_states(&f) {
        assert!(
            g.contains(&format!("{flow}__{state} : {flow}.{state}")),
            "{flow}.{state} in\n{g}"
        );
    }
    assert!(
        g.contains("pay__choose --> pay__nothing_due : go:nothing_due"),
        "{g}"
    );
    assert!(g.contains("pay__paying --> pay__receipt : event:payment_ok"));
    assert!(g.contains("pay__confirm --> back : button:common.btn_back"));
    assert!(g.contains("[*] --> pay__choose : repay"));
    assert!(g.contains("pay__receipt --> menu__main : final"));
}

// ---------------------------------------------------------------- confirming states

/// The shipped dialogs with `edit` applied to the file whose path ends in `file`.
fn shipped_with(file: &str, edit: impl Fn(&str) -> String) -> Vec<SourceFile> {
    let mut files = repaybot::embedded::dialog_files();
    for f in files.iter_mut().filter(|f| f.path.ends_with(file)) {
        f.text = edit(&f.text);
    }
    files
}

fn errors_of(files: &[SourceFile]) -> String {
    let (report, ok) = check_report(files, &repaybot::app::known());
    assert!(!ok, "expected errors");
    report
}

#[test]
fn dialogs_check_validates_confirming_states_and_their_words() {
    let (report, ok) = check_report(&repaybot::embedded::dialog_files(), &repaybot::app::known());
    assert!(ok, "{report}");
    // A confirming state without its strict yes.
    let files = shipped_with("flows/repay.toml", |t| {
        t.replacen(
            "on = { affirm = \"paying\", deny = \"@menu\" }",
            "on = { deny = \"@menu\" }",
            1,
        )
    });
    let report = errors_of(&files);
    assert!(
        report.contains("flows/repay.toml:") && report.contains("needs on.affirm"),
        "{report}"
    );
    // A question among the yes words, a word in both lists, a word not in its compared form.
    let files = shipped_with("confirm.toml", |t| {
        t.replacen("yes = [", "yes = [\"ok?\", \"Sure\", \"算了\", ", 1)
    });
    let report = errors_of(&files);
    assert!(report.contains("`ok?` is a question"), "{report}");
    assert!(
        report.contains("`Sure` is not in its compared form"),
        "{report}"
    );
    assert!(report.contains("`算了` is both a yes and a no"), "{report}");
    assert!(report.contains("dialogs/confirm.toml:"), "{report}");
    // The words file is required once a state confirms.
    let files: Vec<SourceFile> = repaybot::embedded::dialog_files()
        .into_iter()
        .filter(|f| !f.path.ends_with("confirm.toml"))
        .collect();
    assert!(errors_of(&files).contains("confirm states need dialogs/confirm.toml"));
}

#[test]
fn a_handler_no_dialog_state_names_is_refused_like_an_unknown_name() {
    // The shipped dialogs name every handler (the app starts in every test); this set names
    // only bill_summary, post_payment and open_ticket.
    let err = repaybot::app::check_handlers_used(&flows()).expect_err("handlers unused");
    let text = err.to_string();
    assert!(
        text.contains("remind_ics") && text.contains("verify_id"),
        "{text}"
    );
    assert!(
        !text.contains("post_payment") && !text.contains("bill_summary"),
        "{text}"
    );
}
