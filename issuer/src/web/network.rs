//! The city's view of the checkpoint network: uploading the checkpoints' signed scan logs
//! (`POST /scans`, as `issuer scans import`), the registered devices with the gaps in their
//! logs, and the findings with their evidence (`GET /findings`, as `issuer findings`), each
//! revocable in one step. City reviewers only: the findings name plates and passes.

use std::sync::Arc;

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use tower_sessions::Session;

use super::i18n::t;
use super::pages::layout;
use super::session::{check_csrf, csrf_token, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::{Role, User};
use crate::findings::{self, Finding};
use crate::scans::{Device, DeviceSummary, ScanFilter, ScansImported};
use crate::store::{Store, StoreError};
use crate::validate::format_cst;
use checkpass::logfile::{open_log, MAX_LOG_FILE_BYTES};

/// The most one upload carries: a few weeks of several devices.
pub const MAX_SCANS_UPLOAD_BYTES: usize = MAX_LOG_FILE_BYTES + 1024 * 1024;
/// Speed bound and grace period of the web view: the command line's defaults.
const SPEED_KMH: f64 = findings::travel::DEFAULT_SPEED_KMH;
const GRACE_SECS: i64 = 2 * 3600;

fn city(user: &User) -> Result<(), WebError> {
    if user.role == Role::City {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "只有市级审核账号可以查看检查站记录与发现".into(),
        ))
    }
}

/// `?simulated=1&since=2022-03-12 08:00`.
#[derive(Debug, Default, Deserialize)]
pub struct FindingsQuery {
    simulated: Option<String>,
    since: Option<String>,
}

impl FindingsQuery {
    fn filter(&self) -> Result<ScanFilter, WebError> {
        let since = match self
            .since
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(t) => Some(checkpass::time::parse_cst(t).ok_or_else(|| {
                WebError::BadRequest(format!("时间“{t}”无法识别，应为“2022-03-12 08:00”的形式"))
            })?),
        };
        Ok(ScanFilter {
            since,
            include_simulated: self.simulated.as_deref() == Some("1"),
        })
    }
}

fn compute(s: &dyn Store, filter: &ScanFilter) -> Result<Vec<Finding>, StoreError> {
    findings::compute(s, filter, crate::clock::now(), GRACE_SECS, SPEED_KMH)
}

fn finding_view(f: &Finding, csrf: &str, simulated: bool) -> Markup {
    let (zh, en) = f.kind.title();
    html! {
        section.finding id=(f.id) {
            h3 { (t(zh, en)) " · " (f.number.as_deref().unwrap_or(&f.serial)) }
            p {
                (t("车牌", "Plate")) " " (f.plate.as_deref().unwrap_or("-")) " · "
                @if let Some(no) = &f.app_no {
                    a href={ "/applications/" (no) } { (no) }
                } @else {
                    (t("本市未签发", "not issued here"))
                }
            }
            p { (match super::i18n::lang() { super::i18n::Lang::Zh => &f.detail, super::i18n::Lang::En => &f.detail_en }) }
            table {
                tr {
                    th { (t("时间", "Time")) } th { (t("检查站", "Checkpoint")) }
                    th { (t("设备 / 条", "Device / entry")) } th { (t("结论", "Verdict")) }
                    th { (t("原因", "Reasons")) }
                }
                @for e in &f.evidence {
                    tr {
                        td { (format_cst(e.at)) @if e.simulated { " " (t("（模拟时间）", "(simulated)")) } }
                        td { (e.checkpoint) }
                        td { (e.device) " / " (e.entry) }
                        td { (e.verdict.as_deref().unwrap_or(e.kind)) }
                        td { (e.reasons) @if let Some(n) = &e.note { " " (n) } }
                    }
                }
            }
            form method="post" action="/findings/revoke" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="id" value=(f.id);
                @if simulated { input type="hidden" name="simulated" value="1"; }
                label { (t("撤销理由（可不填，默认为此发现）", "Reason (optional: the finding by default)")) " "
                    input name="reason" maxlength="200"; }
                button { (t("撤销此通行证", "Revoke this pass")) }
            }
        }
    }
}

