//! `POST /introspect` (RFC 7662) and `POST /revoke` (RFC 7009). Both take a
//! form with `token` (and an optional `token_type_hint`). With clients
//! configured the caller must authenticate as one of them; otherwise anyone
//! may call them.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;

use super::paths;
use crate::app::SharedState;
use crate::error::ApiError;
use crate::oauth::{self, Form, inspect};

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route(paths::INTROSPECT, post(introspect_post))
        .route(paths::REVOKE, post(revoke_post))
}

fn form(headers: &HeaderMap, body: &Bytes) -> Result<Form, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "content type {content_type:?} is not supported; send application/x-www-form-urlencoded"
        )));
    }
    serde_urlencoded::from_bytes(body)
        .map(Form::new)
        .map_err(|e| ApiError::InvalidRequest(format!("form body is not valid URL encoding: {e}")))
}

/// `POST /introspect`: `{"active": true, ...claims}` or `{"active": false}`.
pub async fn introspect_post(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = form(&headers, &body)?;
    oauth::authenticate_caller(&state, &headers, &form)?;
    let token = form.require("token")?;
    let answer = inspect::introspect(&state, token, crate::unix_now());
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(answer),
    )
        .into_response())
}

/// `POST /revoke`: always 200 once the caller is authenticated, known token or not.
pub async fn revoke_post(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let form = form(&headers, &body)?;
    oauth::authenticate_caller(&state, &headers, &form)?;
    let token = form.require("token")?;
    let revoked = inspect::revoke(&state, token, crate::unix_now());
    tracing::debug!(revoked, "revocation request");
    Ok(StatusCode::OK)
}
