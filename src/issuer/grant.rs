//! The grants of `POST /token` (RFC 6749 §4), dispatched on [`GrantType`],
//! and the token response of the user grants (access token, ID token when
//! `openid` was granted, rotated refresh token).

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::artifacts::{
    self, ArtifactKind, CodeClaims, Envelope, Login, REFRESH_TTL, RefreshClaims,
};
use super::client::{self, BasicCredentials, Client, constant_time_eq};
use super::pkce::{self, PkceMethod};
use super::spent::SetFull;
use super::{ErrorCode, Form, Issue, Issuer, OAuthError, RequestCtx, TokenResponse};
use crate::claims::{self, Audience, MintRequest, Persona};
use crate::jwt;
use crate::metrics::TokenSource;
use crate::profiles::{TokenKind, ids};

pub use crate::clients::GrantType;

impl From<SetFull> for OAuthError {
    fn from(e: SetFull) -> Self {
        OAuthError::temporarily_unavailable(e.to_string())
    }
}

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

/// How unknown user names are treated by [`Issuer::login_for`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMode {
    /// Password grant: with personas configured, only they exist.
    Strict,
    /// Login page: any name; a persona's name picks the persona.
    AnyName,
}

/// What a user grant decided: who, for which client, with which scope.
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
    /// The `audience` asked at the token endpoint (Auth0's parameter);
    /// `None` = the client's, else the issuer's.
    pub audience: Option<Audience>,
    /// The grant, for the metrics.
    pub grant: GrantType,
}

/// The username of a login that is no persona (the name typed); `None`
/// for a persona, whose `username` (default: its name) applies.
fn login_username(login: &Login) -> Option<String> {
    login.user.is_none().then(|| login.sub.clone())
}

/// `audience` (or `resource`, RFC 8707) of a token request.
fn asked_audience(form: &Form) -> Option<Audience> {
    form.non_empty("audience")
        .or_else(|| form.non_empty("resource"))
        .map(|a| Audience::One(a.to_string()))
}

impl Issuer {
    /// `POST /token` with a `grant_type`: authenticates the client
    /// (`basic` from the `Authorization` header, or the form) and runs the grant.
    pub fn token(
        &self,
        rc: &RequestCtx<'_>,
        basic: Option<&BasicCredentials>,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        form.reject_repeated()?;
        let grant: GrantType = form.require("grant_type")?.parse().map_err(
            |e: crate::clients::UnknownGrantType| {
                OAuthError::new(ErrorCode::UnsupportedGrantType, e.to_string())
            },
        )?;
        let client = client::authenticate(&self.clients(), basic, form)?;
        client::check_grant_allowed(&client, grant)?;
        let now = self.clock().now();
        match grant {
            GrantType::ClientCredentials => self.client_credentials(rc, &client, form, now),
            GrantType::Password => self.password(rc, &client, form, now),
            GrantType::AuthorizationCode => self.authorization_code(rc, &client, form, now),
            GrantType::RefreshToken => self.refresh_token(rc, &client, form, now),
        }
    }

    /// `client_credentials` (RFC 6749 §4.4): the client is the subject
    /// (`sub` = client id, shaped by the profile), scope echoed, the
    /// client's audience, mapping fields and claims, then `audience` (or
    /// `resource`) and `claims` (a JSON object) from the form. No refresh
    /// token (§4.4.3) and no ID token (no user).
    fn client_credentials(
        &self,
        rc: &RequestCtx<'_>,
        client: &Client,
        form: &Form,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let reg = client.registration.as_deref();
        let scope = form
            .non_empty("scope")
            .map(str::to_string)
            .or_else(|| reg.and_then(|r| r.scope.clone()));
        let mut extra = reg.map(|r| r.claims.clone()).unwrap_or_default();
        claims::merge_claims(&mut extra, &form.claims()?);
        let field = |f: fn(&crate::clients::ClientConfig) -> &Option<String>| {
            reg.and_then(|r| f(r).clone())
        };
        let list = |f: fn(&crate::clients::ClientConfig) -> &Option<Vec<String>>| {
            reg.and_then(|r| f(r).clone())
        };
        let req = MintRequest {
            sub: Some(client.id.clone()),
            aud: asked_audience(form).or_else(|| reg.and_then(|r| r.audience.clone())),
            scope: scope.clone(),
            email: field(|r| &r.email),
            name: field(|r| &r.name),
            username: field(|r| &r.username),
            roles: list(|r| &r.roles),
            groups: list(|r| &r.groups),
            permissions: list(|r| &r.permissions),
            client_roles: reg.and_then(|r| r.client_roles.clone()),
            claims: Some(extra),
            ..MintRequest::default()
        };
        let issue = Issue {
            kind: TokenKind::Client,
            client: Some(client.profile_ref()),
            session: None,
        };
        let source = TokenSource::Grant(GrantType::ClientCredentials);
        let (access_token, minted) = self.sign_access_token(rc, &req, &issue, source, now)?;
        Ok(TokenResponse {
            scope,
            ..TokenResponse::bearer(access_token, minted.expires_in)
        })
    }

