//! Pattern files (`dialogs/nlu/*.toml`): parsed into raw structs that deny unknown fields,
//! then validated (known intents, compiling regexes) with every error's file and line.

use super::{Intent, LoadError, SourceFile};
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    intent: Vec<RawIntent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntent {
    name: Spanned<String>,
    #[serde(default)]
    weight: Option<Spanned<u32>>,
    /// A label the app reads besides the intent (`complaint`: the ticket's reason).
    #[serde(default)]
    tag: Option<String>,
    patterns: Vec<Spanned<String>>,
}

/// One validated pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// The regex as compiled (ASCII word boundaries).
    pub regex: String,
    pub tag: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

/// `\b` in a pattern file means an ASCII word boundary, so 还款payment splits as expected.
pub fn compile_form(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// Pattern files: the `.toml` files under `nlu/` except the model's `model.toml`.
fn is_nlu_path(path: &str) -> bool {
    let p = path.replace('\\', "/");
    (p.contains("/nlu/") || p.starts_with("nlu/"))
        && p.ends_with(".toml")
        && !p.ends_with("nlu/model.toml")
}

fn load_file(file: &SourceFile, out: &mut Vec<Pattern>, errors: &mut Vec<LoadError>) {
    let err = |offset: usize, message: String| LoadError {
        path: file.path.clone(),
        line: line_of(&file.text, offset),
        message,
    };
    let raw: RawFile = match toml::from_str(&file.text) {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            errors.push(err(offset, e.message().trim().to_string()));
            return;
        }
    };
    for group in raw.intent {
        let name = group.name.get_ref();
        if Intent::parse(name).is_none() {
            errors.push(err(
                group.name.span().start,
                format!("unknown intent `{name}`"),
            ));
            continue;
        }
        if let Some(w) = group
            .weight
            .as_ref()
            .filter(|w| !(1..=1000).contains(w.get_ref()))
        {
            errors.push(err(w.span().start, "weight must be from 1 to 1000".into()));
            continue;
        }
        if group.patterns.is_empty() {
            errors.push(err(
                group.name.span().start,
                format!("intent `{name}` has no patterns"),
            ));
        }
        for p in &group.patterns {
            let regex = compile_form(p.get_ref());
            if p.get_ref().trim().is_empty() {
                errors.push(err(p.span().start, "empty pattern".into()));
            } else if let Err(e) = regex::Regex::new(&regex) {
                let msg = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                errors.push(err(
                    p.span().start,
                    format!("bad regex `{}`: {msg}", p.get_ref()),
                ));
            } else {
                out.push(Pattern {
                    regex,
                    tag: group.tag.clone(),
                });
            }
        }
    }
}

/// Every pattern of the nlu files, or every error found in them.
pub fn load(files: &[SourceFile]) -> Result<Vec<Pattern>, Vec<LoadError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let nlu_files: Vec<&SourceFile> = files.iter().filter(|f| is_nlu_path(&f.path)).collect();
    if nlu_files.is_empty() {
        errors.push(LoadError {
            path: "dialogs/nlu".into(),
            line: 0,
            message: "no nlu pattern file given".into(),
        });
    }
    for file in nlu_files {
        load_file(file, &mut out, &mut errors);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
