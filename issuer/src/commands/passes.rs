//! Issued passes: issuing (signing and writing the files), revoking, printing a batch and the SMS
//! outbox.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::keys::KeyRole;
use checkpass::number::PassNumber;
use checkpass::pass::Serial;
use checkpass::text::terminal_safe as safe;
use serde::Serialize;
use serde_json::json;

use crate::cli::{FormatArg, IssueArgs, IssuedSelection, PrintArgs, RevokeArgs, SmsArgs};
use issuer::domain::{Application, NotIssuable, Revoked};
use issuer::issuing;
use issuer::keyring;
use issuer::outbox;
use issuer::render::Formats;
use issuer::store::{Lease, Store};
use issuer::workflow::{self, Action, Status};

use super::review::listed;
use super::{Ctx, DataDir, EXIT_SOME_REFUSED};

/// The issued, unrevoked passes `which` names, in serial order; a revoked or unissued one
/// named by id is an error.
fn issued_apps(
    store: &dyn Store,
    which: &IssuedSelection,
    since: Option<i64>,
) -> Result<Vec<Application>> {
    if which.all {
        let sel = outbox::Selection {
            district: which.district,
            since,
            ..outbox::Selection::default()
        };
        return Ok(outbox::issued(store, &sel)?);
    }
    let mut apps = Vec::new();
    for id in &which.ids {
        let app = store.find(id)?;
        match app.status {
            Status::Issued => apps.push(app),
            Status::Revoked => bail!("申请 {} 的通行证已撤销", app.data.app_no),
            other => bail!(
                "申请 {} 尚未签发通行证（当前状态：{}）",
                app.data.app_no,
                other.label_zh()
            ),
        }
    }
    apps.retain(|a| match (since, &a.pass) {
        (Some(t), Some(p)) => p.issued_at >= t,
        _ => true,
    });
    outbox::sort_by_serial(&mut apps);
    Ok(apps)
}

