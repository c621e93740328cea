//! The checkpoint web app at `/checkpoint/`: the static files `scripts/build-checkpoint-web.sh`
//! builds into `checkpoint-web/dist/` (HTML, JavaScript, the verifier's WebAssembly, the QR
//! reader's, a manifest and a service worker), served from that directory as they are.
//!
//! Served from a directory at run time (tower-http's `ServeDir`), not embedded in the binary:
//! the app is built by other tools (the wasm target, wasm-bindgen, npm), which every build and
//! lint of the issuer would otherwise need; the city can update the app without a new issuer;
//! and the directory served is the very folder that is copied to a checkpoint with no server.
//! `ServeDir` keeps requests inside the directory and gives `.wasm` its `application/wasm`.
//! The service says `no-cache`: a phone online asks again (its service worker keeps the app
//! for offline use), so a new app reaches it.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

use super::{AppState, WebError};

/// `/checkpoint` → `/checkpoint/`, so that the app's relative URLs resolve under it.
pub async fn redirect() -> Redirect {
    Redirect::permanent("/checkpoint/")
}

/// A file of the app, `/checkpoint/PATH` → `DIR/PATH` (`index.html` for the directory).
pub async fn file(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let Some(dir) = state.checkpoint_app.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "检查站网页应用未配置 (the checkpoint app is not configured: issuer serve --checkpoint-app DIR)",
        )
            .into_response();
    };
    serve(dir, req).await
}

async fn serve(dir: PathBuf, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let rest = parts
        .uri
        .path()
        .strip_prefix("/checkpoint")
        .unwrap_or("/")
        .to_string();
    let rest = if rest.is_empty() {
        "/".to_string()
    } else {
        rest
    };
    parts.uri = match rest.parse::<Uri>() {
        Ok(uri) => uri,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let req = Request::from_parts(parts, body);
    match tower_http::services::ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .try_call(req)
        .await
    {
        Ok(res) => {
            let mut res = res.map(Body::new);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `/checkpoint/root.pub`: the active root public key, offered to the app's set-up. The app
/// pins it only after the officer has compared its key id with the printed one: a server (or
/// a network) that lies about the root is caught by that comparison, not trusted.
pub async fn root_key(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    match state
        .store(|s| Ok(crate::trust::root_public_key_file(s)?))
        .await?
    {
        Some(text) => Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            text,
        )
            .into_response()),
        None => Err(WebError::NotFound(
            "尚无根密钥（issuer init）/ no root key yet".into(),
        )),
    }
}

/// `/checkpoint/bundle.cose`: the newest trust bundle built, for a phone online to install.
/// The app judges it as a bundle from a file (root, sequence, size): the server is not trusted.
pub async fn bundle(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    match state.store(|s| Ok(crate::trust::published(s)?)).await? {
        Some(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "application/cose"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response()),
        None => Err(WebError::NotFound(
            "尚未生成信任包（issuer bundle 或 管理 → 信任包）/ no bundle built yet".into(),
        )),
    }
}
