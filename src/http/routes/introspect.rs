//! `POST <mount>/introspect` (RFC 7662) and `POST <mount>/revoke` (RFC
//! 7009). Both take a form with `token`; with clients registered the caller
//! must authenticate as one of them, otherwise anyone may call them.

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;

use super::no_store;
use crate::http::error::ApiError;
use crate::http::extract::{Basic, Iss, OAuthForm};
use crate::http::{SharedState, issuer_route};
use crate::issuer::paths;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let router = issuer_route(Router::new(), paths::INTROSPECT, post(introspect_post));
    issuer_route(router, paths::REVOKE, post(revoke_post)).layer(no_store())
}

/// `POST <mount>/introspect`: `{"active": true, ...claims}` or `{"active": false}`.
pub async fn introspect_post(
    Iss(issuer): Iss,
    Basic(basic): Basic,
    OAuthForm(form): OAuthForm,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(issuer.introspect(basic.as_ref(), &form)?))
}

/// `POST <mount>/revoke`: 200 once the caller is authenticated, known token or not.
pub async fn revoke_post(
    Iss(issuer): Iss,
    Basic(basic): Basic,
    OAuthForm(form): OAuthForm,
) -> Result<StatusCode, ApiError> {
    let revoked = issuer.revoke(basic.as_ref(), &form)?;
    tracing::debug!(issuer = issuer.name(), revoked, "revocation request");
    Ok(StatusCode::OK)
}
