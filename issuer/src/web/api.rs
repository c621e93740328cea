//! The JSON API under `/api/`, over the same accounts, sessions and rules as the pages. State
//! changes take the session's CSRF token in the `X-CSRF-Token` header (`GET /api/me` gives
//! it). Errors are JSON: `{"error": "…", "status": 403}`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower_sessions::Session;

use super::pages::{masked_id, masked_mobile, QueueQuery};
use super::session::{check_csrf, csrf_token, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::User;
use crate::domain::Application;

/// An error as the API answers it.
pub struct ApiError(WebError);

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        (
            status,
            Json(json!({ "error": self.0.to_string(), "status": status.as_u16() })),
        )
            .into_response()
    }
}

/// The signed-in account, or a JSON 401 (never a redirect to the sign-in page).
pub struct ApiUser(User);

impl FromRequestParts<Arc<AppState>> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        CurrentUser::from_request_parts(parts, state)
            .await
            .map(|CurrentUser(u)| ApiUser(u))
            .map_err(ApiError)
    }
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/applications", get(list))
        .route("/applications/{app_no}/{action}", post(act))
}

async fn openapi() -> Json<Value> {
    Json(
        serde_json::from_str(OPENAPI)
            .unwrap_or_else(|e| json!({ "error": format!("OpenAPI document unreadable: {e}") })),
    )
}

#[derive(Serialize)]
struct Me {
    name: String,
    role: crate::accounts::Role,
    district: Option<u32>,
    organisation: Option<String>,
    csrf: String,
}

async fn me(ApiUser(user): ApiUser, session: Session) -> Result<Json<Me>, ApiError> {
    Ok(Json(Me {
        csrf: csrf_token(&session).await?,
        name: user.name,
        role: user.role,
        district: user.district,
        organisation: user.organisation,
    }))
}

/// An application as lists show it: the ID number and mobile masked.
#[derive(Serialize)]
pub struct Listed {
    app_no: String,
    status: crate::workflow::Status,
    district: u32,
    plate: String,
    driver_name: String,
    driver_id: String,
    mobile: String,
    start_at: i64,
    end_at: i64,
    route: Vec<String>,
    reject_reason: Option<String>,
    serial: Option<String>,
    /// The national pass number printed on the sheet (`371003-000001-6`).
    number: Option<String>,
}

impl From<&Application> for Listed {
    fn from(a: &Application) -> Listed {
        Listed {
            app_no: a.data.app_no.clone(),
            status: a.status,
            district: a.data.district,
            plate: a.data.plate.clone(),
            driver_name: a.data.driver_name.clone(),
            driver_id: masked_id(&a.data.driver_id),
            mobile: masked_mobile(&a.data.mobile),
            start_at: a.data.start_at,
            end_at: a.data.end_at,
            route: a.data.route.clone(),
            reject_reason: a.reject_reason.clone(),
            serial: a.pass.as_ref().map(|p| p.serial.to_string()),
            number: a
                .pass
                .as_ref()
                .map(|p| checkpass::number::printed(a.data.district, p.serial)),
        }
    }
}

async fn list(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Vec<Listed>>, ApiError> {
    let filter = q.filter(&user)?;
    let apps = state
        .store(move |s| {
            let mut apps = s.list(&filter)?;
            apps.retain(|a| user.may_see(a));
            Ok(apps)
        })
        .await?;
    Ok(Json(apps.iter().map(Listed::from).collect()))
}

#[derive(Deserialize)]
struct ActBody {
    /// The status the caller decided on.
    seen: Option<String>,
    reason: Option<String>,
}

async fn act(
    State(state): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    session: Session,
    headers: HeaderMap,
    Path((app_no, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Listed>, ApiError> {
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    check_csrf(&session, token).await?;
    // No body, or `null`, is an action with nothing more to say; anything else must read as
    // the documented object, and a body that does not is a 400 that says why.
    let body: Option<ActBody> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| WebError::BadRequest(format!("请求体不是有效的 JSON 对象：{e}")))?
    };
    let body = body.unwrap_or(ActBody {
        seen: None,
        reason: None,
    });
    let app = super::pages::act(
        &state,
        &user,
        app_no,
        &action,
        body.seen.as_deref(),
        body.reason,
    )
    .await?;
    Ok(Json(Listed::from(&app)))
}

/// The API's OpenAPI 3.1 document, served at `/api/openapi.json`.
const OPENAPI: &str = include_str!("openapi.json");
