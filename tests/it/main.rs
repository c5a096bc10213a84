//! mock-idp's integration tests: one binary (one build, one link), one
//! module per area, helpers in [`support`].
//!
//! - `token`: `POST /token` minting, personas, request forms, bad input.
//! - `jwks`: JWKS paths, `kid`, discovery, health, 404/405, CORS, metrics.
//! - `cli`: the real binary: startup, prod guard, key persistence, config
//!   errors, `healthcheck`, SIGTERM, logs, every option's env var.
//! - `federation`: three real replicas, bad peers, `PEERS_DNS=localhost`.
//! - `federation_dns`: DNS discovery across loopback addresses (ignored;
//!   run by `scripts/ci/federation.sh` in a network namespace).
//! - `oauth_grants`, `oauth_code`, `oauth_endpoints`: the OAuth 2.0 / OIDC
//!   grants, the code flow, discovery/userinfo/introspection/revocation.
//! - `oauth_federation`: codes and refresh tokens across two real replicas.
//! - `issuers`: many issuers: configured, dynamic, isolation, persistence,
//!   federation of named issuers across three real replicas.
//! - `marker`: `X-Mock-Idp` on every response, `mock_idp` in discovery.
//! - `toolkit`: algorithms, token variants, `typ`, the key rotation drill.
//! - `profiles`: each provider profile's paths and mount, tokens verified
//!   against the JWKS at the profile's path, Google's X.509 certificates.
//! - `testing_helper`: `mock_idp::testing::MockIdp` as its docs say.
//! - `workbench`: the page and JSON index at `/` and `<mount>/`, its CSP and
//!   assets, `_admin/users`, the built-in `workbench` client over HTTP.
//! - `lifecycle`: the token lifecycle service (`jwt-auth-service` issuers)
//!   over HTTP, its event stream, ext-authz on every issuer, revocations
//!   across two real replicas.
//! - `offline`: `mock-idp mint`/`jwks`/`decode` against a real server's
//!   persisted key and served JWKS; their errors.
//! - `fuzz_replay`: the fuzz targets of `fuzz/` on stable: the committed
//!   corpus and mutations of it.
//! - `admin`: the test controls (`_admin`): personas, clients, clock,
//!   faults, request ledger, reset, `ADMIN_TOKEN`, on the root and a named issuer.
//!
//! Run one area with `cargo nextest run --test it oauth_code::` (or
//! `cargo test --test it oauth_code::`).
// Tests state their expectations with unwrap/expect: a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admin;
mod cli;
mod federation;
mod federation_dns;
mod fuzz_replay;
mod issuers;
mod jwks;
mod lifecycle;
mod marker;
mod oauth_code;
mod oauth_endpoints;
mod oauth_federation;
mod oauth_grants;
mod offline;
mod profiles;
mod testing_helper;
mod token;
mod toolkit;
mod workbench;
