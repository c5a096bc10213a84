//! # mock-idp
//!
//! A mock OAuth 2.0 / OpenID Connect identity provider for development and
//! test stacks. It generates (or loads) an RSA-2048 key, serves the public key
//! as a JWKS and mints RS256 tokens on demand: Clerk-v2 shaped by default, or
//! exactly the claims a test asks for.
//!
//! It is a test tool: [`prod_guard`] refuses to start it when `NODE_ENV` or
//! `APP_ENV` says production.
//!
//! # Layout
//!
//! - [`cli`]: clap definitions; every option is a flag and an environment variable.
//! - [`config`]: the resolved [`config::Config`] (config file < env < flags), validated.
//! - [`prod_guard`]: the refusal to run in production.
//! - [`keys`]: RSA key generation, persistence, JWK/JWKS and the key store.
//! - [`claims`]: presets (Clerk v2, plain), personas and request -> claims; no HTTP.
//! - [`jwt`]: compact JWS encoding with a cached signing key, and verification.
//! - [`error`]: [`error::ApiError`], rendered as RFC 6749 §5.2 JSON errors.
//! - [`app`]: shared state and `router(state)` with its tower layers.
//! - [`federation`]: multi-replica key sharing: peer discovery, bounded fetches,
//!   the merged JWKS and its ageing (the refresher task).
//! - [`metrics`]: Prometheus counters and latency histograms (`GET /metrics`).
//! - [`oauth`]: OAuth 2.0 / OIDC logic: client authentication, grants, codes and
//!   refresh tokens, authorization requests, userinfo/introspection/revocation.
//! - [`routes`]: one module per HTTP area (token, jwks, discovery, health, cluster,
//!   authorize + login page + logout, userinfo, introspect/revoke, metrics).
//! - [`server`]: `run(listener, state, shutdown)`, the serving loop.
//! - [`healthcheck`]: the `mock-idp healthcheck` client for shell-less images.

pub mod app;
pub mod claims;
pub mod cli;
pub mod config;
pub mod error;
pub mod federation;
pub mod healthcheck;
pub mod jwt;
pub mod keys;
pub mod metrics;
pub mod oauth;
pub mod prod_guard;
pub mod routes;
pub mod server;

/// Current UNIX time in seconds (the default clock for minting and verifying).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
