//! The city reviewer's desk beyond one application: approving or rejecting many at once, the
//! SMS outbox for both outcomes (issued passes and rejections, with the reason) and a batch of
//! pass sheets to print. The lists come from [`crate::outbox`], as `issuer sms` and
//! `issuer print` do.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use tower_sessions::Session;

use super::i18n::{self, t};
use super::pages::{layout, masked_mobile};
use super::session::{check_csrf, csrf_token, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::{Role, User};
use crate::outbox::{self, PrintError, Selection};
use crate::validate::format_cst;
use crate::workflow::Status;

fn city(user: &User, what: &str) -> Result<(), WebError> {
    if user.role == Role::City {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!("只有市级审核账号可以{what}")))
    }
}

/// The most applications one bulk decision takes (a queue page).
const MAX_BULK: usize = super::pages::QUEUE_PAGE as usize;

/// `POST /decide`: approve or reject the checked applications of the forwarded queue, each on
/// its own (one that another reviewer decided meanwhile, or that this reviewer forwarded,
/// does not stop the others), then a page saying what happened to each.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    check_csrf(&session, field("csrf").as_deref()).await?;
    city(&user, "审批")?;
    let action = match field("action").as_deref() {
        Some("approve") => "approve",
        Some("reject") => "reject",
        other => {
            return Err(WebError::BadRequest(format!(
                "未知操作：{}",
                other.unwrap_or("（未选）")
            )))
        }
    };
    let mut app_nos: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "app")
        .map(|(_, v)| v.clone())
        .collect();
    app_nos.sort();
    app_nos.dedup();
    if app_nos.is_empty() {
        return Err(WebError::BadRequest("请至少选择一份申请".into()));
    }
    if app_nos.len() > MAX_BULK {
        return Err(WebError::BadRequest(format!("一次最多 {MAX_BULK} 份申请")));
    }
    let reason = field("reason").filter(|r| !r.trim().is_empty());
    if action == "reject" && reason.is_none() {
        return Err(WebError::BadRequest("驳回须填写理由".into()));
    }
    let mut outcomes = Vec::with_capacity(app_nos.len());
    for no in app_nos {
        let result = super::pages::act(
            &state,
            &user,
            no.clone(),
            action,
            Some(Status::Forwarded.as_str()),
            reason.clone(),
        )
        .await;
        outcomes.push((no, result.map(|a| a.status)));
    }
    let done = outcomes.iter().filter(|(_, r)| r.is_ok()).count();
    let csrf = csrf_token(&session).await?;
    let body = html! {
        p { (if action == "approve" { t("批准", "Approved") } else { t("驳回", "Rejected") }) " " (done)
            (t(" 份，未完成 ", "; not done: ")) (outcomes.len() - done) (t(" 份。", ".")) }
        table {
            tr { th { (t("申请编号", "Application")) } th { (t("结果", "Outcome")) } }
            @for (no, r) in &outcomes {
                tr {
                    td { a href={ "/applications/" (no) } { (no) } }
                    @match r {
                        Ok(st) => td { (i18n::status(*st)) },
                        Err(e) => td.error { (e.to_string()) },
                    }
                }
            }
        }
        p { a href="/queue" { (t("返回待审批", "Back to the queue")) } }
    };
    let status = if done == outcomes.len() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::CONFLICT
    };
    Ok((
        status,
        Html(layout(t("批量审批结果", "Decisions"), Some((&user, &csrf)), body).into_string()),
    )
        .into_response())
}

/// `?district=…&since=…&kind=issued|rejected` of the outbox and the print batch.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutboxQuery {
    district: Option<String>,
    since: Option<String>,
    kind: Option<String>,
}

impl OutboxQuery {
    fn selection(&self) -> Result<Selection, WebError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let district = given(&self.district)
            .map(|d| {
                d.parse::<u32>()
                    .map_err(|_| WebError::BadRequest(format!("区划代码应为数字：{d}")))
            })
            .transpose()?;
        let since = given(&self.since)
            .map(|t| {
                checkpass::time::parse_cst(&t).ok_or_else(|| {
                    WebError::BadRequest(format!("时间应写作 2022-03-12 08:00：{t}"))
                })
            })
            .transpose()?;
        let (issued, rejected) = match given(&self.kind).as_deref() {
            None | Some("all") => (true, true),
            Some("issued") => (true, false),
            Some("rejected") => (false, true),
            Some(other) => return Err(WebError::BadRequest(format!("未知类别：{other}"))),
        };
        Ok(Selection {
            district,
            since,
            issued,
            rejected,
        })
    }

    /// The same query, for a link.
    fn to_query(&self) -> String {
        let pairs = [
            ("district", &self.district),
            ("since", &self.since),
            ("kind", &self.kind),
        ];
        let mut out = Vec::new();
        for (k, v) in pairs {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                out.push(format!("{k}={}", urlencode(v)));
            }
        }
        out.join("&")
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn filter_form(
    action: &str,
    q: &OutboxQuery,
    districts: &[crate::domain::District],
    kinds: bool,
) -> maud::Markup {
    let since = q.since.clone().unwrap_or_default();
    html! {
        form.filters method="get" action=(action) {
            label { (t("区市 ", "District "))
                select name="district" {
                    option value="" { (t("全部", "all")) }
                    @for d in districts {
                        option value=(d.code) selected[q.district.as_deref() == Some(d.code.to_string().as_str())] { (d.name) }
                    }
                }
            }
            label { (t("自 ", "Since ")) input name="since" value=(since) placeholder="2022-03-12 08:00" size="16"; }
            @if kinds {
                label { (t("类别 ", "Kind "))
                    select name="kind" {
                        option value="all" { (t("全部", "all")) }
                        option value="issued" selected[q.kind.as_deref() == Some("issued")] { (t("签发通知", "pass issued")) }
                        option value="rejected" selected[q.kind.as_deref() == Some("rejected")] { (t("驳回通知", "rejected")) }
                    }
                }
            }
            button { (t("筛选", "Filter")) }
        }
    }
}