/// `GET /findings`.
pub async fn findings_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Query(query): Query<FindingsQuery>,
) -> Result<Html<String>, WebError> {
    city(&user)?;
    let filter = query.filter()?;
    let found = state.store(move |s| Ok(compute(s, &filter)?)).await?;
    let csrf = csrf_token(&session).await?;
    let simulated = filter.include_simulated;
    let body = html! {
        form method="get" action="/findings" {
            label { input type="checkbox" name="simulated" value="1" checked[simulated];
                " " (t("也计入模拟时间下的扫描（测试与演示）", "Include scans made under a simulated clock (tests and demos)")) }
            " "
            label { (t("自", "Since")) " " input name="since" placeholder="2022-03-12 08:00"
                value=(query.since.as_deref().unwrap_or("")); }
            " " button { (t("刷新", "Refresh")) }
        }
        p { (t("共 ", "")) (found.len()) (t(" 项发现。", " findings.")) " "
            a href="/scans" { (t("导入检查站记录", "Import checkpoint logs")) } }
        @for f in &found { (finding_view(f, &csrf, simulated)) }
    };
    Ok(Html(
        layout(
            t("检查站记录的发现", "Findings"),
            Some((&user, &csrf)),
            body,
        )
        .into_string(),
    ))
}

/// The revocation form of one finding.
#[derive(Debug, Deserialize)]
pub struct RevokeFinding {
    csrf: Option<String>,
    id: Option<String>,
    reason: Option<String>,
    simulated: Option<String>,
}

/// `POST /findings/revoke`: revokes the pass a finding names, with the finding as its reason
/// unless the reviewer words one. The finding is worked out again: only a current one counts.
pub async fn revoke_finding(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<RevokeFinding>,
) -> Result<Response, WebError> {
    check_csrf(&session, form.csrf.as_deref()).await?;
    city(&user)?;
    let id = form
        .id
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .ok_or_else(|| WebError::BadRequest("缺少发现编号".into()))?;
    let reason = form
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(WebError::BadRequest("理由不超过 200 字".into()));
    }
    let filter = ScanFilter {
        since: None,
        include_simulated: form.simulated.as_deref() == Some("1"),
    };
    let actor = user.name.clone();
    let (finding, serial) = state
        .store(move |s| {
            let found = compute(s, &filter)?;
            let f = found
                .into_iter()
                .find(|f| f.id == id)
                .ok_or_else(|| WebError::NotFound(format!("找不到发现 {id}")))?;
            let serial: checkpass::pass::Serial = f
                .serial
                .parse()
                .map_err(|_| WebError::BadRequest(format!("发现 {id} 的编号无效")))?;
            let reason = reason.unwrap_or_else(|| f.revoke_reason());
            s.revoke(serial, &reason, &actor, crate::clock::now())?;
            Ok((f, serial))
        })
        .await?;
    let csrf = csrf_token(&session).await?;
    let body = html! {
        p.ok { (t("已撤销通行证 ", "Revoked pass ")) (finding.number.as_deref().unwrap_or(&finding.serial))
            " (" (serial) ")" (t("。请导出新的信任包分发给检查站。", ". Export a new trust bundle for the checkpoints.")) }
        p { a href="/findings" { (t("返回发现列表", "Back to the findings")) } }
    };
    Ok(
        Html(layout(t("已撤销", "Revoked"), Some((&user, &csrf)), body).into_string())
            .into_response(),
    )
}

fn devices_view(devices: &[DeviceSummary]) -> Markup {
    html! {
        h3 { (t("已登记的检查站设备", "Registered checkpoint devices")) }
        table {
            tr { th { (t("密钥编号", "Key id")) } th { (t("说明", "Label")) } th { (t("已导入", "Imported")) }
                th { (t("最新", "Newest")) } th { (t("缺少", "Missing")) } }
            @for d in devices {
                tr {
                    td { (d.device.kid) } td { (d.device.label) } td { (d.entries) }
                    td { @if let (Some(id), Some(at)) = (d.last_id, d.last_at) { (id) " · " (format_cst(at)) } }
                    td.error { (d.missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("、")) }
                }
            }
        }
    }
}

