//! Validation of raw dialog files into the indexed [`Flows`] model; reports every error with file
//! and line. Never reads disk: the app passes the files' text in.

use super::model::{line_of, RawFlow, RawState, RawTexts, S};
use super::render::placeholders;
use super::{Known, Lang, LoadError, SourceFile};
use std::collections::{BTreeMap, BTreeSet};

/// Flows the engine itself needs.
pub const REQUIRED_FLOWS: [&str; 3] = ["menu", "human", "bind"];
/// Text keys the engine itself uses.
pub const REQUIRED_KEYS: [&str; 7] = [
    "common.not_understood",
    "common.cancelled",
    "common.button_expired",
    "common.offer_human",
    "common.bind_first",
    "common.bad_amount",
    "common.bad_date",
];

/// Where a transition leads, resolved at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Goto { flow: String, state: String },
    Menu,
    Back,
}

#[derive(Clone, Debug)]
pub struct Button {
    pub label: String,
    pub goto: Target,
    pub set: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default)]
pub struct State {
    pub action: Option<String>,
    pub go: BTreeMap<String, Target>,
    pub say: Vec<String>,
    pub buttons: Vec<Button>,
    pub on: BTreeMap<String, Target>,
    pub expect: Option<String>,
    pub effect: Option<String>,
    pub events: BTreeMap<String, Target>,
    pub is_final: bool,
}

#[derive(Clone, Debug)]
pub struct Flow {
    pub name: String,
    pub start: String,
    pub triggers: Vec<String>,
    pub requires_account: bool,
    pub help: Option<String>,
    pub states: BTreeMap<String, State>,
}

/// Validated dialogs: flows by name and texts by language.
#[derive(Clone, Debug)]
pub struct Flows {
    pub(crate) flows: BTreeMap<String, Flow>,
    pub(crate) zh: BTreeMap<String, String>,
    pub(crate) en: BTreeMap<String, String>,
}

/// The text of `dialogs check`: "ok: N flows, M states, K texts" or one error per line.
pub fn check_report(files: &[SourceFile], known: &Known) -> (String, bool) {
    match Flows::load(files, known) {
        Ok(f) => {
            let states: usize = f.flows.values().map(|x| x.states.len()).sum();
            let msg = format!(
                "ok: {} flows, {} states, {} texts",
                f.flows.len(),
                states,
                f.zh.len()
            );
            (msg, true)
        }
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            (lines.join("\n"), false)
        }
    }
}

fn is_flow_path(p: &str) -> bool {
    let Some(name) = p.strip_suffix(".toml") else {
        return false;
    };
    let after = match name.rsplit_once("/flows/") {
        Some((_, a)) => a,
        None => match name.strip_prefix("flows/") {
            Some(a) => a,
            None => return false,
        },
    };
    !after.is_empty() && !after.contains('/')
}

fn text_lang(p: &str) -> Option<Lang> {
    let is = |f: &str| p == f || p.ends_with(&format!("/{f}"));
    if is("text/zh.toml") {
        Some(Lang::Zh)
    } else if is("text/en.toml") {
        Some(Lang::En)
    } else {
        None
    }
}

/// A text entry: its value and where it is defined.
struct TextDef {
    value: String,
    path: String,
    line: usize,
}

struct Loader<'a> {
    known: &'a Known,
    errors: Vec<LoadError>,
}

impl Loader<'_> {
    fn err(&mut self, path: &str, line: usize, message: String) {
        self.errors.push(LoadError {
            path: path.to_string(),
            line,
            message,
        });
    }

    fn at(&mut self, file: &SourceFile, s: &S, message: String) {
        let line = line_of(&file.text, s.span().start);
        self.err(&file.path, line, message);
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        match toml::from_str::<T>(&file.text) {
            Ok(v) => Some(v),
            Err(e) => {
                let line = e.span().map_or(1, |r| line_of(&file.text, r.start));
                let msg = e.message().trim().to_string();
                self.err(&file.path, line, msg);
                None
            }
        }
    }

    fn check_known(&mut self, file: &SourceFile, s: &S, list: &[String], what: &str) {
        if !list.iter().any(|k| k == s.get_ref()) {
            self.at(file, s, format!("unknown {what} `{}`", s.get_ref()));
        }
    }

    fn texts(&mut self, file: &SourceFile, out: &mut BTreeMap<String, TextDef>) {
        let Some(raw) = self.parse::<RawTexts>(file) else {
            return;
        };
        for (table, entries) in raw {
            for (key, value) in entries {
                let line = line_of(&file.text, key.span().start);
                let full = format!("{}.{}", table.get_ref(), key.get_ref());
                for name in placeholders(value.get_ref()) {
                    if !self.known.vars.iter().any(|v| v == name) {
                        self.err(
                            &file.path,
                            line,
                            format!("unknown placeholder `{{{name}}}` in text `{full}`"),
                        );
                    }
                }
                let def = TextDef {
                    value: value.into_inner(),
                    path: file.path.clone(),
                    line,
                };
                out.insert(full, def);
            }
        }
    }
}

/// What is known about every flow before resolving targets: name -> (start, states).
type Index = BTreeMap<String, (String, BTreeSet<String>)>;

