//! `GET <mount>/_admin/users` and `GET|PUT|DELETE <mount>/_admin/users/{name}`:
//! personas at runtime, as users file entries (`password` shown as `<set>`).

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use super::{Params, put_status};
use crate::http::error::ApiError;
use crate::http::extract::{Body, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::controls::{persona_view, users_view};
use crate::issuer::paths::admin;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let router = issuer_route(Router::new(), admin::USERS, get(users_get));
    issuer_route(
        router,
        admin::USER,
        get(user_get).put(user_put).delete(user_delete),
    )
}

/// `GET <mount>/_admin/users`: every persona by name (the users file's shape).
pub async fn users_get(Iss(issuer): Iss) -> Json<Value> {
    Json(users_view(&issuer.users()))
}

/// `GET <mount>/_admin/users/{name}`.
pub async fn user_get(Iss(issuer): Iss, params: Params) -> Result<Json<Value>, ApiError> {
    Ok(Json(persona_view(&issuer.persona(params.get("name"))?)))
}

/// `PUT <mount>/_admin/users/{name}`: creates (201) or replaces (200).
pub async fn user_put(
    Iss(issuer): Iss,
    params: Params,
    Body(body): Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (persona, created) = issuer.put_persona(params.get("name"), &body)?;
    Ok((put_status(created), Json(persona_view(&persona))))
}

/// `DELETE <mount>/_admin/users/{name}`: 204, or 404 for an unknown name.
pub async fn user_delete(Iss(issuer): Iss, params: Params) -> Result<StatusCode, ApiError> {
    issuer.delete_persona(params.get("name"))?;
    Ok(StatusCode::NO_CONTENT)
}
