//! `verifier bundle install | show`: the trust bundle.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use checkpass::msg;
use checkpass::verdict::Lang;

use super::{open, read_file};
use crate::engine::ClockProblem;
use crate::store::MAX_BUNDLE_BYTES;
use crate::timefmt;

pub fn install(dir: &Path, file: &Path, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    let what = msg!(lang, cli.file.bundle);
    let bytes = read_file(file, MAX_BUNDLE_BYTES, what, lang)?;
    let bundle = engine
        .install_bundle(&bytes)
        .with_context(|| format!("{what} {}", file.display()))?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{}",
        msg!(
            lang,
            cli.bundle.installed,
            checkpoints = bundle.checkpoints.len(),
            keys = bundle.keys.len(),
            revoked = bundle.revoked.len(),
            sequence = bundle.sequence
        )
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn show(dir: &Path, now: i64, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let s = engine.settings();
    let b = engine.bundle()?;
    let en = lang == Lang::En;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{}",
        msg!(lang, cli.bundle.sequence, sequence = b.sequence)
    )?;
    writeln!(out, "{}", msg!(lang, cli.bundle.issuer, issuer = &b.issuer))?;
    let issued_at = timefmt::minutes(b.issued_at);
    let age = timefmt::duration(now - b.issued_at, en);
    let issued = if b.is_stale(now) {
        msg!(
            lang,
            cli.bundle.issued_stale,
            issued_at = issued_at,
            age = age
        )
    } else {
        msg!(lang, cli.bundle.issued, issued_at = issued_at, age = age)
    };
    writeln!(out, "{issued}")?;
    writeln!(
        out,
        "{}",
        msg!(lang, cli.bundle.root_key, kid = s.root_key.kid())
    )?;
    writeln!(out, "{}", msg!(lang, cli.bundle.keys, count = b.keys.len()))?;
    for k in &b.keys {
        let compromised = match k.compromised_since {
            None => String::new(),
            Some(checkpass::bundle::COMPROMISED_ALWAYS) => {
                msg!(lang, cli.bundle.key_compromised).into()
            }
            Some(since) => msg!(
                lang,
                cli.bundle.key_compromised_since,
                since = timefmt::minutes(since)
            ),
        };
        writeln!(
            out,
            "  {}  {} — {}{compromised}{}",
            k.kid(),
            timefmt::minutes(k.valid_from),
            timefmt::minutes(k.valid_to),
            scope_text(&k.scope, lang)
        )?;
    }
    writeln!(
        out,
        "{}",
        msg!(lang, cli.bundle.revocations, count = b.revoked.len())
    )?;
    writeln!(
        out,
        "{}",
        msg!(lang, cli.bundle.checkpoints, count = b.checkpoints.len())
    )?;
    for c in &b.checkpoints {
        let here = if c.code == s.checkpoint {
            msg!(lang, cli.bundle.here)
        } else {
            ""
        };
        writeln!(
            out,
            "  {} {} ({}, {}){here}",
            c.code, c.name, c.road, c.district
        )?;
    }
    if b.checkpoint(&s.checkpoint).is_none() {
        writeln!(
            out,
            "{}",
            msg!(lang, cli.bundle.not_in_registry, checkpoint = &s.checkpoint)
        )?;
    }
    let p = &b.policy;
    writeln!(
        out,
        "{}",
        msg!(
            lang,
            cli.bundle.policy,
            bundle_hours = p.max_bundle_age_secs / 3600,
            repeat_secs = engine.repeat_window_secs().unwrap_or(p.repeat_window_secs),
            skew_secs = p.clock_skew_secs,
            test_hours = p.max_test_age_secs / 3600
        )
    )?;
    if let Some(problem) = engine.clock_problem(now)? {
        writeln!(out, "{}", clock_warning(problem, lang))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn clock_warning(problem: ClockProblem, lang: Lang) -> String {
    let reference = match problem {
        ClockProblem::BehindLog { newest_scan_at } => newest_scan_at,
        ClockProblem::BehindBundle { issued_at } => issued_at,
    };
    msg!(
        lang,
        cli.bundle.clock_behind,
        reference = timefmt::minutes(reference)
    )
}

/// A scoped key's limits as `bundle show` prints them; nothing for an unscoped key.
fn scope_text(scope: &checkpass::scope::KeyScope, lang: Lang) -> String {
    if scope.is_unrestricted() {
        return String::new();
    }
    msg!(lang, cli.bundle.scope_only, scope = scope.describe(lang))
}
