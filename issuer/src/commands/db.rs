//! `issuer db copy`: moving a whole store to another database (a city going from one laptop's
//! SQLite to a shared PostgreSQL, or back to a file for an archive).

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::Ctx;
use crate::cli::DbCopyArgs;
use issuer::store::{self, Location};

pub(super) fn copy(ctx: &Ctx, args: DbCopyArgs) -> Result<ExitCode> {
    let from = Location::parse(&args.from).context("--from")?;
    let to = Location::parse(&args.to).context("--to")?;
    if from == to {
        bail!("--from 和 --to 是同一个数据库");
    }
    if let Location::Sqlite(path) = &from {
        if !path.is_file() {
            bail!("源数据库 {} 不存在", path.display());
        }
    }
    let source = store::open(&from).with_context(|| format!("无法打开源数据库 {from}"))?;
    let dump = source
        .dump()
        .with_context(|| format!("无法读出源数据库 {from}"))?;
    let mut target = store::open(&to).with_context(|| format!("无法打开目标数据库 {to}"))?;
    target
        .restore(&dump)
        .with_context(|| format!("无法写入目标数据库 {to}"))?;
    // Read the copy back through the target's own code and compare everything.
    let copied = target
        .dump()
        .with_context(|| format!("无法读回目标数据库 {to}"))?;
    let (want, got) = (dump.digest()?, copied.digest()?);
    if dump.counts() != copied.counts() || want != got {
        bail!(
            "复制后核对不一致：源 {:?} 校验和 {want}，目标 {:?} 校验和 {got}。目标库已写入，请删除后重试",
            dump.counts(),
            copied.counts()
        );
    }
    if ctx.json {
        ctx.print_json(&json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "counts": dump.counts().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "next_serial": dump.next_serial,
            "next_bundle_sequence": dump.next_bundle_sequence,
            "sha256": want,
        }))?;
    } else {
        println!("已复制 {from} → {to}");
        for (table, n) in dump.counts() {
            println!("  {table:<20} {n}");
        }
        println!(
            "  下一个通行证序号 {}，下一个信任包序号 {}",
            dump.next_serial, dump.next_bundle_sequence
        );
        println!("  内容校验和一致 (SHA-256) {want}");
    }
    Ok(ExitCode::SUCCESS)
}
