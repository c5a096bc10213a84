//! Extractors whose rejection is our RFC 6749 JSON error, so every handler
//! gets parsed input in one line: the issuer of the route ([`Iss`]), the
//! external base URL ([`BaseUrl`]) or the whole request context for the
//! core ([`Ctx`]: base URL and `Origin`), a body within the limit
//! ([`Body`]), an OAuth form ([`OAuthForm`]), HTTP Basic client credentials
//! ([`Basic`]) and a bearer token ([`Bearer`]).

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;

use super::error::ApiError;
use super::state::{BODY_LIMIT, SharedState};
use crate::issuer::registry::{At, Registry};
use crate::issuer::{BasicCredentials, Form, Issuer, OAuthError, RequestCtx};
use crate::profiles::Profile;

/// Name of the path parameter that holds the issuer name.
pub const ISSUER_PARAM: &str = "issuer";

/// The issuer name in the matched route's path parameters (`None` = root).
pub async fn issuer_name(parts: &mut Parts) -> Option<String> {
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    params
        .iter()
        .find(|(k, _)| *k == ISSUER_PARAM)
        .map(|(_, v)| v.to_string())
}

/// Route extension: the mount kind of a named-issuer route (`/{issuer}` or
/// `/realms/{issuer}`); absent on root routes.
#[derive(Debug, Clone, Copy)]
pub struct MountAt(pub At);

/// Route extension on a profile's own path: which profiles serve it (bit
/// [`Profile::index`] set), and the path for the 404 message.
#[derive(Debug, Clone, Copy)]
pub struct ProfileGate {
    /// Profiles that have this path, as bits.
    pub profiles: u32,
    /// The path relative to the mount.
    pub path: &'static str,
}

// One bit per profile.
const _: () = assert!(Profile::ALL.len() <= 32);

impl ProfileGate {
    /// Whether `profile` serves this path.
    pub fn allows(&self, profile: Profile) -> bool {
        self.profiles & (1 << profile.index()) != 0
    }

    /// A JSON 404 saying whose path `path` is, unless `profile` (the
    /// profile of issuer `name`) serves it.
    pub fn check(&self, profile: Profile, path: &str, name: &str) -> Result<(), ApiError> {
        if self.allows(profile) {
            return Ok(());
        }
        let owners: Vec<&str> = Profile::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .map(Profile::as_str)
            .collect();
        Err(ApiError::NotFound(format!(
            "no endpoint at {path}: {} is a path of the {} profile, and issuer {name:?} has \
             profile {profile}",
            if self.path.is_empty() { "/" } else { self.path },
            owners.join("/"),
        )))
    }
}

/// The issuer a request is for, with its signing key ready: the root for
/// `/...`, the named issuer for `/{issuer}/...` or `/realms/{issuer}/...`
/// (created on first use when dynamic issuers are on). Unknown names, an
/// issuer at the other kind of mount, and a profile's own path on an
/// issuer of another profile are a JSON 404 saying why.
#[derive(Debug, Clone)]
pub struct Iss(pub Arc<Issuer>);

impl FromRequestParts<SharedState> for Iss {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        let at = parts.extensions.get::<MountAt>().map_or(At::Named, |m| m.0);
        let found = parts.extensions.get::<Resolved>().map(|r| Arc::clone(&r.0));
        let looked_up = match found {
            Some(_) => None,
            None => issuer_name(parts).await,
        };
        let name = match &found {
            Some(issuer) => Some(issuer.name()).filter(|n| !n.is_empty()),
            None => looked_up.as_deref(),
        };
        // Checked before the lookup, which may create a dynamic issuer.
        if let Some(gate) = parts.extensions.get::<ProfileGate>() {
            let profile = match &found {
                Some(issuer) => issuer.profile(),
                None => state.issuers.profile_at(name, at),
            };
            gate.check(profile, parts.uri.path(), name.unwrap_or(""))?;
        }
        let issuer = match &found {
            Some(issuer) => Registry::at_mount(issuer, at),
            None => state.issuers.get_at(name, at),
        }
        .map_err(|e| ApiError::NotFound(e.to_string()))?;
        issuer.ready().await?;
        Ok(Iss(issuer))
    }
}

/// Request extension: the existing issuer the matched route names, looked
/// up once by the controls middleware ([`super::controls`]) so the
/// extractors and the latency layer do not look it up again.
#[derive(Debug, Clone)]
pub struct Resolved(pub Arc<Issuer>);

/// What the issuer core needs from a request besides its parameters: the
/// base URL ([`BaseUrl`]) and the `Origin` header (when it is an origin;
/// Clerk's `azp` fallback). [`Ctx::core`] borrows it as a [`RequestCtx`].
#[derive(Debug, Clone)]
pub struct Ctx {
    /// See [`BaseUrl`].
    pub base: String,
    /// The `Origin` header.
    pub origin: Option<String>,
}

