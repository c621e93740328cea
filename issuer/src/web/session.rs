//! Signing in and out, and who is asking.
//!
//! Sessions are tower-sessions' (a maintained layer: random ids, cookie handling, expiry on
//! inactivity), kept in the store's `sessions` table so that every server process on one
//! database shares them. The cookie is `HttpOnly`, `SameSite=Strict`, and `Secure` behind TLS.
//! Each session carries a CSRF token: every state change must send it back (a form's hidden
//! field, or the API's `X-CSRF-Token` header). The account is read from the store on every
//! request, so disabling it ends its sessions at once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use super::{pages, AppState, WebError};
use crate::accounts::{self, User};

const USER_KEY: &str = "user";
const CSRF_KEY: &str = "csrf";
/// A session ends after this long without a request.
const IDLE_HOURS: i64 = 8;

/// The session store: the issuer's store, through the blocking pool.
#[derive(Clone)]
pub struct DbSessions(AppState);

impl std::fmt::Debug for DbSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessions")
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Session times are the real clock's, even when `ISSUER_NOW` simulates the issuer's.
fn real_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[async_trait::async_trait]
impl SessionStore for DbSessions {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let id = record.id.to_string();
        let data = serde_json::to_string(record).map_err(backend)?;
        let expires = record.expiry_date.unix_timestamp();
        self.0
            .store(move |s| Ok(s.session_save(&id, &data, expires)?))
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let sid = id.to_string();
        let data = self
            .0
            .store(move |s| Ok(s.session_load(&sid, real_now())?))
            .await
            .map_err(backend)?;
        // A record that does not read back is treated as no session, not as an error.
        Ok(data.and_then(|d| serde_json::from_str(&d).ok()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let sid = id.to_string();
        self.0
            .store(move |s| Ok(s.session_delete(&sid, real_now())?))
            .await
            .map_err(backend)
    }
}

/// The session layer over the store.
pub fn layer(state: AppState) -> SessionManagerLayer<DbSessions> {
    let secure = state.secure_cookies;
    SessionManagerLayer::new(DbSessions(state))
        .with_name("issuer_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(Duration::hours(IDLE_HOURS)))
}

/// The session's CSRF token, made on first use.
pub async fn csrf_token(session: &Session) -> Result<String, WebError> {
    if let Some(t) = session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
    {
        return Ok(t);
    }
    let token = crate::random_hex(32).map_err(|e| WebError::Internal(e.to_string()))?;
    session
        .insert(CSRF_KEY, &token)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(token)
}

/// Refuses a state change whose token is missing or not the session's.
pub async fn check_csrf(session: &Session, sent: Option<&str>) -> Result<(), WebError> {
    let expected = session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let ok = match (expected, sent) {
        (Some(e), Some(s)) => constant_time_eq(e.as_bytes(), s.as_bytes()),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试".into(),
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in account, read from the store for this request.
pub struct CurrentUser(pub User);

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::SignIn)?;
        let Some(name) = session
            .get::<String>(USER_KEY)
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
        else {
            return Err(WebError::SignIn);
        };
        let user = state
            .store(move |s| Ok(s.user_with_hash(&name)?.map(|(u, _)| u)))
            .await?;
        match user {
            Some(u) if u.is_active() => Ok(CurrentUser(u)),
            // Disabled or removed since signing in: the session ends here.
            _ => {
                let _ = session.flush().await;
                Err(WebError::SignIn)
            }
        }
    }
}

pub async fn login_page(session: Session) -> Result<Response, WebError> {
    let csrf = csrf_token(&session).await?;
    Ok(Html(pages::login_page(&csrf, None).into_string()).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: Option<String>,
}

/// What a sign-in attempt found.
enum Attempt {
    Ok(User),
    Wrong,
    Locked(i64),
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_csrf(&session, form.csrf.as_deref()).await?;
    let name = form.name.trim().to_string();
    let password = form.password;
    if name.is_empty() || name.len() > 64 || password.len() > 1024 {
        return Err(WebError::BadRequest("请填写账号和口令".into()));
    }
    let now = crate::clock::now();
    let attempt = state
        .store(move |s| {
            let found = s.user_with_hash(&name)?;
            // The same Argon2 work whether or not the account exists, so the answer's timing
            // does not tell which names exist.
            let hash = match &found {
                Some((_, h)) => h.clone(),
                None => dummy_hash()?,
            };
            let hash = hash.as_str();
            let good = accounts::verify_password(&password, hash);
            Ok(match found {
                Some((u, _)) if u.is_locked(now) => Attempt::Locked(u.locked_until.unwrap_or(now)),
                Some((u, _)) if good && u.is_active() => {
                    s.login_succeeded(&u.name, now)?;
                    Attempt::Ok(u)
                }
                Some((u, _)) => {
                    if !good {
                        s.login_failed(&u.name, now)?;
                    }
                    Attempt::Wrong
                }
                None => Attempt::Wrong,
            })
        })
        .await?;
    match attempt {
        Attempt::Ok(user) => {
            // A new session id at sign-in: an id planted before cannot be used after.
            session
                .cycle_id()
                .await
                .map_err(|e| WebError::Internal(e.to_string()))?;
            session
                .insert(USER_KEY, &user.name)
                .await
                .map_err(|e| WebError::Internal(e.to_string()))?;
            Ok(Redirect::to("/").into_response())
        }
        Attempt::Locked(until) => Err(locked(until)),
        Attempt::Wrong => {
            let csrf = csrf_token(&session).await?;
            Ok((
                axum::http::StatusCode::UNAUTHORIZED,
                Html(pages::login_page(&csrf, Some("账号或口令错误，或账号已停用")).into_string()),
            )
                .into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
    #[serde(flatten)]
    pub rest: HashMap<String, String>,
}

pub async fn logout(session: Session, Form(form): Form<CsrfForm>) -> Result<Response, WebError> {
    check_csrf(&session, form.csrf.as_deref()).await?;
    session
        .flush()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Redirect::to("/login").into_response())
}

/// An Argon2id hash of a random password nobody knows, made once, verified when the name is
/// unknown.
fn dummy_hash() -> Result<String, WebError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let password = crate::random_hex(24).map_err(|e| WebError::Internal(e.to_string()))?;
    let hash = accounts::hash_password(&password).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(DUMMY.get_or_init(|| hash).clone())
}

/// The answer to an account locked after too many wrong passwords (or key passphrases).
pub(crate) fn locked(until: i64) -> WebError {
    WebError::TooMany(format!(
        "口令错误次数过多，账号暂时锁定，请于 {} 后再试",
        crate::validate::format_cst(until)
    ))
}
