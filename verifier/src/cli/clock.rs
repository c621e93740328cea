//! `verifier clock correct`: records that the device clock was corrected.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use checkpass::verdict::Lang;

use super::{open, t};
use crate::timefmt;

pub fn correct(dir: &Path, reason: &str, now: i64, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    let reason = reason.trim();
    if reason.is_empty() {
        bail!("理由不能为空 (a reason is required)");
    }
    engine.record_clock_correction(now, reason)?;
    writeln!(
        io::stdout().lock(),
        "{} {} (UTC+8)",
        t(
            lang,
            "已登记时钟校正，本机时间为",
            "Clock correction recorded; this device's time is"
        ),
        timefmt::minutes(now)
    )?;
    Ok(ExitCode::SUCCESS)
}
