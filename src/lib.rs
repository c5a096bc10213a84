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
//! Dependencies run one way: `http -> issuer -> {claims -> profiles,
//! clients, jwt, keys}`, `federation -> {issuer::paths, keys}`, `offline ->
//! {config, issuer, keys, federation::fetch}` (no HTTP server), `config` and
//! `cli` are leaves; the test `layering` (below) fails when a core module
//! names `http`, `server` or an HTTP framework.
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

/// The layering of the Layout section, checked on the source: the core
/// modules never name the HTTP layer, the server or an HTTP framework.
#[cfg(test)]
mod layering {
    use std::path::{Path, PathBuf};

    /// Modules below the HTTP layer (files or directories under `src/`).
    const CORE: &[&str] = &[
        "issuer",
        "claims",
        "profiles",
        "clients.rs",
        "keys",
        "jwt.rs",
        "random.rs",
        "utc.rs",
        "config.rs",
        "cli.rs",
        "prod_guard.rs",
        "offline",
    ];
    /// What a core module must not name in code (comments may).
    const FORBIDDEN: &[&str] = &[
        "axum",
        "hyper",
        "tower",
        "crate::http",
        "super::http",
        "crate::server",
        "crate::testing",
        "use http::",
        " http::",
        "(http::",
    ];

    fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap().flatten() {
                rust_files(&entry.path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }

    /// The code of a line: without its `//` comment (outside strings is
    /// close enough here: no core string holds `//` before a forbidden name).
    fn code(line: &str) -> &str {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            return "";
        }
        match line.find(" // ") {
            Some(i) => &line[..i],
            None => line,
        }
    }

    #[test]
    fn the_core_never_names_the_http_layer() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        for module in CORE {
            let path = src.join(module);
            assert!(path.exists(), "{} is gone: update CORE", path.display());
            rust_files(&path, &mut files);
        }
        assert!(files.len() > 30, "read only {} files", files.len());
        let mut offences = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = code(line);
                for name in FORBIDDEN {
                    if code.contains(name) {
                        offences.push(format!(
                            "{}:{}: {name}: {}",
                            file.display(),
                            n + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
        assert!(
            offences.is_empty(),
            "the core names the HTTP layer:\n{}",
            offences.join("\n")
        );
    }

    #[test]
    fn the_check_sees_an_offence() {
        let line = "use axum::Router;";
        assert!(FORBIDDEN.iter().any(|f| code(line).contains(f)));
        assert_eq!(code("// use axum::Router;"), "");
        assert!(!code("let url = \"http://x\"; // axum").contains("axum"));
    }
}
