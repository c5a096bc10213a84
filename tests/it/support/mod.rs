//! What the integration tests share: the in-process app ([`spawn_app`]),
//! HTTP helpers for any running mock-idp ([`Idp`]), and the submodules:
//!
//! - [`process`]: the real binary as a process (CLI and multi-replica tests);
//! - [`jwt`]: verification against a served JWKS and unverified decoding;
//! - [`oauth`]: clients, personas, form posts, PKCE and `/authorize`;
//! - [`poll`]: the bounded [`poll::eventually`].
//!
//! mock-idp's state, serving and verification API is used only in this file
//! (the "crate internals" section below), so a change there is adapted in
//! one place. Elsewhere the tests use only configuration types
//! (`config::{Config, ClientConfig, PeerDns}`, `claims::Audience`, personas
//! through [`oauth::personas`]) and `cli::Cli` (to list every option).

pub(crate) mod jwt;
pub(crate) mod oauth;
pub(crate) mod poll;
pub(crate) mod process;

use std::net::SocketAddr;
use std::time::Duration;

use jsonwebtoken::Header;
use jsonwebtoken::jwk::JwkSet;
use mock_idp::config::Config;
use mock_idp::http::SharedState;
use mock_idp::testing::MockIdp;
use serde::de::DeserializeOwned;
use serde_json::Value;

use jwt::Claims;

/// The HTTP client of the tests: no redirects followed, no proxy, bounded.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap()
}

/// Seconds since the UNIX epoch, from the test's own clock.
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A running mock-idp, in process ([`TestApp`]) or as a process
/// ([`process::Server`]), spoken to over HTTP.
pub(crate) trait Idp {
    /// `http://ip:port`.
    fn base(&self) -> &str;
    /// The client to use.
    fn client(&self) -> &reqwest::Client;

    /// `path` on this server; a full URL is returned as is.
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base())
        }
    }

    /// GET `path` (a path or a full URL), asserting a 2xx status; the body as text.
    async fn get_text(&self, path: &str) -> String {
        let url = self.url(path);
        let res = self
            .client()
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(res.status().is_success(), "GET {url}: {}", res.status());
        res.text().await.unwrap()
    }

    /// GET `path`, parsed as `T`.
    async fn get_as<T: DeserializeOwned>(&self, path: &str) -> T {
        let text = self.get_text(path).await;
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("GET {path}: unexpected body ({e}): {text}"))
    }

    /// GET `path` as JSON.
    async fn get_json(&self, path: &str) -> Value {
        self.get_as(path).await
    }

    /// GET `path` (a userinfo endpoint) with `token` as the bearer: status
    /// and JSON body (claims, or the RFC 6750 error).
    async fn userinfo(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self
            .client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("GET {path}: {status}, not JSON ({e}): {text}"));
        (status, body)
    }

    /// The JWKS served at `/.well-known/jwks.json`.
    async fn jwks(&self) -> JwkSet {
        self.get_as("/.well-known/jwks.json").await
    }

    /// The kids served at `/.well-known/jwks.json`, in served order.
    async fn served_kids(&self) -> Vec<String> {
        self.jwks()
            .await
            .keys
            .into_iter()
            .map(|k| k.common.key_id.expect("every served key has a kid"))
            .collect()
    }

    /// The kid of this replica's own (signing) key: the one key of its local view.
    async fn own_kid(&self) -> String {
        let local: JwkSet = self.get_as("/api/pkeys?local=true").await;
        assert_eq!(local.keys.len(), 1, "one own key");
        local.keys[0].common.key_id.clone().expect("a kid")
    }

    /// `GET /cluster`'s federation round count.
    async fn federation_rounds(&self) -> u64 {
        let cluster = self.get_json("/cluster").await;
        cluster["rounds"]
            .as_u64()
            .unwrap_or_else(|| panic!("no rounds in /cluster: {cluster}"))
    }

    /// POST `path` with a JSON body; returns (status, body as JSON, or as
    /// a JSON string when it is not JSON).
    async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let url = self.url(path);
        let res = self
            .client()
            .post(&url)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POST /token with a JSON body; returns (status, body).
    async fn mint_json(&self, body: Value) -> (u16, Value) {
        self.post_json("/token", body).await
    }

    /// Mints at `path` (`/token`, `/tenant-a/token`, ...) and returns the
    /// access token, asserting success.
    async fn token_at(&self, path: &str, body: Value) -> String {
        let (status, json) = self.post_json(path, body.clone()).await;
        assert_eq!(
            status,
            200,
            "minting {body} at {} failed: {json}",
            self.url(path)
        );
        json["access_token"].as_str().unwrap().to_string()
    }

    /// Mints at `/token` and returns the access token, asserting success.
    async fn token(&self, body: Value) -> String {
        self.token_at("/token", body).await
    }

    /// Verifies `token` against this server's served JWKS (jsonwebtoken, not our code).
    async fn verify(&self, token: &str) -> Result<(Header, Claims), jsonwebtoken::errors::Error> {
        jwt::verify_with(&self.jwks().await, token, None)
    }
}

