//! The issuer as a web service (`issuer serve`): the same library and rules as the command
//! line, for the people of the chain, each signed in with only their own rights.
//!
//! - [`session`]: signing in and out, the session (tower-sessions over the store's `sessions`
//!   table, so any server process on one database knows every session) and its CSRF token;
//! - [`i18n`]: Chinese first, English on request (`/lang?to=en`);
//! - [`pages`]: the server-rendered HTML (maud: escaped by construction), Chinese first;
//! - [`apply`]: the applicant's form, checked by the import's own rules;
//! - [`admin`]: the admin's pages: accounts, keys, registry and policy, trust bundle, audit;
//! - [`city`]: the city's bulk decisions, SMS outbox and print batch;
//! - [`upload`]: a district liaison's spreadsheet upload (the command line's import);
//! - [`passes`]: issuing from the web, and the pass files to download;
//! - [`api`]: the JSON API under `/api/` and its OpenAPI document;
//! - [`checkpoint_app`]: the checkpoint web app's static files at `/checkpoint/`.
//!
//! The store is synchronous (its PostgreSQL client runs its own small runtime), so every store
//! call runs on tokio's blocking pool through [`AppState::store`], with connections from an
//! r2d2 pool. Who may see and do what is decided by [`crate::accounts`], on the server, for
//! every request: a hidden button is never the only guard.

pub mod admin;
pub mod api;
pub mod apply;
pub mod checkpoint_app;
pub mod city;
pub mod i18n;
pub mod network;
pub mod pages;
pub mod passes;
pub mod session;
pub mod upload;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use zeroize::Zeroizing;

use crate::accounts::Refusal;
use crate::store::{self, Location, Store, StoreError};

/// Opens store connections for the pool.
#[derive(Debug)]
pub struct StoreManager {
    location: Location,
}

impl r2d2::ManageConnection for StoreManager {
    type Connection = Box<dyn Store>;
    type Error = StoreError;

    fn connect(&self) -> Result<Box<dyn Store>, StoreError> {
        store::open(&self.location)
    }

    fn is_valid(&self, conn: &mut Box<dyn Store>) -> Result<(), StoreError> {
        conn.schema_version().map(|_| ())
    }

    fn has_broken(&self, _conn: &mut Box<dyn Store>) -> bool {
        false
    }
}

/// The signing key a city reviewer issues with from the web, unlocked when the service
/// started (`issuer serve` with the passphrase); without it, passes are issued from the
/// command line only.
pub struct WebSigner {
    pub key: checkpass::keys::SigningKey,
    pub kid: String,
}

/// Where the service keeps its [`WebSigner`]. It follows the admin's key changes made from the
/// web: a rotation puts the new key in (if the service signs at all), declaring the key
/// compromised takes it out, so no pass is signed with a retired key. A change made elsewhere
/// (the command line, another server process) is caught when issuing — the signer must be the
/// store's active key — and followed there ([`SignerSlot::follow`]): the new active key is
/// unlocked with the passphrase the service started with (a rotation seals the new key with the
/// same one).
#[derive(Default)]
pub struct SignerSlot {
    /// Started with `--sign`.
    enabled: bool,
    current: std::sync::RwLock<Option<Arc<WebSigner>>>,
    /// Held across a key change and the signer's update that follows it.
    changing: std::sync::Mutex<()>,
    /// The signing keys' passphrase the service was started with, to unlock a key rotated
    /// elsewhere; zeroed when the service ends. Never logged or shown.
    passphrase: Option<Zeroizing<String>>,
}

impl SignerSlot {
    pub fn new(signer: Option<WebSigner>) -> SignerSlot {
        SignerSlot {
            enabled: signer.is_some(),
            current: std::sync::RwLock::new(signer.map(Arc::new)),
            changing: std::sync::Mutex::new(()),
            passphrase: None,
        }
    }

    /// A signer that can follow a key rotated elsewhere, unlocking it with `passphrase`.
    pub fn following(signer: WebSigner, passphrase: Zeroizing<String>) -> SignerSlot {
        SignerSlot {
            passphrase: Some(passphrase),
            ..SignerSlot::new(Some(signer))
        }
    }

