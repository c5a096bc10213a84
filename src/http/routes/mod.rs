//! HTTP endpoints, one module per area. Each exposes `router()`; issuer
//! areas register every path for the root, `/{issuer}` and
//! `/realms/{issuer}` ([`super::issuer_route`]). Generic paths come from
//! [`crate::issuer::paths`], each profile's own from [`crate::profiles`]
//! ([`profile`]).

pub mod admin;
pub mod authorize;
pub mod discovery;
pub mod introspect;
pub mod jwks;
pub mod lifecycle;
pub mod login_page;
pub mod profile;
pub mod server;
pub mod token;
pub mod userinfo;
pub mod workbench;

use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// `Cache-Control: no-store` on every response of the OAuth endpoints
/// (RFC 6749 §5.1: token responses must not be cached), unless the handler
/// set its own.
pub fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// `Pragma: no-cache` beside [`no_store`], for HTTP/1.0 caches.
pub fn no_cache_pragma() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::PRAGMA, HeaderValue::from_static("no-cache"))
}
