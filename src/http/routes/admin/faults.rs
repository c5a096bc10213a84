//! `GET|PUT|DELETE <mount>/_admin/faults` and `DELETE
//! <mount>/_admin/faults/{endpoint}`: injected faults. They are applied by
//! the controls middleware ([`crate::http::controls`]).

use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};

use super::Params;
use crate::http::error::ApiError;
use crate::http::extract::{Body, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::controls::Fault;
use crate::issuer::paths::{Endpoint, admin};

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let router = issuer_route(
        Router::new(),
        admin::FAULTS,
        get(faults_get).put(faults_put).delete(faults_delete),
    );
    issuer_route(router, admin::FAULT, delete(fault_delete))
}

/// `GET <mount>/_admin/faults`: the armed faults (`count` = calls left).
pub async fn faults_get(Iss(issuer): Iss) -> Json<Vec<Fault>> {
    Json(issuer.faults().list())
}

/// `PUT <mount>/_admin/faults`: arms a fault (replacing the endpoint's).
pub async fn faults_put(Iss(issuer): Iss, Body(body): Body) -> Result<Json<Fault>, ApiError> {
    let fault = Fault::parse(&body)?;
    issuer.faults().set(fault.clone());
    Ok(Json(fault))
}

/// `DELETE <mount>/_admin/faults`: clears every fault.
pub async fn faults_delete(Iss(issuer): Iss) -> StatusCode {
    issuer.faults().clear_all();
    StatusCode::NO_CONTENT
}

/// `DELETE <mount>/_admin/faults/{endpoint}`: clears that endpoint's fault.
pub async fn fault_delete(Iss(issuer): Iss, params: Params) -> Result<StatusCode, ApiError> {
    let name = params.get("endpoint");
    let endpoint = Endpoint::from_name(name).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "endpoint: {name:?} is not one of {}",
            Endpoint::list()
        ))
    })?;
    issuer.faults().clear(endpoint);
    Ok(StatusCode::NO_CONTENT)
}
