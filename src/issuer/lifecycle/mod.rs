//! # The token lifecycle service (profile `jwt-auth-service`)
//!
//! The API of klazomenai/jwt-auth-service on an issuer of that profile:
//! single tokens, parent/child token pairs, renewal with a parent token,
//! server-side auto-renewal (the latest child, pushed to subscribers), the
//! revocation of a token (a parent takes its children with it) or of
//! everything a user was issued, and the service's own external
//! authorization check. Field names, texts and status kinds are the
//! original's (`docs/lifecycle.md`); nothing here knows about HTTP.
//!
//! - [`request`]: the request bodies, decoded like the Go handlers do.
//! - [`error`]: [`LifecycleError`], the service's `{"error", "message"}`.
//! - [`store`]: the bounded in-memory state (token index, renewal state,
//!   subscriptions), pure, with an explicit `now`.
//! - [`worker`]: the auto-renewal task of a server.
//!
//! Revocations go into the issuer's spent set, so introspection, userinfo
//! and ext-authz refuse a revoked token at once, and federation carries them
//! to the other replicas. Every time is the issuer's clock, in UNIX seconds.

pub mod error;
pub mod request;
pub mod store;
pub mod worker;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

pub use error::{LifecycleError, Status};
pub use request::{RenewRequest, TokenRequest};
use store::{Kind, Latest, Record, Renewal, Store, View};

use super::artifacts::ArtifactKind;
use super::{Issuer, RequestCtx};
use crate::jwt;
use crate::metrics::TokenSource;
use crate::profiles::{Profile, ids};

/// Default `auto_renew_threshold_seconds` (`AUTO_RENEW_THRESHOLD_SECONDS`).
pub const DEFAULT_THRESHOLD_SEC: u64 = 120;
/// Default `auto_renew_worker_interval` (`AUTO_RENEW_WORKER_INTERVAL`).
pub const DEFAULT_INTERVAL_SEC: u64 = 30;
/// Lifetime of a single token by default (`DefaultTokenExpiry`).
pub const SINGLE_LIFETIME: i64 = 3600;
/// Lifetime of a parent by default (`DefaultParentTokenExpiry`, 720 hours).
pub const PARENT_LIFETIME: i64 = 30 * 86_400;
/// Lifetime of a child by default (`DefaultChildTokenExpiry`).
pub const CHILD_LIFETIME: i64 = 900;
/// Longest `parent_expiry_hours` (the original's bound).
pub const MAX_PARENT_HOURS: i64 = 720;
/// Longest `parent_expires_in` and `child_expires_in`, in seconds (720 hours).
pub const MAX_PAIR_SECONDS: i64 = 2_592_000;
/// Largest `expiry_days` in absolute value (the `expires_in` limit, in days).
pub const MAX_EXPIRY_DAYS: i64 = crate::claims::MAX_EXPIRES_IN / 86_400;
/// `network` when the request names none.
pub const DEFAULT_NETWORK: &str = crate::profiles::jwt_auth_service::DEFAULT_NETWORK;
/// `rate_limit` when the request names none (or 0).
pub const DEFAULT_RATE_LIMIT: i64 = crate::profiles::jwt_auth_service::DEFAULT_RATE_LIMIT as i64;

/// The renewal settings of an issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalSettings {
    /// A child is replaced once it has this many seconds or fewer to live
    /// (`auto_renew_threshold_seconds`).
    pub threshold_sec: u64,
    /// How often the worker looks, in seconds (`auto_renew_worker_interval`).
    pub interval_sec: u64,
}

impl Default for RenewalSettings {
    fn default() -> Self {
        RenewalSettings {
            threshold_sec: DEFAULT_THRESHOLD_SEC,
            interval_sec: DEFAULT_INTERVAL_SEC,
        }
    }
}

/// The lifecycle state of one issuer of profile `jwt-auth-service`.
#[derive(Debug)]
pub struct Lifecycle {
    settings: RenewalSettings,
    store: Mutex<Store>,
    /// Open event streams (`mock_idp_lifecycle_sse_streams`).
    streams: AtomicUsize,
}

impl Lifecycle {
    /// An empty state tracking at most `capacity` live tokens.
    pub fn new(settings: RenewalSettings, capacity: usize) -> Self {
        Lifecycle {
            settings,
            store: Mutex::new(Store::new(capacity)),
            streams: AtomicUsize::new(0),
        }
    }

