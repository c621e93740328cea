//! The districts and checkpoints (shown; replaced by uploading the same CSV files
//! `issuer registry load` reads) and the verification policy (shown; set with the items and
//! bounds of `issuer policy set`). Both reach the checkpoints with the next trust bundle.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::response::Html;
use axum::Form;
use maud::{html, Markup};
use tower_sessions::Session;

use super::admin;
use crate::accounts::User;
use crate::domain::{Checkpoint, District};
use crate::import;
use crate::policy::{self, PolicyError, ITEMS};
use crate::web::i18n::t;
use crate::web::pages::layout;
use crate::web::session::{check_csrf, csrf_token, CurrentUser};
use crate::web::{AppState, WebError};

/// The largest file of each table: the import's own cap.
pub const MAX_FILE_BYTES: usize = import::MAX_FILE_BYTES as usize;
/// The largest upload: both tables.
pub const MAX_UPLOAD_BYTES: usize = 2 * MAX_FILE_BYTES;

impl From<PolicyError> for WebError {
    fn from(e: PolicyError) -> WebError {
        match e {
            PolicyError::Store(e) => e.into(),
            e => WebError::BadRequest(e.to_string()),
        }
    }
}

async fn registry_page(
    state: &AppState,
    user: &User,
    session: &Session,
    notice: Option<Markup>,
) -> Result<Html<String>, WebError> {
    let csrf = csrf_token(session).await?;
    let (districts, checkpoints) = state
        .store(|s| Ok((s.districts()?, s.checkpoints()?)))
        .await?;
    let body = html! {
        @if let Some(n) = notice { div { (n) } }
        h2 { (t("区划 ", "Districts: ")) (districts.len()) }
        table {
            tr { th { (t("区划代码", "Code")) } th { (t("名称", "Name")) } th { (t("负责人", "Liaison")) } th { (t("联系电话", "Phone")) } th { (t("邮箱", "E-mail")) } }
            @for d in &districts {
                tr { td { (d.code) } td { (d.name) } td { (d.contact) } td { (d.phone) }
                     td { (d.email) } }
            }
        }
        h2 { (t("检查站 ", "Checkpoints: ")) (checkpoints.len()) }
        table {
            tr { th { (t("编码", "Code")) } th { (t("名称", "Name")) } th { (t("所属区市", "District")) } th { (t("道路", "Road")) } }
            @for c in &checkpoints {
                tr { td { (c.code) } td { (c.name) } td { (c.district) } td { (c.road) } }
            }
        }
        h2 { (t("载入新表", "Load new tables")) }
        p { "上传的表替换现有的表；只上传一个表时，另一个不变。尚未到期的申请或通行证仍在使用的编码不能删除。"
            "新表随下一个信任包下发。" }
        form method="post" action="/admin/registry" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("区划表 CSV（区划代码,名称,负责人,联系电话,邮箱）", "Districts CSV (区划代码,名称,负责人,联系电话,邮箱) ")) input type="file" name="districts"; }
            label { (t("检查站表 CSV（编码,名称,所属区市,道路）", "Checkpoints CSV (编码,名称,所属区市,道路) ")) input type="file" name="checkpoints"; }
            button { (t("载入", "Load")) }
        }
    };
    Ok(Html(
        layout(
            t("区划与检查站", "Districts and checkpoints"),
            Some((user, &csrf)),
            body,
        )
        .into_string(),
    ))
}

/// `GET /admin/registry`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    admin(&user)?;
    registry_page(&state, &user, &session, None).await
}

