//! # The issuer core
//!
//! An [`Issuer`] is one identity provider: its [`Settings`], its key ring,
//! its personas and clients, its spent-`jti` set and its clock, and every
//! operation it performs (mint, the OAuth grants, authorization requests and
//! the login decision, userinfo, introspection, revocation, discovery
//! metadata) as plain functions returning [`OAuthError`]. Nothing here
//! imports axum or `http`: the HTTP layer (`crate::http`) extracts, calls
//! and maps. A server holds many issuers in a [`registry::Registry`].
//!
//! - [`error`]: [`OAuthError`] and its RFC 6749 [`ErrorCode`].
//! - [`form`]: the parameters of an OAuth request.
//! - [`client`]: client authentication and grant permissions.
//! - [`grant`]: the grants of `POST /token` and the user token response.
//! - [`artifacts`]: authorization codes and refresh tokens as signed JWTs.
//! - [`authorize`]: authorization request validation, login, codes, logout.
//! - [`inspect`]: userinfo, introspection (RFC 7662), revocation (RFC 7009).
//! - [`discovery`]: the OpenID Connect / RFC 8414 metadata document.
//! - [`paths`]: endpoint paths, shared by the router and discovery.
//! - [`profile`]: what an issuer's profile adds: realm document, Google's
//!   X.509 certificates, persona-backed userinfo claims.
//! - [`pkce`], [`spent`], [`clock`]: RFC 7636, replay protection, time.
//! - [`controls`]: test controls (`/_admin`): runtime personas and clients,
//!   faults, the request ledger, reset.
//! - [`registry`]: the root issuer, named issuers, names, federation input.
//! - [`lifecycle`]: the token lifecycle service of `jwt-auth-service`
//!   issuers (pairs, renewal, streams, revocation, its `/authorize`).
//! - [`ext_authz`]: the external authorization check of every issuer.

pub mod artifacts;
pub mod authorize;
pub mod client;
pub mod clock;
pub mod controls;
pub mod discovery;
pub mod error;
pub mod ext_authz;
pub mod form;
pub mod grant;
pub mod inspect;
pub mod lifecycle;
pub mod paths;
pub mod pkce;
pub mod profile;
pub mod registry;
pub mod spent;
pub mod variant;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;

pub use client::{BasicCredentials, Client};
pub use clock::Clock;
pub use error::{ErrorCode, OAuthError};
pub use form::Form;

use crate::claims::{self, Audience, MintContext, MintRequest, Minted, Users};
use crate::clients::Clients;
use crate::jwt;
use crate::keys::persist::{self, Outcome, PersistError};
use crate::keys::{self, Alg, KeyError, KeyStore, KidPolicy, SigningKey};
use crate::metrics::{TokenCounters, TokenSource};
use crate::profiles::{ClientRef, DefaultIss, Profile, ProfileOptions, ProfileSettings, TokenKind};

/// An issuer's resolved settings (the root's from the flags, a named
/// issuer's from `issuers:` over the root's).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer's name: `""` for the root issuer.
    pub name: String,
    /// A fixed `iss`; `None` = `<PUBLIC_URL or request base URL>/{name}`.
    pub issuer: Option<String>,
    /// Default `aud`.
    pub audience: Option<Audience>,
    /// Token lifetime in seconds.
    pub token_ttl: i64,
    /// How the `kid` is chosen (`kid`, `INSTANCE_ID`).
    pub kid: KidPolicy,
    /// Where this issuer's key pair is kept (`PERSIST_KEYS_DIR[/{name}]`).
    pub keys_dir: Option<PathBuf>,
    /// Bound of the spent-`jti` set (`REPLAY_CAPACITY`).
    pub replay_capacity: usize,
    /// Entries of the request ledger (`/_admin/requests`): 1000, 100 for a
    /// dynamic issuer (a server may have up to a thousand of those).
    pub ledger_capacity: usize,
    /// Claim shape, paths and discovery (`PROFILE` / `profile`).
    pub profile: Profile,
    /// Default `azp` of Clerk session tokens (`AUTHORIZED_PARTY`).
    pub authorized_party: Option<String>,
    /// Profile settings: Auth0 `claims_namespace`, Entra `tenant_id`,
    /// Cognito region.
    pub profile_options: ProfileOptions,
    /// Default signing algorithm (`alg`, `ALG` for the root).
    pub alg: Alg,
    /// The HS256 secret (`hs256_secret`, `HS256_SECRET` for the root).
    pub hs256_secret: Option<Secret>,
    /// Auto-renewal of the lifecycle service (`jwt-auth-service` issuers).
    pub renewal: lifecycle::RenewalSettings,
}