    /// The signer for the store's active signing key `active_kid`: the one held if it is that
    /// key, else that key unlocked with the passphrase the service started with (a rotation or
    /// a compromise declared on the command line or in another process). `None` when the
    /// service does not sign, or the key cannot be unlocked with it.
    pub fn follow(
        &self,
        store: &dyn Store,
        keys_dir: &std::path::Path,
        active_kid: &str,
    ) -> Option<Arc<WebSigner>> {
        if !self.enabled {
            return None;
        }
        if let Some(s) = self.current().filter(|s| s.kid == active_kid) {
            return Some(s);
        }
        let passphrase = self.passphrase.as_ref()?;
        let _changing = self.lock_changes();
        // Another request may have followed it while this one waited.
        if let Some(s) = self.current().filter(|s| s.kid == active_kid) {
            return Some(s);
        }
        let (record, key) = crate::keys::unlock_active(
            store,
            keys_dir,
            checkpass::keys::KeyRole::Signing,
            passphrase,
        )
        .ok()?;
        if record.kid != active_kid {
            return None;
        }
        let signer = Arc::new(WebSigner {
            key,
            kid: record.kid,
        });
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(signer.clone());
        Some(signer)
    }

    /// One key change at a time in this process: two rotations at once must leave the signer
    /// on the key the store made active last.
    pub fn lock_changes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the service was started to issue from the web.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The key to issue with now.
    pub fn current(&self) -> Option<Arc<WebSigner>> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// After a rotation: the new key signs from now on, if the service signs at all. Returns
    /// whether it does.
    pub fn replace(&self, signer: WebSigner) -> bool {
        if !self.enabled {
            return false;
        }
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(signer));
        true
    }

    /// After `kid` was declared compromised: no more signing with it. Returns whether it was
    /// the key in use.
    pub fn forget(&self, kid: &str) -> bool {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.as_ref().is_some_and(|s| s.kid == kid) {
            *current = None;
            true
        } else {
            false
        }
    }
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pool: r2d2::Pool<StoreManager>,
    /// Cookies marked `Secure` (the service is behind TLS).
    pub secure_cookies: bool,
    /// Where pass files are written and read (the data directory's `passes/`).
    pub passes_dir: std::path::PathBuf,
    /// The sealed keys (the data directory's `keys/`): the admin's rotation and bundle.
    pub keys_dir: std::path::PathBuf,
    pub signer: Arc<SignerSlot>,
    /// The checkpoint web app's directory (`checkpoint-web/dist`), served at `/checkpoint/`.
    pub checkpoint_app: Option<std::path::PathBuf>,
}

impl AppState {
    /// A pool of up to `connections` store connections at `location` (one is opened now, so a
    /// wrong location fails at start, not at the first request).
    pub fn new(location: Location, connections: u32) -> Result<AppState, WebError> {
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(1))
            .min_idle(Some(1))
            .build(StoreManager { location })
            .map_err(|e| WebError::Internal(format!("无法打开数据库：{e}")))?;
        Ok(AppState {
            pool,
            secure_cookies: false,
            passes_dir: std::path::PathBuf::from("passes"),
            keys_dir: std::path::PathBuf::from("keys"),
            signer: Arc::default(),
            checkpoint_app: None,
        })
    }

    /// Issue from the web with `signer` (`None`: from the command line only).
    pub fn set_signer(&mut self, signer: Option<WebSigner>) {
        self.signer = Arc::new(SignerSlot::new(signer));
    }

    /// Issue from the web with `signer`, following a key rotated elsewhere by unlocking it
    /// with `passphrase` (`issuer serve --sign`).
    pub fn set_following_signer(&mut self, signer: WebSigner, passphrase: Zeroizing<String>) {
        self.signer = Arc::new(SignerSlot::following(signer, passphrase));
    }

    /// Runs `f` with a store connection on the blocking pool.
    pub async fn store<T, F>(&self, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, WebError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| WebError::Internal(format!("数据库连接不可用：{e}")))?;
            f(&mut **conn)
        })
        .await
        .map_err(|e| WebError::Internal(format!("请求处理中断：{e}")))?
    }
}

