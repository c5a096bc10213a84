//! `POST /token`: mint a token from a JSON body, an empty body, a query string
//! or a form without `grant_type`; a form with `grant_type` is the OAuth 2.0
//! token endpoint (RFC 6749 §3.2), handled by [`crate::oauth`].

use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use super::paths;
use crate::app::{BODY_LIMIT, SharedState};
use crate::claims::MintRequest;
use crate::error::ApiError;
use crate::metrics::Grant;
use crate::oauth;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new().route(paths::TOKEN, post(token_post))
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
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

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        // RFC 6749 §5.1: token responses must not be cached.
        (
            StatusCode::OK,
            [
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (header::PRAGMA, HeaderValue::from_static("no-cache")),
            ],
            Json(self),
        )
            .into_response()
    }
}

/// How the request body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Empty,
    Json,
    Form,
}

/// `POST /token`.
pub async fn token_post(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenResponse, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(BODY_LIMIT)
        } else {
            ApiError::InvalidRequest(format!("could not read the request body: {rejection}"))
        }
    })?;
    let mut fields = match query.as_deref() {
        Some(q) if !q.is_empty() => string_fields(parse_form(q.as_bytes(), "query string")?)?,
        _ => Map::new(),
    };
    match body_kind(&headers, &body)? {
        BodyKind::Empty => {}
        BodyKind::Json => {
            let value: Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::InvalidRequest(format!("body is not valid JSON: {e}")))?;
            let Value::Object(object) = value else {
                return Err(ApiError::InvalidRequest(format!(
                    "body must be a JSON object, got {}",
                    json_type(&value)
                )));
            };
            fields.extend(object);
        }
        BodyKind::Form => {
            let pairs = parse_form(&body, "form body")?;
            if pairs.iter().any(|(k, _)| k == "grant_type") {
                return oauth::token_grant(&state, &headers, pairs).await;
            }
            fields.extend(string_fields(pairs)?);
        }
    }
    let req: MintRequest =
        serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e
                .into_inner()
                .to_string()
                .replace("expected i64", "expected an integer")
                .replace("expected a map", "expected a JSON object");
            if path == "." {
                ApiError::InvalidRequest(inner.to_string())
            } else {
                ApiError::InvalidRequest(format!("{path}: {inner}"))
            }
        })?;
    mint(&state, &req)
}

/// Mints the token `req` asks for.
pub fn mint(state: &SharedState, req: &MintRequest) -> Result<TokenResponse, ApiError> {
    let (access_token, minted) = state.sign_access_token(req, Grant::Mint, crate::unix_now())?;
    tracing::debug!(sub = ?minted.claims.get("sub"), preset = minted.preset.as_str(), "minted token");
    Ok(TokenResponse::bearer(access_token, minted.expires_in))
}

fn body_kind(headers: &HeaderMap, body: &Bytes) -> Result<BodyKind, ApiError> {
    let content_type = headers
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
        .filter(|ct| !ct.is_empty());
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let looks_like_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[');
    match content_type.as_deref() {
        // `curl -d '{...}'` labels JSON as a form; no form field starts with `{`.
        Some("application/x-www-form-urlencoded") if looks_like_json => Ok(BodyKind::Json),
        Some("application/x-www-form-urlencoded") => Ok(BodyKind::Form),
        _ if blank => Ok(BodyKind::Empty),
        // No content type: curl --data-raw '{...}' and friends; JSON is what we document.
        None => Ok(BodyKind::Json),
        Some(ct) if ct == "application/json" || ct.ends_with("+json") => Ok(BodyKind::Json),
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "content type {other:?} is not supported; send application/json (mint) or \
             application/x-www-form-urlencoded (OAuth grant)"
        ))),
    }
}

fn parse_form(bytes: &[u8], what: &str) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::InvalidRequest(format!("{what} is not valid URL encoding: {e}")))
}

/// Turns `name=value` pairs (query string or form) into request fields:
/// `expires_in` as a number, `claims` as JSON, repeated `aud` as an array.
fn string_fields(pairs: Vec<(String, String)>) -> Result<Map<String, Value>, ApiError> {
    let mut fields = Map::new();
    for (name, value) in pairs {
        let value = match name.as_str() {
            "expires_in" => value
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(value)),
            "claims" => serde_json::from_str(&value).map_err(|e| {
                ApiError::InvalidRequest(format!("claims: must be a JSON object: {e}"))
            })?,
            _ => Value::String(value),
        };
        match (name.as_str(), fields.get_mut(&name)) {
            ("aud", Some(Value::Array(all))) => all.push(value),
            ("aud", Some(first)) => *first = Value::Array(vec![first.take(), value]),
            _ => {
                fields.insert(name, value);
            }
        }
    }
    Ok(fields)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
