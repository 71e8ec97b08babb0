//! Validation of one flow file against the others, the texts and the app's `Known` names:
//! targets, names, text keys and reachability. Errors are collected, never thrown.

use super::index::{Button, Choices, Flow, State, Target};
use super::load::{Index, Loader, TextDef};
use super::model::{RawFlow, RawState, S};
use super::SourceFile;
use std::collections::{BTreeMap, BTreeSet};

pub(super) type Texts<'a> = [(&'a BTreeMap<String, TextDef>, &'a str)];

pub(super) fn use_key(l: &mut Loader, file: &SourceFile, key: &S, texts: &Texts) {
    for (map, lang) in texts {
        if !map.contains_key(key.get_ref()) {
            l.at(
                file,
                key,
                format!("text `{}` missing in {lang}", key.get_ref()),
            );
        }
    }
}

pub(super) fn resolve(
    l: &mut Loader,
    file: &SourceFile,
    cur: &str,
    t: &S,
    index: &Index,
) -> Target {
    let raw = t.get_ref().as_str();
    let bad = Target::Menu;
    let goto = |flow: &str, state: &str| Target::Goto {
        flow: flow.to_string(),
        state: state.to_string(),
    };
    match raw {
        "@menu" => return Target::Menu,
        "@back" => return Target::Back,
        "@human" => {
            let start = index.get("human").map_or("", |(s, _)| s.as_str());
            return goto("human", start);
        }
        _ => {}
    }
    if let Some((flow, state)) = raw.split_once('.') {
        match index.get(flow) {
            Some((_, states)) if states.contains(state) => return goto(flow, state),
            Some(_) => l.at(
                file,
                t,
                format!("unknown target `{raw}`: flow `{flow}` has no state `{state}`"),
            ),
            None => l.at(file, t, format!("unknown target `{raw}`: no flow `{flow}`")),
        }
        return bad;
    }
    if index.get(cur).is_some_and(|(_, s)| s.contains(raw)) {
        return goto(cur, raw);
    }
    if let Some((start, _)) = index.get(raw) {
        return goto(raw, start);
    }
    let msg =
        format!("unknown target `{raw}`: no state `{raw}` in flow `{cur}` and no flow `{raw}`");
    l.at(file, t, msg);
    bad
}

pub(super) fn build_flow(
    l: &mut Loader,
    file: &SourceFile,
    raw: &RawFlow,
    index: &Index,
    texts: &Texts,
) -> Flow {
    let name = raw.name.get_ref().clone();
    if !raw
        .states
        .keys()
        .any(|k| k.get_ref() == raw.start.get_ref())
    {
        let msg = format!(
            "start state `{}` is not a state of flow `{name}`",
            raw.start.get_ref()
        );
        l.at(file, &raw.start, msg);
    }
    let intents = l.known.intents.clone();
    for t in &raw.triggers {
        l.check_known(file, t, &intents, "intent");
    }
    if let Some(h) = &raw.help {
        use_key(l, file, h, texts);
    }
    let states = raw
        .states
        .iter()
        .map(|(k, st)| {
            (
                k.get_ref().clone(),
                build_state(l, file, &name, st, index, texts),
            )
        })
        .collect();
    Flow {
        name,
        start: raw.start.get_ref().clone(),
        triggers: raw.triggers.iter().map(|t| t.get_ref().clone()).collect(),
        requires_account: raw.requires_account,
        help: raw.help.as_ref().map(|h| h.get_ref().clone()),
        states,
    }
}

