//! Client authentication (RFC 6749 §2.3.1): HTTP Basic
//! (`client_secret_basic`), form fields (`client_secret_post`) or none for
//! public clients; and which grants a client may use. With no clients
//! registered (open mode) any `client_id` is accepted.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Form, OAuthError};
use crate::clients::{ClientConfig, Clients, GrantType};
use crate::profiles::ClientRef;

/// Client credentials from an `Authorization: Basic` header, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: String,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("id", &self.id)
            .field("secret", &"<hidden>")
            .finish()
    }
}

impl BasicCredentials {
    /// Decodes the value of an `Authorization` header. `Ok(None)` when it is
    /// not the Basic scheme; an error naming the header when it is
    /// malformed Basic.
    pub fn from_header(value: &str) -> Result<Option<BasicCredentials>, OAuthError> {
        let Some((scheme, encoded)) = value.split_once(' ') else {
            return Ok(None);
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(None);
        }
        let bad = |why: &str| {
            OAuthError::invalid_client(format!(
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
        Ok(Some(BasicCredentials {
            id: unescape(id),
            secret: unescape(secret),
        }))
    }
}

/// The client making a request, authenticated.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// The registration, when clients are registered.
    pub registration: Option<Arc<ClientConfig>>,
}

impl Client {
    /// The client as a profile sees it.
    pub fn profile_ref(&self) -> ClientRef<'_> {
        ClientRef {
            id: &self.id,
            // Open mode cannot tell; a registered client has a secret or not.
            confidential: self
                .registration
                .as_ref()
                .is_none_or(|r| r.client_secret.is_some()),
        }
    }
}

/// Authenticates the client by Basic credentials or form fields against
/// `clients` (any `client_id` when none are registered).
pub fn authenticate(
    clients: &Clients,
    basic: Option<&BasicCredentials>,
    form: &Form,
) -> Result<Client, OAuthError> {
    let (id, secret) = match basic {
        Some(b) => (b.id.clone(), Some(b.secret.as_str())),
        None => match form.get("client_id").filter(|v| !v.is_empty()) {
            Some(id) => (id.to_string(), form.get("client_secret")),
            None => {
                return Err(OAuthError::invalid_client(
                    "client_id: is required (form field, or HTTP Basic authentication)",
                ));
            }
        },
    };
    if clients.is_empty() {
        return Ok(Client {
            id,
            registration: None,
        });
    }
    let Some(registration) = clients.get(&id) else {
        return Err(OAuthError::invalid_client(format!(
            "client_id: unknown client {id:?}"
        )));
    };
    match (&registration.client_secret, secret) {
        (Some(expected), Some(given)) if constant_time_eq(expected, given) => {}
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_client(format!(
                "client_secret: wrong secret for client {id:?}"
            )));
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_client(format!(
                "client_secret: is required for confidential client {id:?}"
            )));
        }
        (None, _) => {}
    }
    Ok(Client {
        id,
        registration: Some(Arc::clone(registration)),
    })
}

/// Authenticates the caller of introspection or revocation: a registered
/// client when clients are registered (or credentials were sent), anyone
/// (`None`) otherwise.
pub fn authenticate_caller(
    clients: &Clients,
    basic: Option<&BasicCredentials>,
    form: &Form,
) -> Result<Option<Client>, OAuthError> {
    let sent_credentials = basic.is_some() || form.non_empty("client_id").is_some();
    if clients.is_empty() && !sent_credentials {
        return Ok(None);
    }
    authenticate(clients, basic, form).map(Some)
}

