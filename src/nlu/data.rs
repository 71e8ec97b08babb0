//! Labelled messages (`dialogs/nlu/train/*.jsonl`, `shared/nlu/dev.jsonl`: one JSON object a
//! line with `text`, `lang`, `intent`, `slots`), training the model from them, and k-fold
//! cross-validation with deterministic folds.

use super::features::features;
use super::model::{train, Compact, Example, Params};
use super::{Intent, LoadError, Nlu, SourceFile};
use chrono::NaiveDate;
use serde_json::Value;

/// The date the training files' relative dates are written against (SPEC 2.3's dev sample).
pub fn reference_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default()
}

/// One labelled message.
#[derive(Clone, Debug)]
pub struct Labelled {
    pub text: String,
    /// `zh` or `en` as labelled (empty when the line has none).
    pub lang: String,
    pub intent: Intent,
    /// The expected slots (`{}` when none).
    pub slots: Value,
}

/// Every labelled line of a jsonl file, or every bad line with its number.
pub fn parse_jsonl(file: &SourceFile) -> Result<Vec<Labelled>, Vec<LoadError>> {
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for (n, line) in file.text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| LoadError {
            path: file.path.clone(),
            line: n + 1,
            message,
        };
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                errors.push(err(format!("not JSON: {e}")));
                continue;
            }
        };
        let (Some(text), Some(label)) = (v["text"].as_str(), v["intent"].as_str()) else {
            errors.push(err("needs \"text\" and \"intent\" strings".into()));
            continue;
        };
        let Some(intent) = Intent::parse(label) else {
            errors.push(err(format!("unknown intent `{label}`")));
            continue;
        };
        out.push(Labelled {
            text: text.to_string(),
            lang: v["lang"].as_str().unwrap_or("").to_string(),
            intent,
            slots: if v["slots"].is_object() {
                v["slots"].clone()
            } else {
                Value::Object(Default::default())
            },
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether a path is a training file (`…/nlu/train/*.jsonl`).
pub fn is_training_path(path: &str) -> bool {
    let p = path.replace('\\', "/");
    (p.contains("/nlu/train/") || p.starts_with("nlu/train/")) && p.ends_with(".jsonl")
}

/// The training messages of the given files, files in path order, lines in file order.
pub fn training_set(files: &[SourceFile]) -> Result<Vec<Labelled>, Vec<LoadError>> {
    let mut files: Vec<&SourceFile> = files.iter().filter(|f| is_training_path(&f.path)).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for f in files {
        match parse_jsonl(f) {
            Ok(v) => out.extend(v),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if out.is_empty() {
        return Err(vec![LoadError {
            path: "dialogs/nlu/train".into(),
            line: 0,
            message: "no training messages".into(),
        }]);
    }
    Ok(out)
}

/// Trains the shipped form of the model on labelled messages.
pub fn train_model(set: &[Labelled], params: &Params) -> Compact {
    let examples: Vec<Example> = set
        .iter()
        .map(|l| Example {
            features: features(&l.text, reference_day(), params.hash_bits),
            class: l.intent as usize,
        })
        .collect();
    Compact::from_trained(&train(&examples, params))
}

/// k-fold cross-validation: each message is predicted by the model trained on the other folds.
/// Folds are fixed: message i (in training-set order) is in fold i mod k.
pub fn cross_validate(nlu: &Nlu, set: &[Labelled], k: usize) -> Vec<Intent> {
    cross_validate_with(nlu, set, k, &mut |_| {})
}

/// `cross_validate`, calling `fold_done(n)` after the n-th fold (for a progress bar).
pub fn cross_validate_with(
    nlu: &Nlu,
    set: &[Labelled],
    k: usize,
    fold_done: &mut dyn FnMut(usize),
) -> Vec<Intent> {
    let k = k.max(2);
    let mut predicted = vec![Intent::Unknown; set.len()];
    for fold in 0..k {
        let train_part: Vec<Labelled> = set
            .iter()
            .enumerate()
            .filter(|(i, _)| i % k != fold)
            .map(|(_, l)| l.clone())
            .collect();
        let model = train_model(&train_part, nlu.params());
        let fold_nlu = nlu.with_model(model);
        for (i, l) in set.iter().enumerate().filter(|(i, _)| i % k == fold) {
            predicted[i] = fold_nlu.understand(&l.text, reference_day()).intent;
        }
        fold_done(fold + 1);
    }
    predicted
}
