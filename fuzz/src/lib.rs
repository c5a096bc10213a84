//! The bodies of mock-idp's fuzz targets, one function per target. Each
//! takes arbitrary bytes and must never panic; where a parser promises a
//! bound (peer input in log lines) the target asserts it, so breaking the
//! promise is a crash too.
//!
//! Two harnesses run them: libFuzzer (`fuzz_targets/*.rs`, `cargo +nightly
//! fuzz run <target>`) and, on stable, `tests/it/fuzz_replay.rs`, which
//! includes this file and replays the committed corpus (`fuzz/corpus/`)
//! plus deterministic mutations of it under `cargo test`.
//!
//! Only public mock-idp APIs are used, and only absolute paths (`mock_idp::`,
//! `axum::`), so this file compiles both as the fuzz crate's library and as a
//! module of the integration test.

use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use mock_idp::cli::Opts;
use mock_idp::config::{self, Config};
use mock_idp::federation::fetch::{MAX_REASON_CHARS, MAX_REASONS, parse_cluster_keys, parse_jwks};
use mock_idp::http::routes::token::TokenRequest;
use mock_idp::issuer::registry::Registry;
use mock_idp::issuer::{BasicCredentials, Form, Issuer};
use mock_idp::keys::jwk::MAX_KID_LEN;

/// The base URL every issuer call is made with.
pub const BASE: &str = "http://127.0.0.1:8081";

/// The request context of every fuzzed call.
fn ctx() -> mock_idp::issuer::RequestCtx<'static> {
    mock_idp::issuer::RequestCtx::new(BASE)
}

/// Issuers with keys and a few valid artifacts, built once per process.
pub struct Fixture {
    /// Open mode: no registered clients, personas alice (password) and bob.
    pub open: Arc<Issuer>,
    /// Registered clients `app` (secret `s3cret`) and `spa` (public).
    pub closed: Arc<Issuer>,
    /// Refresh tokens of `open` (client `app`), spent as the fuzzer uses them.
    pub refresh: Vec<String>,
    /// Authorization codes of `open` (client `app`, redirect `http://localhost/cb`).
    pub codes: Vec<String>,
    /// An access token of `open`.
    pub access: String,
}

const USERS: &str = r#"
users:
  alice: {password: pw, org_id: org_1, org_role: admin, claims: {email: a@example.com, roles: [admin]}}
  bob: {}
  carol: {sub: user_c, preset: plain, aud: [api, web]}
"#;

const CLIENTS: &str = r#"
clients:
  - {client_id: app, client_secret: s3cret, redirect_uris: ["http://localhost/cb"]}
  - {client_id: spa, redirect_uris: ["http://localhost/spa"], grant_types: [authorization_code, refresh_token]}
  - {client_id: svc, client_secret: x, grant_types: [client_credentials], audience: api, claims: {tier: gold}}
"#;

fn registry(yaml: &str) -> Registry {
    let file = config::parse_file(yaml).expect("fixture config parses");
    let config = Config::from_layers(&Opts::default(), file).expect("fixture config resolves");
    Registry::from_config(&config)
}

fn ready(registry: &Registry) -> Arc<Issuer> {
    let root = Arc::clone(registry.root());
    root.prepare_key_blocking().expect("fixture key");
    root
}

/// The shared fixture (RSA keys are generated once).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let open = ready(&registry(USERS));
        let closed = ready(&registry(&format!("{USERS}{CLIENTS}")));
        let password = Form::new(pairs(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "pw"),
            ("client_id", "app"),
            ("scope", "openid offline_access"),
        ]));
        let mut refresh = Vec::new();
        let mut access = String::new();
        for _ in 0..8 {
            let r = open
                .token(&ctx(), None, &password)
                .expect("fixture password grant");
            access = r.access_token;
            refresh.extend(r.refresh_token);
        }
        let authorize = Form::new(pairs(&[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", "http://localhost/cb"),
            ("scope", "openid"),
            ("login_hint", "bob"),
        ]));
        let codes = (0..8)
            .filter_map(|_| match open.authorize(BASE, &authorize) {
                Ok(mock_idp::issuer::authorize::AuthorizeOutcome::Redirect(url)) => url
                    .split(['?', '&'])
                    .find_map(|p| p.strip_prefix("code="))
                    .map(str::to_string),
                _ => None,
            })
            .collect();
        Fixture {
            open,
            closed,
            refresh,
            codes,
            access,
        }
    })
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Replaces `@RT`, `@CODE` and `@AT` in a form value with a valid refresh
/// token, code or access token (picked by `salt`), so the fuzzer reaches
/// the grants past signature verification.
fn substitute(value: String, salt: usize) -> String {
    if !value.contains('@') {
        return value;
    }
    let fx = fixture();
    let pick = |v: &[String]| v.get(salt % v.len().max(1)).cloned().unwrap_or_default();
    value
        .replace("@RT", &pick(&fx.refresh))
        .replace("@CODE", &pick(&fx.codes))
        .replace("@AT", &fx.access)
}

