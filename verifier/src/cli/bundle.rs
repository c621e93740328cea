//! `verifier bundle install | show`: the trust bundle.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use checkpass::verdict::Lang;

use super::{open, read_file, t};
use crate::engine::ClockProblem;
use crate::store::MAX_BUNDLE_BYTES;
use crate::timefmt;

pub fn install(dir: &Path, file: &Path, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    let bytes = read_file(file, MAX_BUNDLE_BYTES, "信任包文件")?;
    let bundle = engine
        .install_bundle(&bytes)
        .with_context(|| format!("信任包文件 {}", file.display()))?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} {} ({} {}, {} {}, {} {})",
        t(
            lang,
            "已安装信任包，序号",
            "Installed trust bundle, sequence"
        ),
        bundle.sequence,
        bundle.keys.len(),
        t(lang, "个签发密钥", "keys"),
        bundle.checkpoints.len(),
        t(lang, "个检查站", "checkpoints"),
        bundle.revoked.len(),
        t(lang, "条撤销", "revocations"),
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn show(dir: &Path, now: i64, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let s = engine.settings();
    let b = engine.bundle()?;
    let en = lang == Lang::En;
    let mut out = io::stdout().lock();
    writeln!(out, "{}{}", t(lang, "序号：", "Sequence:    "), b.sequence)?;
    writeln!(
        out,
        "{}{}",
        t(lang, "签发机关：", "Issuer:      "),
        b.issuer
    )?;
    let age = now - b.issued_at;
    let stale = if b.is_stale(now) {
        t(lang, "（已过期，请更新）", " (stale: update it)")
    } else {
        ""
    };
    writeln!(
        out,
        "{}{} (UTC+8), {} {}{stale}",
        t(lang, "签发时间：", "Issued:      "),
        timefmt::minutes(b.issued_at),
        t(lang, "距今", "age"),
        timefmt::duration(age, en),
    )?;
    writeln!(
        out,
        "{}{}",
        t(lang, "根公钥：", "Root key:    "),
        s.root_key.kid()
    )?;
    writeln!(
        out,
        "{}{}",
        t(lang, "签发密钥：", "Signing keys:"),
        b.keys.len()
    )?;
    for k in &b.keys {
        let compromised = match k.compromised_since {
            None => String::new(),
            Some(checkpass::bundle::COMPROMISED_ALWAYS) => t(
                lang,
                "  已宣告泄露：全部作废",
                "  COMPROMISED: all its passes refused",
            )
            .into(),
            Some(since) => format!(
                "{}{}",
                t(
                    lang,
                    "  已宣告泄露：作废自 ",
                    "  COMPROMISED: passes refused from "
                ),
                timefmt::minutes(since)
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
        "{}{}",
        t(lang, "撤销条数：", "Revocations: "),
        b.revoked.len()
    )?;
    writeln!(
        out,
        "{}{}",
        t(lang, "检查站数：", "Checkpoints: "),
        b.checkpoints.len()
    )?;
    for c in &b.checkpoints {
        let here = if c.code == s.checkpoint {
            t(lang, "  ← 本站", "  ← this checkpoint")
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
            "{} {}",
            t(
                lang,
                "注意：本站编码不在检查站名单中：",
                "Warning: this checkpoint is not in the registry:"
            ),
            s.checkpoint
        )?;
    }
    let p = &b.policy;
    writeln!(
        out,
        "{}{} h / {} s / {} h / {} s",
        t(
            lang,
            "规则 (核酸时限/时钟误差/信任包时效/重复窗口)：",
            "Policy (test age/clock skew/bundle age/repeat window): "
        ),
        p.max_test_age_secs / 3600,
        p.clock_skew_secs,
        p.max_bundle_age_secs / 3600,
        engine.repeat_window_secs().unwrap_or(p.repeat_window_secs),
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
    format!(
        "{} {} (UTC+8)",
        t(
            lang,
            "注意：本机时钟早于",
            "Warning: this device's clock is earlier than"
        ),
        timefmt::minutes(reference)
    )
}

/// A scoped key's limits as `bundle show` prints them; nothing for an unscoped key.
fn scope_text(scope: &checkpass::scope::KeyScope, lang: Lang) -> String {
    if scope.is_unrestricted() {
        return String::new();
    }
    match lang {
        Lang::Zh => format!("  仅限：{scope}"),
        Lang::En => {
            let any = |empty: bool, text: String| if empty { "any".to_string() } else { text };
            let categories = scope
                .categories
                .iter()
                .map(|c| c.label_en())
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "  only for districts {}; categories {}",
                any(scope.districts.is_empty(), scope.districts_text()),
                any(scope.categories.is_empty(), categories)
            )
        }
    }
}