impl Flows {
    /// Validates the dialog files; `Err` holds every error found.
    pub fn load(files: &[SourceFile], known: &Known) -> Result<Flows, Vec<LoadError>> {
        let mut l = Loader {
            known,
            errors: Vec::new(),
        };
        let mut zh = BTreeMap::new();
        let mut en = BTreeMap::new();
        let (mut saw_zh, mut saw_en) = (false, false);
        let mut raws: Vec<(&SourceFile, RawFlow)> = Vec::new();
        let mut base = String::new();
        for file in files {
            if is_flow_path(&file.path) {
                if let Some((b, _)) = file.path.rsplit_once("flows/") {
                    base = b.to_string();
                }
                if let Some(raw) = l.parse::<RawFlow>(file) {
                    raws.push((file, raw));
                }
            } else if let Some(lang) = text_lang(&file.path) {
                let (map, saw) = match lang {
                    Lang::Zh => (&mut zh, &mut saw_zh),
                    Lang::En => (&mut en, &mut saw_en),
                };
                *saw = true;
                l.texts(file, map);
            }
        }
        for (saw, lang) in [(saw_zh, "zh"), (saw_en, "en")] {
            if !saw {
                l.err(
                    &format!("{base}text/{lang}.toml"),
                    0,
                    format!("missing text file for {lang}"),
                );
            }
        }
        one_sided(&mut l, &zh, &en, "en");
        one_sided(&mut l, &en, &zh, "zh");
        let mut index: Index = BTreeMap::new();
        let mut first: BTreeMap<String, String> = BTreeMap::new();
        let mut unique: Vec<(&SourceFile, RawFlow)> = Vec::new();
        for (file, raw) in raws {
            let name = raw.name.get_ref().clone();
            if let Some(other) = first.get(&name) {
                let msg = format!("duplicate flow name `{name}` (also in {other})");
                l.at(file, &raw.name, msg);
                continue;
            }
            first.insert(name.clone(), file.path.clone());
            let states = raw.states.keys().map(|k| k.get_ref().clone()).collect();
            index.insert(name, (raw.start.get_ref().clone(), states));
            unique.push((file, raw));
        }
        for name in REQUIRED_FLOWS {
            if !index.contains_key(name) {
                let path = format!("{base}flows/{name}.toml");
                l.err(&path, 0, format!("required flow `{name}` is missing"));
            }
        }
        let texts = [(&zh, "zh"), (&en, "en")];
        for key in REQUIRED_KEYS {
            for (map, lang) in texts {
                if !map.contains_key(key) && !map.is_empty() {
                    let path = format!("{base}text/{lang}.toml");
                    l.err(&path, 0, format!("required text `{key}` missing in {lang}"));
                }
            }
        }
        let mut flows = BTreeMap::new();
        for (file, raw) in &unique {
            let flow = build_flow(&mut l, file, raw, &index, &texts);
            flows.insert(flow.name.clone(), flow);
        }
        reachability(&mut l, &unique, &flows);
        if !l.errors.is_empty() {
            return Err(l.errors);
        }
        let strip =
            |m: BTreeMap<String, TextDef>| m.into_iter().map(|(k, d)| (k, d.value)).collect();
        Ok(Flows {
            flows,
            zh: strip(zh),
            en: strip(en),
        })
    }

    /// The names of every flow.
    pub fn flow_names(&self) -> Vec<String> {
        self.flows.keys().cloned().collect()
    }

    /// The names of every state of `flow` (empty when there is no such flow).
    pub fn state_names(&self, flow: &str) -> Vec<String> {
        self.flows
            .get(flow)
            .map(|f| f.states.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The start state of `flow`.
    pub fn start_of(&self, flow: &str) -> Option<&str> {
        self.flows.get(flow).map(|f| f.start.as_str())
    }
}

fn one_sided(
    l: &mut Loader,
    have: &BTreeMap<String, TextDef>,
    other: &BTreeMap<String, TextDef>,
    other_lang: &str,
) {
    if other.is_empty() {
        return;
    }
    for (key, def) in have {
        if !other.contains_key(key) {
            let msg = format!("text `{key}` has no translation in {other_lang}");
            l.err(&def.path, def.line, msg);
        }
    }
}

type Texts<'a> = [(&'a BTreeMap<String, TextDef>, &'a str); 2];

fn use_key(l: &mut Loader, file: &SourceFile, key: &S, texts: &Texts) {
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

fn resolve(l: &mut Loader, file: &SourceFile, cur: &str, t: &S, index: &Index) -> Target {
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

fn build_flow(
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

fn build_state(
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
        if st.expect.as_ref().map(|x| x.get_ref()) != Some(key.get_ref()) {
            l.check_known(file, key, &k.intents, "intent");
        }
    }
    for key in st.events.keys() {
        l.check_known(file, key, &k.events, "event");
    }
    for s in &st.say {
        use_key(l, file, s, texts);
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
        buttons.push(super::load::Button {
            label: b.label.get_ref().clone(),
            goto: resolve(l, file, flow, &b.goto, index),
            set: b.set.clone(),
        });
    }
    State {
        action: st.action.as_ref().map(|a| a.get_ref().clone()),
        go,
        say: st.say.iter().map(|s| s.get_ref().clone()).collect(),
        buttons,
        on,
        expect: st.expect.as_ref().map(|x| x.get_ref().clone()),
        effect: st.effect.as_ref().map(|e| e.get_ref().clone()),
        events,
        is_final: st.is_final,
    }
}

/// Every state must be reachable from some flow's start (flows are entered by triggers/targets).
fn reachability(l: &mut Loader, raws: &[(&SourceFile, RawFlow)], flows: &BTreeMap<String, Flow>) {
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
        for t in targets.chain(st.buttons.iter().map(|b| &b.goto)) {
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