pub(super) fn print(data: &DataDir, ctx: &Ctx, args: PrintArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let apps = issued_apps(&*store, &args.which, None)?;
    let (pdf, serials) = outbox::print_batch(&*store, &apps)?;
    // Readable by the operator only: the sheets carry names and masked ID numbers.
    keyring::write_atomic(&args.out, &pdf, 0o600, true)?;
    if ctx.json {
        ctx.print_json(&json!({
            "out": args.out,
            "pages": serials.len(),
            "serials": serials.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }))?;
    } else {
        println!(
            "已将 {} 张通行证写入 {}（每页一张，A5）",
            serials.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn sms_outbox(data: &DataDir, ctx: &Ctx, args: SmsArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let since = super::parse_since(args.since.as_deref())?;
    let mut messages = if args.which.all || !args.which.ids.is_empty() {
        outbox::issued_messages(&*store, &issued_apps(&*store, &args.which, since)?)?
    } else {
        Vec::new()
    };
    if args.rejected {
        let sel = outbox::Selection {
            district: args.which.district,
            since,
            issued: false,
            rejected: true,
        };
        messages.extend(outbox::messages(&*store, &sel)?);
    }
    if messages.is_empty() {
        bail!("没有需要发送短信的通行证或驳回通知");
    }
    let bytes = outbox::csv(&messages)?;
    // Owner-only: the outbox holds the drivers' phone numbers.
    keyring::write_atomic(&args.out, &bytes, 0o600, true)?;
    let issued = messages
        .iter()
        .filter(|m| m.kind == outbox::Kind::Issued)
        .count();
    if ctx.json {
        ctx.print_json(&json!({
            "out": args.out,
            "messages": messages.len(),
            "issued": issued,
            "rejected": messages.len() - issued,
        }))?;
    } else {
        println!("已导出 {} 条短信到 {}", messages.len(), args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- issue

#[derive(Serialize)]
struct IssuedPass {
    app_no: String,
    serial: String,
    /// The national pass number printed on the sheet.
    number: String,
    dir: PathBuf,
    /// False when the application already had its pass (issuing is idempotent).
    new: bool,
    /// The pass was revoked: it is reported, but no file of it is written again.
    revoked: bool,
}

fn formats(args: &[FormatArg]) -> Formats {
    if args.contains(&FormatArg::All) {
        return Formats::all();
    }
    let png = args.contains(&FormatArg::Png);
    Formats {
        qr_png: png,
        qr_svg: args.contains(&FormatArg::Svg),
        sheet_pdf: args.contains(&FormatArg::Pdf),
        sheet_png: png,
    }
}

pub(super) fn issue(data: &DataDir, ctx: &Ctx, args: IssueArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let formats = formats(&args.formats);
    let passes_dir = data.passes();
    std::fs::create_dir_all(&passes_dir)
        .with_context(|| format!("无法创建 {}", passes_dir.display()))?;

    // Issuing processes on any number of machines share the work through the store: each
    // holds the reservations it takes under a lease, and takes over another's only when that
    // lease has run out. Temporary folders older than a lease are a crashed run's leftovers.
    let lease = Lease::for_this_process(i64::from(args.lease_secs));
    issuing::remove_stale_temps(
        &passes_dir,
        std::time::Duration::from_secs(u64::from(args.lease_secs) * 2),
    )?;

    let checkpoints = store.checkpoints()?;
    let issuer = store.issuer_id()?;
    let issuer_name = store.issuer_name()?;
    let started = Instant::now();
    let mut out = Vec::new();

    // A single application that already has its pass: give the same pass back.
    if let Some(id) = &args.id {
        let app = store.find(id)?;
        if let (Some(pass), Status::Issued | Status::Revoked) = (&app.pass, app.status) {
            let revoked = app.status == Status::Revoked;
            let dir = if revoked {
                // A revoked pass is never printed again.
                issuing::pass_dir(&passes_dir, pass.serial)
            } else {
                // Rewrite whatever of the requested files is missing (a deleted folder, or an
                // earlier run with fewer formats); the pass itself is never signed again.
                let sheet = issuing::sheet_data(&app, pass, &checkpoints, &issuer_name);
                let dir = issuing::write_pass_dir(&passes_dir, &sheet, pass.serial, formats)?;
                issuing::sync_dir(&passes_dir)?;
                dir
            };
            out.push(IssuedPass {
                app_no: app.data.app_no.clone(),
                serial: pass.serial.to_string(),
                number: checkpass::number::printed(app.data.district, pass.serial),
                dir,
                new: false,
                revoked,
            });
            return report_issued(ctx, &out, started);
        }
        if app.status != Status::Approved {
            workflow::transition(&app.data.app_no, app.status, Action::Issue)?;
        }
        if app.pass.is_none() {
            let now = issuer::clock::now();
            if let Some((_, why)) = store
                .not_issuable(now)?
                .into_iter()
                .find(|(no, _)| *no == app.data.app_no)
            {
                bail!("申请 {}：{}", app.data.app_no, not_issuable_text(why));
            }
        }
    }

    // Argon2 once per process.
    let passphrase = keyring::passphrase(false)?;
    let (record, key) =
        issuer::keys::unlock_active(&*store, &data.keys(), KeyRole::Signing, &passphrase)?;
    let policy = store.policy()?;
    let scope = record
        .scope()
        .with_context(|| format!("数据库中签发密钥 {} 的范围无效", record.kid))?;
    let job = issuing::Job {
        key: &key,
        kid: &record.kid,
        scope: &scope,
        issuer: &issuer,
        issuer_name: &issuer_name,
        checkpoints: &checkpoints,
        policy: &policy,
        passes_dir: &passes_dir,
        formats,
        actor: &actor,
        batch: args.batch.max(1),
        workers: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        lease: &lease,
    };
    let outcome = match &args.id {
        Some(id) => {
            let app_no = store.find(id)?.data.app_no;
            issuing::issue_one(&mut *store, &job, &app_no)?
        }
        None => issuing::issue_all(&mut *store, &job)?,
    };
    out.extend(outcome.done.into_iter().map(|d| IssuedPass {
        app_no: d.app_no,
        serial: d.serial.to_string(),
        number: d.number,
        dir: d.dir,
        new: true,
        revoked: false,
    }));
    let not_issued = store.not_issuable(issuer::clock::now())?;
    let held = store.held_elsewhere(&lease)?;
    if ctx.json {
        ctx.print_json(&json!({
            "passes": out,
            "failed": outcome.failed,
            "not_issued": not_issued.iter().map(|(no, why)| json!({"app_no": no, "why": why})).collect::<Vec<_>>(),
            "held_elsewhere": held.iter().map(|(no, secs)| json!({"app_no": no, "lease_secs_left": secs})).collect::<Vec<_>>(),
            "elapsed_secs": started.elapsed().as_secs_f64(),
            "timings": outcome.timings,
        }))?;
    } else {
        report_issued(ctx, &out, started)?;
        for f in &outcome.failed {
            println!("未签发 {}：{}", safe(&f.app_no), safe(&f.reason));
        }
        for (app_no, why) in &not_issued {
            println!("未签发 {}：{}", safe(app_no), not_issuable_text(*why));
        }
        for (app_no, secs) in &held {
            println!(
                "未签发 {}：另一签发进程已预留，正在签发；若该进程已中断，约 {secs} 秒后租约到期，\
                 届时再运行 issuer issue 即可接手",
                safe(app_no)
            );
        }
        if !outcome.failed.is_empty() {
            println!(
                "{} 份申请未能签发（其余已签发）。请更正后重新签发，或由市级驳回：\
                 issuer reject ID --reason ...",
                outcome.failed.len()
            );
        }
    }
    // Waiting for a test still to come, or for another issuer's lease, is not a failure: a
    // later run issues them.
    Ok(if outcome.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SOME_REFUSED)
    })
}

fn not_issuable_text(why: NotIssuable) -> &'static str {
    match why {
        NotIssuable::TestLater => {
            "核酸采样时间晚于当前时间，采样之后才能签发（届时再运行 issuer issue）"
        }
        NotIssuable::WindowOver => "拟通行时间已结束，不再签发",
    }
}

fn report_issued(ctx: &Ctx, out: &[IssuedPass], started: Instant) -> Result<ExitCode> {
    let secs = started.elapsed().as_secs_f64();
    if ctx.json {
        ctx.print_json(&json!({ "passes": out, "elapsed_secs": secs }))?;
    } else {
        for p in out {
            let what = if p.new {
                "已签发"
            } else if p.revoked {
                "已撤销（不再生成文件）"
            } else {
                "已签发过（同一张通行证）"
            };
            println!(
                "{what} {} → {}  {}",
                safe(&p.app_no),
                p.number,
                p.dir.display()
            );
        }
        let new = out.iter().filter(|p| p.new).count();
        let rate = if secs > 0.0 { new as f64 / secs } else { 0.0 };
        println!("新签发 {new} 张，用时 {secs:.2} 秒（{rate:.0} 张/秒）");
    }
    Ok(ExitCode::SUCCESS)
}

/// The serial `revoke` names: the serial's own form (`00000-00001-8`) or the national number
/// printed on the sheet (`371003-000001-6`), whose district must then be the pass's.
fn revoked_serial(store: &dyn issuer::store::Store, text: &str) -> Result<Serial> {
    if let Ok(serial) = text.parse::<Serial>() {
        return Ok(serial);
    }
    let number = text
        .parse::<PassNumber>()
        .map_err(|e| anyhow!("通行证编号 {text} 无效：{e}"))?;
    match store.get_by_serial(number.serial) {
        Ok(app) if app.data.district != number.district => bail!(
            "通行证编号 {text} 的区划代码与流水号 {} 的通行证（区划 {}）不符：请核对编号",
            number.serial,
            app.data.district
        ),
        // Never issued here: a forgery's number is revoked by its serial all the same.
        Ok(_) | Err(issuer::store::StoreError::NoSuchPass(_)) => Ok(number.serial),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn revoke(data: &DataDir, ctx: &Ctx, args: RevokeArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    // A finding names its pass and, unless the operator words it, the reason.
    let (number, reason) = match (&args.finding, &args.serial) {
        (Some(id), _) => {
            let found = super::network::compute(&*store, None, args.include_simulated, 2, 100)?;
            let f = found.iter().find(|f| f.id == id.trim()).ok_or_else(|| {
                anyhow!("找不到发现 {id}：请用 issuer findings 列出（模拟时间下的扫描须加 --include-simulated）")
            })?;
            let reason = args.reason.clone().unwrap_or_else(|| f.revoke_reason());
            (f.serial.clone(), reason)
        }
        (None, Some(serial)) => (serial.clone(), args.reason.clone().unwrap_or_default()),
        (None, None) => bail!("请给出通行证编号或 --finding"),
    };
    if reason.trim().is_empty() {
        bail!("撤销理由不能为空");
    }
    let serial = revoked_serial(&*store, &number)?;
    match store.revoke(serial, reason.trim(), &actor, issuer::clock::now())? {
        Revoked::Issued(app) if ctx.json => ctx.print_json(&listed(&app))?,
        Revoked::Issued(app) => println!(
            "已撤销通行证 {serial}（申请 {}）。请导出新的信任包分发给检查站：issuer bundle --out FILE",
            safe(&app.data.app_no)
        ),
        Revoked::Foreign if ctx.json => ctx.print_json(&serde_json::json!({
            "serial": serial.to_string(),
            "issued_here": false,
            "revoked": true,
        }))?,
        Revoked::Foreign => println!(
            "本系统从未签发通行证 {serial}（可能是伪造的）；已列入撤销名单，此编号今后不会签发。请导出新的信任包：issuer bundle --out FILE"
        ),
    }
    Ok(ExitCode::SUCCESS)
}