/// Why a request did not succeed, as the person sees it. Bad input is never a 500: only a
/// failing database or server is.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("请先登录")]
    SignIn,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooMany(String),
    #[error("服务器内部错误：{0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::SignIn => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        match e {
            StoreError::NoSuchApplication(_)
            | StoreError::NoSuchPass(_)
            | StoreError::NoSuchKey(_)
            | StoreError::NoSuchUser(_) => WebError::NotFound(e.to_string()),
            StoreError::Illegal(_) | StoreError::Conflict { .. } | StoreError::UserExists(_) => {
                WebError::Conflict(e.to_string())
            }
            StoreError::CodesInUse(_)
            | StoreError::RootKeyCompromise(_)
            | StoreError::NoSuchDevice(_) => WebError::BadRequest(e.to_string()),
            StoreError::Join(_) => WebError::Conflict(e.to_string()),
            other => WebError::Internal(checkpass::describe_error(&other)),
        }
    }
}

impl From<Refusal> for WebError {
    fn from(r: Refusal) -> WebError {
        WebError::Forbidden(r.to_string())
    }
}

impl IntoResponse for WebError {
    /// An HTML page with the reason; a refused sign-in sends the browser to the sign-in page.
    fn into_response(self) -> Response {
        if matches!(self, WebError::SignIn) {
            return axum::response::Redirect::to("/login").into_response();
        }
        (self.status(), pages::error_page(&self)).into_response()
    }
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    let sessions = session::layer(state.clone());
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/districts", get(pages::districts))
        .route(
            "/apply",
            get(apply::apply_page)
                .post(apply::submit)
                .layer(axum::extract::DefaultBodyLimit::max(apply::MAX_FORM_BYTES)),
        )
        .route(
            "/upload",
            get(upload::page)
                .post(upload::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    upload::MAX_UPLOAD_BYTES + 64 * 1024,
                )),
        )
        .route("/admin/users", get(admin::users).post(admin::add))
        .route("/admin/users/{name}/{action}", post(admin::set_disabled))
        .merge(admin::routes())
        .route("/queue", get(pages::queue))
        .route("/decide", post(city::decide))
        .route("/outbox", get(city::outbox_page))
        .route("/outbox.csv", get(city::outbox_csv))
        .route("/print", get(city::print_page))
        .route("/print.pdf", get(city::print_pdf))
        .route("/applications/{app_no}", get(pages::application))
        .route(
            "/applications/{app_no}/{action}",
            post(pages::act_on_application),
        )
        .route("/applications/{app_no}/files/{name}", get(passes::download))
        .route("/applications/{app_no}/report", get(pages::report))
        .route(
            "/applications/{app_no}/amend",
            get(apply::amend_page)
                .post(apply::amend)
                .layer(axum::extract::DefaultBodyLimit::max(apply::MAX_FORM_BYTES)),
        )
        .route("/findings", get(network::findings_page))
        .route("/findings/revoke", post(network::revoke_finding))
        .route(
            "/scans",
            get(network::scans_page).post(network::upload_scans).layer(
                axum::extract::DefaultBodyLimit::max(network::MAX_SCANS_UPLOAD_BYTES),
            ),
        )
        .route("/lang", get(i18n::switch))
        .nest("/api", api::router())
        .route("/checkpoint", get(checkpoint_app::redirect))
        .route("/checkpoint/", get(checkpoint_app::file))
        .route("/checkpoint/root.pub", get(checkpoint_app::root_key))
        .route("/checkpoint/bundle.cose", get(checkpoint_app::bundle))
        .route("/checkpoint/{*path}", get(checkpoint_app::file))
        .layer(sessions)
        .layer(axum::middleware::from_fn(i18n::middleware))
        .with_state(Arc::new(state))
}

/// Ctrl-C, or SIGTERM (what a service manager sends).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serves on `addr` until Ctrl-C or SIGTERM, then finishes the requests in flight. The caller
/// keeps a clone of `state` and drops it outside the runtime (see `AppState::store`: the
/// PostgreSQL client blocks, also when it closes).
pub async fn serve(addr: SocketAddr, state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!(
        "issuer 网页服务已启动 / web service listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
}
