//! `google`: Google ID tokens as google-auth-library (Node) and google-auth
//! (Python) verify them. `iss` is `https://accounts.google.com`; `aud` and
//! `azp` are the client id; `email`, `email_verified`, `hd` (the domain of
//! the email, for a member of an organization), `name`, `given_name`,
//! `family_name`. Google's own access tokens are opaque, so access tokens
//! here have the ID-token shape too (plus `scope`); `client_credentials`
//! gives a service-account ID token. Keys: the JWKS at `/oauth2/v3/certs`
//! and one self-signed X.509 certificate per key at `/oauth2/v1/certs`.

use serde_json::{Map, Value, json};

use super::{
    DefaultIss, Endpoint, ProfileSettings, Shape, Shaped, Subject, TokenInput, TokenKind,
    oidc_profile, plain, put_str, registered,
};
use crate::random::RandomError;

/// The `google` profile.
#[derive(Debug, Clone, Copy)]
pub struct Google;

/// Google's issuer (the only one both SDKs accept besides `accounts.google.com`).
pub const ISSUER: &str = "https://accounts.google.com";

impl Shape for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        let mut c = registered(t);
        match t.kind {
            TokenKind::Client => {
                let client = t.client_id().unwrap_or(t.subject.sub);
                if t.aud.is_none() {
                    c.insert("aud".into(), json!(client));
                }
                c.insert("azp".into(), json!(client));
                if let Some(email) = t.subject.email {
                    c.insert("email".into(), json!(email));
                    c.insert("email_verified".into(), json!(true));
                }
            }
            TokenKind::Access | TokenKind::Id => {
                // Grants: the token is for the client; mint: the asked audience.
                if let Some(client) = t.client_id() {
                    c.insert("aud".into(), json!(client));
                }
                // azp: the client, else the asked one, else a single audience.
                let azp = t
                    .client_id()
                    .or(t.azp)
                    .map(str::to_string)
                    .or_else(|| c.get("aud").and_then(Value::as_str).map(str::to_string));
                put_str(&mut c, "azp", azp.as_deref());
                c.extend(oidc_profile(&t.subject, None));
                if t.subject.org_id.is_some()
                    && let Some(domain) = t.subject.email.and_then(|e| e.rsplit_once('@'))
                {
                    // A Workspace account: the hosted domain.
                    c.insert("hd".into(), json!(domain.1));
                }
                if t.kind == TokenKind::Access {
                    put_str(&mut c, "scope", t.scope);
                }
            }
        }
        c.insert("jti".into(), json!(plain::jti()?));
        Ok(c.into())
    }

    fn paths(&self) -> &'static [(Endpoint, &'static str)] {
        &[
            (Endpoint::Jwks, "/oauth2/v3/certs"),
            (Endpoint::X509Certs, "/oauth2/v1/certs"),
        ]
    }

    fn default_iss(&self, _settings: &ProfileSettings) -> DefaultIss {
        DefaultIss::Fixed(ISSUER.to_string())
    }

    fn discovery(&self, doc: &mut Map<String, Value>, _settings: &ProfileSettings) {
        doc.insert(
            "scopes_supported".into(),
            json!(["openid", "email", "profile"]),
        );
        doc.insert(
            "token_endpoint_auth_methods_supported".into(),
            json!(["client_secret_post", "client_secret_basic"]),
        );
        doc.insert(
            "code_challenge_methods_supported".into(),
            json!(["plain", "S256"]),
        );
    }

    fn userinfo(&self, s: &Subject<'_>) -> Map<String, Value> {
        oidc_profile(s, None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{ClientRef, Profile};
    use super::*;

    #[test]
    fn id_token_of_a_workspace_member() {
        let mut t = input(TokenKind::Id);
        t.client = Some(ClientRef {
            id: "123.apps.googleusercontent.com",
            confidential: true,
        });
        let c = claims(Profile::Google, &t);
        assert_eq!(c["aud"], "123.apps.googleusercontent.com");
        assert_eq!(c["azp"], c["aud"]);
        assert_eq!(c["hd"], "acme.example");
        assert_eq!(c["email_verified"], true);
        assert_eq!(c["given_name"], "Alice");
        for absent in [
            "roles",
            "groups",
            "permissions",
            "org_id",
            "username",
            "preferred_username",
            "nbf",
            "scope",
        ] {
            assert!(!c.contains_key(absent), "{absent}");
        }
    }

    #[test]
    fn json_mint_uses_the_asked_audience_and_no_hd_without_org() {
        let mut t = input(TokenKind::Access);
        let aud = json!("web-client");
        t.aud = Some(&aud);
        t.subject.org_id = None;
        let c = claims(Profile::Google, &t);
        assert_eq!(
            (c["aud"].as_str(), c["azp"].as_str()),
            (Some("web-client"), Some("web-client"))
        );
        assert!(!c.contains_key("hd"));
        t.aud = None;
        assert!(!claims(Profile::Google, &t).contains_key("azp"));
    }

    #[test]
    fn service_account_token() {
        let mut t = input(TokenKind::Client);
        t.client = Some(ClientRef {
            id: "1098",
            confidential: true,
        });
        t.subject = Subject {
            sub: "1098",
            email: Some("worker@p.iam.gserviceaccount.com"),
            ..Subject::default()
        };
        let c = claims(Profile::Google, &t);
        assert_eq!(
            (c["sub"].as_str(), c["azp"].as_str(), c["aud"].as_str()),
            (Some("1098"), Some("1098"), Some("1098"))
        );
        assert_eq!(c["email"], "worker@p.iam.gserviceaccount.com");
        assert_eq!(
            Profile::Google
                .shape()
                .default_iss(&ProfileSettings::default()),
            DefaultIss::Fixed(ISSUER.into())
        );
    }
}
