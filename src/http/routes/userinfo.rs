//! `GET`/`POST <mount>/userinfo` (OIDC Core §5.3): the claims of the user a
//! Bearer access token was issued to. A missing, bad, expired or revoked
//! token is a 401 with `WWW-Authenticate: Bearer error="invalid_token"`.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::no_store;
use crate::http::error::ApiError;
use crate::http::extract::{Bearer, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::paths;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    issuer_route(
        Router::new(),
        paths::USERINFO,
        get(userinfo_get).post(userinfo_get),
    )
    .layer(no_store())
}

/// `GET <mount>/userinfo` and `POST <mount>/userinfo`.
pub async fn userinfo_get(
    Iss(issuer): Iss,
    Bearer(token): Bearer,
) -> Result<Json<Map<String, Value>>, ApiError> {
    Ok(Json(issuer.userinfo(&token)?))
}
