//! The token response of the user grants (`password`, `authorization_code`,
//! `refresh_token`): access token, ID token when `openid` was granted, and a
//! rotated refresh token.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::Client;
use super::artifacts::{self, Envelope, Login, REFRESH_TTL, REFRESH_TYP, RefreshClaims};
use crate::app::SharedState;
use crate::claims::{self, MintRequest, Persona, Preset};
use crate::error::ApiError;
use crate::jwt;
use crate::metrics::Grant;
use crate::routes::token::TokenResponse;

/// Whether the space-separated `scope` contains `wanted`.
pub fn has_scope(scope: Option<&str>, wanted: &str) -> bool {
    scope.is_some_and(|s| s.split_whitespace().any(|x| x == wanted))
}

/// `at_hash` (OIDC Core §3.1.3.6): base64url of the left half of the SHA-256
/// of the access token's ASCII bytes (SHA-256 because the ID token is RS256).
pub fn at_hash(access_token: &str) -> String {
    let d = digest(&SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

/// What the grant decided: who, for which client, with which scope.
#[derive(Debug)]
pub struct UserGrant<'a> {
    /// The authenticated client.
    pub client: &'a Client,
    /// Who signed in.
    pub login: &'a Login,
    /// Granted scope.
    pub scope: Option<String>,
    /// OIDC `nonce` from the authorization request (code flow only).
    pub nonce: Option<String>,
    /// The grant, for the metrics.
    pub kind: Grant,
}

/// The persona `login` names, which must exist on this replica.
pub fn persona<'s>(state: &'s SharedState, login: &Login) -> Result<Option<&'s Persona>, ApiError> {
    match &login.user {
        None => Ok(None),
        Some(name) => state.config.users.get(name).map(Some).ok_or_else(|| {
            ApiError::InvalidGrant(format!(
                "user {name:?} is not a persona on this mock-idp (federated replicas must share \
                 the users file)"
            ))
        }),
    }
}

/// Issues access token, ID token (scope `openid`) and refresh token (unless
/// the client is registered without the `refresh_token` grant).
pub fn issue(
    state: &SharedState,
    grant: &UserGrant<'_>,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let client = grant.client;
    let reg = client.registration.as_ref();
    let persona = persona(state, grant.login)?;

    // Precedence of extra claims, lowest first: the client's defaults, the
    // persona's claims, the claims typed at login.
    let mut extra = reg.map(|r| r.claims.clone()).unwrap_or_default();
    if let Some(p) = persona {
        claims::merge_claims(&mut extra, &p.claims);
    }
    claims::merge_claims(&mut extra, &grant.login.login_claims);

    let mut access_extra = extra.clone();
    access_extra.insert("client_id".into(), json!(client.id));
    let (access_token, access) = state.sign_access_token(
        &MintRequest {
            user: grant.login.user.clone(),
            sub: Some(grant.login.sub.clone()),
            aud: reg.and_then(|r| r.audience.clone()),
            azp: Some(client.id.clone()),
            scope: grant.scope.clone(),
            claims: Some(access_extra),
            ..MintRequest::default()
        },
        grant.kind,
        now,
    )?;

    let id_token = if has_scope(grant.scope.as_deref(), "openid") {
        let claims = id_token_claims(state, grant, extra, &access_token, now)?;
        Some(jwt::encode(state.keys.signing_key(), &claims)?)
    } else {
        None
    };

    let refresh_allowed = reg.is_none_or(|r| {
        r.grant_types.is_empty() || r.grant_types.iter().any(|g| g == "refresh_token")
    });
    let refresh_token = if refresh_allowed {
        let content = RefreshClaims {
            envelope: Envelope::new(&state.config.issuer, &client.id, now, REFRESH_TTL),
            scope: grant.scope.clone(),
            login: grant.login.clone(),
        };
        Some(artifacts::seal(
            state.keys.signing_key(),
            REFRESH_TYP,
            &content,
        )?)
    } else {
        None
    };

    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: grant.scope.clone(),
        refresh_token,
        id_token,
    })
}

/// The ID token (OIDC Core §2): the user's claims in the plain layout, then
/// the OIDC claims, which nothing overrides so the token always validates.
fn id_token_claims(
    state: &SharedState,
    grant: &UserGrant<'_>,
    extra: Map<String, Value>,
    access_token: &str,
    now: i64,
) -> Result<Map<String, Value>, ApiError> {
    let minted = claims::build(
        &MintRequest {
            user: grant.login.user.clone(),
            sub: Some(grant.login.sub.clone()),
            preset: Some(Preset::Plain),
            claims: Some(extra),
            ..MintRequest::default()
        },
        &state.mint_context(),
        now,
    )?;
    let mut c = minted.claims;
    for mechanics in ["scope", "client_id", "azp", "aud"] {
        c.remove(mechanics);
    }
    let client_id = &grant.client.id;
    c.insert("iss".into(), json!(state.config.issuer));
    c.insert("sub".into(), json!(grant.login.sub));
    c.insert("aud".into(), json!(client_id));
    c.insert("azp".into(), json!(client_id));
    c.insert("iat".into(), json!(now));
    c.insert(
        "exp".into(),
        json!(now.saturating_add(state.config.token_ttl)),
    );
    c.insert("auth_time".into(), json!(grant.login.auth_time));
    c.insert("at_hash".into(), json!(at_hash(access_token)));
    match &grant.nonce {
        Some(nonce) => c.insert("nonce".into(), json!(nonce)),
        None => c.remove("nonce"),
    };
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core, appendix A.3 / A.4 test vector.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn scope_lookup_is_by_word() {
        assert!(has_scope(Some("openid profile"), "openid"));
        assert!(!has_scope(Some("openidx"), "openid"));
        assert!(!has_scope(None, "openid"));
    }
}