/// The peer entry for `url` in a `/health` or `/cluster` document.
pub(crate) fn peer<'a>(doc: &'a Value, url: &str) -> Option<&'a Value> {
    doc["peers"]
        .as_array()?
        .iter()
        .find(|p| p["url"].as_str() == Some(url))
}

/// `Config` with test-friendly defaults (port 0).
pub(crate) fn test_config() -> Config {
    Config {
        port: 0,
        ..Config::default()
    }
}

/// The real router and serving loop, in process, on a free loopback port:
/// the crate's own test helper, `mock_idp::testing::MockIdp`.
pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    idp: MockIdp,
}

impl Idp for TestApp {
    fn base(&self) -> &str {
        &self.base
    }
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

// ---- crate internals: the only uses of mock-idp's state and serving API ----

/// Starts the real router on a free loopback port with `config`.
pub(crate) async fn spawn_app(config: Config) -> TestApp {
    let idp = MockIdp::builder()
        .config(config)
        .start()
        .await
        .expect("mock-idp starts");
    TestApp {
        addr: idp.addr(),
        base: idp.url().to_string(),
        client: client(),
        idp,
    }
}

impl TestApp {
    fn state(&self) -> &SharedState {
        self.idp.state()
    }

    /// Signals shutdown and waits for `server::run` to return, which it does
    /// only once its background tasks have ended; panics after `within`.
    pub(crate) async fn shutdown(self, within: Duration) {
        tokio::time::timeout(within, self.idp.shutdown())
            .await
            .unwrap_or_else(|_| panic!("server::run did not return within {within:?}"))
            .expect("server::run");
    }

    /// Makes `self` and `other` trust each other's signing key, as federation would.
    pub(crate) fn share_keys_with(&self, other: &TestApp) {
        let root = |app: &TestApp| app.state().issuers.root().clone();
        let own = |app: &TestApp| root(app).keys().signing_key().unwrap().jwk().clone();
        root(self).keys().set_peer_keys([own(other)]);
        root(other).keys().set_peer_keys([own(self)]);
    }

    /// mock-idp's own verifier (`jwt::verify`) on `token`, with the merged
    /// key set (own + peers') and the configured issuer, or with the local set
    /// alone and no issuer check.
    pub(crate) fn crate_verify(&self, token: &str, merged: bool) -> Result<Claims, String> {
        let root = self.state().issuers.root();
        let keys = root.keys();
        let result = if merged {
            mock_idp::jwt::verify(token, &keys.merged(), Some(&self.state().config.issuer))
        } else {
            mock_idp::jwt::verify(token, &keys.local(), None)
        };
        result.map_err(|e| e.to_string())
    }
}