/// `POST /admin/registry` (multipart: `csrf`, then `districts` and/or `checkpoints`).
pub async fn load(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    mut form: Multipart,
) -> Result<Html<String>, WebError> {
    admin(&user)?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("上传的表单无法读取：{}", e.body_text()))
    };
    let mut csrf = None;
    let mut files: HashMap<String, (String, Vec<u8>)> = HashMap::new();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "csrf" => csrf = Some(field.text().await.map_err(bad)?),
            "districts" | "checkpoints" => {
                let file = field.file_name().unwrap_or(&name).to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                if bytes.len() > MAX_FILE_BYTES {
                    return Err(WebError::BadRequest(format!(
                        "{file} 过大（上限 {} MB）",
                        MAX_FILE_BYTES / (1024 * 1024)
                    )));
                }
                // A file input left empty sends an empty part.
                if !bytes.is_empty() {
                    files.insert(name, (file, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    check_csrf(&session, csrf.as_deref()).await?;
    let parsed = |e: import::ImportError| WebError::BadRequest(e.to_string());
    let districts: Option<Vec<District>> = files
        .get("districts")
        .map(|(name, bytes)| import::parse_districts(name, bytes).map_err(parsed))
        .transpose()?;
    let checkpoints: Option<Vec<Checkpoint>> = files
        .get("checkpoints")
        .map(|(name, bytes)| import::parse_checkpoints(name, bytes).map_err(parsed))
        .transpose()?;
    if districts.is_none() && checkpoints.is_none() {
        return Err(WebError::BadRequest(
            "请选择要载入的区划表或检查站表文件".into(),
        ));
    }
    let actor = user.name.clone();
    let (d, c) = (districts.clone(), checkpoints.clone());
    state
        .store(move |s| {
            Ok(s.load_registry(
                d.as_deref().unwrap_or_default(),
                c.as_deref().unwrap_or_default(),
                &actor,
                crate::clock::now(),
            )?)
        })
        .await?;
    let said = |what: &str, n: Option<usize>| match n {
        None => None,
        Some(0) => Some(format!("{what}文件中没有数据行，{what}表未改变。")),
        Some(n) => Some(format!("已载入{what} {n} 个。")),
    };
    let notice = html! {
        @for line in [
            said("区划", districts.as_ref().map(Vec::len)),
            said("检查站", checkpoints.as_ref().map(Vec::len)),
        ].into_iter().flatten() {
            p { (line) }
        }
        p { "新表随下一个信任包下发（" a href="/admin/bundle" { "信任包" } "）。" }
    };
    registry_page(&state, &user, &session, Some(notice)).await
}

async fn policy_form(
    state: &AppState,
    user: &User,
    session: &Session,
    notice: Option<Markup>,
) -> Result<Html<String>, WebError> {
    let csrf = csrf_token(session).await?;
    let current = state.store(|s| Ok(s.policy()?)).await?;
    let body = html! {
        @if let Some(n) = notice { div { (n) } }
        p { (t("核验策略随下一个信任包下发到各检查站。", "The policy reaches the checkpoints with the next trust bundle.")) }
        form method="post" action="/admin/policy" {
            input type="hidden" name="csrf" value=(csrf);
            @for item in &ITEMS {
                label {
                    (item.label) "（" (item.unit) "，" (item.least) "–" (item.most) "）"
                    input type="number" name=(item.field()) value=(item.get(&current))
                        min=(item.least) max=(item.most) required;
                }
            }
            button { (t("保存", "Save")) }
        }
    };
    Ok(Html(
        layout(
            t("核验策略", "Verification policy"),
            Some((user, &csrf)),
            body,
        )
        .into_string(),
    ))
}

/// `GET /admin/policy`.
pub async fn policy_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    admin(&user)?;
    policy_form(&state, &user, &session, None).await
}

/// `POST /admin/policy`: one field per item ([`crate::policy::Item::field`]); a blank one keeps
/// the item.
pub async fn set_policy(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Html<String>, WebError> {
    check_csrf(&session, form.get("csrf").map(String::as_str)).await?;
    admin(&user)?;
    let mut change: policy::Change = [None; 5];
    for (slot, item) in change.iter_mut().zip(&ITEMS) {
        let Some(text) = form
            .get(&item.field())
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        *slot = Some(text.parse::<u32>().map_err(|_| {
            WebError::BadRequest(format!(
                "{}应为 {} 到 {} 之间的整数（{}），收到“{text}”",
                item.label, item.least, item.most, item.unit
            ))
        })?);
    }
    let actor = user.name.clone();
    state
        .store(move |s| Ok(policy::set(s, &change, &actor, crate::clock::now())?))
        .await?;
    let notice = html! { p { "策略已更新，随下一个信任包下发（" a href="/admin/bundle" { "信任包" } "）。" } };
    policy_form(&state, &user, &session, Some(notice)).await
}
