//! Looking at applications (list, show, audit trail) and moving them through the workflow: the
//! district forwards, the city approves or rejects.

use std::process::ExitCode;

use anyhow::{bail, Result};
use checkpass::text::terminal_safe as safe;
use serde::Serialize;

use crate::cli::{AuditArgs, BulkArgs, ListArgs, RejectArgs, ShowArgs};
use issuer::domain::{Application, AuditFilter, ListFilter};
use issuer::issuing;
use issuer::validate::{self, format_cst};
use issuer::workflow::{self, Action, Status};

use super::{Ctx, DataDir};

/// An application as listed, with display times.
#[derive(Serialize)]
pub(super) struct Listed<'a> {
    #[serde(flatten)]
    app: &'a Application,
    status_zh: &'static str,
    start: String,
    end: String,
}

pub(super) fn listed(app: &Application) -> Listed<'_> {
    Listed {
        app,
        status_zh: app.status.label_zh(),
        start: format_cst(app.data.start_at),
        end: format_cst(app.data.end_at),
    }
}

pub(super) fn list(data: &DataDir, ctx: &Ctx, args: ListArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let filter = ListFilter {
        status: args.status,
        district: args.district,
        plate: args.plate.as_deref().map(validate::normalize_plate),
        limit: None,
    };
    let apps = store.list(&filter)?;
    if ctx.json {
        ctx.print_json(&apps.iter().map(listed).collect::<Vec<_>>())?;
    } else {
        for a in &apps {
            let serial = a
                .pass
                .as_ref()
                .map(|p| p.serial.to_string())
                .unwrap_or_else(|| "-".into());
            // Everything from a file or a person goes through `safe`: a name in a spreadsheet
            // must not be able to send escape sequences to the operator's terminal.
            println!(
                "{}  {}  {}  {}  {} 至 {}  {}  {}",
                safe(&a.data.app_no),
                a.status.label_zh(),
                a.data.district,
                safe(&a.data.plate),
                format_cst(a.data.start_at),
                format_cst(a.data.end_at),
                safe(&a.data.route.join("→")),
                serial
            );
        }
        println!("共 {} 份申请", apps.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn show(data: &DataDir, ctx: &Ctx, args: ShowArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let app = store.find(&args.id)?;
    if ctx.json {
        ctx.print_json(&listed(&app))?;
        return Ok(ExitCode::SUCCESS);
    }
    let d = &app.data;
    let opt = |v: &Option<String>, at: Option<i64>| match (v, at) {
        (Some(v), Some(at)) => format!("{}，{}", safe(v), format_cst(at)),
        _ => "-".into(),
    };
    println!("申请编号   {}", safe(&d.app_no));
    println!("状态       {}（{}）", app.status.label_zh(), app.status);
    println!(
        "申请人类型 {}    所属区市 {}",
        safe(&d.applicant_type),
        d.district
    );
    println!(
        "车牌号     {}{}",
        safe(&d.plate),
        d.trailer
            .as_deref()
            .map(|t| format!("  挂车 {}", safe(t)))
            .unwrap_or_default()
    );
    println!(
        "驾驶人员   {}  {}  {}  随车 {} 人",
        safe(&d.driver_name),
        safe(&d.driver_id),
        safe(&d.mobile),
        d.occupants
    );
    println!("货物       {}：{}", d.category.label_zh(), safe(&d.cargo));
    println!("起运/运送  {} → {}", safe(&d.origin), safe(&d.destination));
    println!(
        "通行时间   {} 至 {}",
        format_cst(d.start_at),
        format_cst(d.end_at)
    );
    println!("路线       {}", safe(&d.route.join("→")));
    println!(
        "核酸       {} 采样，{}",
        format_cst(d.test_sampled_at),
        safe(&d.test_result)
    );
    println!(
        "来源       {} 第{}行，{} 导入于 {}",
        safe(&app.source_file),
        d.row,
        safe(&app.imported_by),
        format_cst(app.imported_at)
    );
    println!("区市转报   {}", opt(&app.forwarded_by, app.forwarded_at));
    println!("市级审核   {}", opt(&app.decided_by, app.decided_at));
    if let Some(r) = &app.reject_reason {
        println!("驳回理由   {}", safe(r));
    }
    if let Some(p) = &app.pass {
        println!(
            "通行证     {}（流水号 {}，{}，密钥 {}，{} 签发于 {}）",
            checkpass::number::printed(app.data.district, p.serial),
            p.serial,
            p.state,
            p.kid,
            safe(&p.issued_by),
            format_cst(p.issued_at)
        );
        if let Some(at) = p.revoked_at {
            println!(
                "已撤销     {}，{}：{}",
                format_cst(at),
                safe(p.revoked_by.as_deref().unwrap_or("-")),
                safe(p.revoke_reason.as_deref().unwrap_or("-"))
            );
        }
        println!(
            "文件       {}",
            issuing::pass_dir(&data.passes(), p.serial).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn audit(data: &DataDir, ctx: &Ctx, args: AuditArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let filter = AuditFilter::from_text(
        args.actor.as_deref(),
        args.action.as_deref(),
        args.id.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let entries = store.audit_where(&filter)?;
    if ctx.json {
        ctx.print_json(&entries)?;
    } else {
        for e in &entries {
            let change = match (&e.from_status, &e.to_status) {
                (Some(f), Some(t)) => format!("{f} → {t}"),
                (None, Some(t)) => format!("→ {t}"),
                _ => String::new(),
            };
            println!(
                "#{}  {}  {}  {}  {}  {}  {}  {}",
                e.id,
                format_cst(e.at),
                safe(&e.actor),
                safe(&e.action),
                safe(e.app_no.as_deref().unwrap_or("-")),
                safe(e.serial.as_deref().unwrap_or("-")),
                safe(&change),
                safe(e.detail.as_deref().unwrap_or(""))
            );
        }
        println!("共 {} 条记录", entries.len());
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- workflow

#[derive(Serialize)]
struct Changed {
    app_no: String,
    status: Status,
}

fn apply(
    data: &DataDir,
    ctx: &Ctx,
    action: Action,
    ids: Vec<String>,
    reason: Option<&str>,
) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let t = issuer::clock::now();
    let changed: Vec<Changed> = store
        .transition(&ids, action, None, &actor, t, reason)?
        .into_iter()
        .map(|app| Changed {
            app_no: app.data.app_no,
            status: app.status,
        })
        .collect();
    if ctx.json {
        ctx.print_json(&changed)?;
    } else {
        for c in &changed {
            println!(
                "{} {}：{}",
                action.label_zh(),
                safe(&c.app_no),
                c.status.label_zh()
            );
        }
        println!("{}了 {} 份申请", action.label_zh(), changed.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn bulk(data: &DataDir, ctx: &Ctx, action: Action, args: BulkArgs) -> Result<ExitCode> {
    let ids = if args.all {
        let (from, _) = workflow::rule(action);
        let store = data.open()?;
        let mut ids = Vec::new();
        for status in from {
            ids.extend(store.app_nos_with_status(*status, args.district)?);
        }
        ids
    } else {
        args.ids
    };
    apply(data, ctx, action, ids, None)
}

pub(super) fn reject(data: &DataDir, ctx: &Ctx, args: RejectArgs) -> Result<ExitCode> {
    if args.reason.trim().is_empty() {
        bail!("驳回理由不能为空");
    }
    apply(
        data,
        ctx,
        Action::Reject,
        args.ids,
        Some(args.reason.trim()),
    )
}
