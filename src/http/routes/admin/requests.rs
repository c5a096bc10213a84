//! `GET|DELETE <mount>/_admin/requests`: the request ledger, newest first,
//! filtered by `?path=<full request path>` and cut to `?limit=`.

use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use crate::http::error::ApiError;
use crate::http::extract::Iss;
use crate::http::{SharedState, issuer_route};
use crate::issuer::controls::ledger::{Entry, ListQuery};
use crate::issuer::paths::admin;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    issuer_route(
        Router::new(),
        admin::REQUESTS,
        get(requests_get).delete(requests_delete),
    )
}

/// `GET <mount>/_admin/requests[?path=...&limit=N]`.
pub async fn requests_get(
    Iss(issuer): Iss,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Entry>>, ApiError> {
    let q = ListQuery::parse(query.as_deref(), issuer.ledger().capacity())?;
    Ok(Json(issuer.ledger().list(q.path.as_deref(), q.limit)))
}

/// `DELETE <mount>/_admin/requests`: forgets every entry.
pub async fn requests_delete(Iss(issuer): Iss) -> StatusCode {
    issuer.ledger().clear();
    StatusCode::NO_CONTENT
}
