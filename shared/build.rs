//! Turns the message catalogue (`messages.toml`, the one file a translator edits) into the
//! `msg!` macro of `checkpass::messages`.
//!
//! Each message becomes one arm of the macro, so a key that does not exist, an argument the
//! text does not use, or a placeholder left without its argument is a compile error at the call
//! site — never a raw key or a `{name}` shown to an officer. The catalogue itself is checked
//! here: both languages present, the same placeholders in both, keys usable as Rust names.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

const CATALOGUE: &str = "messages.toml";
const LANGS: [&str; 2] = ["zh", "en"];

struct Message {
    /// `gui.settings.save`
    path: Vec<String>,
    zh: String,
    en: String,
    /// Placeholder names, sorted.
    args: BTreeSet<String>,
}

fn main() {
    println!("cargo::rerun-if-changed={CATALOGUE}");
    let text = match std::fs::read_to_string(CATALOGUE) {
        Ok(t) => t,
        Err(e) => fail(&format!("cannot read {CATALOGUE}: {e}")),
    };
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => fail(&format!("{CATALOGUE} is not valid TOML: {e}")),
    };
    let mut messages = Vec::new();
    walk(&table, &mut Vec::new(), &mut messages);
    let out = std::env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set"));
    let code = generate(&messages);
    if let Err(e) = std::fs::write(Path::new(&out).join("messages.rs"), code) {
        fail(&format!("cannot write the generated messages: {e}"));
    }
}

fn fail(why: &str) -> ! {
    eprintln!("error: {why}");
    std::process::exit(1)
}

/// A table with `zh` and `en` strings is a message; any other table is a group of them.
fn walk(table: &toml::Table, path: &mut Vec<String>, out: &mut Vec<Message>) {
    for (key, value) in table {
        path.push(key.clone());
        let here = path.join(".");
        if !is_rust_name(key) {
            fail(&format!(
                "{CATALOGUE}: `{here}`: a key is lowercase letters, digits and `_`, starting with a letter"
            ));
        }
        let Some(t) = value.as_table() else {
            fail(&format!(
                "{CATALOGUE}: `{here}` must be a table: a group, or {{ zh = \"…\", en = \"…\" }}"
            ));
        };
        if LANGS.iter().any(|l| t.contains_key(*l)) {
            out.push(message(&here, path, t));
        } else {
            walk(t, path, out);
        }
        path.pop();
    }
}

fn message(here: &str, path: &[String], t: &toml::Table) -> Message {
    for key in t.keys() {
        if !LANGS.contains(&key.as_str()) {
            fail(&format!(
                "{CATALOGUE}: `{here}` has `{key}`: a message has exactly `zh` and `en`"
            ));
        }
    }
    let text = |lang: &str| -> String {
        match t.get(lang).map(|v| v.as_str()) {
            Some(Some(s)) => s.to_string(),
            Some(None) => fail(&format!("{CATALOGUE}: `{here}.{lang}` must be text")),
            None => fail(&format!("{CATALOGUE}: `{here}` has no `{lang}` text")),
        }
    };
    let (zh, en) = (text("zh"), text("en"));
    let args_zh = placeholders(here, "zh", &zh);
    let args_en = placeholders(here, "en", &en);
    if args_zh != args_en {
        fail(&format!(
            "{CATALOGUE}: `{here}`: zh uses {{{}}} but en uses {{{}}}: both must use the same placeholders",
            join(&args_zh),
            join(&args_en)
        ));
    }
    Message {
        path: path.to_vec(),
        zh,
        en,
        args: args_zh,
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Words Rust reserves cannot be keys.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

fn is_rust_name(key: &str) -> bool {
    if KEYWORDS.contains(&key) {
        return false;
    }
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The names in `{name}` / `{name:06}`; `{{` and `}}` are literal braces.
fn placeholders(here: &str, lang: &str, text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
            }
            '{' => {
                let inner: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let name = inner.split(':').next().unwrap_or("");
                if !is_rust_name(name) {
                    fail(&format!(
                        "{CATALOGUE}: `{here}.{lang}`: `{{{inner}}}` is not a named placeholder such as {{count}}; write {{{{ for a brace"
                    ));
                }
                names.insert(name.to_string());
            }
            '}' => fail(&format!(
                "{CATALOGUE}: `{here}.{lang}`: a lone `}}`; write }}}} for a brace"
            )),
            _ => {}
        }
    }
    names
}

