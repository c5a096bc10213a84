//! Helpers shared by the `oauth_*` integration tests: a config with
//! registered clients and personas, form posts, PKCE pairs and the
//! authorization step (GET /authorize with `login_hint`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mock_idp::claims::Audience;
use mock_idp::claims::users::parse_users;
use mock_idp::clients::{ClientConfig, GrantType};
use mock_idp::config::Config;
use serde_json::{Map, Value, json};

use crate::common::{TestApp, test_config};

pub const WEB_CB: &str = "http://app.test/cb";
pub const SPA_CB: &str = "http://spa.test/cb";
pub const SPA_BYE: &str = "http://spa.test/bye";

pub const PERSONAS: &str = "\
alice: {sub: user_alice, org_id: org_1, org_role: admin, org_slug: acme, \
claims: {email: alice@example.com, name: Alice}}
bob: {sub: user_bob, password: hunter2, claims: {email: bob@example.com, name: Bob}}
";

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// Registered clients:
/// - `web`: confidential (`s3cret`), code + refresh, audience `api`, claim `tenant`.
/// - `spa`: public (PKCE required), code + refresh, a post-logout URI.
/// - `svc`: confidential (`svc-secret`), client_credentials only, claims and scope.
/// - `cli`: confidential (`cli-secret`), every grant (none listed).
/// - `noref`: confidential (`noref-secret`), password only: no refresh token.
/// - `native`: public, every grant (none listed).
pub fn clients() -> Vec<ClientConfig> {
    vec![
        ClientConfig {
            client_id: "web".into(),
            client_secret: Some("s3cret".into()),
            redirect_uris: vec![WEB_CB.into(), "http://app.test/other".into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            client_name: Some("Web <App>".into()),
            audience: Some(Audience::One("api".into())),
            claims: object(json!({"tenant": "acme"})),
            ..Default::default()
        },
        ClientConfig {
            client_id: "spa".into(),
            redirect_uris: vec![SPA_CB.into()],
            post_logout_redirect_uris: vec![SPA_BYE.into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            ..Default::default()
        },
        ClientConfig {
            client_id: "svc".into(),
            client_secret: Some("svc-secret".into()),
            grant_types: vec![GrantType::ClientCredentials],
            scope: Some("read".into()),
            audience: Some(Audience::One("api".into())),
            claims: object(json!({"roles": ["reader"], "tier": "gold"})),
            ..Default::default()
        },
        ClientConfig {
            client_id: "cli".into(),
            client_secret: Some("cli-secret".into()),
            redirect_uris: vec!["http://127.0.0.1:9999/cb".into()],
            ..Default::default()
        },
        ClientConfig {
            client_id: "noref".into(),
            client_secret: Some("noref-secret".into()),
            redirect_uris: vec!["http://noref.test/cb".into()],
            grant_types: vec![GrantType::Password],
            ..Default::default()
        },
        ClientConfig {
            client_id: "native".into(),
            redirect_uris: vec!["com.example.native:/cb".into()],
            ..Default::default()
        },
    ]
}

/// Clients and personas: the strict setup.
pub fn strict_config() -> Config {
    Config {
        clients: mock_idp::clients::to_map(clients(), "clients").unwrap(),
        users: parse_users(PERSONAS).unwrap(),
        ..test_config()
    }
}

/// Personas but no clients: any client id is accepted.
pub fn open_config() -> Config {
    Config {
        users: parse_users(PERSONAS).unwrap(),
        ..test_config()
    }
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// A response: status, headers, and the body as JSON (`null` if it is not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or("")
    }
    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {}", self.body))
            .to_string()
    }
}

/// POSTs a form to `path`, with an optional `Authorization` header.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    auth: Option<&str>,
    fields: &[(&str, &str)],
) -> Reply {
    let mut req = app.client.post(app.url(path)).form(fields);
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// POST /token with a form.
pub async fn token(app: &TestApp, auth: Option<&str>, fields: &[(&str, &str)]) -> Reply {
    post_form(app, "/token", auth, fields).await
}

/// A PKCE (verifier, S256 challenge) pair.
pub fn pkce_pair() -> (String, String) {
    let verifier = format!(
        "v-{}",
        mock_idp::random::token(60, mock_idp::random::Alphabet::Base62).unwrap()
    );
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

/// GET /authorize with `params`, not following redirects.
pub async fn authorize(app: &TestApp, params: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(app.url("/authorize"))
        .query(params)
        .send()
        .await
        .unwrap()
}

/// The query parameters of a redirect's `Location`, and the URL before `?`.
pub fn location(res: &reqwest::Response) -> (String, HashMap<String, String>) {
    let loc = res
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location; status {}", res.status()))
        .to_str()
        .unwrap()
        .to_string();
    let (base, query) = loc.split_once('?').unwrap_or((&loc, ""));
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    (base.to_string(), params.into_iter().collect())
}

/// Authorizes with `login_hint` (instant redirect) and returns the code.
pub async fn code_for(app: &TestApp, params: &[(&str, &str)]) -> String {
    let res = authorize(app, params).await;
    assert_eq!(
        res.status(),
        302,
        "authorize {params:?}: {:?}",
        res.headers()
    );
    let (_, q) = location(&res);
    q.get("code")
        .unwrap_or_else(|| panic!("no code in redirect for {params:?}: {q:?}"))
        .clone()
}

/// The claims of a JWT, decoded without verification (for inspecting codes).
pub fn peek(token: &str) -> Map<String, Value> {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
