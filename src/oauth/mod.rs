//! The OAuth 2.0 side of `POST /token` (form body with `grant_type`) and
//! client authentication (RFC 6749 §2.3.1).

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::app::SharedState;
use crate::claims::{self, MintRequest, Preset};
use crate::config::ClientConfig;
use crate::error::ApiError;
use crate::jwt;
use crate::routes::token::TokenResponse;

/// The client making a token request, authenticated.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// The registration, when clients are configured.
    pub registration: Option<ClientConfig>,
}

/// Form fields of a token request.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a required field.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::InvalidRequest(format!("{name}: is required")))
    }
}

/// Dispatches a token request by `grant_type`.
pub async fn token_grant(
    state: &SharedState,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<TokenResponse, ApiError> {
    let form = Form(pairs);
    // RFC 6749 §3.2: parameters must not be repeated.
    for (i, (k, _)) in form.0.iter().enumerate() {
        if form.0[..i].iter().any(|(seen, _)| seen == k) {
            return Err(ApiError::InvalidRequest(format!(
                "{k}: must not be repeated"
            )));
        }
    }
    let grant_type = form.require("grant_type")?;
    match grant_type {
        "client_credentials" => {
            let client = authenticate_client(state, headers, &form)?;
            client_credentials(state, &client, &form)
        }
        other => Err(ApiError::UnsupportedGrantType(format!(
            "grant_type {other:?} is not supported; supported: {}",
            crate::routes::discovery::GRANT_TYPES.join(", ")
        ))),
    }
}

/// Authenticates the client by HTTP Basic (`client_secret_basic`) or form
/// fields (`client_secret_post`, or `none` for public clients). With no
/// clients configured any `client_id` is accepted.
pub fn authenticate_client(
    state: &SharedState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Client, ApiError> {
    let (id, secret) = match basic_credentials(headers)? {
        Some((id, secret)) => (id, Some(secret)),
        None => match form.get("client_id").filter(|v| !v.is_empty()) {
            Some(id) => (
                id.to_string(),
                form.get("client_secret").map(str::to_string),
            ),
            None => {
                return Err(ApiError::InvalidClient(
                    "client_id: is required (form field, or HTTP Basic authentication)".into(),
                ));
            }
        },
    };
    let clients = &state.config.clients;
    if clients.is_empty() {
        return Ok(Client {
            id,
            registration: None,
        });
    }
    let Some(registration) = clients.iter().find(|c| c.client_id == id) else {
        return Err(ApiError::InvalidClient(format!(
            "client_id: unknown client {id:?}"
        )));
    };
    match (&registration.client_secret, secret) {
        (Some(expected), Some(given)) if constant_time_eq(expected, &given) => {}
        (Some(_), Some(_)) => {
            return Err(ApiError::InvalidClient(format!(
                "client_secret: wrong secret for client {id:?}"
            )));
        }
        (Some(_), None) => {
            return Err(ApiError::InvalidClient(format!(
                "client_secret: is required for confidential client {id:?}"
            )));
        }
        (None, _) => {}
    }
    Ok(Client {
        id,
        registration: Some(registration.clone()),
    })
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Some(encoded) = value.to_str().ok().and_then(|v| v.strip_prefix("Basic ")) else {
        return Ok(None);
    };
    let bad = |why: &str| {
        ApiError::InvalidClient(format!(
            "Authorization: malformed Basic credentials ({why})"
        ))
    };
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad("not base64"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad("not UTF-8"))?;
    let (id, secret) = decoded.split_once(':').ok_or_else(|| bad("no ':'"))?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
            .unwrap_or_else(|| s.to_string())
    };
    Ok(Some((unescape(id), unescape(secret))))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// `client_credentials` (RFC 6749 §4.4): `sub` = client id, scope echoed,
/// the client's default audience and claims, plus any `audience` asked.
pub fn client_credentials(
    state: &SharedState,
    client: &Client,
    form: &Form,
) -> Result<TokenResponse, ApiError> {
    let reg = client.registration.as_ref();
    let scope = form
        .get("scope")
        .map(str::to_string)
        .or_else(|| reg.and_then(|r| r.scope.clone()));
    let aud = form
        .get("audience")
        .or_else(|| form.get("resource"))
        .map(|a| claims::Audience::One(a.to_string()))
        .or_else(|| reg.and_then(|r| r.audience.clone()));
    let mut extra = reg.map(|r| r.claims.clone()).unwrap_or_default();
    extra.insert("client_id".into(), json!(client.id));
    let req = MintRequest {
        sub: Some(client.id.clone()),
        preset: Some(Preset::Plain),
        azp: Some(client.id.clone()),
        aud,
        scope: scope.clone(),
        claims: Some(extra),
        ..MintRequest::default()
    };
    let minted = claims::build(&req, &state.mint_context(), crate::unix_now())?;
    state
        .metrics
        .token_issued(crate::metrics::Grant::ClientCredentials, minted.preset);
    Ok(TokenResponse {
        access_token: jwt::encode(state.keys.signing_key(), &minted.claims)?,
        token_type: "Bearer",
        expires_in: minted.expires_in,
        scope,
        refresh_token: None,
        id_token: None,
    })
}
