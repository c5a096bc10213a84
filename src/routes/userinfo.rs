//! `GET`/`POST /userinfo` (OIDC Core §5.3): the claims of the user a Bearer
//! access token was issued to. A missing, bad, expired or revoked token is a
//! 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3).

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::paths;
use crate::app::SharedState;
use crate::error::ApiError;
use crate::oauth::inspect;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new().route(paths::USERINFO, get(userinfo_get).post(userinfo_get))
}

/// The token of an `Authorization: Bearer ...` header (RFC 6750 §2.1).
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::InvalidToken("Authorization: a Bearer access token is required".into())
        })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::InvalidToken(
            "Authorization: expected `Bearer <access token>`".into(),
        )),
    }
}

/// `GET /userinfo` and `POST /userinfo`.
pub async fn userinfo_get(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let token = bearer(&headers)?;
    inspect::userinfo(&state, token, crate::unix_now()).map(Json)
}
