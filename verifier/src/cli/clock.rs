//! `verifier clock correct`: records that the device clock was corrected.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use checkpass::msg;
use checkpass::verdict::Lang;

use super::open;
use crate::timefmt;

pub fn correct(dir: &Path, reason: &str, now: i64, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    let reason = reason.trim();
    if reason.is_empty() {
        bail!(msg!(lang, cli.clock.reason_required));
    }
    engine.record_clock_correction(now, reason)?;
    writeln!(
        io::stdout().lock(),
        "{}",
        msg!(lang, cli.clock.recorded, now = timefmt::minutes(now))
    )?;
    Ok(ExitCode::SUCCESS)
}