/// What a request brings to the core besides its parameters: the
/// external base URL the client used (scheme and authority, no trailing
/// slash) and its `Origin` header (Clerk's `azp` fallback).
#[derive(Clone, Copy, Debug)]
pub struct RequestCtx<'a> {
    /// `PUBLIC_URL`, or the base URL from the request.
    pub base: &'a str,
    /// The request's `Origin` header, when it names an origin.
    pub origin: Option<&'a str>,
}

impl<'a> RequestCtx<'a> {
    /// A context with `base` and no `Origin`.
    pub fn new(base: &'a str) -> Self {
        RequestCtx { base, origin: None }
    }
}

/// How a token is issued, besides what the request asks: access, ID or
/// client token, the client of a grant, the id shared by one grant's tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct Issue<'a> {
    /// Access, ID or client token.
    pub kind: TokenKind,
    /// The OAuth client of a grant.
    pub client: Option<ClientRef<'a>>,
    /// An id shared by the tokens of one grant (Keycloak `sid`, ...).
    pub session: Option<&'a str>,
}

/// A secret string that never reaches `Debug` or a log.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

impl Secret {
    /// Whether `given` equals the secret. Compares SHA-256 digests in
    /// constant time, so neither the content nor the length leaks by timing
    /// (`ADMIN_TOKEN`).
    pub fn matches(&self, given: &str) -> bool {
        use aws_lc_rs::digest::{SHA256, digest};
        let (a, b) = (
            digest(&SHA256, self.0.as_bytes()),
            digest(&SHA256, given.as_bytes()),
        );
        aws_lc_rs::constant_time::verify_slices_are_equal(a.as_ref(), b.as_ref()).is_ok()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until expiry (negative for a deliberately expired token).
    pub expires_in: i64,
    /// Granted scope, when the grant has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Refresh token, when the grant issues one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// OpenID Connect ID token, when the grant issues one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl TokenResponse {
    /// A response carrying only an access token.
    pub fn bearer(access_token: String, expires_in: i64) -> Self {
        TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: None,
            refresh_token: None,
            id_token: None,
        }
    }
}

