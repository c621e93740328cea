//! The verifier's structure (issue 15): the GUI and the CLI never import each other (`main.rs`
//! dispatches between them, and what both need lives in the library), and the GUI's view only
//! reads the state. Checked on the source text, so a new file is covered without listing it.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Lines of the files under `dir` that name module `other` of the crate, as `file:line: text`.
/// Comments are skipped: a doc may say what the other side does.
fn uses_of(dir: &Path, other: &str) -> Vec<String> {
    let needles = [
        format!("crate::{other}"),
        format!("super::super::{other}"),
        format!("verifier::{other}"),
    ];
    let mut found = Vec::new();
    for file in rust_files(dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        // `use crate::{a, cli, b}` names the module without `crate::cli`.
        let grouped = format!("{other},");
        let grouped_end = format!("{other}}}");
        let mut in_group = false;
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("").trim();
            if code.starts_with("use crate::{") {
                in_group = true;
            }
            let hit = needles.iter().any(|n| code.contains(n.as_str()))
                || (in_group
                    && (code
                        .split([' ', '{'])
                        .any(|w| w == grouped || w == grouped_end)
                        || code == other));
            if hit {
                found.push(format!("{}:{}: {line}", file.display(), i + 1));
            }
            if code.ends_with("};") {
                in_group = false;
            }
        }
    }
    found
}

#[test]
fn the_gui_does_not_import_the_cli() {
    let found = uses_of(&src().join("gui"), "cli");
    assert!(
        found.is_empty(),
        "src/gui uses the CLI:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cli_does_not_import_the_gui() {
    let found = uses_of(&src().join("cli"), "gui");
    assert!(
        found.is_empty(),
        "src/cli uses the GUI:\n{}",
        found.join("\n")
    );
}

/// The size-limited read has one home (`files::read_limited`): no other file takes `limit + 1`
/// bytes of a reader itself.
#[test]
fn the_limited_read_is_written_once() {
    let mut found = Vec::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains(".read_to_end(") && text.contains(".take(") {
            found.push(file.display().to_string());
        }
    }
    assert_eq!(
        found,
        vec![src().join("files.rs").display().to_string()],
        "a size-limited read outside files.rs"
    );
}

/// The checker itself: it sees both spellings of an import.
#[test]
fn the_import_check_sees_plain_and_grouped_imports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.rs"), "use crate::cli::flags;\n").unwrap();
    assert_eq!(uses_of(dir.path(), "cli").len(), 1);
    std::fs::write(
        dir.path().join("a.rs"),
        "use crate::{\n    engine,\n    cli,\n};\n",
    )
    .unwrap();
    assert_eq!(uses_of(dir.path(), "cli").len(), 1);
    std::fs::write(
        dir.path().join("a.rs"),
        "// crate::cli is not used here\nfn clip() {}\n",
    )
    .unwrap();
    assert!(uses_of(dir.path(), "cli").is_empty());
}

/// The view draws from `&State` and only returns events: its entry point takes the state by
/// shared reference, and no file of it reaches the application, the engine, a worker or a file
/// (it may name their data types: `LoggedVerdict`, `ClockProblem`).
#[test]
fn the_view_reads_the_state_and_calls_nothing() {
    let view = src().join("gui/view");
    let main = std::fs::read_to_string(view.join("mod.rs")).unwrap();
    let start = main.find("pub fn show(").expect("view::show");
    let signature = &main[start..start + main[start..].find('{').unwrap()];
    assert!(
        signature.contains("state: &State") && !signature.contains("&mut State"),
        "view::show must take &State: {signature}"
    );
    assert!(signature.contains("-> Vec<Event>"), "{signature}");
    let mut found = Vec::new();
    for module in ["app", "worker", "files", "scanner", "sound", "cli"] {
        found.extend(uses_of(&view, module));
    }
    for file in rust_files(&view) {
        let text = std::fs::read_to_string(&file).unwrap();
        for word in ["Gui", "Engine", "&mut State"] {
            if text.contains(word) {
                found.push(format!("{}: {word}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the view reaches beyond the state:\n{}",
        found.join("\n")
    );
}
