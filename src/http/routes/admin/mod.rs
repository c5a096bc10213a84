//! Test controls under each issuer's mount: `<mount>/_admin/...` (the
//! root's at `/_admin`, a named issuer's at `/{issuer}/_admin`). A control
//! on one issuer never affects another. The state and every rule live in
//! the issuer core ([`crate::issuer::controls`]); handlers here extract,
//! call and map.
//!
//! [`router`] merges one sub-router per area and puts them all behind
//! `ADMIN_TOKEN` ([`require_admin_token`]): an area added with `.merge(...)`
//! there is protected like the others.

pub mod clients;
pub mod clock;
pub mod faults;
pub mod keys;
pub mod requests;
pub mod users;

use axum::Router;
use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::no_store;
use crate::http::error::ApiError;
use crate::http::extract::Iss;
use crate::http::{SharedState, issuer_route};
use crate::issuer::OAuthError;
use crate::issuer::controls::ControlError;
use crate::issuer::paths::admin;

/// Every test control, behind `ADMIN_TOKEN` when it is set.
pub fn router(state: SharedState) -> Router<SharedState> {
    Router::new()
        .merge(users::router())
        .merge(clients::router())
        .merge(clock::router())
        .merge(faults::router())
        .merge(requests::router())
        .merge(keys::router())
        .merge(issuer_route(Router::new(), admin::RESET, post(reset_post)))
        .route_layer(middleware::from_fn_with_state(state, require_admin_token))
        .layer(no_store())
}

/// With `ADMIN_TOKEN` set, lets a request through only with
/// `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time);
/// otherwise a 401 `invalid_token` with `WWW-Authenticate: Bearer`.
pub async fn require_admin_token(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.config.admin_token else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match given {
        Some(token) if expected.matches(token) => next.run(request).await,
        Some(_) => ApiError::from(OAuthError::invalid_token(
            "the admin token is wrong (ADMIN_TOKEN)",
        ))
        .into_response(),
        None => ApiError::from(OAuthError::invalid_token(
            "the test controls need `Authorization: Bearer <ADMIN_TOKEN>`",
        ))
        .into_response(),
    }
}

/// `POST <mount>/_admin/reset`: personas, clients, clock, faults and ledger
/// back to the startup state.
pub async fn reset_post(Iss(issuer): Iss) -> StatusCode {
    issuer.reset_controls();
    StatusCode::NO_CONTENT
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        match e {
            ControlError::Invalid(e) => ApiError::OAuth(e),
            ControlError::NotFound(message) => ApiError::NotFound(message),
        }
    }
}

/// `201 Created` for a new persona or client, `200 OK` for a replaced one.
pub fn put_status(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// The path parameters of a route, percent-decoded (bad UTF-8 is a 400).
#[derive(Debug)]
pub struct Params(RawPathParams);

impl Params {
    /// The parameter `name` (`""` when the route has none).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| v)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        RawPathParams::from_request_parts(parts, state)
            .await
            .map(Params)
            .map_err(|e| ApiError::invalid_request(format!("path: {e}")))
    }
}
