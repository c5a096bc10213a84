//! Test helpers shared by the integration test binaries: spawn the real server
//! on 127.0.0.1:0 and verify tokens against the JWKS it serves, with
//! `jsonwebtoken` as an independent verifier.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mock_idp::config::Config;
use mock_idp::http::SharedState;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub state: SharedState,
    _shutdown: oneshot::Sender<()>,
}

/// Starts the real router on a free loopback port with `config`.
pub async fn spawn_app(config: Config) -> TestApp {
    let state = mock_idp::server::load_state(config).expect("state");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server_state = state.clone();
    tokio::spawn(async move {
        mock_idp::server::run(listener, server_state, async {
            let _ = rx.await;
        })
        .await
        .expect("server failed");
    });
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        state,
        _shutdown: tx,
    }
}

/// `Config` with test-friendly defaults (port 0).
pub fn test_config() -> Config {
    Config {
        port: 0,
        ..Config::default()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POST /token with a JSON body; returns (status, body).
    pub async fn mint_json(&self, body: Value) -> (u16, Value) {
        let res = self
            .client
            .post(self.url("/token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    /// Mints and returns the access token, asserting success.
    pub async fn token(&self, body: Value) -> String {
        let (status, json) = self.mint_json(body.clone()).await;
        assert_eq!(status, 200, "minting {body} failed: {json}");
        json["access_token"].as_str().unwrap().to_string()
    }

    /// GET `path` (a path or a full URL) and parse the JSON body as `T`.
    pub async fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        serde_json::from_str(&self.get_text(path).await).unwrap()
    }

    /// GET `path` (a path or a full URL) and parse the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get_as(path).await
    }

    /// GET `path` (a path or a full URL) and return the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            self.url(path)
        };
        let res = self.client.get(url).send().await.unwrap();
        res.text().await.unwrap()
    }

    /// The JWKS as served at `path`.
    pub async fn jwks(&self, path: &str) -> JwkSet {
        self.get_as(path).await
    }

    /// Verifies `token` against the served JWKS with jsonwebtoken (not our code).
    pub async fn verify(
        &self,
        token: &str,
    ) -> Result<(jsonwebtoken::Header, Map<String, Value>), jsonwebtoken::errors::Error> {
        let jwks = self.jwks("/.well-known/jwks.json").await;
        verify_with(&jwks, token, None)
    }
}

/// Verifies `token` with `jwks`, requiring RS256, `exp`, and `aud` when given.
pub fn verify_with(
    jwks: &JwkSet,
    token: &str,
    aud: Option<&str>,
) -> Result<(jsonwebtoken::Header, Map<String, Value>), jsonwebtoken::errors::Error> {
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.clone().expect("token has a kid");
    let jwk = jwks
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} not in served JWKS"));
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    match aud {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)?;
    Ok((header, data.claims))
}