/// Why an issuer's key could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    /// Loading or writing the persisted key failed.
    #[error(transparent)]
    Persist(#[from] PersistError),
    /// Generating a key failed.
    #[error("cannot generate a key")]
    Generate(#[source] KeyError),
}

/// One identity provider. See the module documentation.
#[derive(Debug)]
pub struct Issuer {
    settings: Settings,
    mount: String,
    /// The `iss` when it does not depend on the request's URL.
    fixed_iss: Option<String>,
    /// Resolved profile settings (tenant, region, namespace).
    profile_settings: ProfileSettings,
    /// Google's X.509 certificates by kid, made once per key.
    certs: Mutex<BTreeMap<String, String>>,
    keys: KeyStore,
    key_ready: tokio::sync::OnceCell<()>,
    users: RwLock<Arc<Users>>,
    clients: RwLock<Arc<Clients>>,
    spent: spent::SpentJtis,
    clock: Clock,
    counters: TokenCounters,
    /// The token lifecycle service (profile `jwt-auth-service` only).
    lifecycle: Option<lifecycle::Lifecycle>,
    controls: controls::Controls,
}

fn read<T>(lock: &RwLock<Arc<T>>) -> Arc<T> {
    match lock.read() {
        Ok(guard) => Arc::clone(&guard),
        Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    }
}

impl Issuer {
    /// An issuer with `settings`, personas and clients; its key is created
    /// by [`Issuer::ready`] (or [`Issuer::prepare_key_blocking`]).
    pub fn new(settings: Settings, users: Users, clients: Clients) -> Self {
        let shape = settings.profile.shape();
        let mount = if settings.name.is_empty() {
            String::new()
        } else if shape.realm_mounted() {
            format!("{}/{}", paths::REALMS, settings.name)
        } else {
            format!("/{}", settings.name)
        };
        let (users, clients) = (Arc::new(users), Arc::new(clients));
        let profile_settings = ProfileSettings::resolve(&settings.name, &settings.profile_options);
        let fixed_iss = match (&settings.issuer, shape.default_iss(&profile_settings)) {
            (Some(fixed), _) => Some(fixed.clone()),
            (None, DefaultIss::Fixed(iss)) => Some(iss),
            (None, DefaultIss::Mount { .. }) => None,
        };
        let lifecycle = (settings.profile == Profile::JwtAuthService)
            .then(|| lifecycle::Lifecycle::new(settings.renewal, settings.replay_capacity));
        let ledger_capacity = settings.ledger_capacity;
        Issuer {
            lifecycle,
            spent: spent::SpentJtis::with_capacity(settings.replay_capacity),
            settings,
            mount,
            fixed_iss,
            profile_settings,
            certs: Mutex::new(BTreeMap::new()),
            keys: KeyStore::empty(),
            key_ready: tokio::sync::OnceCell::new(),
            // The startup state `reset_controls` returns to.
            controls: controls::Controls::new(
                Arc::clone(&users),
                Arc::clone(&clients),
                ledger_capacity,
            ),
            users: RwLock::new(users),
            clients: RwLock::new(clients),
            clock: Clock::default(),
            counters: TokenCounters::default(),
        }
    }

    /// The name (`""` for the root issuer).
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Whether this is the root issuer.
    pub fn is_root(&self) -> bool {
        self.settings.name.is_empty()
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Where its endpoints live, relative to the server root (`""`,
    /// `/{name}`, or `/realms/{name}` for a Keycloak issuer).
    pub fn mount(&self) -> &str {
        &self.mount
    }

    /// The profile: claim shape, paths, discovery.
    pub fn profile(&self) -> Profile {
        self.settings.profile
    }

    /// The resolved profile settings (tenant id, region, claims namespace).
    pub fn profile_settings(&self) -> &ProfileSettings {
        &self.profile_settings
    }

    /// The `iss` of its tokens for a client that reached the server at
    /// `base` (scheme and authority, no trailing slash): the configured
    /// one, else the profile's default.
    pub fn iss<'a>(&'a self, base: &str) -> Cow<'a, str> {
        match &self.fixed_iss {
            Some(fixed) => Cow::Borrowed(fixed),
            None => Cow::Owned(format!("{base}{}{}", self.mount, self.iss_suffix())),
        }
    }

    /// `/` for profiles whose `iss` ends with a slash (Auth0), else `""`.
    fn iss_suffix(&self) -> &'static str {
        match self.profile().shape().default_iss(&self.profile_settings) {
            DefaultIss::Mount {
                trailing_slash: true,
            } => "/",
            _ => "",
        }
    }

    /// Whether `iss` is this issuer's: equal to its fixed `iss`, or, when it
    /// is derived from the request, any `http(s)://<host>{mount}` (the host
    /// a client used to reach the server does not make a token foreign).
    pub fn iss_matches(&self, iss: &str) -> bool {
        match &self.fixed_iss {
            Some(fixed) => iss == fixed,
            None => {
                let rest = iss
                    .strip_prefix("http://")
                    .or_else(|| iss.strip_prefix("https://"));
                let path = rest.and_then(|r| r.find('/').map(|i| &r[i..]));
                path.and_then(|p| p.strip_prefix(self.mount.as_str())) == Some(self.iss_suffix())
            }
        }
    }

    /// The key ring (own keys and peers').
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// The personas now.
    pub fn users(&self) -> Arc<Users> {
        read(&self.users)
    }

    /// The registered clients now (empty = any client accepted).
    pub fn clients(&self) -> Arc<Clients> {
        read(&self.clients)
    }

    /// The used/rotated/revoked `jti`s.
    pub fn spent(&self) -> &spent::SpentJtis {
        &self.spent
    }

    /// The issuer's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Tokens issued, by source and preset.
    pub fn counters(&self) -> &TokenCounters {
        &self.counters
    }

    /// Whether the signing key exists yet.
    pub fn has_key(&self) -> bool {
        self.key_ready.initialized()
    }

    /// Makes sure the signing key exists: loads or creates it on first call
    /// (on a blocking thread, never stalling the async runtime), then
    /// returns at once. Concurrent callers wait for the same creation.
    pub async fn ready(&self) -> Result<(), OAuthError> {
        self.key_ready
            .get_or_try_init(|| async {
                self.create_and_install(self.settings.alg).await?;
                if let Some(secret) = &self.settings.hs256_secret
                    && self.settings.alg != Alg::HS256
                {
                    let key = SigningKey::hmac(secret.0.as_bytes(), &self.settings.kid)
                        .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
                    self.keys.install(key);
                }
                Ok::<(), OAuthError>(())
            })
            .await
            .map(|_| ())
    }

    /// Makes sure a key for `alg` exists (created on first use, on a
    /// blocking thread; persisted with `PERSIST_KEYS_DIR`). Keys of other
    /// algorithms than the issuer's are only published from then on.
    pub async fn ensure_alg(&self, alg: Alg) -> Result<(), OAuthError> {
        self.ready().await?;
        if self.keys.snapshot().active(alg).is_some() {
            return Ok(());
        }
        self.create_and_install(alg).await
    }

    async fn create_and_install(&self, alg: Alg) -> Result<(), OAuthError> {
        let settings = self.settings.clone();
        let key = tokio::task::spawn_blocking(move || create_key(&settings, alg))
            .await
            .map_err(|e| OAuthError::server("the key creation task failed", e))?
            .map_err(|e| match e {
                KeySetupError::Generate(KeyError::NoSecret) => {
                    OAuthError::invalid_request(format!("alg: {}", KeyError::NoSecret))
                }
                other => OAuthError::server(
                    format!("cannot set up the {alg} key of issuer {:?}", self.name()),
                    other,
                ),
            })?;
        self.keys.install(key);
        Ok(())
    }

    /// Creates or loads the signing key on this thread (startup, before
    /// the async runtime exists). A no-op when the key is already there.
    pub fn prepare_key_blocking(&self) -> Result<(), KeySetupError> {
        if self.has_key() {
            return Ok(());
        }
        let key = create_key(&self.settings, self.settings.alg)?;
        self.keys.install(key);
        if let Some(secret) = &self.settings.hs256_secret
            && self.settings.alg != Alg::HS256
        {
            self.keys.install(
                SigningKey::hmac(secret.0.as_bytes(), &self.settings.kid)
                    .map_err(KeySetupError::Generate)?,
            );
        }
        // Nobody else can have raced us before the server started.
        let _ = self.key_ready.set(());
        Ok(())
    }

    /// The key signing the issuer's own algorithm now (codes, refresh and
    /// ID tokens); `temporarily_unavailable` before [`Issuer::ready`].
    pub fn signing_key(&self) -> Result<Arc<SigningKey>, OAuthError> {
        self.key_for(self.settings.alg, self.clock.now())
    }

    /// The key signing `alg` at `now`; `temporarily_unavailable` when it does
    /// not exist yet ([`Issuer::ensure_alg`] creates it).
    pub fn key_for(&self, alg: Alg, now: i64) -> Result<Arc<SigningKey>, OAuthError> {
        self.keys.signing_key_for(alg, now).ok_or_else(|| {
            OAuthError::temporarily_unavailable(format!(
                "the {alg} key of issuer {:?} is not ready yet; retry",
                self.name()
            ))
        })
    }

    /// Key rotation drill: a new key for the issuer's algorithm is published
    /// at once and signs from `grace_sec` seconds on (the issuer's clock);
    /// the key it replaces stays published until the last token it signed
    /// has expired. Rotated keys live in memory only (a restart goes back to
    /// the persisted key).
    pub async fn rotate_keys(&self, grace_sec: i64) -> Result<keys::Rotation, OAuthError> {
        let alg = self.settings.alg;
        if alg == Alg::HS256 {
            return Err(OAuthError::invalid_request(
                "keys: this issuer signs with HS256, a shared secret: there is no key pair to rotate",
            ));
        }
        if !(0..=crate::claims::MAX_EXPIRES_IN).contains(&grace_sec) {
            return Err(OAuthError::invalid_request(format!(
                "grace_sec: {grace_sec} is out of range; use 0 to {} seconds",
                crate::claims::MAX_EXPIRES_IN
            )));
        }
        self.ready().await?;
        // A fixed KID would give the next key the same kid: thumbprints here.
        let policy = KidPolicy {
            fixed: None,
            instance_id: self.settings.kid.instance_id.clone(),
        };
        let next = tokio::task::spawn_blocking(move || SigningKey::generate_fast_for(alg, &policy))
            .await
            .map_err(|e| OAuthError::server("the key creation task failed", e))?
            .map_err(|e| OAuthError::server("generating the next key failed", e))?;
        let now = self.clock.now();
        let rotation = self
            .keys
            .rotate(next, now.saturating_add(grace_sec), now)
            .ok_or_else(|| OAuthError::temporarily_unavailable("the issuer has no key yet"))?;
        tracing::info!(
            issuer = self.name(),
            active = %rotation.active_kid,
            next = %rotation.next_kid,
            switch_at = rotation.switch_at,
            "key rotation started"
        );
        Ok(rotation)
    }

    /// Stops publishing the own key `kid` now (409 material: not the one signing).
    pub fn unpublish_key(&self, kid: &str) -> Result<(), keys::UnpublishError> {
        self.keys.unpublish(kid)?;
        tracing::info!(issuer = self.name(), kid, "key unpublished");
        Ok(())
    }

    /// The JWKS to serve now: retired keys whose tokens have all expired are
    /// dropped first, and a due rotation takes effect.
    pub fn jwks(&self) -> Arc<keys::JwksSnapshot> {
        let now = self.clock.now();
        self.keys.signing_key_for(self.settings.alg, now);
        self.keys.prune(now);
        self.keys.merged()
    }

    /// The own keys and their state (`GET <mount>/_admin/keys`).
    pub fn key_status(&self) -> serde_json::Value {
        let now = self.clock.now();
        self.keys.signing_key_for(self.settings.alg, now);
        self.keys.prune(now);
        let set = self.keys.snapshot();
        let keys: Vec<serde_json::Value> = set
            .own
            .iter()
            .map(|k| {
                let (state, switch_at) = match k.state {
                    keys::KeyState::Active => ("active", None),
                    keys::KeyState::Next { switch_at } => ("next", Some(switch_at)),
                    keys::KeyState::Retired => ("retired", None),
                };
                let max_exp = k.key.max_exp();
                serde_json::json!({
                    "kid": k.key.kid(),
                    "alg": k.key.alg(),
                    "state": state,
                    "switch_at": switch_at,
                    "last_exp": (max_exp != i64::MIN).then_some(max_exp),
                })
            })
            .collect();
        serde_json::json!({"keys": keys, "now": now})
    }

    /// The algorithms this issuer signs with, its own first (discovery).
    pub fn algorithms(&self) -> Vec<Alg> {
        let own = self.settings.alg;
        std::iter::once(own)
            .chain(
                Alg::ALL.into_iter().filter(|a| {
                    *a != own && (a.is_public() || self.settings.hs256_secret.is_some())
                }),
            )
            .collect()
    }

    /// Builds the claims `req` asks for at `now` under this issuer's
    /// settings (profile, audience, TTL, personas) for `issue`.
    pub fn build_claims(
        &self,
        rc: &RequestCtx<'_>,
        req: &MintRequest,
        issue: &Issue<'_>,
        now: i64,
    ) -> Result<Minted, OAuthError> {
        let users = self.users();
        let iss = self.iss(rc.base);
        let ctx = MintContext {
            issuer: &iss,
            audience: self.settings.audience.as_ref(),
            token_ttl: self.settings.token_ttl,
            users: &users,
            profile: self.settings.profile,
            kind: issue.kind,
            client: issue.client,
            session: issue.session,
            origin: rc.origin,
            authorized_party: self.settings.authorized_party.as_deref(),
            settings: &self.profile_settings,
        };
        Ok(claims::build(req, &ctx, now)?)
    }

    /// Builds the claims `req` asks for at `now`, signs them with the active
    /// key and counts the token under `source`: the one path every access
    /// token takes (mint and every OAuth grant).
    pub fn sign_access_token(
        &self,
        rc: &RequestCtx<'_>,
        req: &MintRequest,
        issue: &Issue<'_>,
        source: TokenSource,
        now: i64,
    ) -> Result<(String, Minted), OAuthError> {
        let mut minted = self.build_claims(rc, req, issue, now)?;
        let alg = req.alg.unwrap_or(self.settings.alg);
        if let Some(v) = req.variant {
            variant::check(v, alg)?;
        }
        let key = self.key_for(alg, now)?;
        let typ = match req.typ.as_deref() {
            Some(t) if artifacts::ArtifactKind::from_typ(t).is_some() => {
                return Err(OAuthError::invalid_request(format!(
                    "typ: {t:?} is reserved for mock-idp's own codes and refresh tokens"
                )));
            }
            Some(t) if t.trim().is_empty() => {
                return Err(OAuthError::invalid_request("typ: must not be empty"));
            }
            other => other,
        };
        if typ.is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
            rfc9068_claims(&mut minted.claims, req);
        }
        if let Some(v) = req.variant {
            variant::apply_claims(v, &mut minted.claims, now);
        }
        let token = match (req.variant, typ) {
            // The hot path: the key's pre-encoded header (`encode` notes the exp).
            (None, None) if minted.header.is_empty() => jwt::encode(&key, &minted.claims)?,
            (None, typ) => {
                // The profile's header members (Clerk M2M: `cat`).
                let mut header = serde_json::json!({
                    "alg": alg.as_str(), "typ": typ.unwrap_or("JWT"), "kid": key.kid()
                });
                for (name, value) in minted.header {
                    header[*name] = serde_json::Value::from(*value);
                }
                let token = jwt::encode_with(&header, &minted.claims, |input| key.sign(input))?;
                jwt::note_exp(&key, &minted.claims);
                token
            }
            (Some(v), typ) => {
                let token = variant::encode(v, &key, typ.unwrap_or("JWT"), &minted.claims)?;
                jwt::note_exp(&key, &minted.claims);
                token
            }
        };
        self.counters.issued(source, minted.preset);
        Ok((token, minted))
    }

    /// `POST /token` without `grant_type`: mints the token `req` asks for.
    pub fn mint(
        &self,
        rc: &RequestCtx<'_>,
        req: &MintRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let (access_token, minted) = self.sign_access_token(
            rc,
            req,
            &Issue::default(),
            TokenSource::Mint,
            self.clock.now(),
        )?;
        tracing::debug!(
            issuer = self.name(),
            sub = ?minted.claims.get("sub"),
            preset = minted.preset.as_str(),
            "minted token"
        );
        Ok(TokenResponse::bearer(access_token, minted.expires_in))
    }
}

