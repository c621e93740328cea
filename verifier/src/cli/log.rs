//! `verifier log`: list, CSV, find, verify, export and the device key of the scan log.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use checkpass::msg;
use checkpass::number::PassNumber;
use checkpass::verdict::{Lang, Level};

use super::flags::LogArgs;
use super::{open, system_now};
use crate::files;
use crate::store::ScanRecord;
use crate::timefmt;

/// `--since`: a time (see [`timefmt::parse`]) or a span back from now (`90m`, `24h`, `7d`).
fn parse_since(s: &str, now: i64) -> Result<i64> {
    let s = s.trim();
    if let Some(unit) = s.chars().last() {
        let secs = match unit {
            's' => Some(1),
            'm' => Some(60),
            'h' => Some(3600),
            'd' => Some(86_400),
            _ => None,
        };
        if let (Some(mul), Ok(n)) = (secs, s[..s.len() - 1].parse::<i64>()) {
            if n >= 0 {
                return Ok(now.saturating_sub(n.saturating_mul(mul)));
            }
        }
    }
    Ok(timefmt::parse(s)?)
}

pub fn list(dir: &Path, args: LogArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, system_now()))
        .transpose()?;
    let scans = engine.scans(since)?;
    match &args.csv {
        Some(path) if path.as_os_str() == "-" => {
            let mut out = io::stdout().lock();
            files::write_csv(&mut out, &scans)?;
        }
        Some(path) => {
            let mut bytes = Vec::new();
            files::write_csv(&mut bytes, &scans)?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            crate::store::write_atomic(&parent, path, &bytes)?;
            writeln!(
                io::stderr(),
                "{}",
                msg!(lang, cli.log.csv_exported, count = scans.len())
            )?;
        }
        None => {
            let mut out = io::stdout().lock();
            writeln!(out, "{}", msg!(lang, cli.log.header))?;
            for s in &scans {
                writeln!(out, "{}", log_line(s, lang))?;
            }
            writeln!(out, "{}", msg!(lang, cli.log.total, count = scans.len()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit status of `log find` when the pass was not scanned today.
pub const EXIT_NOT_FOUND: u8 = 1;

pub fn find(dir: &Path, number: &str, at: Option<i64>, lang: Option<Lang>) -> Result<ExitCode> {
    // A mistyped number (wrong length, check character) is an error of its own, told apart
    // from a pass not seen today.
    let number: PassNumber = number.parse()?;
    let (engine, lang) = open(dir, lang)?;
    let since = timefmt::start_of_day_cst(at.unwrap_or_else(system_now));
    let scans = engine.scans_of(&number, since)?;
    let mut out = io::stdout().lock();
    if scans.is_empty() {
        writeln!(out, "{}", msg!(lang, cli.log.not_found, number = number))?;
        return Ok(ExitCode::from(EXIT_NOT_FOUND));
    }
    writeln!(out, "{}", msg!(lang, cli.log.found, number = number))?;
    for s in &scans {
        writeln!(out, "{}", log_line(s, lang))?;
    }
    writeln!(out, "{}", msg!(lang, cli.log.total, count = scans.len()))?;
    Ok(ExitCode::SUCCESS)
}

pub fn verify(dir: &Path, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let head = engine.verify_log()?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{}",
        msg!(lang, cli.log.chain_intact, entries = head.entries)
    )?;
    writeln!(
        out,
        "{}",
        msg!(lang, cli.log.head_hash, hash = hex::encode(head.head))
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn export(dir: &Path, out: &Path, since: Option<&str>, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let now = system_now();
    let since = since.map(|s| parse_since(s, now)).transpose()?;
    let (bytes, log) = engine.export_log(since, now)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    crate::store::write_atomic(&parent, out, &bytes)?;
    let scans = log
        .entries
        .iter()
        .filter(|e| e.kind == checkpass::scanlog::EntryKind::Scan)
        .count();
    let simulated = log.entries.iter().filter(|e| e.simulated).count();
    let mut o = io::stdout().lock();
    writeln!(
        o,
        "{}",
        msg!(
            lang,
            cli.log.exported,
            entries = log.entries.len(),
            path = out.display(),
            scans = scans,
            simulated = simulated
        )
    )?;
    writeln!(
        o,
        "{}",
        msg!(
            lang,
            cli.log.exported_keys,
            device = log.device.kid().to_hex(),
            head = hex::encode(log.head())
        )
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn device(dir: &Path, out: Option<&Path>, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let key = engine.device_public_key()?;
    let mut o = io::stdout().lock();
    match out {
        Some(path) => {
            let text = checkpass::keys::public_key_file(&key, checkpass::keys::KeyRole::Device);
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            crate::store::write_atomic(&parent, path, text.as_bytes())?;
            writeln!(o, "{}", msg!(lang, cli.log.written, path = path.display()))?;
        }
        None => {
            writeln!(
                o,
                "{}",
                msg!(lang, cli.log.device_kid, kid = key.kid().to_hex())
            )?;
            writeln!(
                o,
                "{}",
                msg!(lang, cli.log.device_public, key = key.to_hex())
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn log_line(s: &ScanRecord, lang: Lang) -> String {
    let level = match s.verdict {
        crate::store::LoggedVerdict::Green => Level::Green,
        crate::store::LoggedVerdict::Amber => Level::Amber,
        crate::store::LoggedVerdict::Red => Level::Red,
    };
    let simulated = if s.simulated {
        msg!(lang, cli.log.simulated)
    } else {
        ""
    };
    format!(
        "{}{simulated}  {}  {}  {}  {}  {}  {}",
        timefmt::minutes(s.scanned_at),
        s.checkpoint,
        s.officer.as_deref().unwrap_or("-"),
        s.serial.as_deref().unwrap_or("-"),
        s.plate.as_deref().unwrap_or("-"),
        level.word(lang),
        s.reasons.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_spans_and_times() {
        assert_eq!(parse_since("24h", 100_000).unwrap(), 100_000 - 86_400);
        assert_eq!(parse_since("90m", 10_000).unwrap(), 10_000 - 5_400);
        assert_eq!(parse_since("2022-03-12 19:00", 0).unwrap(), 1_647_082_800);
        assert!(parse_since("soon", 0).is_err());
        assert!(parse_since("-5h", 0).is_err());
    }
}
