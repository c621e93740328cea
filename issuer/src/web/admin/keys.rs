//! The keys (list, rotate, declare compromised) and the trust bundle to download: the command
//! line's `issuer keys` and `issuer bundle`, through the same [`crate::keys`] and
//! [`crate::trust`]. A passphrase typed here goes to the unlocking and nowhere else: it is
//! never written to a page, a message or the audit trail, and is zeroed once used.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use checkpass::keys::KeyRole;
use checkpass::scope::KeyScope;
use maud::{html, Markup};
use tower_sessions::Session;
use zeroize::Zeroizing;

use super::admin;
use crate::accounts::User;
use crate::domain::AuditFilter;
use crate::keys::{self, KeysError};
use crate::store::Store;
use crate::trust::{self, TrustError};
use crate::validate::format_cst;
use crate::web::i18n::t;
use crate::web::pages::layout;
use crate::web::session::{check_csrf, csrf_token, locked, CurrentUser};
use crate::web::{AppState, WebError, WebSigner};

impl From<KeysError> for WebError {
    fn from(e: KeysError) -> WebError {
        match e {
            KeysError::Store(e) => e.into(),
            KeysError::NoActive(_) => WebError::Conflict(e.to_string()),
            e if e.is_input() => WebError::BadRequest(e.to_string()),
            e => WebError::Internal(checkpass::describe_error(&e)),
        }
    }
}

impl From<TrustError> for WebError {
    fn from(e: TrustError) -> WebError {
        match e {
            TrustError::Store(e) => e.into(),
            e => WebError::Internal(checkpass::describe_error(&e)),
        }
    }
}

/// A form's passphrase field, taken out of the form (so no other copy stays in it), zeroed
/// when dropped; an empty one is refused.
fn passphrase(form: &mut HashMap<String, String>) -> Result<Zeroizing<String>, WebError> {
    let p = Zeroizing::new(form.remove("passphrase").unwrap_or_default());
    if p.is_empty() {
        return Err(WebError::BadRequest("请输入口令".into()));
    }
    Ok(p)
}

/// Refuses an admin whose account is locked: wrong key passphrases count as wrong passwords
/// ([`counted`]), so a stolen admin session cannot try one passphrase after another.
fn refuse_if_locked(s: &mut dyn Store, actor: &str) -> Result<(), WebError> {
    let now = crate::clock::now();
    match s.user_with_hash(actor)? {
        Some((u, _)) if u.is_locked(now) => Err(locked(u.locked_until.unwrap_or(now))),
        _ => Ok(()),
    }
}

/// A key operation's result; a wrong passphrase is counted as a wrong password of `actor`:
/// [`crate::accounts::MAX_FAILED_LOGINS`] in a row lock the account for
/// [`crate::accounts::LOCK_SECS`]. The count is in the store, so every operator's process
/// sees it.
fn counted<T>(s: &mut dyn Store, actor: &str, r: Result<T, KeysError>) -> Result<T, WebError> {
    if let Err(KeysError::WrongPassphrase { .. }) = &r {
        s.login_failed(actor, crate::clock::now())?;
    }
    Ok(r?)
}

/// What the web's signer is doing, in a sentence.
fn signer_state(state: &AppState) -> String {
    match (state.signer.enabled(), state.signer.current()) {
        (true, Some(s)) => format!("网页签发使用签发密钥 {}。", s.kid),
        (true, None) => "网页签发已停止：网页使用的签发密钥已宣告泄露，轮换密钥后恢复。".into(),
        (false, _) => "网页服务启动时未解锁签发密钥（未使用 --sign），只能在命令行签发。".into(),
    }
}