pub(super) fn build_state(
    l: &mut Loader,
    file: &SourceFile,
    flow: &str,
    st: &RawState,
    index: &Index,
    texts: &Texts,
) -> State {
    let k = l.known.clone();
    if let Some(a) = &st.action {
        l.check_known(file, a, &k.actions, "action");
    }
    if let Some(e) = &st.effect {
        l.check_known(file, e, &k.effects, "effect");
    }
    if let Some(x) = &st.expect {
        l.check_known(file, x, &k.slots, "slot");
        if !st.on.keys().any(|o| o.get_ref() == x.get_ref()) {
            let msg = format!("expect = `{0}` needs a transition on.{0}", x.get_ref());
            l.at(file, x, msg);
        }
    }
    for key in st.on.keys() {
        // `on.<slot>` follows when the message carries that slot (the expected one or another).
        if !k.slots.contains(key.get_ref()) {
            l.check_known(file, key, &k.intents, "intent");
        }
    }
    if st.confirm {
        check_confirm_state(l, file, st);
    }
    for key in st.events.keys() {
        l.check_known(file, key, &k.events, "event");
    }
    for s in &st.say {
        use_key(l, file, s, texts);
    }
    if let Some(c) = &st.contact {
        use_key(l, file, c, texts);
        if st.expect.as_ref().map(|x| x.get_ref().as_str()) != Some("phone") {
            l.at(
                file,
                c,
                "a contact button needs expect = \"phone\"".to_string(),
            );
        }
    }
    if st.is_final {
        if let Some(b) = st.buttons.first() {
            let msg = "a final state cannot have buttons (the session is back in the menu)";
            l.at(file, &b.label, msg.to_string());
        }
    }
    let map = |m: &BTreeMap<S, S>, l: &mut Loader| {
        m.iter()
            .map(|(k, t)| (k.get_ref().clone(), resolve(l, file, flow, t, index)))
            .collect::<BTreeMap<_, _>>()
    };
    let go = map(&st.go, l);
    let on = map(&st.on, l);
    let events = map(&st.events, l);
    let mut buttons = Vec::new();
    for b in &st.buttons {
        use_key(l, file, &b.label, texts);
        for var in b.set.keys() {
            if !k.vars.contains(var) {
                l.at(
                    file,
                    &b.label,
                    format!("unknown var `{var}` in the button's `set`"),
                );
            }
        }
        buttons.push(Button {
            label: b.label.get_ref().clone(),
            goto: resolve(l, file, flow, &b.goto, index),
            set: b.set.clone(),
        });
    }
    let choices = st.choices.as_ref().map(|c| {
        for var in [&c.from, &c.set] {
            if !k.vars.contains(var.get_ref()) {
                l.at(
                    file,
                    var,
                    format!("unknown var `{}` in choices", var.get_ref()),
                );
            }
        }
        Choices {
            from: c.from.get_ref().clone(),
            set: c.set.get_ref().clone(),
            goto: resolve(l, file, flow, &c.goto, index),
        }
    });
    State {
        choices,
        action: st.action.as_ref().map(|a| a.get_ref().clone()),
        go,
        say: st.say.iter().map(|s| s.get_ref().clone()).collect(),
        buttons,
        on,
        expect: st.expect.as_ref().map(|x| x.get_ref().clone()),
        effect: st.effect.as_ref().map(|e| e.get_ref().clone()),
        events,
        is_final: st.is_final,
        contact: st.contact.as_ref().map(|c| c.get_ref().clone()),
        confirm: st.confirm,
    }
}

/// A confirming state confirms through `on.affirm` (the strict yes) and shows its buttons again
/// when a reply is unclear, so it needs both; it cannot be final.
fn check_confirm_state(l: &mut Loader, file: &SourceFile, st: &RawState) {
    let at = st.say.first().or(st.action.as_ref()).or(st.effect.as_ref());
    let complain = |l: &mut Loader, msg: &str| match at {
        Some(s) => l.at(file, s, msg.to_string()),
        None => l.err(&file.path, 1, msg.to_string()),
    };
    if !st.on.keys().any(|k| k.get_ref() == "affirm") {
        complain(
            l,
            "a confirm state needs on.affirm (the strict yes goes there)",
        );
    }
    if st.buttons.is_empty() {
        complain(
            l,
            "a confirm state needs buttons (an unclear reply shows them again)",
        );
    }
    if st.is_final {
        complain(l, "a confirm state cannot be final");
    }
}

/// Every state must be reachable from some flow's start (flows are entered by triggers/targets).
pub(super) fn reachability(
    l: &mut Loader,
    raws: &[(&SourceFile, RawFlow)],
    flows: &BTreeMap<String, Flow>,
) {
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut todo: Vec<(String, String)> = flows
        .values()
        .map(|f| (f.name.clone(), f.start.clone()))
        .collect();
    if let Some(m) = flows.get("menu") {
        todo.push((m.name.clone(), m.start.clone()));
    }
    while let Some(node) = todo.pop() {
        if !seen.insert(node.clone()) {
            continue;
        }
        let Some(st) = flows.get(&node.0).and_then(|f| f.states.get(&node.1)) else {
            continue;
        };
        let targets = st
            .go
            .values()
            .chain(st.on.values())
            .chain(st.events.values());
        let choice = st.choices.iter().map(|c| &c.goto);
        for t in targets
            .chain(st.buttons.iter().map(|b| &b.goto))
            .chain(choice)
        {
            if let Target::Goto { flow, state } = t {
                todo.push((flow.clone(), state.clone()));
            }
        }
    }
    for (file, raw) in raws {
        for key in raw.states.keys() {
            let node = (raw.name.get_ref().clone(), key.get_ref().clone());
            if !seen.contains(&node) {
                let msg = format!("state `{}` of flow `{}` is unreachable", node.1, node.0);
                l.at(file, key, msg);
            }
        }
    }
}