    /// The renewal settings.
    pub fn settings(&self) -> RenewalSettings {
        self.settings
    }

    /// The store, locked (a panic while holding it leaves it usable).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Event streams open now.
    pub fn open_streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }
}

/// `201` body of `POST /tokens` and `200` body of `POST /renew`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SingleToken {
    /// The JWT.
    pub token: String,
    /// Its `jti`.
    pub token_id: String,
    /// Its `exp`, RFC 3339.
    pub expires_at: String,
}

/// `201` body of `POST /token-pairs` (the child's members only with
/// `include_child`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenPair {
    /// The parent JWT.
    pub parent_token: String,
    /// The child JWT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_token: Option<String>,
    /// The parent's `jti`.
    pub parent_jti: String,
    /// The child's `jti`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_jti: Option<String>,
    /// The parent's lifetime in seconds.
    pub parent_expiry: i64,
    /// The child's lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_expiry: Option<i64>,
}

/// `GET /tokens/latest` body and the stream's `token` event (keys in the
/// order Go's `json.Marshal` of a map writes them).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LatestChild {
    /// The child's `jti`.
    pub child_jti: String,
    /// The child JWT.
    pub child_token: String,
    /// Its `exp`, RFC 3339.
    pub expires_at: String,
    /// When it was minted, RFC 3339.
    pub renewed_at: String,
}

impl From<&Latest> for LatestChild {
    fn from(l: &Latest) -> Self {
        LatestChild {
            child_jti: l.jti.clone(),
            child_token: l.token.clone(),
            expires_at: crate::utc::rfc3339(l.exp),
            renewed_at: crate::utc::rfc3339(l.iat),
        }
    }
}

/// The service's metrics of one issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleGauges {
    /// One entry per parent with live renewal state.
    pub parents: Vec<store::ParentGauge>,
    /// Revoked `jti`s remembered (the issuer's live spent entries).
    pub revoked: usize,
    /// Open event streams.
    pub streams: usize,
}

/// A subscription to a parent's [`View`] (an event stream). Dropping it
/// frees the channel once it was the last one and uncounts the stream.
#[derive(Debug)]
pub struct Subscription {
    issuer: Arc<Issuer>,
    parent_jti: String,
    rx: watch::Receiver<View>,
}

impl Subscription {
    /// The parent this is about.
    pub fn parent_jti(&self) -> &str {
        &self.parent_jti
    }

    /// The receiver of the parent's views.
    pub fn receiver(&mut self) -> &mut watch::Receiver<View> {
        &mut self.rx
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Drop our receiver first, so the channel can tell it was the last.
        let (_, closed) = watch::channel(View::default());
        drop(std::mem::replace(&mut self.rx, closed));
        if let Some(lc) = self.issuer.lifecycle() {
            lc.streams.fetch_sub(1, Ordering::Relaxed);
            lc.store().unsubscribe_if_idle(&self.parent_jti);
        }
    }
}

/// What one token of the service carries.
struct Spec<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Option<&'a Value>,
    user_id: &'a str,
    network: &'a str,
    rate_limit: i64,
    kind: Kind,
    parent_jti: Option<&'a str>,
    iat: i64,
    exp: i64,
}

/// A minted token.
struct Minted {
    token: String,
    jti: String,
}

impl Minted {
    /// The `/tokens` and `/renew` body of this token, which expires at `exp`.
    fn single(self, exp: i64) -> SingleToken {
        SingleToken {
            token: self.token,
            token_id: self.jti,
            expires_at: crate::utc::rfc3339(exp),
        }
    }
}

fn not_lifecycle(issuer: &Issuer) -> LifecycleError {
    LifecycleError::not_found("Not found").with_message(format!(
        "issuer {:?} has profile {}; the token lifecycle API is on issuers of profile \
         jwt-auth-service",
        issuer.name(),
        issuer.profile()
    ))
}

fn internal(what: &str, e: impl std::fmt::Display) -> LifecycleError {
    tracing::error!(error = %e, "{what}");
    LifecycleError {
        status: Status::Internal,
        error: "Failed to generate token".into(),
        message: Some(format!("{what}; see the mock-idp log")),
    }
}

fn full(e: store::StoreFull) -> LifecycleError {
    tracing::warn!(error = %e, "lifecycle token index full");
    LifecycleError::unavailable("Token store is full").with_message(e.to_string())
}

