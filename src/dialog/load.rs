//! Validation of raw dialog files into the indexed [`Flows`] model; reports every error with file
//! and line. Never reads disk: the app passes the files' text in.

use super::check::{build_flow, reachability};
use super::index::ConfirmWords;
use super::index::Flows;
use super::model::{line_of, RawConfirmWords, RawFlow, RawTexts, S};
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

/// `dialogs/confirm.toml`: the words that confirm at a `confirm = true` state.
fn is_confirm_words_path(p: &str) -> bool {
    p == "confirm.toml" || p.ends_with("/confirm.toml") && !is_flow_path(p)
}

/// The text a confirming state says when a reply is not a clear yes or no.
pub const CONFIRM_UNCLEAR: &str = "common.confirm_unclear";

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
pub(super) struct TextDef {
    value: String,
    path: String,
    line: usize,
}

pub(super) struct Loader<'a> {
    pub(super) known: &'a Known,
    pub(super) errors: Vec<LoadError>,
}

impl Loader<'_> {
    pub(super) fn err(&mut self, path: &str, line: usize, message: String) {
        self.errors.push(LoadError {
            path: path.to_string(),
            line,
            message,
        });
    }

    pub(super) fn at(&mut self, file: &SourceFile, s: &S, message: String) {
        let line = line_of(&file.text, s.span().start);
        self.err(&file.path, line, message);
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        match toml::from_str::<T>(&file.text) {
            Ok(v) => Some(v),
            Err(e) => {
                let line = e.span().map_or(1, |r| line_of(&file.text, r.start));
                let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
                self.err(&file.path, line, msg);
                None
            }
        }
    }

    pub(super) fn check_known(&mut self, file: &SourceFile, s: &S, list: &[String], what: &str) {
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

impl Loader<'_> {
    /// Reads `confirm.toml`: every word already in its compared form (lower case, no closing
    /// punctuation), no question, none both a yes and a no, at least one yes.
    fn confirm_words(&mut self, file: &SourceFile) -> ConfirmWords {
        let mut out = ConfirmWords::default();
        let Some(raw) = self.parse::<RawConfirmWords>(file) else {
            return out;
        };
        if raw.yes.is_empty() {
            self.err(&file.path, 1, "`yes` lists no word".to_string());
        }
        for (list, is_yes) in [(&raw.yes, true), (&raw.no, false)] {
            for w in list {
                let word = w.get_ref();
                let problem = if word.is_empty() || ConfirmWords::form(word) != *word {
                    Some(
                        "is not in its compared form (trimmed, lower case, no closing punctuation)",
                    )
                } else if ["?", "？", "吗", "么", "嘛"]
                    .iter()
                    .any(|q| word.contains(q))
                {
                    Some("is a question, not an answer")
                } else if !is_yes && out.yes.contains(word) {
                    Some("is both a yes and a no")
                } else {
                    None
                };
                match problem {
                    Some(p) => self.at(file, w, format!("confirm word `{word}` {p}")),
                    None if is_yes => _ = out.yes.insert(word.clone()),
                    None => _ = out.no.insert(word.clone()),
                }
            }
        }
        out
    }
}

/// What is known about every flow before resolving targets: name -> (start, states).
pub(super) type Index = BTreeMap<String, (String, BTreeSet<String>)>;

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
        let mut confirm_file = None;
        for file in files {
            if is_flow_path(&file.path) {
                if let Some((b, _)) = file.path.rsplit_once("flows/") {
                    base = b.to_string();
                }
                if let Some(raw) = l.parse::<RawFlow>(file) {
                    raws.push((file, raw));
                }
            } else if is_confirm_words_path(&file.path) {
                confirm_file = Some(file);
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
        // A missing text file is one error, not one per key it would hold.
        let texts: Vec<_> = [(&zh, "zh", saw_zh), (&en, "en", saw_en)]
            .into_iter()
            .filter(|t| t.2)
            .map(|(m, lang, _)| (m, lang))
            .collect();
        for key in REQUIRED_KEYS {
            for &(map, lang) in &texts {
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
        let confirming = flows.values().any(|f| f.states.values().any(|s| s.confirm));
        let confirm_words = match confirm_file {
            Some(file) => l.confirm_words(file),
            None if confirming => {
                let msg = "confirm states need dialogs/confirm.toml (the words that confirm)";
                l.err(&format!("{base}confirm.toml"), 0, msg.to_string());
                ConfirmWords::default()
            }
            None => ConfirmWords::default(),
        };
        if confirming {
            for &(map, lang) in &texts {
                if !map.contains_key(CONFIRM_UNCLEAR) && !map.is_empty() {
                    let path = format!("{base}text/{lang}.toml");
                    let msg = format!("required text `{CONFIRM_UNCLEAR}` missing in {lang}");
                    l.err(&path, 0, msg);
                }
            }
        }
        if !l.errors.is_empty() {
            return Err(l.errors);
        }
        let strip =
            |m: BTreeMap<String, TextDef>| m.into_iter().map(|(k, d)| (k, d.value)).collect();
        Ok(Flows {
            flows,
            zh: strip(zh),
            en: strip(en),
            confirm_words,
        })
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