    /// `password` (RFC 6749 §4.3): `username` is a persona name (any name
    /// when no personas are configured; then `sub` = the name). A persona
    /// with a `password` requires it; others accept any. `claims` adds claims.
    fn password(
        &self,
        rc: &RequestCtx<'_>,
        client: &Client,
        form: &Form,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let username = form.require("username")?.trim();
        let login = self
            .login_for(
                username,
                form.get("password"),
                form.claims()?,
                now,
                LoginMode::Strict,
            )
            .map_err(OAuthError::invalid_grant)?;
        let scope = form
            .non_empty("scope")
            .map(str::to_string)
            .or_else(|| client.registration.as_ref().and_then(|r| r.scope.clone()));
        self.issue_user_tokens(
            rc,
            &UserGrant {
                client,
                login: &login,
                scope,
                nonce: None,
                audience: asked_audience(form),
                grant: GrantType::Password,
            },
            now,
        )
    }

    /// Resolves a user name (and password) to a [`Login`]. The error names
    /// the field, for an `invalid_grant` or the login page.
    pub fn login_for(
        &self,
        username: &str,
        password: Option<&str>,
        login_claims: Map<String, Value>,
        now: i64,
        mode: LoginMode,
    ) -> Result<Login, String> {
        let users = self.users();
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

    /// `authorization_code` (RFC 6749 §4.1.3): the code is verified
    /// (signature by any of the issuer's keys, expiry, kind), spent, bound
    /// to the client and the `redirect_uri`, and its PKCE challenge checked
    /// (RFC 7636).
    fn authorization_code(
        &self,
        rc: &RequestCtx<'_>,
        client: &Client,
        form: &Form,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let code: CodeClaims = artifacts::open(
            form.require("code")?,
            ArtifactKind::Code,
            &self.keys().merged(),
            now,
        )?;
        // Spent before the other checks: a code is tried once, right or wrong.
        if !self
            .spent()
            .spend(&code.envelope.jti, code.envelope.exp, now)?
        {
            return Err(OAuthError::invalid_grant(
                "code: was already used (codes are single-use)",
            ));
        }
        code.envelope.check_client(ArtifactKind::Code, &client.id)?;
        if let Some(expected) = &code.redirect_uri
            && form.get("redirect_uri") != Some(expected.as_str())
        {
            return Err(OAuthError::invalid_grant(
                "redirect_uri: must be the one of the authorization request",
            ));
        }
        match (&code.code_challenge, form.get("code_verifier")) {
            (Some(challenge), Some(verifier)) => {
                let method = match code.code_challenge_method.as_deref() {
                    Some("S256") => PkceMethod::S256,
                    _ => PkceMethod::Plain,
                };
                pkce::verify(verifier, challenge, method).map_err(OAuthError::invalid_grant)?;
            }
            (Some(_), None) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier: is required, the authorization request had a code_challenge",
                ));
            }
            (None, Some(_)) => {
                // RFC 9700 §2.1.1: a verifier without a challenge hints at a downgrade.
                return Err(OAuthError::invalid_grant(
                    "code_verifier: was sent, but the authorization request had no code_challenge",
                ));
            }
            (None, None) => {}
        }
        self.issue_user_tokens(
            rc,
            &UserGrant {
                client,
                login: &code.login,
                scope: code.scope.clone(),
                nonce: code.nonce.clone(),
                audience: asked_audience(form),
                grant: GrantType::AuthorizationCode,
            },
            now,
        )
    }

    /// `refresh_token` (RFC 6749 §6): verified like a code, bound to the
    /// client, rotated (the old one is spent: reuse is `invalid_grant`);
    /// `scope` may narrow the original scope, never widen it.
    fn refresh_token(
        &self,
        rc: &RequestCtx<'_>,
        client: &Client,
        form: &Form,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let refresh: RefreshClaims = artifacts::open(
            form.require("refresh_token")?,
            ArtifactKind::Refresh,
            &self.keys().merged(),
            now,
        )?;
        refresh
            .envelope
            .check_client(ArtifactKind::Refresh, &client.id)?;
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
                    return Err(OAuthError::invalid_scope(format!(
                        "scope: {extra:?} was not granted originally ({:?})",
                        refresh.scope.as_deref().unwrap_or("")
                    )));
                }
                Some(asked.to_string())
            }
        };
        if !self
            .spent()
            .spend(&refresh.envelope.jti, refresh.envelope.exp, now)?
        {
            return Err(OAuthError::invalid_grant(
                "refresh_token: was already used or revoked (refresh tokens rotate on every use)",
            ));
        }
        self.issue_user_tokens(
            rc,
            &UserGrant {
                client,
                login: &refresh.login,
                scope,
                nonce: None,
                audience: asked_audience(form),
                grant: GrantType::RefreshToken,
            },
            now,
        )
    }

    /// The persona `login` names, which must exist on this replica.
    fn persona_of(&self, login: &Login) -> Result<Option<Persona>, OAuthError> {
        match &login.user {
            None => Ok(None),
            Some(name) => self.users().get(name).cloned().map(Some).ok_or_else(|| {
                OAuthError::invalid_grant(format!(
                    "user {name:?} is not a persona of this issuer (federated replicas must \
                     share the users file)"
                ))
            }),
        }
    }

    /// Issues access token, ID token (scope `openid`) and refresh token
    /// (unless the client is registered without the `refresh_token` grant).
    pub fn issue_user_tokens(
        &self,
        rc: &RequestCtx<'_>,
        grant: &UserGrant<'_>,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let client = grant.client;
        let reg = client.registration.as_deref();
        let persona = self.persona_of(grant.login)?;

        // Precedence of extra claims, lowest first: the client's defaults, the
        // persona's claims, the claims typed at login.
        let mut extra = reg.map(|r| r.claims.clone()).unwrap_or_default();
        if let Some(p) = &persona {
            claims::merge_claims(&mut extra, &p.claims);
        }
        claims::merge_claims(&mut extra, &grant.login.login_claims);

        // One id for the tokens of this grant (Keycloak `sid`, Cognito `origin_jti`).
        let session =
            ids::uuid_v4().map_err(|e| OAuthError::server("drawing a session id failed", e))?;
        let issue = Issue {
            kind: TokenKind::Access,
            client: Some(client.profile_ref()),
            session: Some(&session),
        };
        let (access_token, access) = self.sign_access_token(
            rc,
            &MintRequest {
                user: grant.login.user.clone(),
                sub: Some(grant.login.sub.clone()),
                // A login that is no persona: the name typed is the username.
                username: login_username(grant.login),
                aud: grant
                    .audience
                    .clone()
                    .or_else(|| reg.and_then(|r| r.audience.clone())),
                scope: grant.scope.clone(),
                claims: Some(extra.clone()),
                ..MintRequest::default()
            },
            &issue,
            TokenSource::Grant(grant.grant),
            now,
        )?;
        let key = self.signing_key()?;
        let iss = self.iss(rc.base);
        let id_token = if has_scope(grant.scope.as_deref(), "openid") {
            let issue = Issue {
                kind: TokenKind::Id,
                ..issue
            };
            let claims = self.id_token_claims(rc, grant, &issue, extra, &access_token, now)?;
            Some(jwt::encode(&key, &claims)?)
        } else {
            None
        };

        let refresh_allowed = reg.is_none_or(|r| r.allows(GrantType::RefreshToken));
        let refresh_token = if refresh_allowed {
            let content = RefreshClaims {
                envelope: Envelope::new(&iss, &client.id, now, REFRESH_TTL)?,
                scope: grant.scope.clone(),
                login: grant.login.clone(),
            };
            Some(artifacts::seal(&key, ArtifactKind::Refresh, &content)?)
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

    /// The ID token (OIDC Core §2): the profile's ID-token claims for the
    /// user, the persona's and login claims, then the OIDC claims, which
    /// nothing overrides so the token validates.
    fn id_token_claims(
        &self,
        rc: &RequestCtx<'_>,
        grant: &UserGrant<'_>,
        issue: &Issue<'_>,
        extra: Map<String, Value>,
        access_token: &str,
        now: i64,
    ) -> Result<Map<String, Value>, OAuthError> {
        let minted = self.build_claims(
            rc,
            &MintRequest {
                user: grant.login.user.clone(),
                sub: Some(grant.login.sub.clone()),
                username: login_username(grant.login),
                scope: grant.scope.clone(),
                claims: Some(extra),
                ..MintRequest::default()
            },
            issue,
            now,
        )?;
        let mut c = minted.claims;
        for mechanics in ["scope", "client_id"] {
            c.remove(mechanics);
        }
        let client_id = &grant.client.id;
        c.insert("iss".into(), json!(self.iss(rc.base)));
        c.insert("sub".into(), json!(grant.login.sub));
        c.insert("aud".into(), json!(client_id));
        if c.contains_key("azp") {
            c.insert("azp".into(), json!(client_id));
        }
        c.insert("iat".into(), json!(now));
        c.insert(
            "exp".into(),
            json!(now.saturating_add(self.settings().token_ttl)),
        );
        c.insert("auth_time".into(), json!(grant.login.auth_time));
        c.insert("at_hash".into(), json!(at_hash(access_token)));
        match &grant.nonce {
            Some(nonce) => c.insert("nonce".into(), json!(nonce)),
            None => c.remove("nonce"),
        };
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::ClientConfig;
    use crate::issuer::testing;

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

    const PERSONAS: &str = "alice: {sub: user_alice}\nbob: {password: hunter2}\n";

    fn clients() -> Vec<ClientConfig> {
        vec![
            ClientConfig {
                client_id: "web".into(),
                client_secret: Some("s3cret".into()),
                grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                ..Default::default()
            },
            ClientConfig {
                client_id: "cli".into(),
                client_secret: Some("cli-secret".into()),
                ..Default::default()
            },
        ]
    }

    fn form(s: &str) -> Form {
        Form::parse(s.as_bytes(), "form body").unwrap()
    }

    fn token(issuer: &Issuer, f: &str) -> Result<TokenResponse, OAuthError> {
        issuer.token(&RequestCtx::new("http://h"), None, &form(f))
    }

    #[test]
    fn every_grant_error_path_has_its_code_and_names_the_field() {
        let issuer = testing::issuer(PERSONAS, clients());
        let cli = "client_id=cli&client_secret=cli-secret";
        let cases: Vec<(String, ErrorCode, &str)> = vec![
            (
                "".into(),
                ErrorCode::InvalidRequest,
                "grant_type: is required",
            ),
            (
                format!("grant_type=implicit&{cli}"),
                ErrorCode::UnsupportedGrantType,
                "implicit",
            ),
            (
                "grant_type=password&grant_type=password".into(),
                ErrorCode::InvalidRequest,
                "grant_type: must not be repeated",
            ),
            (
                "grant_type=password".into(),
                ErrorCode::InvalidClient,
                "client_id: is required",
            ),
            (
                "grant_type=password&client_id=web&client_secret=s3cret&username=alice".into(),
                ErrorCode::UnauthorizedClient,
                "may not use \"password\"",
            ),
            (
                format!("grant_type=password&{cli}"),
                ErrorCode::InvalidRequest,
                "username: is required",
            ),
            (
                format!("grant_type=password&{cli}&username=mallory"),
                ErrorCode::InvalidGrant,
                "username: unknown user \"mallory\"",
            ),
            (
                format!("grant_type=password&{cli}&username=bob&password=nope"),
                ErrorCode::InvalidGrant,
                "password: wrong password",
            ),
            (
                format!("grant_type=password&{cli}&username=alice&claims=5"),
                ErrorCode::InvalidRequest,
                "claims: must be a JSON object",
            ),
            (
                format!("grant_type=authorization_code&{cli}"),
                ErrorCode::InvalidRequest,
                "code: is required",
            ),
            (
                format!("grant_type=authorization_code&{cli}&code=garbage"),
                ErrorCode::InvalidGrant,
                "code: ",
            ),
            (
                format!("grant_type=refresh_token&{cli}"),
                ErrorCode::InvalidRequest,
                "refresh_token: is required",
            ),
            (
                format!("grant_type=refresh_token&{cli}&refresh_token=x.y.z"),
                ErrorCode::InvalidGrant,
                "refresh_token: ",
            ),
            (
                format!("grant_type=client_credentials&{cli}&claims=%7B"),
                ErrorCode::InvalidRequest,
                "claims: is not valid JSON",
            ),
        ];
        for (f, code, want) in cases {
            let e = token(&issuer, &f).unwrap_err();
            assert_eq!(e.code, code, "{f}: {e}");
            assert!(
                e.to_string().contains(want),
                "{f}: {e:?} should contain {want:?}"
            );
        }
    }

    #[test]
    fn password_and_refresh_rotation() {
        let issuer = testing::issuer(PERSONAS, clients());
        let cli = "client_id=cli&client_secret=cli-secret";
        let t = token(
            &issuer,
            &format!("grant_type=password&{cli}&username=bob&password=hunter2&scope=openid"),
        )
        .unwrap();
        let rt = t.refresh_token.clone().unwrap();
        assert!(t.id_token.is_some());
        let claims = jwt::verify(
            &t.access_token,
            &issuer.keys().merged(),
            Some("https://issuer.test"),
        )
        .unwrap();
        assert_eq!(claims["sub"], "user_bob");
        assert_eq!(claims["client_id"], "cli");
        let again = token(
            &issuer,
            &format!("grant_type=refresh_token&{cli}&refresh_token={rt}"),
        )
        .unwrap();
        assert!(again.refresh_token.is_some());
        let e = token(
            &issuer,
            &format!("grant_type=refresh_token&{cli}&refresh_token={rt}"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("already used"), "{e}");
        let rt2 = again.refresh_token.unwrap();
        let e = token(
            &issuer,
            &format!("grant_type=refresh_token&{cli}&refresh_token={rt2}&scope=admin"),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScope);
        let e = token(
            &issuer,
            &format!(
                "grant_type=refresh_token&client_id=web&client_secret=s3cret&refresh_token={rt2}"
            ),
        )
        .unwrap_err();
        assert!(e.to_string().contains("another client"), "{e}");
        // A refresh token of another issuer (another key) is refused.
        let other = testing::issuer(PERSONAS, clients());
        let e = token(
            &other,
            &format!("grant_type=refresh_token&{cli}&refresh_token={rt2}"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown key"), "{e}");
    }

    #[test]
    fn a_full_replay_set_refuses_rotation_instead_of_forgetting() {
        let mut settings = testing::settings("", Some("https://i"));
        settings.replay_capacity = 1;
        let issuer = Issuer::new(settings, Default::default(), Default::default());
        issuer.prepare_key_blocking().unwrap();
        let f = "grant_type=password&client_id=c&username=u";
        let first = token(&issuer, f).unwrap().refresh_token.unwrap();
        let second = token(&issuer, f).unwrap().refresh_token.unwrap();
        token(
            &issuer,
            &format!("grant_type=refresh_token&client_id=c&refresh_token={first}"),
        )
        .unwrap();
        let e = token(
            &issuer,
            &format!("grant_type=refresh_token&client_id=c&refresh_token={second}"),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::TemporarilyUnavailable, "{e}");
        let e = token(
            &issuer,
            &format!("grant_type=refresh_token&client_id=c&refresh_token={first}"),
        )
        .unwrap_err();
        assert_eq!(
            e.code,
            ErrorCode::InvalidGrant,
            "the rotated token stays spent: {e}"
        );
    }
}
