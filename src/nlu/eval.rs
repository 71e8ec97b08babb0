//! Measuring the NLU on labelled messages: intent accuracy (all, per language, off-topic →
//! `unknown`), per-intent precision / recall / F1, the confusion cells, slot exact-match and the
//! misses, as text or JSON (`repaybot nlu eval`).

use super::data::Labelled;
use super::{Intent, Nlu};
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One message as predicted.
pub struct Prediction {
    pub intent: Intent,
    /// The predicted slots as JSON (`None`: slots not measured, as in cross-validation).
    pub slots: Option<Value>,
}

/// Predicts every message with `nlu`, dates resolved against `today`.
pub fn predict(nlu: &Nlu, set: &[Labelled], today: NaiveDate) -> Vec<Prediction> {
    set.iter()
        .map(|l| {
            let u = nlu.understand(&l.text, today);
            Prediction {
                intent: u.intent,
                slots: Some(u.to_json(&l.text)["slots"].clone()),
            }
        })
        .collect()
}

/// n/d to three decimals as a JSON number (0 when d is 0), computed in integers.
fn ratio(n: usize, d: usize) -> Value {
    let permille = (n * 1000 + d / 2).checked_div(d).unwrap_or(0);
    serde_json::from_str(&format!("{}.{:03}", permille / 1000, permille % 1000))
        .unwrap_or(Value::Null)
}

/// The report of a set of predictions against their labels.
pub fn report(set: &[Labelled], pred: &[Prediction]) -> Value {
    let total = set.len();
    let mut ok = 0;
    let mut by_lang: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut confusion: BTreeMap<(Intent, Intent), usize> = BTreeMap::new();
    let (mut slot_total, mut slot_ok) = (0, 0);
    let mut misses = Vec::new();
    for (l, p) in set.iter().zip(pred) {
        let hit = l.intent == p.intent;
        ok += usize::from(hit);
        let lang = by_lang.entry(l.lang.as_str()).or_default();
        lang.0 += 1;
        lang.1 += usize::from(hit);
        *confusion.entry((l.intent, p.intent)).or_default() += 1;
        let slot_hit = p.slots.as_ref().map(|s| *s == l.slots);
        if let Some(h) = slot_hit {
            slot_total += 1;
            slot_ok += usize::from(h);
        }
        if !hit || slot_hit == Some(false) {
            misses.push(json!({
                "text": l.text,
                "want": {"intent": l.intent.as_str(), "slots": l.slots},
                "got": {"intent": p.intent.as_str(), "slots": p.slots},
            }));
        }
    }
    let mut per_intent = serde_json::Map::new();
    for i in Intent::ALL {
        let tp = confusion.get(&(i, i)).copied().unwrap_or(0);
        let gold: usize = confusion
            .iter()
            .filter(|((g, _), _)| *g == i)
            .map(|(_, n)| n)
            .sum();
        let said: usize = confusion
            .iter()
            .filter(|((_, p), _)| *p == i)
            .map(|(_, n)| n)
            .sum();
        if gold == 0 && said == 0 {
            continue;
        }
        // F1 = 2TP / (2TP + FP + FN) = 2TP / (gold + said).
        let (p, r, f1) = (ratio(tp, said), ratio(tp, gold), ratio(2 * tp, gold + said));
        per_intent.insert(
            i.as_str().into(),
            json!({"precision": p, "recall": r, "f1": f1, "support": gold}),
        );
    }
    let cells: Vec<Value> = confusion
        .iter()
        .filter(|((g, p), _)| g != p)
        .map(|((g, p), n)| json!({"want": g.as_str(), "got": p.as_str(), "count": n}))
        .collect();
    let langs: serde_json::Map<String, Value> = by_lang
        .iter()
        .map(|(k, (n, h))| {
            (
                k.to_string(),
                json!({"messages": n, "accuracy": ratio(*h, *n)}),
            )
        })
        .collect();
    let unknown_gold: usize = confusion
        .iter()
        .filter(|((g, _), _)| *g == Intent::Unknown)
        .map(|(_, n)| n)
        .sum();
    let unknown_hit = confusion
        .get(&(Intent::Unknown, Intent::Unknown))
        .copied()
        .unwrap_or(0);
    json!({
        "messages": total,
        "intent_accuracy": ratio(ok, total),
        "by_lang": langs,
        "off_topic_as_unknown": ratio(unknown_hit, unknown_gold),
        "slot_exact_match": if slot_total > 0 { json!(ratio(slot_ok, slot_total)) } else { Value::Null },
        "per_intent": per_intent,
        "confusion": cells,
        "misses": misses,
    })
}

/// The report as text for a terminal.
pub fn to_text(r: &Value) -> String {
    let mut out = format!(
        "messages {}  intent accuracy {}  slot exact-match {}  off-topic→unknown {}\n",
        r["messages"], r["intent_accuracy"], r["slot_exact_match"], r["off_topic_as_unknown"]
    );
    if let Some(langs) = r["by_lang"].as_object() {
        for (k, v) in langs {
            let k = if k.is_empty() { "?" } else { k };
            out += &format!(
                "  {k}: {} messages, accuracy {}\n",
                v["messages"], v["accuracy"]
            );
        }
    }
    out += "\nintent               precision recall  f1     support\n";
    if let Some(per) = r["per_intent"].as_object() {
        for (k, v) in per {
            out += &format!(
                "{k:<20} {:<9} {:<7} {:<6} {}\n",
                v["precision"], v["recall"], v["f1"], v["support"]
            );
        }
    }
    out += "\nconfusion (want → got: count)\n";
    for c in r["confusion"].as_array().into_iter().flatten() {
        out += &format!(
            "  {} → {}: {}\n",
            c["want"].as_str().unwrap_or(""),
            c["got"].as_str().unwrap_or(""),
            c["count"]
        );
    }
    out += "\nmisses\n";
    for m in r["misses"].as_array().into_iter().flatten() {
        out += &format!(
            "  {}  want {} {}  got {} {}\n",
            m["text"],
            m["want"]["intent"],
            m["want"]["slots"],
            m["got"]["intent"],
            m["got"]["slots"]
        );
    }
    out
}
