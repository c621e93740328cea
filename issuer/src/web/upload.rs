//! A district liaison uploads the district's application spreadsheet (xlsx, or CSV in UTF-8 or
//! GBK): the command line's import, with the bad rows listed by row, number and reason. Rows of
//! another district are refused; the file's size is bounded as the import bounds it.

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use tower_sessions::Session;

use super::i18n::{self, t};
use super::pages::layout;
use super::session::{check_csrf, csrf_token, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::{Role, User};
use crate::import;
use crate::intake;

/// The largest upload: the import's own cap on a file.
pub const MAX_UPLOAD_BYTES: usize = import::MAX_FILE_BYTES as usize;

fn liaison(user: &User) -> Result<u32, WebError> {
    match (user.role, user.district) {
        (Role::District, Some(d)) => Ok(d),
        _ => Err(WebError::Forbidden("只有区市联络员可以上传申请表".into())),
    }
}

fn upload_form(csrf: &str) -> maud::Markup {
    html! {
        form method="post" action="/upload" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("申请表（.xlsx，或 UTF-8/GBK 编码的 .csv）", "Spreadsheet (.xlsx, or .csv in UTF-8 or GBK)")) " " input type="file" name="file" required; }
            button { (t("上传并导入", "Upload and import")) }
        }
    }
}

/// `GET /upload`.
pub async fn page(
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    liaison(&user)?;
    let csrf = csrf_token(&session).await?;
    Ok(Html(
        layout(
            t("上传申请表", "Upload a spreadsheet"),
            Some((&user, &csrf)),
            upload_form(&csrf),
        )
        .into_string(),
    ))
}

/// `POST /upload` (multipart: `csrf`, then `file`).
pub async fn upload(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let district = liaison(&user)?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("上传的表单无法读取：{}", e.body_text()))
    };
    let mut csrf = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.map_err(bad)?),
            Some("file") => {
                let name = field.file_name().unwrap_or("上传的文件").to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    check_csrf(&session, csrf.as_deref()).await?;
    let (name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| WebError::BadRequest("请选择要上传的申请表文件".into()))?;
    // The file is read by content, not by its name: a renamed file is still checked for what
    // it is.
    let sheet =
        import::read_bytes(&name, &bytes).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let actor = user.name.clone();
    let source = format!("网页上传 {name}");
    let outcome = state
        .store(move |s| {
            let rules = intake::rules(s).map_err(|e| WebError::Internal(e.to_string()))?;
            Ok(intake::import_rows_of(
                s,
                &source,
                &sheet.rows,
                &rules,
                Some(district),
                &actor,
                crate::clock::now(),
            )?)
        })
        .await?;
    let csrf = csrf_token(&session).await?;
    let body = html! {
        p {
            (t("共 ", "")) (outcome.rows) (t(" 行：导入 ", " rows: imported ")) (outcome.imported)
            (t(" 行，已导入过 ", ", already imported ")) (outcome.already_imported)
            (t(" 行，拒绝 ", ", refused ")) (outcome.refused.len()) (t(" 行。", "."))
        }
        @if !outcome.refused.is_empty() {
            table {
                tr { th { (t("行", "Row")) } th { (t("申请编号", "Application")) } th { (t("原因", "Reasons")) } }
                @for r in &outcome.refused {
                    tr {
                        td { (r.row) }
                        td { (r.app_no) }
                        td { (r.problems.iter().map(i18n::problem).collect::<Vec<_>>().join(t("；", "; "))) }
                    }
                }
            }
        }
        p { a href="/queue" { (t("查看本区市待转报", "The district's queue")) } }
        (upload_form(&csrf))
    };
    let status = if outcome.refused.is_empty() {
        StatusCode::OK
    } else {
        // Stored the good rows; the page lists the others (the command line's exit status 2).
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        Html(layout(t("上传结果", "Upload result"), Some((&user, &csrf)), body).into_string()),
    )
        .into_response())
}
