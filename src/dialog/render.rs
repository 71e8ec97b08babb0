//! Placeholder rendering of texts: `{name}` from vars, `{{`/`}}` literal braces; never panics.

use std::collections::BTreeMap;

/// What a var renders as when the session does not have it.
pub const MISSING: &str = "—";

/// Renders `template`, replacing `{name}` with `vars[name]` (or [`MISSING`]).
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template) {
        match piece {
            Piece::Lit(s) => out.push_str(s),
            Piece::Var(name) => out.push_str(vars.get(name).map_or(MISSING, String::as_str)),
        }
    }
    out
}

/// The placeholder names used in `template`, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    pieces(template)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(name) => Some(name),
            Piece::Lit(_) => None,
        })
        .collect()
}

enum Piece<'a> {
    Lit(&'a str),
    Var(&'a str),
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{{") {
            out.push(Piece::Lit("{"));
            rest = r;
        } else if let Some(r) = rest.strip_prefix("}}") {
            out.push(Piece::Lit("}"));
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            match r.split_once('}') {
                Some((name, after)) if is_name(name) => {
                    out.push(Piece::Var(name));
                    rest = after;
                }
                _ => {
                    out.push(Piece::Lit("{"));
                    rest = r;
                }
            }
        } else {
            let end = rest.find(['{', '}']).unwrap_or(rest.len());
            // A lone `}` that is not `}}`: emit it literally.
            let end = if end == 0 { 1 } else { end };
            let (lit, after) = rest.split_at(end);
            out.push(Piece::Lit(lit));
            rest = after;
        }
    }
    out
}