/// A registered client may only use the grants it lists (RFC 7591
/// `grant_types`; none listed = all), and a public one never
/// `client_credentials` (RFC 6749 §4.4); `unauthorized_client` otherwise.
pub fn check_grant_allowed(client: &Client, grant: GrantType) -> Result<(), OAuthError> {
    let Some(reg) = &client.registration else {
        return Ok(());
    };
    if reg.is_public() && grant == GrantType::ClientCredentials {
        return Err(OAuthError::unauthorized_client(format!(
            "grant_type: client {:?} is public (no client_secret) and cannot use \
             client_credentials",
            client.id
        )));
    }
    if !reg.allows(grant) {
        return Err(OAuthError::unauthorized_client(format!(
            "grant_type: client {:?} may not use {:?}; its grant_types are: {}",
            client.id,
            grant.as_str(),
            reg.grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// Compares secrets in constant time.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::ErrorCode;

    fn clients() -> Clients {
        crate::clients::to_map(
            vec![
                ClientConfig {
                    client_id: "web".into(),
                    client_secret: Some("s3cret".into()),
                    grant_types: vec![GrantType::AuthorizationCode],
                    ..Default::default()
                },
                ClientConfig {
                    client_id: "spa".into(),
                    ..Default::default()
                },
            ],
            "clients",
        )
        .unwrap()
    }

    fn form(s: &str) -> Form {
        Form::parse(s.as_bytes(), "form body").unwrap()
    }

    fn basic(id: &str, secret: &str) -> BasicCredentials {
        BasicCredentials {
            id: id.into(),
            secret: secret.into(),
        }
    }

    #[test]
    fn basic_header_decoding() {
        let enc = STANDARD.encode("my%20id:p%3Ass");
        let b = BasicCredentials::from_header(&format!("Basic {enc}"))
            .unwrap()
            .unwrap();
        assert_eq!((b.id.as_str(), b.secret.as_str()), ("my id", "p:ss"));
        assert!(!format!("{b:?}").contains("p:ss"));
        assert_eq!(BasicCredentials::from_header("Bearer x").unwrap(), None);
        assert_eq!(BasicCredentials::from_header("garbage").unwrap(), None);
        for (value, why) in [
            ("Basic !!!", "not base64"),
            (&format!("Basic {}", STANDARD.encode("nocolon")), "no ':'"),
            (
                &format!("Basic {}", STANDARD.encode([0xff, b':'])),
                "not UTF-8",
            ),
        ] {
            let e = BasicCredentials::from_header(value).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient);
            assert!(e.to_string().contains(why), "{value}: {e}");
        }
    }

    #[test]
    fn authentication_table() {
        let clients = clients();
        let ok =
            |b: Option<BasicCredentials>, f: &str| authenticate(&clients, b.as_ref(), &form(f));
        assert_eq!(ok(Some(basic("web", "s3cret")), "").unwrap().id, "web");
        assert_eq!(
            ok(None, "client_id=web&client_secret=s3cret").unwrap().id,
            "web"
        );
        assert_eq!(ok(None, "client_id=spa").unwrap().id, "spa");
        let cases = [
            (
                Some(basic("web", "nope")),
                "",
                "client_secret: wrong secret",
            ),
            (None, "client_id=web", "client_secret: is required"),
            (None, "client_id=mallory", "client_id: unknown client"),
            (None, "", "client_id: is required"),
        ];
        for (b, f, want) in cases {
            let e = ok(b, f).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient, "{f}");
            assert!(e.to_string().contains(want), "{f}: {e}");
        }
        // Open mode: anyone, with or without a secret.
        let open = Clients::new();
        assert_eq!(
            authenticate(&open, None, &form("client_id=x")).unwrap().id,
            "x"
        );
        assert!(
            authenticate_caller(&open, None, &form(""))
                .unwrap()
                .is_none()
        );
        assert!(authenticate_caller(&clients, None, &form("")).is_err());
        assert!(
            authenticate_caller(&clients, Some(&basic("web", "s3cret")), &form(""))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn grant_permissions() {
        let clients = clients();
        let web = authenticate(&clients, Some(&basic("web", "s3cret")), &form("")).unwrap();
        let spa = authenticate(&clients, None, &form("client_id=spa")).unwrap();
        assert!(check_grant_allowed(&web, GrantType::AuthorizationCode).is_ok());
        let e = check_grant_allowed(&web, GrantType::Password).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnauthorizedClient);
        assert!(e.to_string().contains("authorization_code"), "{e}");
        let e = check_grant_allowed(&spa, GrantType::ClientCredentials).unwrap_err();
        assert!(e.to_string().contains("public"), "{e}");
        assert!(check_grant_allowed(&spa, GrantType::Password).is_ok());
        let anyone = Client {
            id: "x".into(),
            registration: None,
        };
        assert!(check_grant_allowed(&anyone, GrantType::ClientCredentials).is_ok());
    }
}
