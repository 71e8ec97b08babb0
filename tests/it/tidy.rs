//! Architecture checks as ordinary tests: the pure core stays pure, every module says what it is
//! for, and customer-facing text lives in dialogs/.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_pure_core_has_no_floats_clock_io_or_frameworks() {
    let banned = [
        "f64",
        "f32",
        "Utc::now",
        "Local::now",
        "teloxide",
        "sled::",
        "tokio::",
        "std::fs",
        "std::net",
    ];
    let mut hits = Vec::new();
    for dir in ["src/domain", "src/dialog", "src/nlu"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for word in banned {
                    // The intent model's scores are f32 (src/nlu/model.rs); nothing else is.
                    if word == "f32" && dir == "src/nlu" {
                        continue;
                    }
                    let found = code.match_indices(word).any(|(at, _)| {
                        let before = code[..at].chars().last();
                        let after = code[at + word.len()..].chars().next();
                        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    });
                    if found {
                        hits.push(format!("{}:{}: {word}", file.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "the pure core must stay pure:\n{}",
        hits.join("\n")
    );
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let mut missing = Vec::new();
    for dir in ["src", "tests/it", "benches"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.trim_start().starts_with("//!") {
                missing.push(file.display().to_string());
            }
        }
    }
    assert!(missing.is_empty(), "files without a //! line: {missing:?}");
}

#[test]
fn customer_text_is_not_hard_coded_in_the_app_layer() {
    // Chinese characters in Rust string literals of the app layer would be customer text that
    // belongs in dialogs/text/*.toml.
    let mut hits = Vec::new();
    let files = [
        rust_files(&root().join("src/app")),
        rust_files(&root().join("src/support")),
    ];
    for file in files.concat() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains('"') && code.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                hits.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    assert!(hits.is_empty(), "customer text in Rust code: {hits:?}");
}

#[test]
fn the_shipped_dialogs_pass_their_own_check() {
    let files = repaybot::embedded::dialog_files();
    let (report, ok) = repaybot::dialog::check_report(&files, &repaybot::app::known());
    assert!(ok, "{report}");
    assert!(repaybot::nlu::Nlu::from_files(&files).is_ok());
}

#[test]
fn only_the_telegram_front_end_knows_teloxide_and_it_holds_no_customer_text() {
    let mut hits = Vec::new();
    for file in rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let telegram = file.starts_with(root().join("src/telegram"));
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let cjk = code.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            if (!telegram && code.contains("teloxide")) || (telegram && code.contains('"') && cjk) {
                hits.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "teloxide outside src/telegram or text in it: {hits:?}"
    );
}

/// `file:line` of every code line (comments cut) under `src` that contains one of `words`,
/// outside the files or folders `allowed` (paths relative to the crate root).
fn code_hits(words: &[&str], allowed: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for file in rust_files(&root().join("src")) {
        if allowed.iter().any(|a| file.starts_with(root().join(a))) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if words.iter().any(|w| code.contains(w)) {
                let at = file.strip_prefix(root()).unwrap_or(&file).display();
                hits.push(format!("{at}:{}", i + 1));
            }
        }
    }
    hits
}

#[test]
fn only_the_clock_reads_the_wall_clock() {
    // tokio's and std's `Instant` (rate limits, timeouts) are not the calendar and may stay.
    let hits = code_hits(
        &["Utc::now", "Local::now", "SystemTime::now"],
        &["src/clock.rs"],
    );
    assert!(
        hits.is_empty(),
        "the wall clock is read outside src/clock.rs (take the app's Clock or a `now`): {hits:?}"
    );
}

/// Storage code that still lives outside src/store (to be moved there); no new entries.
const SLED_OUTSIDE_STORE_TODAY: &[&str] = &[];

#[test]
fn only_the_store_knows_sled() {
    let mut allowed = vec!["src/store"];
    allowed.extend(SLED_OUTSIDE_STORE_TODAY);
    let hits = code_hits(&["sled::"], &allowed);
    assert!(hits.is_empty(), "sled outside src/store: {hits:?}");
    for file in SLED_OUTSIDE_STORE_TODAY {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        assert!(
            text.contains("sled::"),
            "{file} no longer uses sled: take it off SLED_OUTSIDE_STORE_TODAY"
        );
    }
}

/// The top-level modules each top-level module names (`crate::x`, `crate::{x, ..}`), from code
/// lines with comments cut.
fn module_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let src = root().join("src");
    let single = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let group = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut graph = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let used = graph.entry(module.clone()).or_default();
        for c in single.captures_iter(&code) {
            used.insert(c[1].to_string());
        }
        for c in group.captures_iter(&code) {
            for name in c[1].split(',') {
                let name = name.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() {
                    used.insert(name.to_string());
                }
            }
        }
        used.remove(&module);
    }
    graph
}

#[test]
fn the_layers_import_downwards_only() {
    let graph = module_imports();
    let names = |m: &str| graph.get(m).cloned().unwrap_or_default();
    // Below the app: the core and what it holds never name the layers built on them.
    let upper = ["app", "cli", "telegram", "main"];
    for lower in [
        "core",
        "support",
        "reminders",
        "store",
        "ops",
        "report",
        "clock",
        "settings",
        "domain",
        "dialog",
        "nlu",
        "import",
        "statement",
    ] {
        let wrong: Vec<_> = names(lower)
            .into_iter()
            .filter(|m| upper.contains(&m.as_str()))
            .collect();
        assert!(
            wrong.is_empty(),
            "src/{lower} imports {wrong:?}, a layer above it"
        );
    }
    // The front ends depend on the app; nothing but `cli` (which starts them) names them.
    for (module, used) in &graph {
        if module != "cli" && module != "telegram" {
            assert!(
                !used.contains("telegram"),
                "src/{module} imports the Telegram front end"
            );
        }
    }
    // No circle among the parts of the redesign.
    let parts = ["app", "support", "reminders", "cli", "telegram", "core"];
    for a in parts {
        for b in parts {
            if a < b && names(a).contains(b) && names(b).contains(a) {
                panic!("src/{a} and src/{b} import each other");
            }
        }
    }
}
