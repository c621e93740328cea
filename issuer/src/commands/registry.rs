//! The districts and checkpoints, and the verification policy, after init.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use checkpass::bundle::Policy;
use checkpass::text::terminal_safe as safe;
use serde_json::json;

use crate::cli::{PolicySetArgs, RegistryLoadArgs};
use issuer::domain::{Checkpoint, District};
use issuer::import;

use super::{Ctx, DataDir};

/// The district and checkpoint tables from the given files (empty for a file not given).
pub(super) fn read_registry_files(
    districts: Option<&Path>,
    checkpoints: Option<&Path>,
) -> Result<(Vec<District>, Vec<Checkpoint>)> {
    Ok((
        districts
            .map(import::read_districts)
            .transpose()?
            .unwrap_or_default(),
        checkpoints
            .map(import::read_checkpoints)
            .transpose()?
            .unwrap_or_default(),
    ))
}

pub(super) fn registry_show(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    let districts = store.districts()?;
    let checkpoints = store.checkpoints()?;
    if ctx.json {
        ctx.print_json(&json!({ "districts": districts, "checkpoints": checkpoints }))?;
    } else {
        println!("区划 {} 个：", districts.len());
        for d in &districts {
            println!("  {}  {}  {}", d.code, safe(&d.name), safe(&d.contact));
        }
        println!("检查站 {} 个：", checkpoints.len());
        for c in &checkpoints {
            println!(
                "  {}  {}  区划 {}  {}",
                c.code,
                safe(&c.name),
                c.district,
                safe(&c.road)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn registry_load(data: &DataDir, ctx: &Ctx, args: RegistryLoadArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let (districts, checkpoints) =
        read_registry_files(args.districts.as_deref(), args.checkpoints.as_deref())?;
    let now = issuer::clock::now();
    store.load_registry(&districts, &checkpoints, &actor, now)?;
    if ctx.json {
        ctx.print_json(&json!({
            "districts": args.districts.as_ref().map(|_| districts.len()),
            "checkpoints": args.checkpoints.as_ref().map(|_| checkpoints.len()),
        }))?;
    } else {
        if args.districts.is_some() {
            println!("已载入区划 {} 个", districts.len());
        }
        if args.checkpoints.is_some() {
            println!("已载入检查站 {} 个", checkpoints.len());
        }
        println!("新表随下一个信任包下发（issuer bundle --out FILE）");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_policy(ctx: &Ctx, p: &Policy) -> Result<()> {
    if ctx.json {
        return ctx.print_json(p);
    }
    println!("核酸采样最长 {} 小时", p.max_test_age_secs / 3600);
    println!("允许时钟误差 {} 分钟", p.clock_skew_secs / 60);
    println!("信任包过期 {} 小时", p.max_bundle_age_secs / 3600);
    println!("重复扫码判定 {} 分钟", p.repeat_window_secs / 60);
    println!("通行证最长有效 {} 小时", p.max_validity_secs / 3600);
    Ok(())
}

pub(super) fn policy_show(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    print_policy(ctx, &store.policy()?)?;
    Ok(ExitCode::SUCCESS)
}

/// Bounds of each policy item: (name, least, most). Outside them a checkpoint would turn
/// away everyone (zero) or stop protecting anything (weeks).
const POLICY_BOUNDS: [(&str, u32, u32); 5] = [
    ("--max-test-age-hours", 1, 14 * 24),
    ("--clock-skew-minutes", 0, 60),
    ("--max-bundle-age-hours", 1, 14 * 24),
    ("--repeat-window-minutes", 0, 24 * 60),
    ("--max-validity-hours", 1, 31 * 24),
];

pub(super) fn policy_set(data: &DataDir, ctx: &Ctx, args: PolicySetArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let old = store.policy()?;
    let mut new = old;
    let items = [
        (args.max_test_age_hours, &mut new.max_test_age_secs, 3600),
        (args.clock_skew_minutes, &mut new.clock_skew_secs, 60),
        (
            args.max_bundle_age_hours,
            &mut new.max_bundle_age_secs,
            3600,
        ),
        (args.repeat_window_minutes, &mut new.repeat_window_secs, 60),
        (args.max_validity_hours, &mut new.max_validity_secs, 3600),
    ];
    for ((value, slot, unit), (name, least, most)) in items.into_iter().zip(POLICY_BOUNDS) {
        if let Some(v) = value {
            if !(least..=most).contains(&v) {
                bail!("{name} 应在 {least} 到 {most} 之间，收到 {v} / {name} must be {least}..={most}, got {v}");
            }
            *slot = i64::from(v) * unit;
        }
    }
    store.set_policy(
        &serde_json::to_string(&old)?,
        &serde_json::to_string(&new)?,
        &actor,
        issuer::clock::now(),
    )?;
    if !ctx.json {
        println!("策略已更新，随下一个信任包下发（issuer bundle --out FILE）：");
    }
    print_policy(ctx, &new)?;
    Ok(ExitCode::SUCCESS)
}