/// RFC 9068 §2.2: an `at+jwt` access token has `iss`, `exp`, `aud`, `sub`,
/// `client_id`, `iat` and `jti`. `client_id` comes from the request, else
/// `azp`, else `sub`; a missing `aud` becomes the `iss` (an access token
/// must not look like an ID token, whose `aud` is the client).
fn rfc9068_claims(claims: &mut serde_json::Map<String, serde_json::Value>, req: &MintRequest) {
    if !claims.contains_key("client_id") {
        let client_id = req
            .client_id
            .clone()
            .map(serde_json::Value::from)
            .or_else(|| claims.get("azp").cloned())
            .or_else(|| claims.get("sub").cloned());
        if let Some(id) = client_id {
            claims.insert("client_id".into(), id);
        }
    }
    if !claims.contains_key("aud")
        && let Some(iss) = claims.get("iss").cloned()
    {
        claims.insert("aud".into(), iss);
    }
}

/// Loads the persisted `alg` key of `settings` or creates one (blocking).
fn create_key(settings: &Settings, alg: Alg) -> Result<SigningKey, KeySetupError> {
    let issuer = settings.name.as_str();
    if alg == Alg::HS256 {
        let secret = settings
            .hs256_secret
            .as_ref()
            .ok_or(KeySetupError::Generate(KeyError::NoSecret))?;
        return SigningKey::hmac(secret.0.as_bytes(), &settings.kid)
            .map_err(KeySetupError::Generate);
    }
    match &settings.keys_dir {
        Some(dir) => {
            let (key, outcome) = persist::load_or_create_for(dir, alg, &settings.kid)?;
            let what = match outcome {
                Outcome::Created => "created new key pair",
                Outcome::Loaded => "loaded key pair",
                Outcome::PublicRegenerated => "loaded private key; wrote missing public.pem",
            };
            tracing::info!(issuer, %alg, dir = %dir.display(), kid = key.kid(), "{what}");
            Ok(key)
        }
        None => {
            let key = SigningKey::generate_fast_for(alg, &settings.kid)
                .map_err(KeySetupError::Generate)?;
            tracing::info!(issuer, %alg, kid = key.kid(), "generated in-memory key pair");
            Ok(key)
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Issuers for unit tests: a root-like issuer with a generated key.
    use super::*;

    /// Settings of a test issuer named `name` with `iss` fixed.
    pub fn settings(name: &str, iss: Option<&str>) -> Settings {
        Settings {
            name: name.into(),
            issuer: iss.map(str::to_string),
            audience: None,
            token_ttl: 900,
            kid: KidPolicy::default(),
            keys_dir: None,
            replay_capacity: 1000,
            ledger_capacity: controls::ledger::CAPACITY,
            profile: Profile::default(),
            authorized_party: None,
            profile_options: ProfileOptions::default(),
            alg: Alg::RS256,
            hs256_secret: None,
            renewal: lifecycle::RenewalSettings::default(),
        }
    }

    /// A ready issuer with personas from YAML and clients.
    pub fn issuer(users_yaml: &str, clients: Vec<crate::clients::ClientConfig>) -> Issuer {
        let users = crate::claims::users::parse_users(users_yaml).unwrap_or_default();
        let clients = crate::clients::to_map(clients, "clients").unwrap_or_default();
        let issuer = Issuer::new(settings("", Some("https://issuer.test")), users, clients);
        issuer.prepare_key_blocking().unwrap();
        issuer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iss_matching() {
        let root = Issuer::new(
            testing::settings("", Some("https://i")),
            Users::new(),
            Clients::new(),
        );
        assert!(root.iss_matches("https://i") && !root.iss_matches("https://j"));
        let named = Issuer::new(testing::settings("t", None), Users::new(), Clients::new());
        for ok in ["http://localhost:1/t", "https://mock-idp:8081/t"] {
            assert!(named.iss_matches(ok), "{ok}");
        }
        for bad in ["http://h/u", "http://h/t/x", "t", "http://h", "ftp://h/t"] {
            assert!(!named.iss_matches(bad), "{bad}");
        }
    }

    #[test]
    fn iss_is_fixed_or_derived_from_the_base_and_mount() {
        let root = Issuer::new(
            testing::settings("", Some("https://i")),
            Users::new(),
            Clients::new(),
        );
        assert_eq!(root.iss("http://h:1"), "https://i");
        assert_eq!(root.mount(), "");
        assert!(root.is_root());
        let named = Issuer::new(
            testing::settings("tenant-a", None),
            Users::new(),
            Clients::new(),
        );
        assert_eq!(named.iss("http://h:1"), "http://h:1/tenant-a");
        assert_eq!(named.mount(), "/tenant-a");
    }

    #[test]
    fn iss_follows_the_profile() {
        let issuer = |name: &str, profile: Profile| {
            let mut settings = testing::settings(name, None);
            settings.profile = profile;
            Issuer::new(settings, Users::new(), Clients::new())
        };
        let a0 = issuer("a0", Profile::Auth0);
        assert_eq!(a0.iss("http://h:1"), "http://h:1/a0/");
        assert!(a0.iss_matches("https://other:2/a0/"));
        assert!(
            !a0.iss_matches("http://h:1/a0"),
            "Auth0's iss ends with a slash"
        );
        let kc = issuer("kc", Profile::Keycloak);
        assert_eq!(kc.mount(), "/realms/kc");
        assert_eq!(kc.iss("http://h:1"), "http://h:1/realms/kc");
        assert!(kc.iss_matches("http://x/realms/kc") && !kc.iss_matches("http://x/kc"));
        let g = issuer("g", Profile::Google);
        assert_eq!(g.iss("http://h:1"), "https://accounts.google.com");
        assert!(g.iss_matches("https://accounts.google.com") && !g.iss_matches("http://h:1/g"));
        let mut fixed = testing::settings("g2", Some("https://mine"));
        fixed.profile = Profile::Google;
        let fixed = Issuer::new(fixed, Users::new(), Clients::new());
        assert_eq!(
            fixed.iss("http://h"),
            "https://mine",
            "issuer wins over the profile default"
        );
    }

    #[tokio::test]
    async fn key_is_created_once_on_first_use() {
        let issuer = Issuer::new(testing::settings("x", None), Users::new(), Clients::new());
        assert!(!issuer.has_key());
        let e = issuer
            .mint(&RequestCtx::new("http://h"), &MintRequest::default())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::TemporarilyUnavailable);
        let (a, b) = tokio::join!(issuer.ready(), issuer.ready());
        a.unwrap();
        b.unwrap();
        let kid = issuer.signing_key().unwrap().kid().to_string();
        issuer.ready().await.unwrap();
        assert_eq!(issuer.signing_key().unwrap().kid(), kid, "created once");
        let token = issuer
            .mint(&RequestCtx::new("http://h"), &MintRequest::default())
            .unwrap();
        let claims = jwt::verify(
            &token.access_token,
            &issuer.keys().merged(),
            Some("http://h/x"),
        )
        .unwrap();
        assert_eq!(claims["sub"], "user_default");
        assert_eq!(issuer.counters().total(), 1);
    }
}
