//! The audit trail, newest first, a page at a time, filtered by actor, action, application
//! number and time in the database ([`crate::store::Store::audit_where`]): `issuer audit` with
//! the same filters.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Html;
use maud::html;
use serde::Deserialize;
use tower_sessions::Session;

use super::admin;
use crate::domain::AuditFilter;
use crate::validate::format_cst;
use crate::web::i18n::t;
use crate::web::pages::layout;
use crate::web::session::{csrf_token, CurrentUser};
use crate::web::{AppState, WebError};

/// Lines per page.
pub const PAGE: u32 = 200;

/// Actions the form suggests (any other may be typed); one without a dot also finds those
/// under it (`keys`: `keys.add`, `keys.revoke`).
const ACTIONS: [&str; 18] = [
    "import",
    "forward",
    "approve",
    "reject",
    "issue",
    "revoke",
    "revoke.foreign",
    "keys",
    "keys.add",
    "keys.revoke",
    "bundle.export",
    "registry.load",
    "policy.set",
    "user",
    "user.add",
    "user.disable",
    "login",
    "login.failed",
];

/// A query string value, percent-encoded.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    app_no: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// The last line of the previous page.
    after: Option<i64>,
}

/// `GET /admin/audit?actor=&action=&app_no=&from=&to=&after=`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, WebError> {
    admin(&user)?;
    let csrf = csrf_token(&session).await?;
    let mut filter = AuditFilter::from_text(
        q.actor.as_deref(),
        q.action.as_deref(),
        q.app_no.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
    )
    .map_err(WebError::BadRequest)?;
    filter.newest_first = true;
    filter.after_id = q.after;
    // One more than a page: whether there is a next one.
    filter.limit = Some(PAGE + 1);
    let mut lines = state.store(move |s| Ok(s.audit_where(&filter)?)).await?;
    let more = lines.len() > PAGE as usize;
    lines.truncate(PAGE as usize);
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let next = lines.last().filter(|_| more).map(|last| {
        let mut query: Vec<String> = [
            ("actor", &q.actor),
            ("action", &q.action),
            ("app_no", &q.app_no),
            ("from", &q.from),
            ("to", &q.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect();
        query.push(format!("after={}", last.id));
        format!("/admin/audit?{}", query.join("&"))
    });
    let body = html! {
        form method="get" action="/admin/audit" {
            label { (t("操作人 ", "Actor ")) input name="actor" value=(value(&q.actor)); }
            label { (t("操作 ", "Action ")) input name="action" list="actions" value=(value(&q.action)); }
            datalist id="actions" { @for a in ACTIONS { option value=(a) {} } }
            label { (t("申请编号 ", "Application ")) input name="app_no" value=(value(&q.app_no)); }
            label { (t("自（日期） ", "From (day) ")) input type="date" name="from" value=(value(&q.from)); }
            label { (t("至（日期，含当天） ", "To (day, included) ")) input type="date" name="to" value=(value(&q.to)); }
            button { (t("筛选", "Filter")) }
            " " a href="/admin/audit" { (t("清除筛选", "Clear")) }
        }
        @if lines.is_empty() { p { (t("没有符合条件的记录。", "Nothing matches.")) } }
        @else {
            p { (t("最新的在前；本页 ", "Newest first; on this page: ")) (lines.len()) (t(" 条。", ".")) }
            table {
                tr { th { "#" } th { (t("时间", "Time")) } th { (t("操作人", "Actor")) } th { (t("操作", "Action")) }
                     th { (t("申请编号", "Application")) } th { (t("通行证", "Pass")) }
                     th { (t("状态变化", "Status")) } th { (t("说明", "Detail")) } }
                @for e in &lines {
                    tr {
                        td { (e.id) }
                        td { (format_cst(e.at)) }
                        td { (e.actor) }
                        td { (e.action) }
                        td { @if let Some(no) = &e.app_no {
                            a href={ "/applications/" (no) } { (no) } } }
                        td { (e.serial.as_deref().unwrap_or("")) }
                        td {
                            @match (&e.from_status, &e.to_status) {
                                (Some(f), Some(t)) => { (f) " → " (t) }
                                (None, Some(t)) => { "→ " (t) }
                                _ => {}
                            }
                        }
                        td { (e.detail.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if let Some(next) = next { p { a href=(next) { (t("下一页（更早的记录）", "Next page (older)")) } } }
    };
    Ok(Html(
        layout(t("审计日志", "Audit trail"), Some((&user, &csrf)), body).into_string(),
    ))
}
