//! Issued passes: issuing (signing and writing the files), revoking, printing a batch and the SMS
//! outbox.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::keys::KeyRole;
use checkpass::pass::Serial;
use checkpass::text::terminal_safe as safe;
use serde::Serialize;
use serde_json::json;

use crate::cli::{FormatArg, IssueArgs, IssuedSelection, PrintArgs, RevokeArgs, SmsArgs};
use issuer::domain::{Application, ListFilter, NotIssuable, Revoked};
use issuer::issuing;
use issuer::keyring;
use issuer::render::Formats;
use issuer::store::{Lease, Store};
use issuer::workflow::{self, Action, Status};

use super::keys::{active_key, unlock};
use super::review::listed;
use super::{Ctx, DataDir, EXIT_SOME_REFUSED};

/// The issued, unrevoked passes `which` names, in serial order; a revoked or unissued one
/// named by id is an error.
fn issued_apps(store: &dyn Store, which: &IssuedSelection) -> Result<Vec<Application>> {
    let mut apps = if which.all {
        store.list(&ListFilter {
            status: Some(Status::Issued),
            district: which.district,
            plate: None,
            limit: None,
        })?
    } else {
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
        apps
    };
    apps.sort_by_key(|a| a.pass.as_ref().map(|p| p.serial));
    apps.dedup_by_key(|a| a.pass.as_ref().map(|p| p.serial));
    Ok(apps)
}

/// The pass sheets of `apps` (those with a pass).
fn sheets_of(store: &dyn Store, apps: &[Application]) -> Result<Vec<issuer::render::PassSheet>> {
    let checkpoints = store.checkpoints()?;
    let issuer_name = store.issuer_name()?;
    Ok(apps
        .iter()
        .filter_map(|app| {
            let pass = app.pass.as_ref()?;
            Some(issuing::sheet_data(app, pass, &checkpoints, &issuer_name))
        })
        .collect())
}

pub(super) fn print(data: &DataDir, ctx: &Ctx, args: PrintArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let apps = issued_apps(&*store, &args.which)?;
    if apps.is_empty() {
        bail!("没有可打印的通行证（已签发且未撤销）");
    }
    let sheets = sheets_of(&*store, &apps)?;
    let pdf = issuer::render::print_pdf(&sheets).context("生成打印文件失败")?;
    // Readable by the operator only: the sheets carry names and masked ID numbers.
    keyring::write_atomic(&args.out, &pdf, 0o600, true)?;
    if ctx.json {
        ctx.print_json(&json!({
            "out": args.out,
            "pages": sheets.len(),
            "serials": sheets.iter().map(|s| &s.serial).collect::<Vec<_>>(),
        }))?;
    } else {
        println!(
            "已将 {} 张通行证写入 {}（每页一张，A5）",
            sheets.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Header of the SMS outbox: the two columns SMS gateways' batch upload takes first, then
/// what the operator needs to trace a message back.
const SMS_HEADER: [&str; 4] = ["手机号码", "短信内容", "申请编号", "通行证编号"];

/// The SMS outbox file: a byte-order mark (Excel, and the gateways' Excel templates, read it
/// right), the header, and a row per message. The gateway's operators open it in Excel, so no
/// cell may run as a formula: every cell goes through [`checkpass::text::csv_safe`].
fn outbox_csv(rows: &[[&str; 4]]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(SMS_HEADER)?;
    for row in rows {
        w.write_record(
            row.map(checkpass::text::csv_safe)
                .iter()
                .map(|c| c.as_bytes()),
        )?;
    }
    w.into_inner().map_err(|e| anyhow!("{e}"))
}

pub(super) fn sms_outbox(data: &DataDir, ctx: &Ctx, args: SmsArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let since = super::parse_since(args.since.as_deref())?;
    let chosen = args.which.all || !args.which.ids.is_empty();
    let apps: Vec<Application> = if chosen || !args.rejected {
        issued_apps(&*store, &args.which)?
            .into_iter()
            .filter(|a| match (since, &a.pass) {
                (Some(t), Some(p)) => p.issued_at >= t,
                _ => true,
            })
            .collect()
    } else {
        Vec::new()
    };
    let sheets = sheets_of(&*store, &apps)?;
    // Rows: phone, text, application number, serial (empty for a rejection).
    let mut rows: Vec<[String; 4]> = apps
        .iter()
        .zip(&sheets)
        .map(|(app, sheet)| {
            [
                app.data.mobile.clone(),
                issuer::render::sms_text(sheet),
                app.data.app_no.clone(),
                sheet.serial.clone(),
            ]
        })
        .collect();
    let issued = rows.len();
    if args.rejected {
        let issuer_name = store.issuer_name()?;
        let rejected = store.list(&ListFilter {
            status: Some(Status::Rejected),
            district: args.which.district,
            plate: None,
            limit: None,
        })?;
        rows.extend(
            rejected
                .iter()
                .filter(|a| since.is_none_or(|t| a.decided_at.is_some_and(|d| d >= t)))
                .map(|a| {
                    let d = &a.data;
                    [
                        d.mobile.clone(),
                        issuer::render::rejection_text(
                            &issuer_name,
                            &d.driver_name,
                            &d.plate,
                            &d.app_no,
                            a.reject_reason.as_deref().unwrap_or("未说明"),
                        ),
                        d.app_no.clone(),
                        String::new(),
                    ]
                }),
        );
    }
    if rows.is_empty() {
        bail!("没有需要发送短信的通行证或驳回通知");
    }
    let refs: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()])
        .collect();
    let bytes = outbox_csv(&refs)?;
    // Owner-only: the outbox holds the drivers' phone numbers.
    keyring::write_atomic(&args.out, &bytes, 0o600, true)?;
    if ctx.json {
        ctx.print_json(&json!({
            "out": args.out,
            "messages": rows.len(),
            "issued": issued,
            "rejected": rows.len() - issued,
        }))?;
    } else {
        println!("已导出 {} 条短信到 {}", rows.len(), args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- issue

#[derive(Serialize)]
struct IssuedPass {
    app_no: String,
    serial: String,
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
    let record = active_key(&*store, KeyRole::Signing)?;
    let key = unlock(data, &record, KeyRole::Signing, &passphrase)?;
    let policy = store.policy()?;
    let job = issuing::Job {
        key: &key,
        kid: &record.kid,
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
                p.serial,
                p.dir.display()
            );
        }
        let new = out.iter().filter(|p| p.new).count();
        let rate = if secs > 0.0 { new as f64 / secs } else { 0.0 };
        println!("新签发 {new} 张，用时 {secs:.2} 秒（{rate:.0} 张/秒）");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn revoke(data: &DataDir, ctx: &Ctx, args: RevokeArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    if args.reason.trim().is_empty() {
        bail!("撤销理由不能为空");
    }
    let serial: Serial = args
        .serial
        .parse()
        .map_err(|e| anyhow!("通行证编号 {} 无效：{e}", args.serial))?;
    let mut store = data.open()?;
    match store.revoke(serial, args.reason.trim(), &actor, issuer::clock::now())? {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_starting_with_formula_characters_are_neutralised() {
        let bytes = outbox_csv(&[
            ["13551566498", "您的通行证…", "SQ1", "00000-00001-8"],
            ["+8613551566498", "=HYPERLINK(\"http://x\")", "-1", "@A1"],
        ])
        .unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[1], "13551566498,您的通行证…,SQ1,00000-00001-8");
        assert_eq!(
            lines[2],
            "'+8613551566498,\"'=HYPERLINK(\"\"http://x\"\")\",'-1,'@A1"
        );
    }
}
