//! `verifier settings`: shows and changes the checkpoint's settings.

use std::io;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use checkpass::msg;
use checkpass::verdict::Lang;

use super::flags::SettingsArgs;
use super::{open, write_fields};
use crate::settings::{self, lang_str};

pub fn run(dir: &Path, args: SettingsArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, _) = open(dir, lang)?;
    let checkpoint = args
        .checkpoint
        .as_deref()
        .map(|c| settings::validate_code("checkpoint", c))
        .transpose()?;
    let officer = args
        .officer
        .as_deref()
        .map(|o| settings::validate_code("officer", o))
        .transpose()?;
    let window = args
        .repeat_window
        .map(settings::validate_repeat_window)
        .transpose()?;
    let changed = checkpoint.is_some()
        || officer.is_some()
        || args.no_officer
        || window.is_some()
        || args.policy_repeat_window
        || args.language.is_some()
        || args.direction.is_some()
        || args.no_direction;
    if changed {
        engine.update_settings(|s| {
            if let Some(c) = checkpoint {
                s.checkpoint = c;
            }
            if officer.is_some() || args.no_officer {
                s.officer = officer;
            }
            if window.is_some() || args.policy_repeat_window {
                s.repeat_window_secs = window;
            }
            if let Some(l) = args.language {
                s.lang = l;
            }
            if args.direction.is_some() || args.no_direction {
                s.direction = args.direction;
            }
        })?;
    }
    let lang = lang.unwrap_or(engine.settings().lang);
    let s = engine.settings();
    let mut out = io::stdout().lock();
    let window = match (s.repeat_window_secs, engine.repeat_window_secs()) {
        (Some(w), _) => format!("{w} s"),
        (None, Some(w)) => msg!(lang, cli.settings.window_of_bundle, secs = w),
        (None, None) => msg!(lang, cli.settings.no_bundle).to_owned(),
    };
    write_fields(
        &mut out,
        lang,
        &[
            (
                msg!(lang, cli.label.data_dir),
                engine.dir().display().to_string(),
            ),
            (msg!(lang, cli.label.root_key), s.root_key.kid().to_string()),
            (msg!(lang, cli.label.checkpoint), s.checkpoint.clone()),
            (
                msg!(lang, cli.label.officer),
                s.officer.as_deref().unwrap_or("-").to_string(),
            ),
            (msg!(lang, cli.label.repeat_window), window),
            (
                msg!(lang, cli.label.direction),
                s.direction.map_or("-", |d| d.label(lang)).to_string(),
            ),
            (msg!(lang, cli.label.language), lang_str(s.lang).to_string()),
        ],
    )?;
    Ok(ExitCode::SUCCESS)
}
