//! Embeds every file under dialogs/ into the binary (flows, texts, NLU patterns), so the bot runs
//! from any folder; `dialogs check` can still validate a folder on disk.

use std::path::Path;

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let mut files = Vec::new();
    collect(&Path::new(&root).join("dialogs"), &mut files);
    let mut code = String::from("/// (path relative to the repository, text) of every embedded dialogs/ file.\npub const EMBEDDED_DIALOGS: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap_or(f).trim_start_matches('/');
        code += &format!("    ({rel:?}, include_str!({f:?})),\n");
    }
    code += "];\n";
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("embedded_dialogs.rs");
    let _ = std::fs::write(out, code);
    println!("cargo:rerun-if-changed=dialogs");
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
}
