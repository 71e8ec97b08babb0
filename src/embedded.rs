//! The dialogs/ files compiled into the binary by build.rs (flows, texts and NLU patterns), so
//! the bot runs from any folder. Pure data; `files_on_disk` serves `dialogs check` on a folder.

include!(concat!(env!("OUT_DIR"), "/embedded_dialogs.rs"));

pub fn dialog_files() -> Vec<crate::dialog::SourceFile> {
    EMBEDDED_DIALOGS
        .iter()
        .map(|(path, text)| crate::dialog::SourceFile {
            path: path.to_string(),
            text: text.to_string(),
        })
        .collect()
}

/// Every file under `dir` (a dialogs/ folder on disk) for `dialogs check`.
pub fn files_on_disk(dir: &std::path::Path) -> std::io::Result<Vec<crate::dialog::SourceFile>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|e| e == "toml") {
                let rel = p.strip_prefix(dir.parent().unwrap_or(dir)).unwrap_or(&p);
                out.push(crate::dialog::SourceFile {
                    path: rel.display().to_string(),
                    text: std::fs::read_to_string(&p)?,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
