//! The admin's pages: accounts (add, disable, enable) here; the keys and the trust bundle
//! ([`keys`]), the registry and the policy ([`registry`]), the audit trail ([`audit`]). Only an
//! admin account reaches them, by page or by form; the same library functions and rules as the
//! command line's `issuer user`, `keys`, `bundle`, `registry`, `policy` and `audit` apply.

mod audit;
mod keys;
mod registry;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use tower_sessions::Session;

use super::i18n::t;
use super::pages::layout;
use super::session::{check_csrf, csrf_token, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::{self, NewUser, Role, User};

fn admin(user: &User) -> Result<(), WebError> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(WebError::Forbidden("只有管理员可以使用此功能".into()))
    }
}

/// The admin's routes besides the accounts'.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin/keys", get(keys::page))
        .route("/admin/keys/rotate", post(keys::rotate))
        .route("/admin/keys/revoke", post(keys::revoke))
        .route("/admin/bundle", get(keys::bundle_page).post(keys::bundle))
        .route(
            "/admin/registry",
            get(registry::page)
                .post(registry::load)
                .layer(axum::extract::DefaultBodyLimit::max(
                    registry::MAX_UPLOAD_BYTES + 64 * 1024,
                )),
        )
        .route(
            "/admin/policy",
            get(registry::policy_page).post(registry::set_policy),
        )
        .route("/admin/audit", get(audit::page))
}

/// `GET /admin/users`.
pub async fn users(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    admin(&user)?;
    let csrf = csrf_token(&session).await?;
    let users = state.store(|s| Ok(s.users()?)).await?;
    let body = html! {
        table {
            tr { th { (t("账号", "Account")) } th { (t("角色", "Role")) } th { (t("区市 / 单位", "District / organisation")) } th { (t("状态", "Status")) } th {} }
            @for u in &users {
                tr {
                    td { (u.name) }
                    td { (super::i18n::role(u.role)) }
                    td {
                        @if let Some(d) = u.district { (d) }
                        @if let Some(o) = &u.organisation { (o) }
                    }
                    td { @if u.is_active() { (t("启用", "active")) } @else { (t("已停用", "disabled")) } }
                    td {
                        @if u.name != user.name {
                            form method="post" action={ "/admin/users/" (u.name) "/"
                                (if u.is_active() { "disable" } else { "enable" }) } {
                                input type="hidden" name="csrf" value=(csrf);
                                button { @if u.is_active() { (t("停用", "Disable")) } @else { (t("启用", "Enable")) } }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t("添加账号", "Add an account")) }
        form method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("账号 ", "Account ")) input name="name" required; }
            label { (t("角色 ", "Role ")) select name="role" {
                @for r in Role::ALL { option value=(r.as_str()) { (super::i18n::role(r)) } }
            } }
            label { (t("区市代码（联络员）", "District code (liaison) ")) input name="district"; }
            label { (t("单位（申请单位）", "Organisation (applicant) ")) input name="organisation"; }
            label { (t("初始口令（至少 12 个字符）", "First password (at least 12 characters) ")) input name="password" type="password" required; }
            button { (t("添加", "Add")) }
        }
    };
    Ok(Html(
        layout(t("账号管理", "Accounts"), Some((&user, &csrf)), body).into_string(),
    ))
}

/// `POST /admin/users`: a new account.
pub async fn add(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    check_csrf(&session, form.get("csrf").map(String::as_str)).await?;
    admin(&user)?;
    let field = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let role: Role = field("role")
        .unwrap_or_default()
        .parse()
        .map_err(WebError::BadRequest)?;
    let district = field("district")
        .map(|d| {
            d.parse::<u32>()
                .map_err(|_| WebError::BadRequest(format!("区市代码“{d}”不是数字")))
        })
        .transpose()?;
    let new = NewUser::new(
        field("name").unwrap_or_default(),
        role,
        district,
        field("organisation"),
    )
    .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let password = form.get("password").cloned().unwrap_or_default();
    let actor = user.name.clone();
    state
        .store(move |s| {
            if let Some(code) = new.district {
                if !s.districts()?.iter().any(|d| d.code == code) {
                    return Err(WebError::BadRequest(format!(
                        "区划代码 {code} 不在区划表中"
                    )));
                }
            }
            let hash = accounts::hash_password(&password)
                .map_err(|e| WebError::BadRequest(e.to_string()))?;
            s.add_user(&new, &hash, &actor, crate::clock::now())?;
            Ok(())
        })
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{name}/{disable|enable}`.
pub async fn set_disabled(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path((name, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    check_csrf(&session, form.get("csrf").map(String::as_str)).await?;
    admin(&user)?;
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        other => return Err(WebError::NotFound(format!("没有“{other}”这项操作"))),
    };
    if name == user.name {
        return Err(WebError::BadRequest("不能停用自己的账号".into()));
    }
    let actor = user.name.clone();
    state
        .store(move |s| Ok(s.set_user_disabled(&name, disabled, &actor, crate::clock::now())?))
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}
