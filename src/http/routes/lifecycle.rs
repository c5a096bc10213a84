//! The token lifecycle service's endpoints (issuers of profile
//! `jwt-auth-service`, at the root and under `/{issuer}`; other issuers
//! answer a JSON 404): `POST /tokens`, `POST /token-pairs`, `POST /renew`,
//! `GET /tokens/latest`, `GET /tokens/stream` (Server-Sent Events),
//! `DELETE /tokens/{jti}`, `DELETE /users/{user_id}/tokens`, `GET /health`
//! and `/healthz` (named issuers), and its `/authorize` check (taken over in
//! [`super::authorize`]). Also `<mount>/ext-authz[/...]`, any method, on
//! every issuer. The decisions are the issuer core's
//! ([`crate::issuer::lifecycle`], [`crate::issuer::ext_authz`]).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Extension, RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, delete, get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::no_store;
use crate::http::extract::{Body, Ctx, Iss, ProfileGate};
use crate::http::{SharedState, issuer_route, mounted_route};
use crate::issuer::ext_authz::{Allowed, Denial, Requirements};
use crate::issuer::lifecycle::store::{End, View};
use crate::issuer::lifecycle::{
    LatestChild, LifecycleError, RenewRequest, SingleToken, Status, Subscription, TokenPair,
    TokenRequest,
};
use crate::issuer::paths::{self, lifecycle as lp};
use crate::issuer::registry::At;
use crate::issuer::{Form, Issuer};
use crate::profiles::Profile;

/// Time between two `heartbeat` events of a stream (the original's ticker).
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// The `Autonity-Token` header of the original's `/authorize`.
pub const AUTONITY_TOKEN: &str = "autonity-token";
/// ext-authz: the subject of an allowed token.
pub const X_AUTH_SUB: &str = "x-auth-sub";
/// ext-authz: the claims of an allowed token (base64url JSON).
pub const X_AUTH_CLAIMS: &str = "x-auth-claims";
/// ext-authz: a required scope, as a header (Envoy's `headers_to_add`).
pub const X_AUTH_REQUIRE_SCOPE: &str = "x-auth-require-scope";
/// ext-authz: a required claim `name:value`, as a header.
pub const X_AUTH_REQUIRE_CLAIM: &str = "x-auth-require-claim";

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let tokens = post(tokens_post).layer(no_store());
    let routes: [(&'static str, MethodRouter<SharedState>, bool); 9] = [
        (lp::TOKENS, tokens, true),
        (
            lp::TOKEN_PAIRS,
            post(token_pairs_post).layer(no_store()),
            true,
        ),
        (lp::RENEW, post(renew_post).layer(no_store()), true),
        (lp::LATEST, get(latest_get).layer(no_store()), true),
        (lp::STREAM, get(stream_get), true),
        (lp::TOKEN, delete(token_delete), true),
        (lp::USER_TOKENS, delete(user_tokens_delete), true),
        // The root's /health is the server's.
        (lp::HEALTH, get(health_get), false),
        (lp::HEALTHZ, get(health_get), false),
    ];
    let mut router = Router::new();
    for (path, route, at_root) in routes {
        let gate = ProfileGate {
            profiles: 1 << Profile::JwtAuthService.index(),
            path,
        };
        let route = route.layer(Extension(gate));
        if at_root {
            router = router.route(path, route.clone());
        }
        router = mounted_route(router, path, route, At::Named);
    }
    [
        paths::EXT_AUTHZ,
        paths::EXT_AUTHZ_SLASH,
        paths::EXT_AUTHZ_ANY,
    ]
    .into_iter()
    .fold(router, |router, path| {
        issuer_route(router, path, any(ext_authz_any))
    })
}