/// A lifetime field out of its range: `400 {"error": "<name> must be between a and b"}`.
fn range(name: &str, value: i64, min: i64, max: i64) -> Result<i64, LifecycleError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(LifecycleError::bad_request(format!(
            "{name} must be between {min} and {max}"
        )))
    }
}

fn user_id(req: &TokenRequest) -> Result<&str, LifecycleError> {
    if req.user_id.is_empty() {
        return Err(LifecycleError::bad_request("user_id is required"));
    }
    Ok(&req.user_id)
}

fn network(req: &TokenRequest) -> &str {
    if req.network.is_empty() {
        DEFAULT_NETWORK
    } else {
        &req.network
    }
}

fn rate_limit(value: i64) -> i64 {
    if value == 0 {
        DEFAULT_RATE_LIMIT
    } else {
        value
    }
}

impl Issuer {
    /// The lifecycle state (issuers of profile `jwt-auth-service` only).
    pub fn lifecycle(&self) -> Option<&Lifecycle> {
        self.lifecycle.as_ref()
    }

    fn require_lifecycle(&self) -> Result<&Lifecycle, LifecycleError> {
        self.lifecycle().ok_or_else(|| not_lifecycle(self))
    }

    /// The issuer's `aud` as the service writes it: always an array.
    fn lifecycle_aud(&self) -> Option<Value> {
        self.settings().audience.as_ref().map(|a| json!(a.to_vec()))
    }

    /// Signs one token of the service (claims `pkg/auth/jwt.go` writes).
    fn lifecycle_sign(&self, spec: &Spec<'_>) -> Result<Minted, LifecycleError> {
        let jti = ids::uuid_v4().map_err(|e| internal("no random jti", e))?;
        let mut c = Map::new();
        c.insert("iss".into(), json!(spec.iss));
        c.insert("sub".into(), json!(spec.sub));
        if let Some(aud) = spec.aud {
            c.insert("aud".into(), aud.clone());
        }
        c.insert("exp".into(), json!(spec.exp));
        c.insert("iat".into(), json!(spec.iat));
        c.insert("jti".into(), json!(jti));
        c.insert("network".into(), json!(spec.network));
        c.insert("rate_limit".into(), json!(spec.rate_limit));
        c.insert("user_id".into(), json!(spec.user_id));
        match spec.kind {
            Kind::Single => {}
            Kind::Parent => {
                c.insert("token_type".into(), json!("parent"));
            }
            Kind::Child => {
                c.insert("token_type".into(), json!("child"));
                c.insert("parent_jti".into(), json!(spec.parent_jti.unwrap_or("")));
            }
        }
        let key = self.key_for(self.settings().alg, spec.iat)?;
        let token = jwt::encode(&key, &c).map_err(|e| internal("signing failed", e))?;
        key.note_exp(spec.exp);
        self.counters()
            .issued(TokenSource::Mint, Profile::JwtAuthService);
        Ok(Minted { token, jti })
    }

    /// Signs `spec` and adds it to the index (the token is only handed out
    /// when it could be indexed, so it can always be revoked).
    fn lifecycle_issue(
        &self,
        lc: &Lifecycle,
        spec: &Spec<'_>,
        now: i64,
    ) -> Result<Minted, LifecycleError> {
        let minted = self.lifecycle_sign(spec)?;
        let record = Record {
            exp: spec.exp,
            user: Arc::from(spec.user_id),
            parent: spec.parent_jti.map(Arc::from),
            kind: spec.kind,
        };
        lc.store().record(&minted.jti, record, now).map_err(full)?;
        Ok(minted)
    }

    /// `POST /tokens`: one token for `user_id`, 1 hour by default.
    pub fn lifecycle_token(
        &self,
        rc: &RequestCtx<'_>,
        req: &TokenRequest,
    ) -> Result<SingleToken, LifecycleError> {
        let lc = self.require_lifecycle()?;
        let user = user_id(req)?;
        let max = crate::claims::MAX_EXPIRES_IN;
        let lifetime = if req.expires_in != 0 {
            range("expires_in", req.expires_in, -max, max)?
        } else if req.expiry_days != 0 {
            range(
                "expiry_days",
                req.expiry_days,
                -MAX_EXPIRY_DAYS,
                MAX_EXPIRY_DAYS,
            )? * 86_400
        } else {
            SINGLE_LIFETIME
        };
        let now = self.clock().now();
        let iss = self.iss(rc.base);
        let aud = self.lifecycle_aud();
        let sub = format!("user_{user}");
        let exp = now.saturating_add(lifetime);
        let minted = self.lifecycle_issue(
            lc,
            &Spec {
                iss: &iss,
                sub: &sub,
                aud: aud.as_ref(),
                user_id: user,
                network: network(req),
                rate_limit: rate_limit(req.rate_limit),
                kind: Kind::Single,
                parent_jti: None,
                iat: now,
                exp,
            },
            now,
        )?;
        Ok(minted.single(exp))
    }