async fn keys_page(
    state: &AppState,
    user: &User,
    session: &Session,
    notice: Option<Markup>,
) -> Result<Html<String>, WebError> {
    let csrf = csrf_token(session).await?;
    let records = state.store(|s| Ok(s.keys()?)).await?;
    let signing: Vec<&str> = records
        .iter()
        .filter(|k| k.role == KeyRole::Signing.as_str())
        .map(|k| k.kid.as_str())
        .collect();
    let body = html! {
        @if let Some(n) = notice { div.notice { (n) } }
        p { (signer_state(state)) }
        table {
            tr { th { (t("密钥编号", "Key id")) } th { (t("类型", "Kind")) } th { (t("状态", "Status")) }
                 th { (t("创建时间", "Created")) } th { (t("停用时间", "Retired")) }
                 th { (t("宣告泄露", "Declared stolen")) } th { (t("签发范围", "Scope")) } }
            @for k in &records {
                tr {
                    td { code { (k.kid) } }
                    td { (keys::role_label(k)) }
                    td { (keys::status_label(k)) }
                    td { (format_cst(k.created_at)) }
                    td { @if let Some(t) = k.retired_at { (format_cst(t)) } }
                    td {
                        @if let Some(t) = k.compromised_at {
                            (format_cst(t)) "宣告；"
                            @match k.compromised_since {
                                Some(since) if since != checkpass::bundle::COMPROMISED_ALWAYS => {
                                    (format_cst(since)) " 起签发的作废"
                                }
                                _ => { "全部作废" }
                            }
                            @if let Some(r) = &k.compromise_reason { "（" (r) "）" }
                        }
                    }
                    td { (keys::scope_label(k)) }
                }
            }
        }
        h2 { (t("轮换签发密钥", "Rotate the signing key")) }
        p { (t("生成新的签发密钥，旧密钥停用（其签发的通行证到期前仍有效）。新密钥用同一口令加密。轮换后请下载新的信任包分发到各检查站。", "A new signing key replaces the active one (passes it signed stay valid until they expire), sealed with the same passphrase. Then download a new trust bundle for the checkpoints.")) }
        form method="post" action="/admin/keys/rotate" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("签发密钥口令 ", "Signing key passphrase ")) input type="password" name="passphrase" autocomplete="off" required; }
            label { (t("限区划代码前缀（逗号分隔，不填不限）", "Limit to district-code prefixes (comma-separated; empty: any) ")) input name="districts" placeholder="110105,1101"; }
            label { (t("限货物类别（不填不限）", "Limit to categories (empty: any) ")) input name="categories" placeholder="工业原材料,产成品"; }
            p { (t("限定范围的密钥只能签发范围内的申请；检查站须先升级到认识密钥范围的版本。", "A scoped key signs only applications inside its scope; update the checkpoints' verifiers first.")) }
            button { (t("生成新签发密钥", "Create a new signing key")) }
        }
        h2 { (t("宣告签发密钥泄露", "Declare a signing key stolen")) }
        p { (t("下一个信任包起，检查站拒绝该密钥签发的通行证。根密钥泄露不能这样处理。", "From the next trust bundle on, checkpoints refuse the passes it signed. A stolen root key cannot be handled this way.")) }
        form method="post" action="/admin/keys/revoke" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("密钥 ", "Key ")) select name="kid" {
                @for kid in &signing { option value=(kid) { (kid) } }
            } }
            label { (t("理由 ", "Reason ")) input name="reason" required maxlength=(keys::MAX_REASON_CHARS); }
            label { (t("自此时间起签发的作废（不填为全部）", "Refuse what it signed from (empty: all) ")) input type="datetime-local" name="since"; }
            button { (t("宣告泄露", "Declare stolen")) }
        }
    };
    Ok(Html(
        layout(t("密钥管理", "Keys"), Some((user, &csrf)), body).into_string(),
    ))
}

/// `GET /admin/keys`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    admin(&user)?;
    keys_page(&state, &user, &session, None).await
}

/// `POST /admin/keys/rotate` (`passphrase`, optional `districts` and `categories`): a new
/// signing key, limited to that scope if given; the web's signer follows it.
pub async fn rotate(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(mut form): Form<HashMap<String, String>>,
) -> Result<Html<String>, WebError> {
    check_csrf(&session, form.get("csrf").map(String::as_str)).await?;
    admin(&user)?;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let scope = KeyScope::parse(&field("districts"), &field("categories"))
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let passphrase = passphrase(&mut form)?;
    let keys_dir = state.keys_dir.clone();
    let slot = state.signer.clone();
    let actor = user.name.clone();
    let scope_for_key = scope.clone();
    let (kid, retired, signs) = state
        .store(move |s| {
            refuse_if_locked(s, &actor)?;
            // One key change at a time in this process, so the signer ends on the active key.
            let _changing = slot.lock_changes();
            let rotated = keys::rotate(
                s,
                &keys_dir,
                &passphrase,
                &scope_for_key,
                &actor,
                crate::clock::now(),
            );
            let rotated = counted(s, &actor, rotated)?;
            let kid = rotated.kid.clone();
            let signs = slot.replace(WebSigner {
                key: rotated.key,
                kid: rotated.kid,
            });
            Ok((kid, rotated.retired_kid, signs))
        })
        .await?;
    let notice = html! {
        p { "新签发密钥 " code { (kid) } "（范围：" (scope) "）；旧密钥 " code { (retired) }
            " 已停用，其签发的通行证到期前仍有效。" }
        @if signs { p { "网页签发自此使用新密钥。" } }
        p { "请下载新的信任包（" a href="/admin/bundle" { "信任包" } "）并分发到各检查站。" }
    };
    keys_page(&state, &user, &session, Some(notice)).await
}

