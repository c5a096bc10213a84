//! Key rotation drill, per issuer: `POST <mount>/_admin/keys/rotate`
//! (`{"grace_sec": N}`, default 0), `DELETE <mount>/_admin/keys/{kid}` and
//! `GET <mount>/_admin/keys`.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::extract::{Body, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::paths::admin::{KEY, KEYS, KEYS_ROTATE};
use crate::keys::UnpublishError;

/// Routes of this area (behind `ADMIN_TOKEN` and `no-store`: see [`super::router`]).
pub fn router() -> Router<SharedState> {
    let router = issuer_route(Router::new(), KEYS, get(keys_get));
    let router = issuer_route(router, KEYS_ROTATE, post(rotate_post));
    issuer_route(router, KEY, delete(key_delete))
}

/// The body of a rotation request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    /// Seconds until the new key signs (it is published at once).
    #[serde(default)]
    grace_sec: i64,
}

/// `GET <mount>/_admin/keys`: the issuer's own keys and their state.
pub async fn keys_get(Iss(issuer): Iss) -> Json<Value> {
    Json(issuer.key_status())
}

/// `POST <mount>/_admin/keys/rotate`.
pub async fn rotate_post(Iss(issuer): Iss, Body(body): Body) -> Result<Json<Value>, ApiError> {
    let req: RotateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RotateRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid_request(format!("body: {e}")))?
    };
    let r = issuer.rotate_keys(req.grace_sec).await?;
    Ok(Json(json!({
        "active_kid": r.active_kid,
        "next_kid": r.next_kid,
        "switch_at": r.switch_at,
    })))
}

/// `DELETE <mount>/_admin/keys/{kid}`: 204, 404 unknown kid, 409 the signing key.
pub async fn key_delete(
    Iss(issuer): Iss,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<StatusCode, ApiError> {
    let kid = params
        .iter()
        .find(|(k, _)| k == "kid")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    match issuer.unpublish_key(kid) {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e @ UnpublishError::Unknown(_)) => Err(ApiError::NotFound(e.to_string())),
        Err(e @ UnpublishError::Active(_)) => Err(ApiError::Conflict(e.to_string())),
    }
}
