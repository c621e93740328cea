//! The HTML pages: server-rendered, working without JavaScript, readable on a phone. maud
//! escapes every value it writes, so a driver name like `<script>` is shown as text.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use tower_sessions::Session;

use super::i18n::{self, t, Lang};
use super::session::{check_csrf, csrf_token, CsrfForm, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::{Role, User};
use crate::domain::{Application, ListFilter};
use crate::validate::format_cst;
use crate::workflow::{Action, Status};

/// The frame of every page.
pub fn layout(title: &str, user: Option<(&User, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(t("zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) (t(" · 通行证签发", " · Passes")) }
                style { (STYLE) }
            }
            body {
                header {
                    strong { (t("重点物资运输车辆通行证", "Priority freight vehicle passes")) }
                    nav {
                        a href="/districts" { (t("各区市联络人", "District liaisons")) }
                        @if let Some((u, csrf)) = user {
                            a href="/queue" { (t("工作台", "Work")) }
                            @if u.role == Role::Applicant { a href="/apply" { (t("在线申请", "Apply")) } }
                            @if u.role == Role::Admin {
                                a href="/admin/users" { (t("账号管理", "Accounts")) }
                                a href="/admin/keys" { (t("密钥", "Keys")) }
                                a href="/admin/registry" { (t("区划与检查站", "Registry")) }
                                a href="/admin/policy" { (t("核验策略", "Policy")) }
                                a href="/admin/bundle" { (t("信任包", "Trust bundle")) }
                                a href="/admin/audit" { (t("审计日志", "Audit trail")) }
                            }
                            @if u.role == Role::District { a href="/upload" { (t("上传申请表", "Upload a spreadsheet")) } }
                            @if u.role == Role::City {
                                a href="/outbox" { (t("短信发件箱", "SMS outbox")) }
                                a href="/print" { (t("打印通行证", "Print passes")) }
                                a href="/findings" { (t("检查站发现", "Findings")) }
                                a href="/scans" { (t("导入检查站记录", "Checkpoint logs")) }
                            }
                            span.who { (u.name) " (" (i18n::role(u.role)) ")" }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button { (t("退出", "Sign out")) }
                            }
                        } @else {
                            a href="/login" { (t("登录", "Sign in")) }
                        }
                        @match i18n::lang() {
                            Lang::Zh => a href="/lang?to=en" lang="en" { "English" },
                            Lang::En => a href="/lang?to=zh" lang="zh-CN" { "中文" },
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// On a phone (narrow window) tables become stacked cards: a list's header row is hidden, and
/// a detail row's label (a `th` before its `td`) shows above its value.
const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:0;\
    line-height:1.5}header{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;\
    justify-content:space-between;padding:.6em 1em;background:#1d3557;color:#fff}\
    header a{color:#fff;margin-right:1em}nav{display:flex;flex-wrap:wrap;gap:.5em;\
    align-items:center}nav form{display:inline}main{padding:1em;max-width:90em}\
    table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;\
    padding:.4em;text-align:left;vertical-align:top}.error{color:#a00;font-weight:bold}\
    input,button,select{font-size:1em;padding:.4em}label{display:block;margin:.5em 0}\
    .stop{display:inline-block;margin:.2em .6em .2em 0}.filters label{display:inline-block;\
    margin-right:1em}\
    @media(max-width:40em){table,tbody,tr,td{display:block}th{display:none}\
    th:has(+td){display:block;border:0;padding:.3em .4em 0;color:#555;font-size:.85em;\
    font-weight:normal}td{border:0;padding:.1em .4em}tr{border-bottom:1px solid #ccc;padding:.4em 0}}";

pub fn error_page(e: &WebError) -> Html<String> {
    Html(
        layout(
            t("无法完成", "Not done"),
            None,
            html! {
                p.error { (e.to_string()) }
                p { a href="/" { (t("返回", "Back")) } }
            },
        )
        .into_string(),
    )
}

pub fn login_page(csrf: &str, error: Option<&str>) -> Markup {
    layout(
        t("登录", "Sign in"),
        None,
        html! {
            @if let Some(e) = error { p.error { (e) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                label { (t("账号 ", "Account ")) input name="name" autocomplete="username" required; }
                label { (t("口令 ", "Password ")) input name="password" type="password"
                    autocomplete="current-password" required; }
                button { (t("登录", "Sign in")) }
            }
        },
    )
}

/// `/`: the signed-in person's work.
pub async fn home(user: Result<CurrentUser, WebError>) -> Response {
    match user {
        Ok(_) => Redirect::to("/queue").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

/// `/districts`: each district's liaison, phone and e-mail (the notice's 附件1); public.
pub async fn districts(State(state): State<Arc<AppState>>) -> Result<Html<String>, WebError> {
    let districts = state.store(|s| Ok(s.districts()?)).await?;
    Ok(Html(
        layout(
            t("各区市联络人", "District liaisons"),
            None,
            html! {
                table {
                    tr { th { (t("区划代码", "Code")) } th { (t("区市", "District")) } th { (t("联络人", "Liaison")) } th { (t("电话", "Phone")) } th { (t("邮箱", "E-mail")) } }
                    @for d in &districts {
                        tr { td { (d.code) } td { (d.name) } td { (d.contact) }
                             td { (d.phone) } td { (d.email) } }
                    }
                }
            },
        )
        .into_string(),
    ))
}

/// A mobile number as lists show it: 139****5678.
pub fn masked_mobile(m: &str) -> String {
    let chars: Vec<char> = m.chars().collect();
    if chars.len() < 7 {
        return "****".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// The ID number as lists show it.
pub fn masked_id(id: &str) -> String {
    checkpass::pass::MaskedId::from_full_id(id)
        .map(|m| m.to_string())
        .unwrap_or_else(|_| "******".into())
}

/// What a queue page (or the API's list) is asked for: `?status=…&district=…&plate=…`, each
/// optional, read by hand so that a bad value is a message rather than a bare rejection.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub district: Option<String>,
    pub plate: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl QueueQuery {
    /// What `user`'s queue lists: a liaison always their own district (submitted by default),
    /// the city every district (forwarded by default), an applicant everything of their
    /// organisation (the store call is followed by [`User::may_see`]).
    pub fn filter(&self, user: &User) -> Result<ListFilter, WebError> {
        let status = match given(&self.status) {
            Some("all") => None,
            Some(s) => Some(
                s.parse::<Status>()
                    .map_err(|_| WebError::BadRequest(format!("未知状态：{s}")))?,
            ),
            None => match user.role {
                Role::District => Some(Status::Submitted),
                Role::City => Some(Status::Forwarded),
                Role::Applicant | Role::Admin => None,
            },
        };
        let district = match given(&self.district) {
            Some(d) => Some(
                d.parse::<u32>()
                    .map_err(|_| WebError::BadRequest(format!("区划代码应为数字：{d}")))?,
            ),
            None => None,
        };
        let district = match user.role {
            Role::District => user.district,
            _ => district,
        };
        let plate = given(&self.plate).map(str::to_string);
        if plate.as_ref().is_some_and(|p| p.chars().count() > 16) {
            return Err(WebError::BadRequest("车牌号过长".into()));
        }
        Ok(ListFilter {
            status,
            district,
            plate,
            limit: Some(QUEUE_PAGE),
        })
    }
}

/// The most a queue page lists (oldest first: the longest waiting come first).
pub const QUEUE_PAGE: u32 = 200;

/// `/queue`: a liaison's district queue, the city's forwarded queue (with filters, and
/// approval or rejection of many at once), an applicant's own applications.
pub async fn queue(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, WebError> {
    let csrf = csrf_token(&session).await?;
    let filter = q.filter(&user)?;
    let viewer = user.clone();
    let (apps, districts) = state
        .store(move |s| {
            let mut apps = s.list(&filter)?;
            apps.retain(|a| viewer.may_see(a));
            Ok((apps, s.districts()?))
        })
        .await?;
    let filter = q.filter(&user)?;
    let title = match user.role {
        Role::District => t("本区市申请", "Applications of the district"),
        Role::City => t("市级审批", "City review"),
        Role::Applicant => t("本单位的申请", "Our applications"),
        Role::Admin => t("全部申请", "All applications"),
    };
    // Many at once: the city's forwarded queue.
    let bulk = user.role == Role::City && filter.status == Some(Status::Forwarded);
    let statuses: &[Status] = match user.role {
        Role::District => &[
            Status::Submitted,
            Status::Returned,
            Status::Forwarded,
            Status::Rejected,
            Status::Issued,
        ],
        _ => &Status::ALL,
    };
    let table = html! {
        table {
            tr {
                @if bulk { th { (t("选择", "Pick")) } }
                th { (t("申请编号", "Application")) } th { (t("区市", "District")) }
                th { (t("车牌", "Plate")) } th { (t("驾驶人", "Driver")) }
                th { (t("身份证号", "ID number")) } th { (t("电话", "Mobile")) }
                th { (t("起止时间", "Window")) } th { (t("状态", "Status")) }
                @if user.role == Role::Applicant { th { (t("理由", "Reason")) } }
            }
            @for a in &apps {
                tr {
                    @if bulk {
                        td { input type="checkbox" name="app" value=(a.data.app_no)
                            aria-label={ (t("选择 ", "Pick ")) (a.data.app_no) }; }
                    }
                    td { a href={ "/applications/" (a.data.app_no) } { (a.data.app_no) } }
                    td { (districts.iter().find(|d| d.code == a.data.district)
                            .map_or_else(|| a.data.district.to_string(), |d| d.name.clone())) }
                    td { (a.data.plate) }
                    td { (a.data.driver_name) }
                    td { (masked_id(&a.data.driver_id)) }
                    td { (masked_mobile(&a.data.mobile)) }
                    td { (format_cst(a.data.start_at)) " — " (format_cst(a.data.end_at)) }
                    td { (i18n::status(a.status)) }
                    @if user.role == Role::Applicant {
                        td {
                            (a.reject_reason.as_deref().unwrap_or(""))
                            @if a.status == Status::Returned {
                                " " a href={ "/applications/" (a.data.app_no) "/amend" } { (t("修改", "Correct")) }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        form.filters method="get" action="/queue" {
            label { (t("状态 ", "Status "))
                select name="status" {
                    option value="all" selected[filter.status.is_none()] { (t("全部", "all")) }
                    @for st in statuses {
                        option value=(st.as_str()) selected[filter.status == Some(*st)] { (i18n::status(*st)) }
                    }
                }
            }
            @if matches!(user.role, Role::City | Role::Admin) {
                label { (t("区市 ", "District "))
                    select name="district" {
                        option value="" { (t("全部", "all")) }
                        @for d in &districts {
                            option value=(d.code) selected[filter.district == Some(d.code)] { (d.name) }
                        }
                    }
                }
            }
            label { (t("车牌 ", "Plate ")) input name="plate" value=(filter.plate.clone().unwrap_or_default()) size="10"; }
            button { (t("筛选", "Filter")) }
        }
        @if apps.is_empty() { p { (t("没有符合条件的申请。", "No application matches.")) } }
        @else if bulk {
            form method="post" action="/decide" {
                input type="hidden" name="csrf" value=(csrf);
                (table)
                fieldset {
                    legend { (t("对选中的申请", "For the picked applications")) }
                    label { input type="radio" name="action" value="approve" checked; (t(" 批准", " approve")) }
                    label { input type="radio" name="action" value="reject"; (t(" 驳回", " reject")) }
                    label { (t("驳回理由 ", "Reason to reject ")) input name="reason" maxlength="200"; }
                    button { (t("提交", "Submit")) }
                }
            }
        } @else { (table) }
        @if apps.len() as u32 >= QUEUE_PAGE {
            p { (t("只列出最早的 ", "Only the oldest ")) (QUEUE_PAGE) (t(" 份；请用筛选缩小范围。", " are listed; filter to narrow it down.")) }
        }
    };
    Ok(Html(
        layout(title, Some((&user, &csrf)), body).into_string(),
    ))
}

/// `/applications/{no}`: one application, to those who may see it; the actions their role
/// may take on it.
pub async fn application(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(app_no): Path<String>,
) -> Result<Html<String>, WebError> {
    let csrf = csrf_token(&session).await?;
    let app = visible_application(&state, &user, app_no).await?;
    let d = &app.data;
    // The full ID number and mobile: to those who check them (and the applicant who typed them).
    let full = matches!(user.role, Role::District | Role::City | Role::Applicant);
    let actions: Vec<(&str, &str)> = match user.role {
        Role::District if app.status == Status::Submitted && user.may_return(&app).is_ok() => {
            vec![
                ("forward", t("转报市级", "Forward to the city")),
                ("return", t("退回申请单位修改", "Return to the applicant")),
            ]
        }
        Role::District if app.status == Status::Submitted => {
            vec![("forward", t("转报市级", "Forward to the city"))]
        }
        Role::City if app.status == Status::Forwarded => {
            vec![
                ("approve", t("批准", "Approve")),
                ("reject", t("驳回", "Reject")),
            ]
        }
        Role::City if app.status == Status::Approved => {
            vec![("issue", t("签发通行证", "Issue the pass"))]
        }
        Role::City if app.status == Status::Issued => {
            vec![("revoke", t("撤销通行证", "Revoke the pass"))]
        }
        _ => vec![],
    };
    let files = app.status == Status::Issued;
    let report = if user.may_see_report(&app) {
        let no = d.app_no.clone();
        state.store(move |s| Ok(s.report_info(&no)?)).await?
    } else {
        None
    };
    let amend = app.status == Status::Returned && user.may_resubmit(&app).is_ok();
    let body = html! {
        table {
            tr { th { (t("状态", "Status")) } td { (i18n::status(app.status)) } }
            tr { th { (t("车牌", "Plate")) } td { (d.plate) @if let Some(tr) = &d.trailer { (t(" / 挂车 ", " / trailer ")) (tr) } } }
            tr { th { (t("驾驶人", "Driver")) } td { (d.driver_name) } }
            tr { th { (t("身份证号", "ID number")) } td { @if full { (d.driver_id) } @else { (masked_id(&d.driver_id)) } } }
            tr { th { (t("电话", "Mobile")) } td { @if full { (d.mobile) } @else { (masked_mobile(&d.mobile)) } } }
            tr { th { (t("货物", "Cargo")) } td { (i18n::category(d.category)) (t("：", ": ")) (d.cargo) } }
            tr { th { (t("起运 → 运送", "From → to")) } td { (d.origin) " → " (d.destination) } }
            tr { th { (t("路线", "Route")) } td { (d.route.join(" → ")) } }
            tr { th { (t("时间", "Window")) } td { (format_cst(d.start_at)) " — " (format_cst(d.end_at)) } }
            @if let Some(at) = d.arrive_by {
                tr { th { (t("预计到达", "Arrival")) } td { (format_cst(at)) (t("（末站）", " (last checkpoint)")) } }
            }
            tr { th { (t("核酸采样", "Test sampled")) } td { (format_cst(d.test_sampled_at)) (t("，", ", ")) (d.test_result) } }
            @if let Some(r) = &app.reject_reason {
                tr {
                    th { @if app.status == Status::Returned { (t("退回理由", "Returned because")) } @else { (t("驳回理由", "Rejected because")) } }
                    td { (r) }
                }
            }
            @if user.may_see_report(&app) {
                tr {
                    th { (t("核酸检测报告", "Test report")) }
                    td {
                        @if let Some(r) = &report {
                            a href={ "/applications/" (d.app_no) "/report" } target="_blank" {
                                (t("查看报告（", "Open the report (")) (r.media_type.extension().to_uppercase()) ", "
                                (r.size / 1024 + 1) (t(" KB）", " KB)"))
                            }
                            (t(" 上传于 ", " uploaded ")) (format_cst(r.uploaded_at))
                        } @else if app.organisation.is_some() {
                            (t("未上传", "not uploaded"))
                        } @else {
                            (t("区市导入的申请，报告由区市核验", "imported by the district, which checked the report"))
                        }
                    }
                }
            }
            @if let Some(p) = &app.pass { tr { th { (t("通行证编号", "Pass number")) } td { (checkpass::number::printed(app.data.district, p.serial)) } } }
        }
        @if files {
            p {
                (t("下载通行证：", "Download the pass: "))
                a href={ "/applications/" (d.app_no) "/files/pass.pdf" } { "PDF" } " "
                a href={ "/applications/" (d.app_no) "/files/pass.png" } { (t("图片", "image")) } " "
                a href={ "/applications/" (d.app_no) "/files/qr.png" } { (t("二维码", "QR code")) }
            }
        }
        @if amend {
            p { a href={ "/applications/" (d.app_no) "/amend" } { (t("修改并重新提交", "Correct and submit again")) } }
        }
        @for (action, label) in &actions {
            form method="post" action={ "/applications/" (d.app_no) "/" (action) } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="seen" value=(app.status.as_str());
                @if *action == "reject" {
                    label { (t("驳回理由 ", "Reason ")) input name="reason" required maxlength="200"; }
                }
                @if *action == "return" {
                    label { (t("退回理由（申请单位可见） ", "Reason (the applicant sees it) ")) input name="reason" required maxlength="200"; }
                }
                @if *action == "revoke" {
                    label { (t("撤销理由 ", "Reason ")) input name="reason" required maxlength="200"; }
                }
                button { (label) }
            }
        }
    };
    Ok(Html(
        layout(
            &format!("{}{}", t("申请 ", "Application "), d.app_no),
            Some((&user, &csrf)),
            body,
        )
        .into_string(),
    ))
}

/// `GET /applications/{no}/report`: the uploaded test report, to those who may see it. Sent
/// with its checked media type, never sniffed, and sandboxed: a PDF's scripts cannot reach the
/// service's pages.
pub async fn report(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(app_no): Path<String>,
) -> Result<Response, WebError> {
    let app = visible_application(&state, &user, app_no).await?;
    if !user.may_see_report(&app) {
        return Err(WebError::Forbidden(
            "管理员账号不查看个人的核酸检测报告".into(),
        ));
    }
    let no = app.data.app_no.clone();
    let report = state
        .store(move |s| Ok(s.report(&no)?))
        .await?
        .ok_or_else(|| {
            WebError::NotFound(format!("申请 {} 没有上传核酸检测报告", app.data.app_no))
        })?;
    use axum::http::header;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                report.info.media_type.as_str().to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"report-{}.{}\"",
                    report.info.app_no,
                    report.info.media_type.extension()
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        report.content,
    )
        .into_response())
}

/// The application, if `user` may see it; otherwise "not found", so that a guessed number
/// tells nothing about applications of other districts or organisations.
async fn visible_application(
    state: &AppState,
    user: &User,
    app_no: String,
) -> Result<Application, WebError> {
    let app = state.store(move |s| Ok(s.get(&app_no)?)).await?;
    if user.may_see(&app) {
        Ok(app)
    } else {
        Err(WebError::NotFound(format!(
            "找不到申请 {}",
            app.data.app_no
        )))
    }
}

/// Forward, approve or reject one application, as the signed-in account, if its role and the
/// two-person rule allow; `seen` is the status the page showed.
pub async fn act(
    state: &AppState,
    user: &User,
    app_no: String,
    action: &str,
    seen: Option<&str>,
    reason: Option<String>,
) -> Result<Application, WebError> {
    if action == "issue" {
        let app = visible_application(state, user, app_no).await?;
        return super::passes::issue(state, user, app).await;
    }
    if action == "revoke" {
        let app = visible_application(state, user, app_no).await?;
        return super::passes::revoke(state, user, app, reason).await;
    }
    let action = match action {
        "forward" => Action::Forward,
        "approve" => Action::Approve,
        "reject" => Action::Reject,
        "return" => Action::Return,
        other => return Err(WebError::NotFound(format!("没有“{other}”这项操作"))),
    };
    let seen: Option<Status> = match seen {
        Some(s) => Some(
            s.parse()
                .map_err(|_| WebError::BadRequest(format!("未知状态：{s}")))?,
        ),
        None => None,
    };
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if matches!(action, Action::Reject | Action::Return) && reason.is_none() {
        return Err(WebError::BadRequest(format!(
            "{}须填写理由",
            action.label_zh()
        )));
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(WebError::BadRequest("理由不超过 200 字".into()));
    }
    let app = visible_application(state, user, app_no).await?;
    match action {
        Action::Forward => user.may_forward(&app)?,
        Action::Return => user.may_return(&app)?,
        _ => user.may_decide(&app)?,
    }
    let actor = user.name.clone();
    let no = app.data.app_no.clone();
    let now = crate::clock::now();
    let changed = state
        .store(move |s| Ok(s.transition(&[no], action, seen, &actor, now, reason.as_deref())?))
        .await?;
    changed
        .into_iter()
        .next()
        .ok_or_else(|| WebError::Internal("未返回更改后的申请".into()))
}

pub async fn act_on_application(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path((app_no, action)): Path<(String, String)>,
    Form(mut form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    check_csrf(&session, form.csrf.as_deref()).await?;
    let seen = form.rest.remove("seen");
    let reason = form.rest.remove("reason");
    let app = act(&state, &user, app_no, &action, seen.as_deref(), reason).await?;
    Ok(Redirect::to(&format!("/applications/{}", app.data.app_no)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        assert_eq!(masked_mobile("13912345678"), "139****5678");
        assert_eq!(masked_mobile("123"), "****");
        assert_eq!(masked_id("320102199210156657"), "320102********6657");
        assert_eq!(masked_id("bad"), "******");
    }
}
