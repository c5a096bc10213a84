//! [`MockIdp`]: a mock-idp in your own Rust tests (cargo feature `testing`).
//!
//! It runs the real server in-process on a free loopback port, with no
//! binary to build or find, and stops when dropped:
//!
//! ```no_run
//! # async fn demo() -> Result<(), mock_idp::testing::Error> {
//! use mock_idp::testing::MockIdp;
//!
//! let idp = MockIdp::builder()
//!     .personas("alice: {sub: user_alice, org_id: org_1, org_role: admin}")
//!     .audience("my-api")
//!     .start()
//!     .await?;
//! let token = idp.token(serde_json::json!({"user": "alice"})).await?;
//! // Point the code under test at idp.jwks_url() / idp.url(), send the token.
//! # Ok(()) }
//! ```
//!
//! Tokens are minted by the same issuer core as `POST /token`, so they are
//! exactly what the server would answer. Named issuers work too
//! ([`MockIdp::token_at`], `{url}/{name}/...`).

use std::net::SocketAddr;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::claims::{Audience, MintRequest, users};
use crate::config::Config;
use crate::http::SharedState;
use crate::issuer::paths;

/// What can go wrong starting a [`MockIdp`] or minting with it.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Settings for a [`MockIdp`], from [`MockIdp::builder`].
#[derive(Debug, Default)]
pub struct Builder {
    config: Config,
    personas: Option<String>,
}

impl Builder {
    /// Starts from a whole [`Config`] (the port is always a free one).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Personas as the YAML (or JSON) of a users file.
    pub fn personas(mut self, yaml: &str) -> Self {
        self.personas = Some(yaml.to_string());
        self
    }

    /// The default `aud` of minted tokens.
    pub fn audience(mut self, aud: &str) -> Self {
        self.config.audience = Some(Audience::One(aud.to_string()));
        self
    }

    /// The root issuer's `iss`.
    pub fn issuer(mut self, iss: &str) -> Self {
        self.config.issuer = iss.to_string();
        self
    }

    /// Starts the server on `127.0.0.1` and a free port.
    pub async fn start(self) -> Result<MockIdp, Error> {
        let mut config = self.config;
        config.host = "127.0.0.1".into();
        config.port = 0;
        if let Some(yaml) = self.personas {
            config.users.extend(users::parse_users(&yaml)?);
        }
        let listener = TcpListener::bind((config.host.as_str(), 0)).await?;
        let addr = listener.local_addr()?;
        // Key generation blocks for tens of milliseconds: off the runtime.
        let state = tokio::task::spawn_blocking(move || crate::server::load_state(config))
            .await?
            .map_err(|e| -> Error { e.into() })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(crate::server::run(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Ok(MockIdp {
            addr,
            url: format!("http://{addr}"),
            state,
            stop: Some(stop),
            server,
        })
    }
}

/// A running in-process mock-idp; stopped when dropped.
#[derive(Debug)]
pub struct MockIdp {
    addr: SocketAddr,
    url: String,
    state: SharedState,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl MockIdp {
    /// A mock-idp with default settings (no personas, no `aud`).
    pub async fn start() -> Result<MockIdp, Error> {
        Builder::default().start().await
    }

    /// Settings first: `MockIdp::builder().personas(...).start().await`.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The base URL, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The root issuer's JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}{}", self.url, paths::JWKS_WELL_KNOWN)
    }

    /// The root issuer's OpenID Connect discovery URL.
    pub fn discovery_url(&self) -> String {
        format!("{}{}", self.url, paths::DISCOVERY)
    }

    /// An access token for `request` (the JSON fields of `POST /token`:
    /// `sub`, `user`, `aud`, `claims`, `variant`, `alg`, ...) from the root issuer.
    pub async fn token(&self, request: Value) -> Result<String, Error> {
        self.token_at(None, request).await
    }

    /// An access token from the named issuer `name` (`None`: the root), as
    /// `POST /{name}/token` would mint it.
    pub async fn token_at(&self, name: Option<&str>, request: Value) -> Result<String, Error> {
        let req: MintRequest = serde_json::from_value(request)?;
        let issuer = self.state.issuers.get(name)?;
        issuer.ready().await?;
        if let Some(alg) = req.alg {
            issuer.ensure_alg(alg).await?;
        }
        Ok(issuer
            .mint(&crate::issuer::RequestCtx::new(&self.url), &req)?
            .access_token)
    }

    /// The server's state (issuers, config), for what the HTTP API does not offer.
    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// Stops the server and waits until it has finished.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await??;
        Ok(())
    }
}

impl Drop for MockIdp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