    /// `POST /token-pairs`: a parent (30 days by default) with auto-renewal
    /// on, and with `include_child` a child (15 minutes by default, never
    /// past the parent), which is the parent's latest child from the start.
    pub fn lifecycle_pair(
        &self,
        rc: &RequestCtx<'_>,
        req: &TokenRequest,
    ) -> Result<TokenPair, LifecycleError> {
        let lc = self.require_lifecycle()?;
        let user = user_id(req)?;
        let hours = range(
            "parent_expiry_hours",
            req.parent_expiry_hours,
            0,
            MAX_PARENT_HOURS,
        )?;
        let parent_seconds = range(
            "parent_expires_in",
            req.parent_expires_in,
            0,
            MAX_PAIR_SECONDS,
        )?;
        let child_seconds = range(
            "child_expires_in",
            req.child_expires_in,
            0,
            MAX_PAIR_SECONDS,
        )?;
        let parent_lifetime = match (parent_seconds, hours) {
            (0, 0) => PARENT_LIFETIME,
            (0, h) => h * 3600,
            (s, _) => s,
        };
        let child_lifetime = if child_seconds == 0 {
            CHILD_LIFETIME
        } else {
            child_seconds
        };
        let now = self.clock().now();
        let iss = self.iss(rc.base).into_owned();
        let aud = self.lifecycle_aud();
        let sub = format!("user_{user}");
        let network = network(req);
        let rate_limit = rate_limit(req.rate_limit);
        let parent_exp = now.saturating_add(parent_lifetime);
        let spec = |kind, parent_jti, exp| Spec {
            iss: &iss,
            sub: &sub,
            aud: aud.as_ref(),
            user_id: user,
            network,
            rate_limit,
            kind,
            parent_jti,
            iat: now,
            exp,
        };
        let parent = self.lifecycle_issue(lc, &spec(Kind::Parent, None, parent_exp), now)?;
        let child = if req.include_child {
            let exp = store::child_exp(now, child_lifetime, parent_exp);
            let minted =
                self.lifecycle_issue(lc, &spec(Kind::Child, Some(&parent.jti), exp), now)?;
            Some((minted, exp))
        } else {
            None
        };
        let latest = child.as_ref().map(|(c, exp)| {
            Arc::new(Latest {
                token: c.token.clone(),
                jti: c.jti.clone(),
                exp: *exp,
                iat: now,
            })
        });
        lc.store().start_renewal(Renewal {
            parent_jti: Arc::from(parent.jti.as_str()),
            user_id: Arc::from(user),
            sub: sub.clone(),
            network: network.to_string(),
            rate_limit,
            iss: iss.clone(),
            aud: aud.clone(),
            child_lifetime,
            parent_exp,
            created_at: now,
            latest,
        });
        tracing::debug!(issuer = self.name(), user, parent_jti = %parent.jti, "token pair issued");
        let (child_token, child_jti, child_expiry) = match child {
            Some((c, exp)) => (Some(c.token), Some(c.jti), Some(exp - now)),
            None => (None, None, None),
        };
        Ok(TokenPair {
            parent_token: parent.token,
            child_token,
            parent_jti: parent.jti,
            child_jti,
            parent_expiry: parent_lifetime,
            child_expiry,
        })
    }

    /// Verifies a token the way the service does: signature by one of the
    /// issuer's keys (own or a replica's), its algorithm, `exp` and `nbf`;
    /// no `iss`/`aud` check. mock-idp's codes and refresh tokens are not
    /// tokens of the service.
    pub fn lifecycle_verify(&self, token: &str) -> Result<Map<String, Value>, String> {
        let typ = jwt::header_typ(token).map_err(|e| e.to_string())?;
        if let Some(kind) = typ.as_deref().and_then(ArtifactKind::from_typ) {
            return Err(format!("a mock-idp {kind:?} is not an access token").to_lowercase());
        }
        jwt::verify_at(token, &self.keys().merged(), None, self.clock().now())
            .map_err(|e| e.to_string())
    }

