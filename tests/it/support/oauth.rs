//! OAuth helpers: registered clients and personas, form posts with their
//! replies, PKCE pairs and the authorization step (`/authorize` with
//! `login_hint`, which redirects at once).

use std::collections::HashMap;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mock_idp::claims::Audience;
use mock_idp::claims::users::{Users, parse_users};
use mock_idp::clients::{ClientConfig, GrantType};
use mock_idp::config::Config;
use serde_json::{Map, Value, json};

use super::{Idp, test_config};

pub(crate) const WEB_CB: &str = "http://app.test/cb";
pub(crate) const SPA_CB: &str = "http://spa.test/cb";
pub(crate) const SPA_BYE: &str = "http://spa.test/bye";

/// `alice` (no password, org admin) and `bob` (password `hunter2`).
const PERSONAS: &str = "\
alice: {sub: user_alice, org_id: org_1, org_role: admin, org_slug: acme, \
claims: {email: alice@example.com, name: Alice}}
bob: {sub: user_bob, password: hunter2, claims: {email: bob@example.com, name: Bob}}
";

/// Personas from YAML (as in a `USERS_FILE`).
pub(crate) fn personas(yaml: &str) -> Users {
    parse_users(yaml).unwrap()
}

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
pub(crate) fn clients() -> Vec<ClientConfig> {
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
pub(crate) fn strict_config() -> Config {
    Config {
        clients: mock_idp::clients::to_map(clients(), "clients").unwrap(),
        users: personas(PERSONAS),
        ..test_config()
    }
}

/// Personas but no clients: any client id is accepted.
pub(crate) fn open_config() -> Config {
    Config {
        users: personas(PERSONAS),
        ..test_config()
    }
}

/// An `Authorization: Basic` value.
pub(crate) fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// A response: status, headers, and the body as JSON (`null` if it is not JSON).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    /// `error` of an RFC 6749 error body ("" if none).
    pub(crate) fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
    /// `error_description` ("" if none).
    pub(crate) fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or("")
    }
    /// A string field of the body, which must be there.
    pub(crate) fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {}", self.body))
            .to_string()
    }
}

/// POSTs a form to `path`, with an optional `Authorization` header.
pub(crate) async fn post_form(
    idp: &impl Idp,
    path: &str,
    auth: Option<&str>,
    fields: &[(&str, &str)],
) -> Reply {
    let mut req = idp.client().post(idp.url(path)).form(fields);
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
pub(crate) async fn token(idp: &impl Idp, auth: Option<&str>, fields: &[(&str, &str)]) -> Reply {
    post_form(idp, "/token", auth, fields).await
}

/// A PKCE (verifier, S256 challenge) pair (RFC 7636 §4.1-4.2), from our own
/// randomness and hash.
pub(crate) fn pkce_pair() -> (String, String) {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

/// GET /authorize with `params`, not following redirects.
pub(crate) async fn authorize(idp: &impl Idp, params: &[(&str, &str)]) -> reqwest::Response {
    idp.client()
        .get(idp.url("/authorize"))
        .query(params)
        .send()
        .await
        .unwrap()
}

/// The query parameters of a redirect's `Location`, and the URL before `?`.
pub(crate) fn location(res: &reqwest::Response) -> (String, HashMap<String, String>) {
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
pub(crate) async fn code_for(idp: &impl Idp, params: &[(&str, &str)]) -> String {
    let res = authorize(idp, params).await;
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