/// The text with `{{` / `}}` read as braces, for a message without placeholders.
fn unescaped(text: &str) -> String {
    text.replace("{{", "{").replace("}}", "}")
}

fn generate(messages: &[Message]) -> String {
    let mut code = String::new();
    code.push_str("// Generated by shared/build.rs from messages.toml: edit that file.\n\n");
    code.push_str(
        "/// One message of the catalogue in `lang`: `msg!(lang, gui.settings.save)` gives a \
         `&'static str`;\n/// a message with placeholders takes them by name and gives a \
         `String`:\n/// `msg!(lang, cli.log.written, path = p.display())`.\n",
    );
    // One macro, no helper: a macro that `include!` defines cannot be called by `$crate::` path
    // inside this crate (rust-lang/rust#52234).
    code.push_str("#[macro_export]\nmacro_rules! msg {\n");
    for m in messages {
        let key = m.path.join(" . ");
        if m.args.is_empty() {
            let _ = writeln!(
                code,
                "    ($lang:expr, {key}) => {{ match $lang {{ $crate::verdict::Lang::Zh => {:?}, $crate::verdict::Lang::En => {:?} }} }};",
                unescaped(&m.zh),
                unescaped(&m.en)
            );
        } else {
            let _ = writeln!(
                code,
                "    ($lang:expr, {key} $(, $name:ident = $value:expr)+ $(,)?) => {{ match $lang {{ \
                 $crate::verdict::Lang::Zh => ::std::format!({:?} $(, $name = $value)+), \
                 $crate::verdict::Lang::En => ::std::format!({:?} $(, $name = $value)+) }} }};",
                m.zh, m.en
            );
        }
    }
    // Anything else: name the key, so the error says which message is missing.
    code.push_str(
        "    ($lang:expr, $($key:ident).+ $($rest:tt)*) => { ::std::compile_error!(::std::concat!(\
         \"no message `\", ::std::stringify!($($key).+), \"` in shared/messages.toml, or its arguments \
         do not match it\")) };\n}\n\n",
    );
    code.push_str("/// Every key of the catalogue, with the names of its placeholders.\n");
    code.push_str("pub const KEYS: &[(&str, &[&str])] = &[\n");
    for m in messages {
        let args: Vec<String> = m.args.iter().map(|a| format!("{a:?}")).collect();
        let _ = writeln!(
            code,
            "    ({:?}, &[{}]),",
            m.path.join("."),
            args.join(", ")
        );
    }
    code.push_str("];\n\n");
    // Tables of texts by top-level group, for a program that looks words up at run time (the
    // phone app's interface, in JavaScript). A table nobody uses costs nothing: consts are
    // only compiled where they are used.
    code.push_str(
        "/// The texts of each top-level group of the catalogue: (key within the group, zh, en).\n\
         pub mod tables {\n",
    );
    let mut groups: Vec<&str> = messages.iter().map(|m| m.path[0].as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    for group in groups {
        let _ = writeln!(
            code,
            "    pub const {}: &[(&str, &str, &str)] = &[",
            group.to_ascii_uppercase()
        );
        for m in messages.iter().filter(|m| m.path[0] == group) {
            let _ = writeln!(
                code,
                "        ({:?}, {:?}, {:?}),",
                m.path[1..].join("."),
                unescaped(&m.zh),
                unescaped(&m.en)
            );
        }
        code.push_str("    ];\n");
    }
    code.push_str("}\n");
    code
}