impl Ctx {
    /// The context as the core takes it.
    pub fn core(&self) -> RequestCtx<'_> {
        RequestCtx {
            base: &self.base,
            origin: self.origin.as_deref(),
        }
    }
}

impl FromRequestParts<SharedState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Ctx {
            base: base_url(state.config.public_url.as_deref(), &parts.headers),
            origin: origin(&parts.headers),
        })
    }
}

/// The `Origin` header when it names an origin (`scheme://host[:port]`,
/// printable ASCII, at most 256 bytes); `null` and anything else are ignored.
pub fn origin(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::ORIGIN)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once("://")?;
    let ok = value.len() <= 256
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && !rest.contains('/')
        && rest.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_string())
}

/// The external base URL of this server as the client sees it (scheme and
/// authority): `PUBLIC_URL` if set, else from `X-Forwarded-Proto` (only
/// `http`/`https` are honoured) and `X-Forwarded-Host` or `Host` (only
/// host-name characters), else `http://localhost`.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl FromRequestParts<SharedState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(base_url(
            state.config.public_url.as_deref(),
            &parts.headers,
        )))
    }
}

/// See [`BaseUrl`].
pub fn base_url(public_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(url) = public_url {
        return url.to_string();
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let host_ok = |h: &&str| {
        h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
    };
    let proto = header("x-forwarded-proto")
        .map(str::to_ascii_lowercase)
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".into());
    match header("x-forwarded-host")
        .filter(host_ok)
        .or_else(|| header("host").filter(host_ok))
    {
        Some(host) => format!("{proto}://{host}"),
        None => format!("{proto}://localhost"),
    }
}

/// The request body, at most [`BODY_LIMIT`] bytes (413 beyond).
#[derive(Debug)]
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|rejection: BytesRejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(BODY_LIMIT)
                } else {
                    ApiError::invalid_request(format!(
                        "could not read the request body: {rejection}"
                    ))
                }
            })
    }
}

/// The `Content-Type` of a request, lower-cased, without parameters.
pub fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .map(|v| {
            v.to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|ct| !ct.is_empty())
}

/// An `application/x-www-form-urlencoded` body (415 for anything else).
#[derive(Debug)]
pub struct OAuthForm(pub Form);

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = content_type(req.headers());
        if content_type.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(ApiError::UnsupportedMediaType(format!(
                "content type {:?} is not supported; send application/x-www-form-urlencoded",
                content_type.unwrap_or_default()
            )));
        }
        let Body(bytes) = Body::from_request(req, state).await?;
        Ok(OAuthForm(Form::parse(&bytes, "form body")?))
    }
}

/// Client credentials from `Authorization: Basic` (`None` when absent or
/// another scheme); malformed Basic is a 401 `invalid_client`.
#[derive(Debug)]
pub struct Basic(pub Option<BasicCredentials>);

impl<S: Send + Sync> FromRequestParts<S> for Basic {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            None => Ok(Basic(None)),
            Some(value) => Ok(Basic(BasicCredentials::from_header(value)?)),
        }
    }
}

/// The token of an `Authorization: Bearer ...` header (RFC 6750 §2.1).
#[derive(Debug)]
pub struct Bearer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                OAuthError::invalid_token("Authorization: a Bearer access token is required")
            })?;
        match value.split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Ok(Bearer(token.trim().to_string()))
            }
            _ => Err(
                OAuthError::invalid_token("Authorization: expected `Bearer <access token>`").into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn base_url_validates_forwarded_headers() {
        assert_eq!(
            base_url(Some("https://pub"), &headers(&[("host", "h")])),
            "https://pub"
        );
        assert_eq!(base_url(None, &headers(&[("host", "h:1")])), "http://h:1");
        assert_eq!(
            base_url(
                None,
                &headers(&[
                    ("host", "h"),
                    ("x-forwarded-proto", "HTTPS"),
                    ("x-forwarded-host", "pub.example, inner")
                ])
            ),
            "https://pub.example"
        );
        assert_eq!(
            base_url(
                None,
                &headers(&[("host", "h"), ("x-forwarded-proto", "javascript://evil")])
            ),
            "http://h",
            "only http/https are honoured"
        );
        assert_eq!(
            base_url(
                None,
                &headers(&[("host", "h"), ("x-forwarded-host", "evil\"><script>")])
            ),
            "http://h"
        );
        assert_eq!(base_url(None, &headers(&[])), "http://localhost");
    }

    #[test]
    fn origin_is_an_origin_or_nothing() {
        let o = |v: &str| origin(&headers(&[("origin", v)]));
        assert_eq!(
            o("http://localhost:5173").as_deref(),
            Some("http://localhost:5173")
        );
        assert_eq!(
            o("https://app.example").as_deref(),
            Some("https://app.example")
        );
        for bad in [
            "null",
            "http://",
            "http://a/b",
            "localhost:3000",
            "http://a b",
        ] {
            assert_eq!(o(bad), None, "{bad}");
        }
        assert_eq!(origin(&headers(&[])), None);
    }
}
