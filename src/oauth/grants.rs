//! The grants of `POST /token` (RFC 6749 §4), each a plain function of the
//! authenticated client, the form and the clock.

use serde_json::json;

use super::artifacts::{self, CODE_TYP, CodeClaims, Login, REFRESH_TYP, RefreshClaims};
use super::tokens::{self, UserGrant};
use super::{Client, Form, constant_time_eq, pkce};
use crate::app::SharedState;
use crate::claims::{self, Audience, MintRequest, Preset};
use crate::error::ApiError;
use crate::metrics::Grant;
use crate::routes::token::TokenResponse;

/// `client_credentials` (RFC 6749 §4.4): `sub` = client id, scope echoed,
/// the client's default audience and claims, then `audience` (or
/// `resource`) and `claims` (a JSON object) from the form. No refresh token
/// (§4.4.3) and no ID token (no user).
pub fn client_credentials(
    state: &SharedState,
    client: &Client,
    form: &Form,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let reg = client.registration.as_ref();
    let scope = form
        .non_empty("scope")
        .map(str::to_string)
        .or_else(|| reg.and_then(|r| r.scope.clone()));
    let aud = form
        .non_empty("audience")
        .or_else(|| form.non_empty("resource"))
        .map(|a| Audience::One(a.to_string()))
        .or_else(|| reg.and_then(|r| r.audience.clone()));
    let mut extra = reg.map(|r| r.claims.clone()).unwrap_or_default();
    extra.insert("client_id".into(), json!(client.id));
    claims::merge_claims(&mut extra, &form.claims()?);
    let req = MintRequest {
        sub: Some(client.id.clone()),
        preset: Some(Preset::Plain),
        azp: Some(client.id.clone()),
        aud,
        scope: scope.clone(),
        claims: Some(extra),
        ..MintRequest::default()
    };
    let (access_token, minted) = state.sign_access_token(&req, Grant::ClientCredentials, now)?;
    Ok(TokenResponse {
        scope,
        ..TokenResponse::bearer(access_token, minted.expires_in)
    })
}

/// `password` (RFC 6749 §4.3): `username` is a persona name (any name when
/// no personas are configured; then `sub` = the name). A persona with a
/// `password` requires it; others accept any. `claims` adds extra claims.
pub fn password(
    state: &SharedState,
    client: &Client,
    form: &Form,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let username = form.require("username")?.trim();
    let login = login_for(
        state,
        username,
        form.get("password"),
        form.claims()?,
        now,
        LoginMode::Strict,
    )
    .map_err(ApiError::InvalidGrant)?;
    let scope = form
        .non_empty("scope")
        .map(str::to_string)
        .or_else(|| client.registration.as_ref().and_then(|r| r.scope.clone()));
    tokens::issue(
        state,
        &UserGrant {
            client,
            login: &login,
            scope,
            nonce: None,
            kind: Grant::Password,
        },
        now,
    )
}

/// How unknown user names are treated by [`login_for`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMode {
    /// Password grant: with personas configured, only they exist.
    Strict,
    /// Login page: any name; a persona's name picks the persona.
    AnyName,
}

