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
//! Dependencies run one way: `http -> issuer -> {claims -> profiles, clients, jwt, keys}`,
//! `federation -> {issuer::paths, keys}`, `offline -> {config, issuer, keys,
//! federation::fetch}` (no HTTP server), `config` and `cli` are leaves;
//! [`server`] wires them together.
//!
//! - [`cli`]: clap definitions; every option is a flag and an environment variable.
//! - [`config`]: the resolved [`config::Config`] (config file < env < flags), validated.
//! - [`prod_guard`]: the refusal to run in production.
//! - [`issuer`]: the HTTP-free issuer core: [`issuer::Issuer`] (settings, keys,
//!   personas, clients, replay set, clock), every grant, authorization,
//!   userinfo/introspection/revocation, discovery, and the
//!   [`issuer::registry::Registry`] of the root and named issuers.
//! - [`claims`]: personas and request -> claims (the one claims path).
//! - [`profiles`]: one module per provider (clerk, plain, auth0, keycloak,
//!   entra, google, cognito, jwt-auth-service): claim shapes, paths,
//!   default `iss`, discovery members; no HTTP.
//! - [`clients`]: registered OAuth clients and the [`clients::GrantType`] enum.
//! - [`keys`]: RSA key generation, persistence, JWK/JWKS and the key store.
//! - [`jwt`]: compact JWS encoding with a cached signing key, and verification.
//! - [`random`]: random identifiers from the OS CSPRNG.
//! - [`utc`]: UTC calendar dates of UNIX times (RFC 3339, X.509 validity).
//! - [`http`]: state, extractors, error mapping, `router(state)` and one
//!   module per area of endpoints.
//! - [`federation`]: multi-replica key sharing for every issuer: peer
//!   discovery, bounded fetches, the merged JWKS and its ageing.
//! - [`metrics`]: Prometheus counters (per issuer) and latency histograms.
//! - [`server`]: `load_state(config)` and `run(listener, state, shutdown)`.
//! - [`healthcheck`]: the `mock-idp healthcheck` client for shell-less images.
//! - `testing` (cargo feature `testing`): `MockIdp`, an in-process mock-idp
//!   for Rust tests.
//! - [`offline`]: `mock-idp mint`, `jwks` and `decode`: the persisted key
//!   used with no server, and a JWT decoder that says what a verifier would.

pub mod claims;
pub mod cli;
pub mod clients;
pub mod config;
pub mod federation;
pub mod healthcheck;
pub mod http;
pub mod issuer;
pub mod jwt;
pub mod keys;
pub mod metrics;
pub mod offline;
pub mod prod_guard;
pub mod profiles;
pub mod random;
pub mod server;
#[cfg(feature = "testing")]
pub mod testing;
pub mod utc;

/// Current UNIX time in seconds (the default clock for minting and verifying).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
