//! `GET <mount>/_admin/clients` and `GET|PUT|DELETE
//! <mount>/_admin/clients/{client_id}`: registered clients at runtime (RFC
//! 7591 fields; `client_secret` is never returned). No client registered =
//! any client accepted; the first makes the issuer strict, deleting the
//! last makes it open again.

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use super::{Params, put_status};
use crate::http::error::ApiError;
use crate::http::extract::{Body, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::controls::{client_view, clients_view};
use crate::issuer::paths::admin;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let router = issuer_route(Router::new(), admin::CLIENTS, get(clients_get));
    issuer_route(
        router,
        admin::CLIENT,
        get(client_get).put(client_put).delete(client_delete),
    )
}

/// `GET <mount>/_admin/clients`: every client (the config file's `clients:` list).
pub async fn clients_get(Iss(issuer): Iss) -> Json<Value> {
    Json(clients_view(&issuer.clients()))
}

/// `GET <mount>/_admin/clients/{client_id}`.
pub async fn client_get(Iss(issuer): Iss, params: Params) -> Result<Json<Value>, ApiError> {
    let client = issuer.client(params.get("client_id"))?;
    Ok(Json(client_view(&client)))
}

/// `PUT <mount>/_admin/clients/{client_id}`: registers (201) or replaces (200).
pub async fn client_put(
    Iss(issuer): Iss,
    params: Params,
    Body(body): Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (client, created) = issuer.put_client(params.get("client_id"), &body)?;
    Ok((put_status(created), Json(client_view(&client))))
}

/// `DELETE <mount>/_admin/clients/{client_id}`: 204, or 404 for an unknown id.
pub async fn client_delete(Iss(issuer): Iss, params: Params) -> Result<StatusCode, ApiError> {
    issuer.delete_client(params.get("client_id"))?;
    Ok(StatusCode::NO_CONTENT)
}