/// `GET /outbox`: the messages to send, as the gateway will get them, phone numbers masked on
/// the page (the CSV for the gateway has them in full).
pub async fn outbox_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Query(q): Query<OutboxQuery>,
) -> Result<Html<String>, WebError> {
    city(&user, "查看短信发件箱")?;
    let sel = q.selection()?;
    let (messages, districts) = state
        .store(move |s| Ok((outbox::messages(s, &sel)?, s.districts()?)))
        .await?;
    let csrf = csrf_token(&session).await?;
    let query = q.to_query();
    let body = html! {
        (filter_form("/outbox", &q, &districts, true))
        p {
            (t("共 ", "")) (messages.len()) (t(" 条。", " messages. "))
            @if !messages.is_empty() {
                a href={ "/outbox.csv" @if !query.is_empty() { "?" (query) } } download { (t("下载短信网关文件（CSV）", "Download the gateway file (CSV)")) }
            }
        }
        table {
            tr { th { (t("类别", "Kind")) } th { (t("申请编号", "Application")) } th { (t("手机", "Mobile")) }
                 th { (t("短信内容", "Text")) } th { (t("时间", "Time")) } }
            @for m in &messages {
                tr {
                    td { (t(m.kind.label_zh(), m.kind.label_en())) }
                    td { a href={ "/applications/" (m.app_no) } { (m.app_no) } }
                    td { (masked_mobile(&m.mobile)) }
                    td { (m.text) }
                    td { (format_cst(m.at)) }
                }
            }
        }
    };
    Ok(Html(
        layout(t("短信发件箱", "SMS outbox"), Some((&user, &csrf)), body).into_string(),
    ))
}

/// `GET /outbox.csv`: the file for the SMS gateway (as `issuer sms` writes it).
pub async fn outbox_csv(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, WebError> {
    city(&user, "导出短信")?;
    let sel = q.selection()?;
    let messages = state.store(move |s| Ok(outbox::messages(s, &sel)?)).await?;
    if messages.is_empty() {
        return Err(WebError::NotFound(
            "没有需要发送短信的通行证或驳回通知".into(),
        ));
    }
    let bytes = outbox::csv(&messages).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sms-outbox.csv\"",
            ),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /print`: choose a batch of issued passes to print.
pub async fn print_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Query(q): Query<OutboxQuery>,
) -> Result<Html<String>, WebError> {
    city(&user, "打印通行证")?;
    let mut sel = q.selection()?;
    sel.issued = true;
    let apps = state.store(move |s| Ok(outbox::issued(s, &sel)?)).await?;
    let csrf = csrf_token(&session).await?;
    let districts = state.store(|s| Ok(s.districts()?)).await?;
    let query = q.to_query();
    let body = html! {
        (filter_form("/print", &q, &districts, false))
        p {
            (t("已签发且未撤销的通行证 ", "Issued, unrevoked passes: ")) (apps.len()) (t(" 张。", ". "))
            @if !apps.is_empty() {
                a href={ "/print.pdf" @if !query.is_empty() { "?" (query) } } { (t("下载打印文件（PDF，每页一张 A5）", "Download to print (PDF, one A5 page each)")) }
            }
        }
        table {
            tr { th { (t("通行证编号", "Serial")) } th { (t("申请编号", "Application")) } th { (t("车牌", "Plate")) }
                 th { (t("签发时间", "Issued")) } }
            @for a in &apps {
                @if let Some(p) = &a.pass {
                    tr {
                        td { (checkpass::number::printed(a.data.district, p.serial)) }
                        td { a href={ "/applications/" (a.data.app_no) } { (a.data.app_no) } }
                        td { (a.data.plate) }
                        td { (format_cst(p.issued_at)) }
                    }
                }
            }
        }
    };
    Ok(Html(
        layout(t("打印通行证", "Print passes"), Some((&user, &csrf)), body).into_string(),
    ))
}

/// `GET /print.pdf`: the batch as one PDF (as `issuer print` writes it).
pub async fn print_pdf(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, WebError> {
    city(&user, "打印通行证")?;
    let mut sel = q.selection()?;
    sel.issued = true;
    let (pdf, _) = state
        .store(move |s| {
            let apps = outbox::issued(s, &sel)?;
            outbox::print_batch(s, &apps).map_err(|e| match e {
                PrintError::Nothing => WebError::NotFound(e.to_string()),
                PrintError::Store(e) => e.into(),
                PrintError::Render(e) => WebError::Internal(e.to_string()),
            })
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"passes.pdf\"",
            ),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        pdf,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_queries_read_or_say_why_not() {
        let q = OutboxQuery {
            district: Some("371002".into()),
            since: Some("2022-03-12 08:00".into()),
            kind: Some("rejected".into()),
        };
        let sel = q.selection().unwrap();
        assert_eq!(sel.district, Some(371002));
        assert!(sel.rejected && !sel.issued);
        assert_eq!(
            q.to_query(),
            "district=371002&since=2022-03-12%2008%3A00&kind=rejected"
        );
        let bad = OutboxQuery {
            since: Some("yesterday".into()),
            ..OutboxQuery::default()
        };
        assert!(matches!(bad.selection(), Err(WebError::BadRequest(_))));
        let bad = OutboxQuery {
            kind: Some("<x>".into()),
            ..OutboxQuery::default()
        };
        assert!(matches!(bad.selection(), Err(WebError::BadRequest(_))));
    }
}