fn upload_form(csrf: &str) -> Markup {
    html! {
        form method="post" action="/scans" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("扫描记录文件（verifier log export 或网页版导出，可多选）", "Scan-log files (verifier log export or the web app's export; several at once)"))
                " " input type="file" name="file" multiple required; }
            label { (t("首次导入的设备：民警在设备上核对过的密钥编号（可多个，用空格分隔）", "New devices: key ids as read on the devices (space-separated)"))
                " " input name="accept" autocomplete="off"; }
            label { (t("新设备说明", "Label for new devices")) " " input name="label" maxlength="100"; }
            button { (t("上传并导入", "Upload and import")) }
        }
    }
}

/// `GET /scans`.
pub async fn scans_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    city(&user)?;
    let devices = state.store(|s| Ok(s.devices()?)).await?;
    let csrf = csrf_token(&session).await?;
    let body = html! { (upload_form(&csrf)) (devices_view(&devices)) };
    Ok(Html(
        layout(
            t("导入检查站记录", "Import checkpoint logs"),
            Some((&user, &csrf)),
            body,
        )
        .into_string(),
    ))
}

/// `POST /scans` (multipart: `csrf`, `file`…, `accept`, `label`): each file on its own, as
/// the command line does; the page lists what each added, its gaps, or why it was refused.
pub async fn upload_scans(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    mut form: Multipart,
) -> Result<Response, WebError> {
    city(&user)?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("上传的表单无法读取：{}", e.body_text()))
    };
    let (mut csrf, mut accept, mut label) = (None, String::new(), String::new());
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.map_err(bad)?),
            Some("accept") => accept = field.text().await.map_err(bad)?,
            Some("label") => label = field.text().await.map_err(bad)?,
            Some("file") => {
                let name = field.file_name().unwrap_or("上传的文件").to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    files.push((name, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    check_csrf(&session, csrf.as_deref()).await?;
    if files.is_empty() {
        return Err(WebError::BadRequest("请选择要上传的扫描记录文件".into()));
    }
    let accept: Vec<String> = accept
        .split([' ', ',', '，', '\n'])
        .map(|k| k.trim().to_lowercase())
        .filter(|k| !k.is_empty())
        .collect();
    let label = label.trim().chars().take(100).collect::<String>();
    let actor = user.name.clone();
    let (results, devices) = state
        .store(move |s| {
            let mut results: Vec<(String, Result<ScansImported, String>)> = Vec::new();
            for (name, bytes) in files {
                let outcome = (|| -> Result<ScansImported, String> {
                    let log = open_log(&bytes).map_err(|e| e.to_string())?;
                    let now = crate::clock::now();
                    let kid = log.device.kid().to_hex();
                    if accept.contains(&kid) {
                        let label = if label.is_empty() {
                            format!("网页导入 {name}")
                        } else {
                            label.clone()
                        };
                        s.add_device(&Device::new(&log.device, &label, &actor, now), &actor, now)
                            .map_err(|e| e.to_string())?;
                    }
                    s.import_scans(&log, &format!("网页上传 {name}"), &actor, now)
                        .map_err(|e| e.to_string())
                })();
                results.push((name, outcome));
            }
            Ok((results, s.devices()?))
        })
        .await?;
    let refused = results.iter().filter(|(_, r)| r.is_err()).count();
    let csrf = csrf_token(&session).await?;
    let body = html! {
        table {
            tr { th { (t("文件", "File")) } th { (t("结果", "Outcome")) } }
            @for (name, r) in &results {
                tr {
                    td { (name) }
                    @match r {
                        Ok(i) => td {
                            (t("设备 ", "Device ")) (i.device) (t("：新增 ", ": added ")) (i.added)
                            (t(" 条，已导入过 ", ", already imported ")) (i.already) (t(" 条", ""))
                            @if !i.missing.is_empty() {
                                span.error { (t("；仍缺 ", "; still missing ")) (i.missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("、")) }
                            }
                        },
                        Err(e) => td.error { (e) },
                    }
                }
            }
        }
        p { a href="/findings" { (t("查看发现", "See the findings")) } }
        (upload_form(&csrf))
        (devices_view(&devices))
    };
    let status = if refused == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        Html(layout(t("导入结果", "Import result"), Some((&user, &csrf)), body).into_string()),
    )
        .into_response())
}