impl IntoResponse for LifecycleError {
    fn into_response(self) -> Response {
        let status = match self.status {
            Status::BadRequest => StatusCode::BAD_REQUEST,
            Status::Unauthorized => StatusCode::UNAUTHORIZED,
            Status::Forbidden => StatusCode::FORBIDDEN,
            Status::NotFound => StatusCode::NOT_FOUND,
            Status::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Status::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = match &self.message {
            Some(message) => json!({"error": self.error, "message": message}),
            None => json!({"error": self.error}),
        };
        (status, Json(body)).into_response()
    }
}

/// `POST <mount>/tokens`: `201 {"token", "token_id", "expires_at"}`.
pub async fn tokens_post(
    Iss(issuer): Iss,
    ctx: Ctx,
    Body(body): Body,
) -> Result<(StatusCode, Json<SingleToken>), LifecycleError> {
    let req = TokenRequest::parse(&body)?;
    let token = issuer.lifecycle_token(&ctx.core(), &req)?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// `POST <mount>/token-pairs`: `201 {"parent_token", ...}`.
pub async fn token_pairs_post(
    Iss(issuer): Iss,
    ctx: Ctx,
    Body(body): Body,
) -> Result<(StatusCode, Json<TokenPair>), LifecycleError> {
    let req = TokenRequest::parse(&body)?;
    let pair = issuer.lifecycle_pair(&ctx.core(), &req)?;
    Ok((StatusCode::CREATED, Json(pair)))
}

/// `POST <mount>/renew`: `200 {"token", "token_id", "expires_at"}`.
pub async fn renew_post(
    Iss(issuer): Iss,
    Body(body): Body,
) -> Result<Json<SingleToken>, LifecycleError> {
    let req = RenewRequest::parse(&body)?;
    Ok(Json(issuer.lifecycle_renew(&req)?))
}

/// `parent_jti` of the query string.
fn parent_jti(query: Option<&str>) -> Option<String> {
    let form = Form::parse(query.unwrap_or("").as_bytes(), "the query").ok()?;
    form.get("parent_jti").map(str::to_string)
}

/// `GET <mount>/tokens/latest?parent_jti=`.
pub async fn latest_get(
    Iss(issuer): Iss,
    RawQuery(query): RawQuery,
) -> Result<Json<LatestChild>, LifecycleError> {
    let parent = parent_jti(query.as_deref());
    Ok(Json(issuer.lifecycle_latest(parent.as_deref())?))
}

/// `DELETE <mount>/tokens/{jti}`: `204`.
pub async fn token_delete(
    Iss(issuer): Iss,
    params: RawPathParams,
) -> Result<StatusCode, LifecycleError> {
    let jti = param(&params, "jti");
    issuer.lifecycle_revoke(jti)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE <mount>/users/{user_id}/tokens`: `204`.
pub async fn user_tokens_delete(
    Iss(issuer): Iss,
    params: RawPathParams,
) -> Result<StatusCode, LifecycleError> {
    let user = param(&params, "user_id");
    issuer.lifecycle_revoke_user(user)?;
    Ok(StatusCode::NO_CONTENT)
}

fn param<'a>(params: &'a RawPathParams, name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map_or("", |(_, v)| v)
}

/// `GET <mount>/health` and `/healthz`: the original's answer (no Redis
/// here, so always connected).
pub async fn health_get(Iss(_issuer): Iss) -> Json<Value> {
    Json(json!({"status": "healthy", "redis": "connected"}))
}

/// The service's `/authorize` check: `200` with an empty body, or its error.
pub fn authorize_check(issuer: &Issuer, headers: &HeaderMap) -> Response {
    let text = |name: HeaderName| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let autonity = text(HeaderName::from_static(AUTONITY_TOKEN));
    let authorization = text(header::AUTHORIZATION);
    match issuer.lifecycle_authorize(autonity.as_deref(), authorization.as_deref()) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET <mount>/tokens/stream?parent_jti=`: `connected`, the current child
/// as `token`, a `token` per renewal, a `heartbeat` every 10 s, and for a
/// revoked or expired parent `revoked`/`expired`, then the end.
pub async fn stream_get(
    State(state): State<SharedState>,
    Iss(issuer): Iss,
    RawQuery(query): RawQuery,
) -> Result<Response, LifecycleError> {
    let parent = parent_jti(query.as_deref());
    let subscription = issuer.lifecycle_subscribe(parent.as_deref())?;
    let stream = event_stream(subscription, state.shutdown.subscribe(), HEARTBEAT);
    let mut response = Sse::new(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(response)
}

/// Where a stream is.
enum Phase {
    /// Nothing sent yet.
    Start,
    /// `connected` sent; the current view next.
    Current,
    /// Following the parent.
    Live,
    /// Ended.
    Done,
}

struct EventStream {
    subscription: Subscription,
    stop: watch::Receiver<bool>,
    heartbeat: Interval,
    /// The `jti` of the last child sent.
    last: Option<String>,
    phase: Phase,
}

/// The events of one subscription until the parent ends, the client goes
/// away (the stream is dropped with its subscription) or the server stops.
pub fn event_stream(
    subscription: Subscription,
    stop: watch::Receiver<bool>,
    heartbeat: Duration,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let mut heartbeat = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = EventStream {
        subscription,
        stop,
        heartbeat,
        last: None,
        phase: Phase::Start,
    };
    stream::unfold(state, |mut s| async move {
        let event = s.next().await?;
        Some((Ok(event), s))
    })
}

fn event(name: &str, data: &Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

impl EventStream {
    async fn next(&mut self) -> Option<Event> {
        match self.phase {
            Phase::Start => {
                self.phase = Phase::Current;
                Some(event(
                    "connected",
                    &json!({"message": "Token update stream connected"}),
                ))
            }
            Phase::Current => {
                self.phase = Phase::Live;
                let view = self.subscription.receiver().borrow_and_update().clone();
                match self.emit(view) {
                    Some(e) => Some(e),
                    None => self.live().await,
                }
            }
            Phase::Live => self.live().await,
            Phase::Done => None,
        }
    }

    /// The event `view` calls for, if any.
    fn emit(&mut self, view: View) -> Option<Event> {
        if let Some(end) = view.end {
            self.phase = Phase::Done;
            let name = match end {
                End::Revoked => "revoked",
                End::Expired => "expired",
            };
            return Some(event(
                name,
                &json!({"parent_jti": self.subscription.parent_jti()}),
            ));
        }
        let latest = view.latest?;
        if self.last.as_deref() == Some(latest.jti.as_str()) {
            return None;
        }
        self.last = Some(latest.jti.clone());
        let body = serde_json::to_value(LatestChild::from(&*latest)).ok()?;
        Some(event("token", &body))
    }

    async fn live(&mut self) -> Option<Event> {
        enum Woke {
            Stop,
            Changed(Option<View>),
            Heartbeat,
        }
        loop {
            let rx = self.subscription.receiver();
            let woke = tokio::select! {
                biased;
                // Shutdown began (or the server state went away).
                _ = self.stop.wait_for(|s| *s) => Woke::Stop,
                changed = rx.changed() => {
                    Woke::Changed(changed.ok().map(|()| rx.borrow_and_update().clone()))
                }
                _ = self.heartbeat.tick() => Woke::Heartbeat,
            };
            match woke {
                Woke::Stop | Woke::Changed(None) => {
                    self.phase = Phase::Done;
                    return None;
                }
                Woke::Changed(Some(view)) => {
                    if let Some(e) = self.emit(view) {
                        return Some(e);
                    }
                }
                Woke::Heartbeat => {
                    return Some(event(
                        "heartbeat",
                        &json!({"timestamp": crate::utc::rfc3339(crate::unix_now())}),
                    ));
                }
            }
        }
    }
}

/// `<mount>/ext-authz[/...]`, any method: `200` with `x-auth-sub` and
/// `x-auth-claims` for a valid, unrevoked token of the issuer that meets
/// the requirements (`require_scope`, `require_claim` in the query or as
/// `x-auth-require-*` headers); `401` or `403` otherwise, no `x-auth-*`.
pub async fn ext_authz_any(
    Iss(issuer): Iss,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let required = requirements(query.as_deref(), &headers);
    let token = bearer_token(&issuer, &headers);
    match issuer.ext_authz(token.as_deref(), &required) {
        Ok(allowed) => allowed_response(&allowed),
        Err(denial) => denied(&denial),
    }
}

/// What an ext-authz request requires: `require_scope` / `require_claim`
/// query parameters and `x-auth-require-*` headers.
fn requirements(query: Option<&str>, headers: &HeaderMap) -> Requirements {
    let mut required = Requirements::default();
    if let Ok(form) = Form::parse(query.unwrap_or_default().as_bytes(), "the query") {
        for (name, value) in form.pairs() {
            match name.as_str() {
                "require_scope" => required.add_scope(value),
                "require_claim" => required.add_claim(value),
                _ => {}
            }
        }
    }
    for value in headers.get_all(X_AUTH_REQUIRE_SCOPE) {
        required.add_scope(&String::from_utf8_lossy(value.as_bytes()));
    }
    for value in headers.get_all(X_AUTH_REQUIRE_CLAIM) {
        required.add_claim(&String::from_utf8_lossy(value.as_bytes()));
    }
    required
}

/// `200` with `x-auth-sub` and `x-auth-claims` (base64url JSON).
fn allowed_response(allowed: &Allowed) -> Response {
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    if let Some(value) = allowed
        .sub
        .as_deref()
        .and_then(|s| HeaderValue::from_str(s).ok())
    {
        h.insert(X_AUTH_SUB, value);
    }
    if let Ok(value) = HeaderValue::from_str(&allowed.claims_b64) {
        h.insert(X_AUTH_CLAIMS, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The bearer token of an ext-authz request: `Authorization: Bearer`
/// (scheme in any case); on a `jwt-auth-service` issuer an
/// `Autonity-Token` header comes first, as on its `/authorize`.
fn bearer_token(issuer: &Issuer, headers: &HeaderMap) -> Option<String> {
    if issuer.lifecycle().is_some()
        && let Some(value) = headers.get(AUTONITY_TOKEN)
    {
        return value.to_str().ok().map(|v| v.trim().to_string());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// A `401` or `403` with RFC 6750's `WWW-Authenticate` and an RFC 6749 body.
fn denied(denial: &Denial) -> Response {
    let (status, challenge, code, description) = match denial {
        Denial::NoToken => (
            StatusCode::UNAUTHORIZED,
            r#"Bearer realm="mock-idp""#.to_string(),
            "invalid_token",
            "Authorization: a Bearer access token is required".to_string(),
        ),
        Denial::Invalid(why) => (
            StatusCode::UNAUTHORIZED,
            format!(
                r#"Bearer realm="mock-idp", error="invalid_token", error_description="{}""#,
                why.replace(['"', '\\'], "'")
            ),
            "invalid_token",
            why.clone(),
        ),
        Denial::Insufficient(why) => (
            StatusCode::FORBIDDEN,
            format!(
                r#"Bearer realm="mock-idp", error="insufficient_scope", error_description="{}""#,
                why.replace(['"', '\\'], "'")
            ),
            "insufficient_scope",
            why.clone(),
        ),
    };
    let mut response = (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response();
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        h.insert(header::WWW_AUTHENTICATE, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
