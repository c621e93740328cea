//! `verifier init`: pins the root key and names this checkpoint.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::keys::{self, KeyRole};
use checkpass::msg;
use checkpass::verdict::Lang;

use super::flags::InitArgs;
use super::{read_file, write_fields};
use crate::engine::{Engine, InitOptions};

pub fn run(dir: &Path, args: InitArgs, lang: Option<Lang>) -> Result<ExitCode> {
    // Until the settings exist, the language asked for, else Chinese.
    let early = lang.unwrap_or_default();
    let path = args.root_key.display();
    let what = msg!(early, cli.file.root_key);
    let bytes = read_file(&args.root_key, 64 * 1024, what, early)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!(msg!(early, cli.init.not_text, path = path)))?;
    let (key, role) = keys::parse_public_key_file(&text)
        .with_context(|| msg!(early, cli.init.invalid_key, path = path))?;
    if role != KeyRole::Root {
        bail!(msg!(early, cli.init.not_root, path = path, role = role));
    }
    let options = InitOptions {
        allow_dev_keys: args.allow_dev_keys,
    };
    let engine = Engine::init_with(dir, key, &args.checkpoint, args.officer.as_deref(), options)?;
    let lang = lang.unwrap_or(engine.settings().lang);
    let s = engine.settings();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{}",
        msg!(lang, cli.init.done, dir = engine.dir().display())
    )?;
    let mut fields = vec![
        (msg!(lang, cli.label.root_key), s.root_key.kid().to_string()),
        (msg!(lang, cli.label.checkpoint), s.checkpoint.clone()),
    ];
    if let Some(o) = &s.officer {
        fields.push((msg!(lang, cli.label.officer), o.clone()));
    }
    fields.push((
        msg!(lang, cli.label.device_key),
        format!(
            "{} (verifier log device --out FILE)",
            engine.device_public_key()?.kid()
        ),
    ));
    write_fields(&mut out, lang, &fields)?;
    if engine.bundle().is_err() {
        writeln!(out, "{}", msg!(lang, cli.init.next))?;
    }
    Ok(ExitCode::SUCCESS)
}