/// Resolves a user name (and password) to a [`Login`]. The error names the
/// field, for an `invalid_grant` or the login page.
pub fn login_for(
    state: &SharedState,
    username: &str,
    password: Option<&str>,
    login_claims: serde_json::Map<String, serde_json::Value>,
    now: i64,
    mode: LoginMode,
) -> Result<Login, String> {
    let users = &state.config.users;
    if username.is_empty() {
        return Err("username: is required".into());
    }
    match users.get(username) {
        Some(persona) => {
            if let Some(expected) = &persona.password
                && !password.is_some_and(|p| constant_time_eq(expected, p))
            {
                return Err(format!("password: wrong password for user {username:?}"));
            }
            Ok(Login {
                user: Some(username.to_string()),
                sub: persona.subject(username),
                login_claims,
                auth_time: now,
            })
        }
        None if mode == LoginMode::Strict && !users.is_empty() => Err(format!(
            "username: unknown user {username:?}; known users: {}",
            users.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        None => Ok(Login {
            user: None,
            sub: username.to_string(),
            login_claims,
            auth_time: now,
        }),
    }
}

/// `authorization_code` (RFC 6749 §4.1.3): the code is verified (signature
/// by any federated key, expiry, kind), spent on this replica, bound to the
/// client and the `redirect_uri`, and its PKCE challenge checked (RFC 7636).
pub fn authorization_code(
    state: &SharedState,
    client: &Client,
    form: &Form,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let code: CodeClaims = artifacts::open(
        form.require("code")?,
        CODE_TYP,
        "code",
        &state.keys.merged(),
        &state.config.issuer,
    )?;
    // Spent before the other checks: a code is tried once, right or wrong.
    if !state
        .spent
        .spend(&code.envelope.jti, code.envelope.exp, now)
    {
        return Err(ApiError::InvalidGrant(
            "code: was already used (codes are single-use)".into(),
        ));
    }
    if code.envelope.client_id != client.id {
        return Err(ApiError::InvalidGrant(format!(
            "code: was issued to another client, not {:?}",
            client.id
        )));
    }
    if let Some(expected) = &code.redirect_uri
        && form.get("redirect_uri") != Some(expected.as_str())
    {
        return Err(ApiError::InvalidGrant(
            "redirect_uri: must be the one of the authorization request".into(),
        ));
    }
    match (&code.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let method = code.code_challenge_method.as_deref().unwrap_or("plain");
            pkce::verify(verifier, challenge, method).map_err(ApiError::InvalidGrant)?;
        }
        (Some(_), None) => {
            return Err(ApiError::InvalidGrant(
                "code_verifier: is required, the authorization request had a code_challenge".into(),
            ));
        }
        (None, Some(_)) => {
            // RFC 9700 §2.1.1: a verifier without a challenge hints at a downgrade.
            return Err(ApiError::InvalidGrant(
                "code_verifier: was sent, but the authorization request had no code_challenge"
                    .into(),
            ));
        }
        (None, None) => {}
    }
    tokens::issue(
        state,
        &UserGrant {
            client,
            login: &code.login,
            scope: code.scope.clone(),
            nonce: code.nonce.clone(),
            kind: Grant::AuthorizationCode,
        },
        now,
    )
}

/// `refresh_token` (RFC 6749 §6): verified like a code, bound to the client,
/// rotated (the old one is spent: reuse is `invalid_grant`); `scope` may
/// narrow the original scope, never widen it.
pub fn refresh_token(
    state: &SharedState,
    client: &Client,
    form: &Form,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let refresh: RefreshClaims = artifacts::open(
        form.require("refresh_token")?,
        REFRESH_TYP,
        "refresh_token",
        &state.keys.merged(),
        &state.config.issuer,
    )?;
    if refresh.envelope.client_id != client.id {
        return Err(ApiError::InvalidGrant(format!(
            "refresh_token: was issued to another client, not {:?}",
            client.id
        )));
    }
    let scope = match form.non_empty("scope") {
        None => refresh.scope.clone(),
        Some(asked) => {
            let granted: Vec<&str> = refresh
                .scope
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            if let Some(extra) = asked.split_whitespace().find(|s| !granted.contains(s)) {
                return Err(ApiError::InvalidScope(format!(
                    "scope: {extra:?} was not granted originally ({:?})",
                    refresh.scope.as_deref().unwrap_or("")
                )));
            }
            Some(asked.to_string())
        }
    };
    if !state
        .spent
        .spend(&refresh.envelope.jti, refresh.envelope.exp, now)
    {
        return Err(ApiError::InvalidGrant(
            "refresh_token: was already used or revoked (refresh tokens rotate on every use)"
                .into(),
        ));
    }
    tokens::issue(
        state,
        &UserGrant {
            client,
            login: &refresh.login,
            scope,
            nonce: None,
            kind: Grant::RefreshToken,
        },
        now,
    )
}
