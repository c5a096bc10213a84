//! OAuth 2.0 / OpenID Connect logic, free of HTTP framework types beyond
//! headers: client authentication (RFC 6749 §2.3.1), the grants behind
//! `POST /token`, authorization requests and the login, token inspection.
//!
//! - [`grants`]: `client_credentials`, `password`, `authorization_code`, `refresh_token`.
//! - [`tokens`]: access / ID / refresh token issuance for a signed-in user.
//! - [`artifacts`]: authorization codes and refresh tokens as signed JWTs.
//! - [`spent`]: the per-replica set of used or revoked `jti`s.
//! - [`authorize`]: `/authorize` request validation, login, code issuance, logout.
//! - [`pkce`]: RFC 7636 verification.
//! - [`inspect`]: userinfo, introspection (RFC 7662) and revocation (RFC 7009).

pub mod artifacts;
pub mod authorize;
pub mod grants;
pub mod inspect;
pub mod pkce;
pub mod spent;
pub mod tokens;

pub use spent::SpentJtis;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::app::SharedState;
use crate::config::ClientConfig;
use crate::error::ApiError;
use crate::routes::token::TokenResponse;

/// The client making a token request, authenticated.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// The registration, when clients are configured.
    pub registration: Option<ClientConfig>,
}

/// Form fields (or query parameters) of an OAuth request, in order.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// A form of `name=value` pairs, in order.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Form(pairs)
    }

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

    /// The first non-empty value of `name`.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// The name of the first field given more than once (RFC 6749 §3.1, §3.2).
    pub fn repeated(&self) -> Option<&str> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, (k, _))| self.0[..*i].iter().any(|(seen, _)| seen == k))
            .map(|(_, (k, _))| k.as_str())
    }

    /// The `claims` field: a JSON object of extra claims, empty when absent.
    pub fn claims(&self) -> Result<Map<String, Value>, ApiError> {
        match self.non_empty("claims") {
            None => Ok(Map::new()),
            Some(text) => parse_claims(text).map_err(ApiError::InvalidRequest),
        }
    }
}

/// Parses a JSON object of extra claims; the error names the `claims` field.
pub fn parse_claims(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("claims: must be a JSON object, e.g. {\"email\": \"a@example.com\"}".into()),
        Err(e) => Err(format!("claims: is not valid JSON: {e}")),
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
    if let Some(k) = form.repeated() {
        return Err(ApiError::InvalidRequest(format!(
            "{k}: must not be repeated"
        )));
    }
    let grant_type = form.require("grant_type")?;
    if !crate::routes::discovery::GRANT_TYPES.contains(&grant_type) {
        return Err(ApiError::UnsupportedGrantType(format!(
            "grant_type {grant_type:?} is not supported; supported: {}",
            crate::routes::discovery::GRANT_TYPES.join(", ")
        )));
    }
    let client = authenticate_client(state, headers, &form)?;
    check_grant_allowed(&client, grant_type)?;
    let now = crate::unix_now();
    match grant_type {
        "client_credentials" => grants::client_credentials(state, &client, &form, now),
        "password" => grants::password(state, &client, &form, now),
        "authorization_code" => grants::authorization_code(state, &client, &form, now),
        _ => grants::refresh_token(state, &client, &form, now),
    }
}

/// A registered client may only use the grants it lists (RFC 7591
/// `grant_types`; none listed = all), and a public one never
/// `client_credentials` (RFC 6749 §4.4); `unauthorized_client` otherwise.
pub fn check_grant_allowed(client: &Client, grant_type: &str) -> Result<(), ApiError> {
    match &client.registration {
        Some(reg) if reg.client_secret.is_none() && grant_type == "client_credentials" => {
            Err(ApiError::UnauthorizedClient(format!(
                "grant_type: client {:?} is public (no client_secret) and cannot use \
                 client_credentials",
                client.id
            )))
        }
        Some(reg)
            if !reg.grant_types.is_empty() && !reg.grant_types.iter().any(|g| g == grant_type) =>
        {
            Err(ApiError::UnauthorizedClient(format!(
                "grant_type: client {:?} may not use {grant_type:?}; its grant_types are: {}",
                client.id,
                reg.grant_types.join(", ")
            )))
        }
        _ => Ok(()),
    }
}

/// Authenticates the caller of introspection or revocation: a registered
/// client when clients are configured, anyone (`None`) otherwise.
pub fn authenticate_caller(
    state: &SharedState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Option<Client>, ApiError> {
    let sent_credentials =
        headers.contains_key(header::AUTHORIZATION) || form.non_empty("client_id").is_some();
    if state.config.clients.is_empty() && !sent_credentials {
        return Ok(None);
    }
    authenticate_client(state, headers, form).map(Some)
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

/// Compares secrets in constant time.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}
