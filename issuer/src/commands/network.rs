//! The checkpoint network at the city: registering devices, importing their signed scan logs,
//! and listing the findings from the merged log.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::logfile::{open_log, ScanLogFile, MAX_LOG_FILE_BYTES};
use checkpass::text::terminal_safe as safe;
use serde_json::json;

use crate::cli::{DeviceAddArgs, FindingsArgs, ScansImportArgs};
use issuer::findings::{self, Finding};
use issuer::scans::{device_key_from_file, Device, ScanFilter};
use issuer::store::StoreError;
use issuer::validate::format_cst;

use super::{parse_since, Ctx, DataDir};

/// A file's bytes, refusing one larger than `limit` before reading it all.
fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("无法打开 {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("无法读取 {}", path.display()))?;
    if bytes.len() > limit {
        bail!("{} 过大：超过 {} 字节", path.display(), limit);
    }
    Ok(bytes)
}

pub(super) fn devices_add(data: &DataDir, ctx: &Ctx, args: DeviceAddArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let bytes = read_limited(&args.file, 64 * 1024)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("{} 不是文本文件（应为设备公钥文件）", args.file.display()))?;
    let key = device_key_from_file(&text).map_err(|e| anyhow!("{}：{e}", args.file.display()))?;
    let now = issuer::clock::now();
    let device = Device::new(&key, &args.label, &actor, now);
    let mut store = data.open()?;
    let added = store.add_device(&device, &actor, now)?;
    if ctx.json {
        ctx.print_json(&json!({ "kid": device.kid, "added": added }))?;
    } else if added {
        println!(
            "已登记检查站设备 {}（{}）：请核对该编号与设备上 verifier log device 显示的一致",
            device.kid,
            safe(&device.label)
        );
    } else {
        println!("设备 {} 已登记过，未做更改", device.kid);
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn devices_list(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    let devices = store.devices()?;
    if ctx.json {
        ctx.print_json(&devices)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("已登记设备 {} 台：", devices.len());
    for d in &devices {
        let last = match (d.last_id, d.last_at) {
            (Some(id), Some(at)) => format!("最新第 {id} 条，{}", format_cst(at)),
            _ => "尚无记录".into(),
        };
        let missing = if d.missing.is_empty() {
            String::new()
        } else {
            let gaps: Vec<String> = d.missing.iter().map(ToString::to_string).collect();
            format!("；缺少 {}", gaps.join("、"))
        };
        println!(
            "  {}  {}  已导入 {} 条，{last}{missing}",
            d.device.kid,
            safe(&d.device.label),
            d.entries
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One file, checked: its signature and chain by [`open_log`].
fn read_log(path: &Path) -> Result<ScanLogFile> {
    let bytes = read_limited(path, MAX_LOG_FILE_BYTES)?;
    open_log(&bytes).map_err(|e| anyhow!("{}：{e}", path.display()))
}

pub(super) fn scans_import(data: &DataDir, ctx: &Ctx, args: ScansImportArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let accept: Vec<String> = args
        .accept
        .iter()
        .map(|k| k.trim().to_lowercase())
        .collect();
    let mut results = Vec::new();
    let mut failed = 0;
    for path in &args.files {
        let name = path.display().to_string();
        let outcome = (|| -> Result<_> {
            let log = read_log(path)?;
            let now = issuer::clock::now();
            let kid = log.device.kid().to_hex();
            let mut registered_now = false;
            if accept.contains(&kid) {
                let label = if args.label.trim().is_empty() {
                    format!("首次导入时登记（{}）", path.display())
                } else {
                    args.label.clone()
                };
                registered_now = store.add_device(
                    &Device::new(&log.device, &label, &actor, now),
                    &actor,
                    now,
                )?;
            }
            let simulated = log.entries.iter().filter(|e| e.simulated).count();
            match store.import_scans(&log, &name, &actor, now) {
                Ok(imported) => Ok((imported, simulated, registered_now)),
                Err(StoreError::NoSuchDevice(kid)) => Err(anyhow!(
                    "{name}：设备 {kid} 尚未登记。请到该检查站核对设备上显示的密钥编号（verifier log device），\
                     一致后用 issuer devices add 公钥文件 登记，或重新导入并加 --accept {kid}"
                )),
                Err(e) => Err(anyhow!("{name}：{e}")),
            }
        })();
        match outcome {
            Ok((imported, simulated, registered_now)) => {
                if !ctx.json {
                    if registered_now {
                        println!("已登记设备 {}", imported.device);
                    }
                    print!(
                        "{}：设备 {}，新增 {} 条，已导入过 {} 条",
                        safe(&name),
                        imported.device,
                        imported.added,
                        imported.already
                    );
                    if simulated > 0 {
                        print!("（其中 {simulated} 条为模拟时间，发现中默认不计）");
                    }
                    println!();
                    if !imported.missing.is_empty() {
                        let gaps: Vec<String> =
                            imported.missing.iter().map(ToString::to_string).collect();
                        println!(
                            "  注意：该设备的记录仍缺 {}，请导入其间的记录文件",
                            gaps.join("、")
                        );
                    }
                }
                results.push(json!({
                    "file": name,
                    "device": imported.device,
                    "added": imported.added,
                    "already": imported.already,
                    "simulated": simulated,
                    "missing": imported.missing,
                }));
            }
            Err(e) => {
                failed += 1;
                eprintln!("错误：{e:#}");
                results.push(json!({ "file": name, "error": format!("{e:#}") }));
            }
        }
    }
    if ctx.json {
        ctx.print_json(&results)?;
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The findings as the options ask.
pub(super) fn compute(
    store: &dyn issuer::store::Store,
    since: Option<i64>,
    include_simulated: bool,
    grace_hours: u32,
    speed_kmh: u32,
) -> Result<Vec<Finding>> {
    let filter = ScanFilter {
        since,
        include_simulated,
    };
    Ok(findings::compute(
        store,
        &filter,
        issuer::clock::now(),
        i64::from(grace_hours) * 3600,
        f64::from(speed_kmh),
    )?)
}

pub(super) fn findings(data: &DataDir, ctx: &Ctx, args: FindingsArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let since = parse_since(args.since.as_deref())?;
    let found = compute(
        &*store,
        since,
        args.include_simulated,
        args.grace_hours,
        args.speed_kmh,
    )?;
    if ctx.json {
        ctx.print_json(&found)?;
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        println!("没有发现问题");
    }
    for f in &found {
        let (zh, en) = f.kind.title();
        println!(
            "[{}] {zh} ({en})  通行证 {}  {}  申请 {}",
            f.id,
            f.number.as_deref().unwrap_or(&f.serial),
            safe(f.plate.as_deref().unwrap_or("-")),
            f.app_no.as_deref().unwrap_or("-"),
        );
        println!("  {}", safe(&f.detail));
        for e in &f.evidence {
            println!(
                "    {}  {}  设备 {} 第 {} 条  {}  {}{}",
                format_cst(e.at),
                e.checkpoint,
                e.device,
                e.entry,
                e.verdict.as_deref().unwrap_or(e.kind),
                e.reasons,
                e.note
                    .as_deref()
                    .map(|n| format!("  {}", safe(n)))
                    .unwrap_or_default(),
            );
        }
        if f.kind.suggests_revoking() {
            println!(
                "  撤销：issuer revoke --finding {}{}",
                f.id,
                if e_simulated(f) {
                    " --include-simulated"
                } else {
                    ""
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn e_simulated(f: &Finding) -> bool {
    f.evidence.iter().any(|e| e.simulated)
}
