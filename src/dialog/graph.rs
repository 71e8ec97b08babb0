//! Mermaid `stateDiagram-v2` of every flow and transition (for `repaybot dialogs graph`).

use super::index::{Flows, Target};
use std::fmt::Write;

fn id(flow: &str, state: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    };
    format!("{}__{}", clean(flow), clean(state))
}

/// The diagram: one node per state (`flow__state : flow.state`), one edge per transition,
/// labelled with what takes it (`intent`, `go:outcome`, `button:key`, `event:name`).
pub fn graph(flows: &Flows) -> String {
    let mut out = String::from("stateDiagram-v2\n    back : @back\n");
    let menu = flows
        .start_of("menu")
        .map_or_else(|| "back".to_string(), |s| id("menu", s));
    let target = |t: &Target| match t {
        Target::Goto { flow, state } => id(flow, state),
        Target::Menu => menu.clone(),
        Target::Back => "back".to_string(),
    };
    for flow in flows.flows.values() {
        let _ = writeln!(out, "    %% flow {}", flow.name);
        for name in flow.states.keys() {
            let _ = writeln!(out, "    {} : {}.{}", id(&flow.name, name), flow.name, name);
        }
        for t in &flow.triggers {
            let _ = writeln!(out, "    [*] --> {} : {}", id(&flow.name, &flow.start), t);
        }
        for (name, st) in &flow.states {
            let from = id(&flow.name, name);
            let mut edge = |to: String, label: String| {
                let _ = writeln!(out, "    {from} --> {to} : {label}");
            };
            for (o, t) in &st.go {
                edge(target(t), format!("go:{o}"));
            }
            for (i, t) in &st.on {
                edge(target(t), i.clone());
            }
            for b in &st.buttons {
                edge(target(&b.goto), format!("button:{}", b.label));
            }
            for (e, t) in &st.events {
                edge(target(t), format!("event:{e}"));
            }
            if st.is_final {
                edge(menu.clone(), "final".to_string());
            }
        }
    }
    out
}