    /// `POST /renew`: a new child of the parent token in the body, its
    /// claims copied from the parent. Not the latest child, not streamed
    /// (as in the original).
    pub fn lifecycle_renew(&self, req: &RenewRequest) -> Result<SingleToken, LifecycleError> {
        let lc = self.require_lifecycle()?;
        if req.parent_token.is_empty() {
            return Err(LifecycleError::bad_request("parent_token is required"));
        }
        let claims = self.lifecycle_verify(&req.parent_token).map_err(|reason| {
            LifecycleError::unauthorized("Invalid parent token")
                .with_message(format!("failed to parse token: {reason}"))
        })?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or("");
        let token_type = text("token_type");
        if token_type != "parent" {
            return Err(LifecycleError::bad_request("Token is not a parent token")
                .with_message(format!("Expected token_type='parent', got '{token_type}'")));
        }
        let parent_jti = text("jti");
        if parent_jti.is_empty() {
            return Err(LifecycleError::bad_request("JWT missing jti claim"));
        }
        let now = self.clock().now();
        if self.spent().is_spent(parent_jti, now) {
            return Err(LifecycleError::parent_revoked());
        }
        let lifetime = lc
            .store()
            .renewal(parent_jti)
            .map_or(CHILD_LIFETIME, |r| r.child_lifetime);
        let parent_exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        let exp = store::child_exp(now, lifetime, parent_exp);
        let rate_limit = claims
            .get("rate_limit")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_RATE_LIMIT);
        let minted = self.lifecycle_issue(
            lc,
            &Spec {
                iss: text("iss"),
                sub: text("sub"),
                aud: claims.get("aud"),
                user_id: text("user_id"),
                network: text("network"),
                rate_limit,
                kind: Kind::Child,
                parent_jti: Some(parent_jti),
                iat: now,
                exp,
            },
            now,
        )?;
        Ok(minted.single(exp))
    }

    /// `GET /tokens/latest?parent_jti=`: the current auto-renewed child.
    pub fn lifecycle_latest(
        &self,
        parent_jti: Option<&str>,
    ) -> Result<LatestChild, LifecycleError> {
        let lc = self.require_lifecycle()?;
        let parent = parent_jti
            .filter(|p| !p.is_empty())
            .ok_or_else(LifecycleError::parent_jti_required)?;
        let now = self.clock().now();
        if self.spent().is_spent(parent, now) {
            return Err(LifecycleError::parent_revoked());
        }
        lc.store()
            .latest(parent, now, self.spent())
            .map(|l| LatestChild::from(&*l))
            .ok_or_else(|| {
                LifecycleError::not_found("No auto-renewed token available")
                    .with_message("Server-side auto-renewal may not be enabled for this token")
            })
    }

    /// `GET /tokens/stream?parent_jti=`: a subscription to the parent's
    /// latest child and end.
    pub fn lifecycle_subscribe(
        self: &Arc<Self>,
        parent_jti: Option<&str>,
    ) -> Result<Subscription, LifecycleError> {
        let lc = self.require_lifecycle()?;
        let parent = parent_jti
            .filter(|p| !p.is_empty())
            .ok_or_else(LifecycleError::parent_jti_required)?;
        let rx = lc
            .store()
            .subscribe(parent, self.clock().now(), self.spent());
        lc.streams.fetch_add(1, Ordering::Relaxed);
        Ok(Subscription {
            issuer: Arc::clone(self),
            parent_jti: parent.to_string(),
            rx,
        })
    }

    /// `DELETE /tokens/{jti}`: revokes it (a parent with every child).
    pub fn lifecycle_revoke(&self, jti: &str) -> Result<(), LifecycleError> {
        let lc = self.require_lifecycle()?;
        let added = lc.store().revoke(jti, self.clock().now(), self.spent())?;
        tracing::debug!(issuer = self.name(), jti, added, "revoked");
        Ok(())
    }

    /// `DELETE /users/{user_id}/tokens`: revokes everything issued to the user so far.
    pub fn lifecycle_revoke_user(&self, user_id: &str) -> Result<(), LifecycleError> {
        let lc = self.require_lifecycle()?;
        let added = lc
            .store()
            .revoke_user(user_id, self.clock().now(), self.spent())?;
        tracing::debug!(
            issuer = self.name(),
            user_id,
            added,
            "revoked a user's tokens"
        );
        Ok(())
    }

    /// `POST|GET|HEAD /authorize`, the service's external authorization
    /// check, given the request's `Autonity-Token` and `Authorization`
    /// headers (`None` when absent): `Ok` is a `200` with an empty body.
    pub fn lifecycle_authorize(
        &self,
        autonity_token: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<(), LifecycleError> {
        self.require_lifecycle()?;
        let token = match (autonity_token, authorization) {
            // An Autonity-Token header decides, even an empty one.
            (Some(value), _) => {
                let token = value.trim();
                if token.is_empty() {
                    return Err(LifecycleError::unauthorized("Empty Autonity-Token header"));
                }
                token
            }
            (None, Some(value)) if !value.is_empty() => match (value.get(..7), value.get(7..)) {
                (Some(scheme), Some(rest))
                    if value.len() > 7 && scheme.eq_ignore_ascii_case("bearer ") =>
                {
                    rest.trim()
                }
                _ => {
                    return Err(LifecycleError::unauthorized(
                        "Invalid Authorization header format",
                    )
                    .with_message("Expected 'Bearer <token>' or use 'Autonity-Token' header"));
                }
            },
            _ => "",
        };
        if token.is_empty() {
            return Err(LifecycleError::unauthorized("Missing token").with_message(
                "Provide 'Autonity-Token' header or 'Authorization: Bearer <token>'",
            ));
        }
        let claims = self.lifecycle_verify(token).map_err(|reason| {
            LifecycleError::unauthorized("Invalid JWT token")
                .with_message(format!("failed to parse token: {reason}"))
        })?;
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|j| !j.is_empty())
            .ok_or_else(|| LifecycleError::bad_request("JWT missing jti claim"))?;
        let now = self.clock().now();
        if self.spent().is_spent(jti, now) {
            return Err(LifecycleError::token_revoked());
        }
        if let Some(parent) = claims.get("parent_jti").and_then(Value::as_str)
            && self.spent().is_spent(parent, now)
        {
            return Err(LifecycleError::parent_revoked());
        }
        Ok(())
    }

    /// One run of the auto-renewal worker at the issuer's clock: ends the
    /// renewal of revoked and expired parents and mints a child for every
    /// parent that needs one. Returns how many children were minted.
    pub fn lifecycle_tick(&self) -> usize {
        let Some(lc) = self.lifecycle() else {
            return 0;
        };
        let now = self.clock().now();
        let threshold = i64::try_from(lc.settings.threshold_sec).unwrap_or(i64::MAX);
        let jobs = lc.store().due(now, threshold, self.spent());
        let mut minted = 0;
        for job in jobs {
            let exp = store::child_exp(now, job.child_lifetime, job.parent_exp);
            let spec = Spec {
                iss: &job.iss,
                sub: &job.sub,
                aud: job.aud.as_ref(),
                user_id: &job.user_id,
                network: &job.network,
                rate_limit: job.rate_limit,
                kind: Kind::Child,
                parent_jti: Some(&job.parent_jti),
                iat: now,
                exp,
            };
            let child = match self.lifecycle_issue(lc, &spec, now) {
                Ok(child) => child,
                Err(e) => {
                    tracing::warn!(
                        issuer = self.name(),
                        parent_jti = %job.parent_jti,
                        error = %e.error,
                        message = e.message.as_deref().unwrap_or(""),
                        "auto-renewal could not mint a child; trying again next run"
                    );
                    continue;
                }
            };
            let jti = child.jti.clone();
            let installed = lc.store().install(
                &job.parent_jti,
                Latest {
                    token: child.token,
                    jti: child.jti,
                    exp,
                    iat: now,
                },
            );
            if installed {
                minted += 1;
            } else if let Err(e) = self.spent().spend(&jti, exp, now) {
                // Revoked meanwhile: the child must not outlive that.
                tracing::warn!(issuer = self.name(), error = %e, "cannot revoke an orphaned child");
            }
        }
        minted
    }

    /// The service's metrics of this issuer (`None` for other profiles).
    pub fn lifecycle_gauges(&self) -> Option<LifecycleGauges> {
        let lc = self.lifecycle()?;
        let now = self.clock().now();
        let parents = lc.store().gauges(now);
        Some(LifecycleGauges {
            parents,
            revoked: self.spent().live_len(now),
            streams: lc.open_streams(),
        })
    }
}

#[cfg(test)]
mod tests;
