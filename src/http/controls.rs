//! The test controls on every issuer request (not on `_admin` calls nor on
//! the server's own endpoints): an injected fault answers instead of the
//! endpoint or delays it ([`crate::issuer::controls::faults`]), then the
//! request goes into the issuer's ledger
//! ([`crate::issuer::controls::ledger`]). The endpoint kind comes from the
//! matched route through [`paths::endpoint_of`].
//!
//! Cost when nothing is armed: one atomic load for the fault check and one
//! short-locked push into a ring per request.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use super::SharedState;
use super::extract::{Resolved, issuer_name};
use crate::issuer::ErrorCode;
use crate::issuer::controls::ledger::Observed;
use crate::issuer::controls::{Fault, FaultBody, TokenFacts};
use crate::issuer::paths::{self, Endpoint, admin, server};

/// How a route pattern names the issuer (`/{issuer}/token`).
pub const ISSUER_SEGMENT: &str = "{issuer}";

/// Who a request is for, as far as the controls care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The issuer's name (`""` = root).
    pub issuer: String,
    /// The endpoint kind, when faults can target it.
    pub endpoint: Option<Endpoint>,
}

/// The route relative to the issuer's mount: `/{issuer}/jwks` -> `/jwks`.
pub fn relative_route(route: &str) -> &str {
    route
        .split_once(ISSUER_SEGMENT)
        .map_or(route, |(_, rest)| rest)
}

/// Whether a path (relative to a mount) is the server's own rather than an
/// issuer endpoint: the workbench page or JSON index at `<mount>/` (the
/// mount itself, Keycloak's realm document, is the issuer's), `_admin`
/// and anything else whose first segment starts with `_` (the workbench's
/// `/_workbench` assets; no issuer name can).
fn server_own(relative: &str) -> bool {
    relative == "/" || admin::is_admin(relative) || paths::first_segment(relative).starts_with('_')
}

/// The target of a request, or `None` for `_admin` calls, the workbench's
/// assets and the server's own endpoints (health, metrics, issuers,
/// cluster), which are not recorded.
async fn target(state: &SharedState, parts: &mut Parts) -> Option<Target> {
    // An `Arc<str>` clone: no allocation on the hot path.
    match parts.extensions.get::<MatchedPath>().cloned() {
        Some(route) => {
            let route = route.as_str();
            let relative = relative_route(route);
            let server_only = relative == route
                && server::ALL.contains(&route)
                && paths::endpoint_of(route).is_none();
            if server_own(relative) || server_only {
                return None;
            }
            Some(Target {
                issuer: issuer_name(parts).await.unwrap_or_default(),
                endpoint: paths::endpoint_of(relative),
            })
        }
        // No route: a 404/405 worth seeing in the ledger, under the named
        // issuer the path starts with when it exists, else the root.
        None => {
            let path = parts.uri.path();
            let first = paths::first_segment(path);
            let named = !first.is_empty() && state.issuers.find(first).is_some();
            let rest = if named {
                &path.trim_start_matches('/')[first.len()..]
            } else {
                path
            };
            if server_own(rest) {
                return None;
            }
            Some(Target {
                issuer: if named {
                    first.to_string()
                } else {
                    String::new()
                },
                endpoint: None,
            })
        }
    }
}

/// Middleware: faults, then the ledger. See the module documentation.
pub async fn controls(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let (mut parts, body) = request.into_parts();
    let Some(target) = target(&state, &mut parts).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let (method, uri) = (parts.method.clone(), parts.uri.clone());
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    // An issuer that does not exist yet (created by this very request) has no fault.
    let issuer = state.issuers.find(&target.issuer);
    if let Some(issuer) = &issuer {
        parts.extensions.insert(Resolved(Arc::clone(issuer)));
    }
    let fault = match (&issuer, target.endpoint) {
        (Some(issuer), Some(endpoint)) => issuer.faults().strike(endpoint),
        _ => None,
    };
    let request = Request::from_parts(parts, body);
    let response = match fault {
        Some(fault) => {
            if fault.delay_ms > 0 {
                tokio::time::sleep(fault.delay()).await;
            }
            if fault.replaces_answer() {
                fault_response(&fault)
            } else {
                next.run(request).await
            }
        }
        None => next.run(request).await,
    };
    if let Some(issuer) = issuer.or_else(|| state.issuers.find(&target.issuer)) {
        issuer.ledger().record(&Observed {
            unix_ms,
            method: method.as_str(),
            path: uri.path(),
            query: uri.query(),
            status: response.status().as_u16(),
            facts: response.extensions().get::<TokenFacts>(),
            duration: start.elapsed(),
        });
    }
    response
}

/// What a fault answers: its status, and its body (`empty`, `garbage`, or
/// by default an RFC 6749 error: `temporarily_unavailable` for 503, else
/// `server_error`).
pub fn fault_response(fault: &Fault) -> Response {
    let status =
        StatusCode::from_u16(fault.answer_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match fault.body {
        // These statuses never carry a body.
        _ if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED => Bytes::new(),
        Some(FaultBody::Empty) => Bytes::new(),
        Some(FaultBody::Garbage) => Bytes::from_static(FaultBody::GARBAGE),
        None => {
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                ErrorCode::TemporarilyUnavailable
            } else {
                ErrorCode::ServerError
            };
            Bytes::from(
                json!({
                    "error": code.as_str(),
                    "error_description": format!(
                        "fault injected on the {} endpoint (PUT /_admin/faults)",
                        fault.endpoint.as_str()
                    ),
                })
                .to_string(),
            )
        }
    };
    let mut response = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_made_relative_to_the_mount() {
        assert_eq!(
            ISSUER_SEGMENT,
            format!("{{{}}}", super::super::extract::ISSUER_PARAM)
        );
        assert_eq!(relative_route("/{issuer}/jwks"), "/jwks");
        assert_eq!(relative_route("/token"), "/token");
        assert_eq!(
            relative_route("/realms/{issuer}/protocol/openid-connect/certs"),
            "/protocol/openid-connect/certs"
        );
    }

    #[tokio::test]
    async fn fault_bodies() {
        async fn body(json: &str) -> (u16, bool, String) {
            let r = fault_response(&Fault::parse(json.as_bytes()).unwrap());
            let status = r.status().as_u16();
            let retry = r.headers().get(header::RETRY_AFTER).is_some();
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
            (status, retry, String::from_utf8_lossy(&bytes).into_owned())
        }
        let (s, retry, b) = body(r#"{"endpoint": "token", "status": 503}"#).await;
        assert!(
            s == 503 && retry && b.contains(r#""error":"temporarily_unavailable""#),
            "{b}"
        );
        let (s, _, b) = body(r#"{"endpoint": "token", "status": 500}"#).await;
        assert!(
            s == 500 && b.contains(r#""error":"server_error""#) && b.contains("token"),
            "{b}"
        );
        let (s, _, b) = body(r#"{"endpoint": "jwks", "status": 500, "body": "empty"}"#).await;
        assert!(s == 500 && b.is_empty());
        let (s, _, b) = body(r#"{"endpoint": "jwks", "body": "garbage"}"#).await;
        assert!(
            s == 200 && serde_json::from_str::<serde_json::Value>(&b).is_err(),
            "{b}"
        );
        let (s, _, b) = body(r#"{"endpoint": "jwks", "status": 204}"#).await;
        assert!(s == 204 && b.is_empty());
    }
}
