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

/// Whether a line holds Chinese text (CJK ideographs or full-width punctuation).
fn has_chinese(line: &str) -> bool {
    line.chars()
        .any(|c| matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}'))
}

/// Lines of code (not comments, not tests) under `paths` that hold Chinese text, as
/// `file:line: text`. A file's `#[cfg(test)]` module is its tail, so the scan stops there.
fn chinese_in_code(paths: &[PathBuf]) -> Vec<String> {
    let mut found = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            rust_files(path)
        } else {
            vec![path.clone()]
        };
        // A module's tests in a file of their own (`decode/tests.rs`) are tests too.
        for file in files.into_iter().filter(|f| !f.ends_with("tests.rs")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("#[cfg(") && code.contains("test") {
                    break;
                }
                if code.starts_with("//") {
                    continue;
                }
                if has_chinese(code.split(" // ").next().unwrap_or("")) {
                    found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
                }
            }
        }
    }
    found
}

/// One message catalogue (issue 15): every word the verifier shows — the GUI, the CLI, its
/// `--help`, its report and its errors — comes from `shared/messages.toml` through `msg!`, so
/// a translator edits that one file. The one exception is the name of a language a user may
/// type (`中文`), which is input, not a word shown.
#[test]
fn the_verifier_takes_its_words_from_the_catalogue() {
    let allowed = |line: &str| line.contains("settings.rs:") && line.contains("=> Ok(Lang::Zh)");
    assert_words_from_the_catalogue(&[src()], allowed);
}

/// Fails with every line of code under `paths` that holds Chinese text and is not `allowed`.
fn assert_words_from_the_catalogue(paths: &[PathBuf], allowed: impl Fn(&str) -> bool) {
    let found: Vec<String> = chinese_in_code(paths)
        .into_iter()
        .filter(|l| !allowed(l))
        .collect();
    assert!(
        found.is_empty(),
        "Chinese text written in the code, not in shared/messages.toml ({} lines):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// The same for the library under the verifier and the phone web app's WebAssembly: the
/// reasons, the verdict's words and the errors come from the catalogue. Exceptions: data
/// rather than words — the category names the application files and the pass use, the
/// direction and list separators a user may type, and the sample pass.
#[test]
fn checkpass_and_the_web_app_take_their_words_from_the_catalogue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let allowed = |line: &str| {
        line.contains("src/sample.rs:")
            || line.contains("src/pass.rs:") && line.contains("Category::")
            || line.contains("src/scanlog.rs:") && line.contains("=> Some(Direction::")
            || line.contains("src/scope.rs:") && line.contains(".split([")
    };
    assert_words_from_the_catalogue(
        &[
            root.join("shared/src"),
            root.join("checkpoint-web/wasm/src"),
        ],
        allowed,
    );
}

/// The phone app's words are the catalogue's `[app]`, served by its WebAssembly: its scripts
/// hold no Chinese text of their own (its page's first paint, before the scripts run, aside).
#[test]
fn the_phone_app_takes_its_words_from_the_catalogue() {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../checkpoint-web/app");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&app).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().is_none_or(|x| x != "js") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
                continue;
            }
            if has_chinese(code.split(" // ").next().unwrap_or("")) {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Chinese text in the app's scripts, not in shared/messages.toml:\n{}",
        found.join("\n")
    );
}

/// `camera_start` → `cameraStart`, as the app names its words.
fn camel_case(key: &str) -> String {
    let mut parts = key.split('_');
    let mut out = parts.next().unwrap_or("").to_string();
    for p in parts {
        let mut chars = p.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// Every message of the catalogue is used somewhere: a dead entry would only mislead the
/// translator.
#[test]
fn every_message_of_the_catalogue_is_used() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut code = String::new();
    for dir in ["shared/src", "verifier/src", "checkpoint-web/wasm/src"] {
        for file in rust_files(&root.join(dir)) {
            code.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }
    // `msg!(lang, gui.settings.save)`: rustfmt may break the line between the two.
    let code: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    // The phone app names its words in camelCase, in quotes or in `data-t`.
    let mut app_code = String::new();
    for entry in std::fs::read_dir(root.join("checkpoint-web/app")).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().is_some_and(|x| x == "js" || x == "html") {
            app_code.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }
    let used = |key: &str| match key.strip_prefix("app.") {
        Some(word) => {
            let word = camel_case(word);
            ["'", "\""]
                .iter()
                .any(|q| app_code.contains(&format!("{q}{word}{q}")))
        }
        // The clap definitions name theirs with `help!(word)` (cli/flags.rs).
        None => match key.strip_prefix("cli.help.") {
            Some(word) => code.contains(&format!("help!({word})")),
            None => code.contains(&format!(", {key})")) || code.contains(&format!(", {key},")),
        },
    };
    let unused: Vec<&str> = checkpass::messages::KEYS
        .iter()
        .map(|(key, _)| *key)
        .filter(|key| !used(key))
        .collect();
    assert!(unused.is_empty(), "messages nobody uses: {unused:?}");
}
