//! The districts and checkpoints, and the verification policy, after init.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use checkpass::bundle::Policy;
use checkpass::text::terminal_safe as safe;
use serde_json::json;

use crate::cli::{PolicySetArgs, RegistryLoadArgs};
use issuer::domain::{Checkpoint, District, Place};
use issuer::{import, policy};

use super::{Ctx, DataDir};

/// The district and checkpoint tables, and the checkpoints' coordinates, from the given files
/// (empty for a file not given).
pub(super) fn read_registry_files(
    districts: Option<&Path>,
    checkpoints: Option<&Path>,
) -> Result<(Vec<District>, Vec<Checkpoint>, Vec<Place>)> {
    Ok((
        districts
            .map(import::read_districts)
            .transpose()?
            .unwrap_or_default(),
        checkpoints
            .map(import::read_checkpoints)
            .transpose()?
            .unwrap_or_default(),
        checkpoints
            .map(import::read_places)
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
    let (districts, checkpoints, places) =
        read_registry_files(args.districts.as_deref(), args.checkpoints.as_deref())?;
    let now = issuer::clock::now();
    store.load_registry(&districts, &checkpoints, &actor, now)?;
    if !places.is_empty() {
        store.set_places(&places, &actor, now)?;
    }
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
        if !places.is_empty() {
            println!(
                "已载入检查站坐标 {} 个（用于判断复制的通行证）",
                places.len()
            );
        }
        println!("新表随下一个信任包下发（issuer bundle --out FILE）");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_policy(ctx: &Ctx, p: &Policy) -> Result<()> {
    if ctx.json {
        return ctx.print_json(p);
    }
    for item in &policy::ITEMS {
        println!("{} {} {}", item.label, item.get(p), item.unit);
    }
    Ok(())
}

pub(super) fn policy_show(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    print_policy(ctx, &store.policy()?)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn policy_set(data: &DataDir, ctx: &Ctx, args: PolicySetArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let change = [
        args.max_test_age_hours,
        args.clock_skew_minutes,
        args.max_bundle_age_hours,
        args.repeat_window_minutes,
        args.max_validity_hours,
    ];
    let new = policy::set(&mut *store, &change, &actor, issuer::clock::now())?;
    if !ctx.json {
        println!("策略已更新，随下一个信任包下发（issuer bundle --out FILE）：");
    }
    print_policy(ctx, &new)?;
    Ok(ExitCode::SUCCESS)
}