/// `POST /admin/keys/revoke` (`kid`, `reason`, `since`): a signing key declared compromised;
/// if the web signs with it, the web stops issuing.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Html<String>, WebError> {
    check_csrf(&session, form.get("csrf").map(String::as_str)).await?;
    admin(&user)?;
    let kid = form.get("kid").cloned().unwrap_or_default();
    let reason = form.get("reason").cloned().unwrap_or_default();
    let since = match form
        .get("since")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(t) => Some(checkpass::time::parse_cst(t).ok_or_else(|| {
            WebError::BadRequest(format!("时间“{t}”无法识别，应为“2022-03-12 08:00”的形式"))
        })?),
    };
    let slot = state.signer.clone();
    let actor = user.name.clone();
    let (key, stopped) = state
        .store(move |s| {
            let _changing = slot.lock_changes();
            let key =
                keys::declare_compromised(s, &kid, &reason, since, &actor, crate::clock::now())?;
            let stopped = slot.forget(&key.kid);
            Ok((key, stopped))
        })
        .await?;
    let notice = html! {
        p { "签发密钥 " code { (key.kid) } " 已宣告泄露："
            @match key.compromised_since {
                Some(t) if t != checkpass::bundle::COMPROMISED_ALWAYS => {
                    (format_cst(t)) " 起用它签发的通行证，"
                }
                _ => { "用它签发的全部通行证，" }
            }
            "在检查站安装下一个信任包后一律拒绝。" }
        @if stopped { p.error { "网页签发已停止：轮换密钥后恢复。" } }
        ol {
            li { "生成新签发密钥（下方“轮换签发密钥”）" }
            li { "立即下载信任包（" a href="/admin/bundle" { "信任包" } "）并分发到各检查站" }
            li { "受影响的合法通行证须重新签发" }
        }
    };
    keys_page(&state, &user, &session, Some(notice)).await
}

/// `GET /admin/bundle`: the form, and the latest exports.
pub async fn bundle_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    admin(&user)?;
    let csrf = csrf_token(&session).await?;
    let exports = state
        .store(|s| {
            Ok(s.audit_where(&AuditFilter {
                action: Some("bundle.export".into()),
                newest_first: true,
                limit: Some(10),
                ..AuditFilter::default()
            })?)
        })
        .await?;
    let body = html! {
        p { "信任包含签发密钥（及其有效期、是否泄露）、检查站、已撤销的通行证和核验策略，由根密钥签名；"
            "检查站用 verifier bundle install FILE 安装。每次下载取一个新序号，记入审计日志。" }
        form method="post" action="/admin/bundle" {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("根密钥口令（未单独设置时即签发密钥口令）", "Root key passphrase (the signing key's unless set apart) "))
                input type="password" name="passphrase" autocomplete="off" required; }
            button { (t("签名并下载信任包", "Sign and download the trust bundle")) }
        }
        @if !exports.is_empty() {
            h2 { (t("最近导出", "Recent exports")) }
            table {
                tr { th { (t("时间", "Time")) } th { (t("操作人", "Actor")) } th { (t("内容", "Detail")) } }
                @for e in &exports {
                    tr { td { (format_cst(e.at)) } td { (e.actor) }
                         td { (e.detail.as_deref().unwrap_or("")) } }
                }
            }
        }
    };
    Ok(Html(
        layout(t("信任包", "Trust bundle"), Some((&user, &csrf)), body).into_string(),
    ))
}

/// `POST /admin/bundle` (`passphrase`: the root key's): a freshly signed trust bundle, the
/// file `issuer bundle --out` writes.
pub async fn bundle(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(mut form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    check_csrf(&session, form.get("csrf").map(String::as_str)).await?;
    admin(&user)?;
    let passphrase = passphrase(&mut form)?;
    let keys_dir = state.keys_dir.clone();
    let actor = user.name.clone();
    let (sequence, bytes) = state
        .store(move |s| {
            refuse_if_locked(s, &actor)?;
            let unlocked = keys::unlock_active(s, &keys_dir, KeyRole::Root, &passphrase);
            let (_, root) = counted(s, &actor, unlocked)?;
            let (b, bytes) = trust::export(s, &root, crate::clock::now(), &actor, "网页下载")?;
            Ok((b.sequence, bytes))
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"trust-bundle-{sequence}.cose\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
