//! `GET|PUT|DELETE <mount>/_admin/clock`: the issuer's clock, shifted
//! (`{"offset_sec": N}`) or frozen (`{"now": unix}`). Minting, grants, code
//! and refresh-token expiry, userinfo and introspection all read it.

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::http::error::ApiError;
use crate::http::extract::{Body, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::controls::{clock_view, parse_clock};
use crate::issuer::paths::admin;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    issuer_route(
        Router::new(),
        admin::CLOCK,
        get(clock_get).put(clock_put).delete(clock_delete),
    )
}

/// `GET <mount>/_admin/clock`: `{"now", "offset_sec", "frozen"}`.
pub async fn clock_get(Iss(issuer): Iss) -> Json<Value> {
    Json(clock_view(issuer.clock()))
}

/// `PUT <mount>/_admin/clock`: sets it and answers as `GET` does.
pub async fn clock_put(Iss(issuer): Iss, Body(body): Body) -> Result<Json<Value>, ApiError> {
    issuer.clock().set(parse_clock(&body)?);
    Ok(Json(clock_view(issuer.clock())))
}

/// `DELETE <mount>/_admin/clock`: back to the system clock.
pub async fn clock_delete(Iss(issuer): Iss) -> StatusCode {
    issuer.clock().reset();
    StatusCode::NO_CONTENT
}
