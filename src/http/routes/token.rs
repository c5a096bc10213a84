//! `POST /token` (and `/{issuer}/token`, and each profile's token path):
//! mint a token from a JSON body, an empty body, a query string or a form
//! without `grant_type`; a form (or, as Auth0 accepts, a JSON object) with
//! `grant_type` is the OAuth 2.0 token endpoint (RFC 6749 §3.2).

use axum::Extension;
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::{no_cache_pragma, no_store};
use crate::claims::{MintRequest, json_type};
use crate::http::error::ApiError;
use crate::http::extract::{Basic, Body, Ctx, Iss, content_type};
use crate::http::{SharedState, issuer_route};
use crate::issuer::controls::TokenFacts;
use crate::issuer::{Form, TokenResponse, paths};

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let router = issuer_route(Router::new(), paths::TOKEN, post(token_post))
        .layer(no_store())
        .layer(no_cache_pragma());
    issuer_route(router, paths::TOKEN_VARIANTS, get(variants_get))
}

/// `GET <mount>/token/variants`: every `variant` with what it tests.
pub async fn variants_get(Iss(_): Iss) -> Json<serde_json::Value> {
    Json(crate::claims::variant::catalogue())
}

/// `POST /token`.
pub async fn token_post(
    Iss(issuer): Iss,
    ctx: Ctx,
    Basic(basic): Basic,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<(Extension<TokenFacts>, Json<TokenResponse>), ApiError> {
    let response = match TokenRequest::parse(query.as_deref(), &headers, &body)? {
        TokenRequest::Mint(req) => {
            if let Some(alg) = req.alg {
                issuer.ensure_alg(alg).await?;
            }
            issuer.mint(&ctx.core(), &req)?
        }
        TokenRequest::Grant(form) => issuer.token(&ctx.core(), basic.as_ref(), &form)?,
    };
    // Who the token is for, for the request ledger (`/_admin/requests`).
    let facts = TokenFacts::from_access_token(&response.access_token);
    Ok((Extension(facts), Json(response)))
}

/// What a `POST /token` asks for.
#[derive(Debug)]
pub enum TokenRequest {
    /// Mint a token (JSON, query string, empty body, form without `grant_type`).
    Mint(Box<MintRequest>),
    /// An OAuth grant (form, or JSON object, with `grant_type`).
    Grant(Form),
}

impl TokenRequest {
    /// Reads the query string and body; errors name the field.
    pub fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let mut fields = match query {
            Some(q) if !q.is_empty() => string_fields(Form::parse(q.as_bytes(), "query string")?)?,
            _ => Map::new(),
        };
        match body_kind(headers, body)? {
            BodyKind::Empty => {}
            BodyKind::Json => {
                let value: Value = serde_json::from_slice(body).map_err(|e| {
                    ApiError::invalid_request(format!("body is not valid JSON: {e}"))
                })?;
                let Value::Object(object) = value else {
                    return Err(ApiError::invalid_request(format!(
                        "body must be a JSON object, got {}",
                        json_type(&value)
                    )));
                };
                if object.contains_key("grant_type") {
                    return Ok(TokenRequest::Grant(json_form(object)));
                }
                fields.extend(object);
            }
            BodyKind::Form => {
                let form = Form::parse(body, "form body")?;
                if form.has("grant_type") {
                    return Ok(TokenRequest::Grant(form));
                }
                fields.extend(string_fields(form)?);
            }
        }
        mint_request(fields).map(|req| TokenRequest::Mint(Box::new(req)))
    }
}

/// Deserializes request fields, naming the field in errors.
pub fn mint_request(fields: Map<String, Value>) -> Result<MintRequest, ApiError> {
    // serde calls a number too big for i64 "floating point"; say what it is.
    if let Some(Value::Number(n)) = fields.get("expires_in")
        && n.as_i64().is_none()
    {
        let whole = n.as_u64().is_some() || n.as_f64().is_some_and(|f| f.fract() == 0.0);
        return Err(ApiError::invalid_request(if whole {
            format!(
                "expires_in: {n} is out of range; use at most {} seconds (100 years) either way",
                crate::claims::MAX_EXPIRES_IN
            )
        } else {
            format!("expires_in: {n} is not a whole number of seconds")
        }));
    }
    serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e
            .into_inner()
            .to_string()
            .replace("expected i64", "expected an integer")
            .replace("expected a map", "expected a JSON object");
        if path == "." {
            ApiError::invalid_request(inner)
        } else {
            ApiError::invalid_request(format!("{path}: {inner}"))
        }
    })
}

/// How the request body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Empty,
    Json,
    Form,
}

fn body_kind(headers: &HeaderMap, body: &[u8]) -> Result<BodyKind, ApiError> {
    let content_type = content_type(headers);
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

/// Turns `name=value` pairs (query string or form) into request fields:
/// `expires_in` as a number, `claims` as JSON, repeated `aud` as an array.
fn string_fields(form: Form) -> Result<Map<String, Value>, ApiError> {
    let mut fields = Map::new();
    for (name, value) in form.into_pairs() {
        let value = match name.as_str() {
            "expires_in" => value
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(value)),
            "claims" => serde_json::from_str(&value).map_err(|e| {
                ApiError::invalid_request(format!("claims: must be a JSON object: {e}"))
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

/// A JSON token request (Auth0's `/oauth/token` takes one) as form
/// fields: strings as they are, numbers and booleans as text, objects and
/// arrays (`claims`) as JSON text; `null` fields are left out.
fn json_form(object: Map<String, Value>) -> Form {
    let pairs = object
        .into_iter()
        .filter_map(|(name, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(s) => s,
                other => other.to_string(),
            };
            Some((name, text))
        })
        .collect();
    Form::new(pairs)
}
