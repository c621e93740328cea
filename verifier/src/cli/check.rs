//! `verifier check`: QR texts and image files in, verdicts out (text or JSON lines), the exit
//! status the worst of them.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use checkpass::msg;
use checkpass::verdict::{Lang, Level};

use super::flags::CheckArgs;
use super::{exit_code, open, system_now, EXIT_ERROR};
use crate::engine::Checked;
use crate::report::{self, Source};
use crate::settings;

pub fn run(dir: &Path, args: CheckArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    // Refuse early, before reading any image, when checks cannot run.
    engine.bundle()?;
    // A time given with --at is a simulation: marked in the log, never moving the clock floor.
    engine.set_simulated_clock(args.at.is_some());
    let now = args.at.unwrap_or_else(system_now);
    let checkpoint = match &args.checkpoint {
        Some(c) => settings::validate_code("checkpoint", c)?,
        None => engine.settings().checkpoint.clone(),
    };
    let mut worst: Option<Level> = None;
    let mut failed = false;
    let mut out = io::stdout().lock();
    let test_seen = args.test_seen;
    let mut emit = |engine: &mut crate::engine::Engine,
                    src: &Source<'_>,
                    checked: &Checked,
                    out: &mut io::StdoutLock<'_>|
     -> Result<bool> {
        worst = worst.max(Some(checked.verdict.level()));
        // The officer saw a newer report: recorded right after the scan, when the test on the
        // pass is what made it amber (other verdicts say why it was not recorded).
        let recorded = test_seen.map(|seen| {
            checked
                .report_target()
                .and_then(|target| engine.record_test_report(&target, seen, now))
                .map(|_| seen)
                .map_err(|e| e.to_string())
        });
        if args.json {
            let mut line = report::json(src, checked, lang);
            if let (Some(r), Some(obj)) = (&recorded, line.as_object_mut()) {
                obj.insert("test_report".into(), report::test_report_json(r));
            }
            writeln!(out, "{line}")?;
        } else {
            write!(out, "{}", report::human(src, checked, lang))?;
            if let Some(r) = &recorded {
                writeln!(out, "{}", report::test_report_line(r, lang))?;
            }
        }
        // A report asked for and not recorded is an error of the command.
        Ok(!matches!(recorded, Some(Err(_))))
    };
    if let Some(text) = &args.text {
        let checked = engine.check_text_at(text, now, &checkpoint)?;
        let src = Source {
            image: None,
            text: Some(text),
            index: 1,
            count: 1,
        };
        failed |= !emit(&mut engine, &src, &checked, &mut out)?;
    }
    for (i, image) in args.images.iter().enumerate() {
        if i > 0 && !args.json {
            writeln!(out)?;
        }
        let name = image.display().to_string();
        let texts = match read_image(image) {
            Ok(texts) => texts,
            Err(e) => {
                failed = true;
                out.flush()?;
                let error = checkpass::describe_error(e.as_ref());
                writeln!(io::stderr(), "{}", msg!(lang, cli.error, error = error))?;
                continue;
            }
        };
        if texts.is_empty() {
            let checked = engine.check_nothing_found(now, &checkpoint)?;
            let src = Source {
                image: Some(&name),
                text: None,
                index: 0,
                count: 0,
            };
            failed |= !emit(&mut engine, &src, &checked, &mut out)?;
        }
        for (j, text) in texts.iter().enumerate() {
            let checked = engine.check_text_at(text, now, &checkpoint)?;
            let src = Source {
                image: Some(&name),
                text: Some(text),
                index: j + 1,
                count: texts.len(),
            };
            failed |= !emit(&mut engine, &src, &checked, &mut out)?;
        }
    }
    out.flush()?;
    if failed {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::from(exit_code(worst.unwrap_or(Level::Red))))
}

/// The texts of every QR code found in an image file, each once (a code read twice by the
/// decoder must not look like a repeat scan).
fn read_image(path: &Path) -> Result<Vec<String>> {
    let codes = crate::decode::decode_image_file(path)?;
    let mut texts: Vec<String> = Vec::with_capacity(codes.len());
    for code in codes {
        if !texts.contains(&code.text) {
            texts.push(code.text);
        }
    }
    Ok(texts)
}
