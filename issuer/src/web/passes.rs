//! Issuing from the web (a city reviewer, with the key the service was started with) and the
//! pass files to download (to whoever may see the application; rendered again from the store
//! if this machine lacks them).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::session::CurrentUser;
use super::{AppState, WebError};
use crate::accounts::{Role, User};
use crate::domain::Application;
use crate::issuing;
use crate::render::Formats;
use crate::store::Lease;
use crate::workflow::Status;

/// Issues the pass of an approved application as `user` (a city reviewer).
pub async fn issue(
    state: &AppState,
    user: &User,
    app: Application,
) -> Result<Application, WebError> {
    if user.role != Role::City {
        return Err(WebError::Forbidden("只有市级审核账号可以签发".into()));
    }
    if app.status != Status::Approved {
        return Err(WebError::Conflict(format!(
            "申请 {} 当前为“{}”，只有“市级已批准”的申请可以签发",
            app.data.app_no,
            app.status.label_zh()
        )));
    }
    if !state.signer.enabled() {
        return Err(WebError::Conflict(
            "网页服务启动时未解锁签发密钥，不能在网页签发：请在命令行运行 issuer issue".into(),
        ));
    }
    let slot = state.signer.clone();
    let keys_dir = state.keys_dir.clone();
    let passes_dir = state.passes_dir.clone();
    let actor = user.name.clone();
    let app_no = app.data.app_no.clone();
    state
        .store(move |s| {
            let now = crate::clock::now();
            if let Some((_, why)) = s
                .not_issuable(now)?
                .into_iter()
                .find(|(no, _)| *no == app_no)
            {
                return Err(WebError::Conflict(format!(
                    "申请 {app_no} 现在不能签发：{}",
                    match why {
                        crate::domain::NotIssuable::TestLater => "核酸采样时间还未到",
                        crate::domain::NotIssuable::WindowOver => "拟通行时间已结束",
                    }
                )));
            }
            let active = s
                .keys()?
                .into_iter()
                .find(|k| k.role == "signing" && k.status == "active");
            let Some(active) = active else {
                return Err(WebError::Conflict(
                    "网页签发已停止：签发密钥已宣告泄露，请管理员轮换密钥（/admin/keys）后再签发"
                        .into(),
                ));
            };
            // The active key, even when it was changed on the command line or in another
            // process since this one started.
            let Some(signer) = slot.follow(s, &keys_dir, &active.kid) else {
                return Err(WebError::Conflict(format!(
                    "签发密钥已在命令行或另一网页服务进程中更换为 {}，本服务无法用启动时的口令解锁它：请重启网页服务",
                    active.kid
                )));
            };
            let scope = active.scope().map_err(|e| {
                WebError::Internal(format!("数据库中签发密钥 {} 的范围无效：{e}", active.kid))
            })?;
            std::fs::create_dir_all(&passes_dir).map_err(|e| {
                WebError::Internal(format!("无法创建 {}：{e}", passes_dir.display()))
            })?;
            let issuer = s.issuer_id()?;
            let issuer_name = s.issuer_name()?;
            let checkpoints = s.checkpoints()?;
            let policy = s.policy()?;
            let lease = Lease::for_this_process(Lease::DEFAULT_SECS);
            let job = issuing::Job {
                key: &signer.key,
                kid: &signer.kid,
                scope: &scope,
                issuer: &issuer,
                issuer_name: &issuer_name,
                checkpoints: &checkpoints,
                policy: &policy,
                passes_dir: &passes_dir,
                formats: Formats::all(),
                actor: &actor,
                batch: 1,
                workers: 1,
                lease: &lease,
            };
            issuing::issue_one(s, &job, &app_no).map_err(|e| {
                WebError::Conflict(format!(
                    "签发失败：{}",
                    checkpass::describe_error(e.as_ref())
                ))
            })?;
            Ok(s.get(&app_no)?)
        })
        .await
}

/// Revokes the pass of an issued application as `user` (a city reviewer), with a reason; the
/// next trust bundle carries it to the checkpoints.
pub async fn revoke(
    state: &AppState,
    user: &User,
    app: Application,
    reason: Option<String>,
) -> Result<Application, WebError> {
    if user.role != Role::City {
        return Err(WebError::Forbidden("只有市级审核账号可以撤销通行证".into()));
    }
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| WebError::BadRequest("撤销须填写理由".into()))?;
    if reason.chars().count() > 200 {
        return Err(WebError::BadRequest("理由不超过 200 字".into()));
    }
    let serial = app
        .pass
        .as_ref()
        .map(|p| p.serial)
        .ok_or_else(|| WebError::Conflict(format!("申请 {} 没有通行证", app.data.app_no)))?;
    let actor = user.name.clone();
    let app_no = app.data.app_no.clone();
    state
        .store(move |s| {
            s.revoke(serial, &reason, &actor, crate::clock::now())?;
            Ok(s.get(&app_no)?)
        })
        .await
}

/// The files a pass may be downloaded as, and their types.
const FILES: [(&str, &str); 5] = [
    ("pass.pdf", "application/pdf"),
    ("pass.png", "image/png"),
    ("qr.png", "image/png"),
    ("qr.svg", "image/svg+xml"),
    ("qr.txt", "text/plain; charset=utf-8"),
];

/// `GET /applications/{no}/files/{name}`: sent as an attachment named after the serial
/// (`00000-00001-8-qr.png`), so a phone's browser saves it to show at the checkpoint.
pub async fn download(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((app_no, name)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let Some((file, content_type)) = FILES.iter().find(|(f, _)| *f == name) else {
        return Err(WebError::NotFound(format!("没有文件 {name}")));
    };
    let passes_dir = state.passes_dir.clone();
    let (bytes, serial) = state
        .store(move |s| {
            let app = s.get(&app_no)?;
            if !user.may_see(&app) {
                return Err(WebError::NotFound(format!("找不到申请 {app_no}")));
            }
            let pass = match (&app.pass, app.status) {
                (Some(p), Status::Issued) => p.clone(),
                (_, Status::Revoked) => {
                    return Err(WebError::Conflict("该通行证已撤销，不再提供下载".into()))
                }
                _ => return Err(WebError::NotFound("该申请尚未签发通行证".into())),
            };
            let issuer_name = s.issuer_name()?;
            let sheet = issuing::sheet_data(&app, &pass, &s.checkpoints()?, &issuer_name);
            std::fs::create_dir_all(&passes_dir).map_err(|e| WebError::Internal(e.to_string()))?;
            // Derived data: written again here if this machine lacks it.
            let dir = issuing::write_pass_dir(&passes_dir, &sheet, pass.serial, Formats::all())
                .map_err(|e| WebError::Internal(checkpass::describe_error(e.as_ref())))?;
            let bytes = std::fs::read(dir.join(file))
                .map_err(|e| WebError::Internal(format!("无法读取 {file}：{e}")))?;
            Ok((bytes, pass.serial.to_string()))
        })
        .await?;
    let disposition = format!("attachment; filename=\"{serial}-{file}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