/// `POST /token`'s request parser (`TokenRequest::parse`) with an arbitrary
/// content type, query string and body, then the mint or grant it asks for,
/// and the rendering of any error.
///
/// Input: byte 0 picks the content type, byte 1 the query length, then the
/// query, then the body.
pub fn token_request(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((&qlen, rest)) = rest.split_first() else {
        return;
    };
    let (query, body) = rest.split_at(usize::from(qlen).min(rest.len()));
    let query = String::from_utf8_lossy(query);
    let mut headers = HeaderMap::new();
    let content_type: Option<HeaderValue> = match selector % 8 {
        0 => Some(HeaderValue::from_static("application/json")),
        1 => Some(HeaderValue::from_static(
            "application/x-www-form-urlencoded",
        )),
        2 => None,
        3 => Some(HeaderValue::from_static("application/jwt+json")),
        4 => Some(HeaderValue::from_static("text/plain")),
        5 => Some(HeaderValue::from_static(
            "Application/X-WWW-Form-URLencoded; charset=utf-8",
        )),
        6 => Some(HeaderValue::from_static("APPLICATION/JSON ; x=y")),
        _ => HeaderValue::from_bytes(&body[..body.len().min(24)]).ok(),
    };
    if let Some(ct) = content_type {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    let query = (selector & 0x80 != 0).then_some(query.as_ref());
    let fx = fixture();
    match TokenRequest::parse(query, &headers, body) {
        Ok(TokenRequest::Mint(req)) => {
            if let Err(e) = fx.open.mint(&ctx(), &req) {
                let _ = mock_idp::http::error::ApiError::from(e).into_response();
            }
        }
        Ok(TokenRequest::Grant(form)) => {
            if let Err(e) = fx.open.token(&ctx(), None, &form) {
                let _ = mock_idp::http::error::ApiError::from(e).into_response();
            }
        }
        Err(e) => {
            let _ = e.into_response();
        }
    }
}

/// The OAuth form parser (`Form::parse`) and every issuer operation that
/// reads a form: the grants of `Issuer::token`, authorization requests, the
/// login submit, introspection and revocation, in open mode and with
/// registered clients, with optional `Authorization: Basic`.
///
/// Input: byte 0 picks the operation (bits 0-2), the issuer (bit 6) and
/// whether the first line is an `Authorization` header value (bit 7); the
/// rest is the form body. `@RT`, `@CODE`, `@AT` in values become valid
/// artifacts.
pub fn oauth_form(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let (auth, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) if op & 0x80 != 0 => (Some(&rest[..i]), &rest[i + 1..]),
        _ => (None, rest),
    };
    let basic: Option<BasicCredentials> = match auth.map(String::from_utf8_lossy) {
        None => None,
        Some(value) => match BasicCredentials::from_header(&value) {
            Ok(basic) => basic,
            Err(_) => return,
        },
    };
    let Ok(form) = Form::parse(body, "form body") else {
        return;
    };
    let salt = data.len();
    let form = Form::new(
        form.into_pairs()
            .into_iter()
            .map(|(k, v)| (k, substitute(v, salt)))
            .collect(),
    );
    let fx = fixture();
    let issuer = if op & 0x40 != 0 { &fx.closed } else { &fx.open };
    let basic = basic.as_ref();
    let _ = match op % 8 {
        0..=2 => issuer.token(&ctx(), basic, &form).map(drop),
        3 => issuer.authorize(BASE, &form).map(drop),
        4 => issuer.login_submit(BASE, &form).map(drop),
        5 => issuer.introspect(basic, &form).map(drop),
        6 => issuer.revoke(basic, &form).map(drop),
        _ => issuer
            .userinfo(form.get("token").unwrap_or_default())
            .map(drop),
    };
}

/// The personas parser (`parse_users`) and the config file parser
/// (`config::parse_file`), then resolving the config (`Config::from_layers`)
/// and building its issuers (`Registry::from_config`; no key is made).
/// Configs that name files to read are parsed but not resolved.
pub fn users_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = mock_idp::claims::users::parse_users(&text);
    let Ok(file) = config::parse_file(&text) else {
        return;
    };
    let reads_files = file.users_file.is_some()
        || file
            .issuers
            .iter()
            .flatten()
            .any(|(_, i)| i.users_file.is_some());
    if reads_files {
        return;
    }
    if let Ok(config) = Config::from_layers(&Opts::default(), file) {
        let registry = Registry::from_config(&config);
        let _ = registry.get(None);
        for name in registry.configured() {
            let _ = registry.get(Some(name));
        }
    }
}

/// Peer key parsing: `parse_cluster_keys` (`/cluster/keys` answers) and
/// `parse_jwks`. Beyond not panicking: every key kept passes validation
/// with a `kid` of at most `MAX_KID_LEN` characters, and the reasons that
/// reach the log are few, short, and free of raw CR/LF.
pub fn peer_jwks(data: &[u8]) {
    let check = |parsed: Result<(Vec<mock_idp::keys::Jwk>, Vec<String>), String>| match parsed {
        Ok((valid, reasons)) => {
            for key in &valid {
                assert!(key.validate().is_ok(), "an invalid key was kept: {key:?}");
                assert!(key.kid.chars().count() <= MAX_KID_LEN);
            }
            check_reasons(&reasons);
        }
        Err(e) => check_reasons(&[e]),
    };
    check(parse_jwks(data));
    check(
        parse_cluster_keys(data)
            .map(|(valid, reasons)| (valid.into_iter().map(|k| k.jwk).collect(), reasons)),
    );
}

fn check_reasons(reasons: &[String]) {
    assert!(
        reasons.len() <= MAX_REASONS + 1,
        "{} reasons",
        reasons.len()
    );
    for r in reasons {
        // A reason is clipped peer input plus a short explanation.
        assert!(
            r.chars().count() <= MAX_REASON_CHARS + 64,
            "a reason of {} characters",
            r.chars().count()
        );
        assert!(!r.contains(['\r', '\n']), "raw CR/LF in {r:?}");
    }
}
