//! Client authentication (RFC 6749 §2.3.1): HTTP Basic
//! (`client_secret_basic`), form fields (`client_secret_post`) or none for
//! public clients; and which grants a client may use. With no clients
//! registered (open mode) any `client_id` is accepted.
//!
//! One client is built in: [`WORKBENCH_CLIENT_ID`], the public client of the
//! workbench page's OIDC debugger (contract "Workbench"). It is known whether
//! or not clients are registered, may only use the code flow with PKCE, and
//! may only return to the issuer's own workbench page; it never makes an
//! issuer with registered clients accept any other unknown `client_id`. A
//! client registered under the same id replaces it.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Form, Issuer, OAuthError};
use crate::clients::{ClientConfig, Clients, GrantType};
use crate::profiles::ClientRef;

/// `client_id` of the built-in public client of the workbench page.
pub const WORKBENCH_CLIENT_ID: &str = "workbench";

/// The built-in `workbench` client whose only redirect URIs are
/// `redirect_uris`: public (no secret, so PKCE is required, RFC 7636), the
/// `authorization_code` and `refresh_token` grants only.
pub fn workbench_client(redirect_uris: Vec<String>) -> ClientConfig {
    ClientConfig {
        client_id: WORKBENCH_CLIENT_ID.into(),
        client_secret: None,
        redirect_uris,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        client_name: Some("the mock-idp workbench".into()),
        ..ClientConfig::default()
    }
}

impl Issuer {
    /// The URL of this issuer's workbench page for a client that reached the
    /// server at `base`: `<base><mount>/` (`<base>/` for the root).
    pub fn workbench_url(&self, base: &str) -> String {
        format!("{base}{}/", self.mount())
    }

    /// The registration `client_id` has at this issuer for a request that
    /// reached the server at `base`: the registered client, else the
    /// built-in `workbench` client (returning only to [`Issuer::workbench_url`]),
    /// else `None` (unknown; accepted only when no client is registered).
    pub fn client_registration(&self, base: &str, client_id: &str) -> Option<Arc<ClientConfig>> {
        match self.clients().get(client_id) {
            Some(registered) => Some(Arc::clone(registered)),
            None if client_id == WORKBENCH_CLIENT_ID => {
                Some(Arc::new(workbench_client(vec![self.workbench_url(base)])))
            }
            None => None,
        }
    }
}

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
/// `clients` (any `client_id` when none are registered; the built-in
/// [`WORKBENCH_CLIENT_ID`] always, as a public client).
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
    let registration = match clients.get(&id) {
        Some(registered) => Arc::clone(registered),
        // The token endpoint never checks redirect URIs against the
        // registration (the code carries the one it was issued for).
        None if id == WORKBENCH_CLIENT_ID => Arc::new(workbench_client(Vec::new())),
        None if clients.is_empty() => {
            return Ok(Client {
                id,
                registration: None,
            });
        }
        None => {
            return Err(OAuthError::invalid_client(format!(
                "client_id: unknown client {id:?}"
            )));
        }
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
        registration: Some(registration),
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

    mod workbench {
        //! The built-in `workbench` client, end to end through the core:
        //! authorization request, code, token exchange.
        use super::*;
        use crate::issuer::authorize::AuthorizeOutcome;
        use crate::issuer::{RequestCtx, Settings, TokenResponse, testing};

        const BASE: &str = "http://127.0.0.1:8081";
        const RC: RequestCtx<'static> = RequestCtx {
            base: BASE,
            origin: None,
        };
        // RFC 7636 appendix B.
        const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        const PERSONAS: &str = "alice: {sub: user_alice}\n";

        fn registered() -> Vec<ClientConfig> {
            vec![ClientConfig {
                client_id: "web".into(),
                client_secret: Some("s3cret".into()),
                redirect_uris: vec!["http://app.test/cb".into()],
                ..Default::default()
            }]
        }

        /// A ready named issuer `t` (iss derived from the base URL).
        fn named(clients: Vec<ClientConfig>) -> Issuer {
            let settings: Settings = testing::settings("t", None);
            let users = crate::claims::users::parse_users(PERSONAS).unwrap();
            let clients = crate::clients::to_map(clients, "clients").unwrap();
            let issuer = Issuer::new(settings, users, clients);
            issuer.prepare_key_blocking().unwrap();
            issuer
        }

        fn authorize(issuer: &Issuer, query: &str) -> AuthorizeOutcome {
            issuer.authorize(BASE, &form(query)).unwrap()
        }

        fn redirect(outcome: AuthorizeOutcome) -> String {
            match outcome {
                AuthorizeOutcome::Redirect(url) => url,
                other => panic!("expected a redirect, got {other:?}"),
            }
        }

        fn error_page(outcome: AuthorizeOutcome) -> String {
            match outcome {
                AuthorizeOutcome::ErrorPage(message) => message,
                other => panic!("expected an error page, got {other:?}"),
            }
        }

        fn param(url: &str, name: &str) -> Option<String> {
            let query = url.split_once('?')?.1;
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .unwrap()
                .into_iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)
        }

        fn pkce_request(redirect_uri: &str) -> String {
            format!(
                "response_type=code&client_id=workbench&redirect_uri={}&scope=openid&state=s1\
                 &nonce=n1&login_hint=alice&code_challenge={CHALLENGE}&code_challenge_method=S256",
                serde_urlencoded::to_string([("", redirect_uri)]).unwrap()[1..].to_owned()
            )
        }

        fn exchange(
            issuer: &Issuer,
            code: &str,
            redirect_uri: &str,
        ) -> Result<TokenResponse, OAuthError> {
            let body = serde_urlencoded::to_string([
                ("grant_type", "authorization_code"),
                ("client_id", WORKBENCH_CLIENT_ID),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", VERIFIER),
            ])
            .unwrap();
            issuer.token(&RC, None, &form(&body))
        }

        #[test]
        fn page_urls_and_registration() {
            let root = testing::issuer(PERSONAS, registered());
            assert_eq!(root.workbench_url(BASE), "http://127.0.0.1:8081/");
            let t = named(registered());
            assert_eq!(t.workbench_url(BASE), "http://127.0.0.1:8081/t/");
            let reg = t.client_registration(BASE, "workbench").unwrap();
            assert!(reg.is_public());
            assert_eq!(reg.redirect_uris, ["http://127.0.0.1:8081/t/"]);
            assert!(
                reg.allows(GrantType::AuthorizationCode) && reg.allows(GrantType::RefreshToken)
            );
            assert!(!reg.allows(GrantType::Password) && !reg.allows(GrantType::ClientCredentials));
            assert!(
                t.client_registration(BASE, "web")
                    .unwrap()
                    .client_secret
                    .is_some()
            );
            assert!(t.client_registration(BASE, "mallory").is_none());
        }

        #[test]
        fn code_flow_round_trip_with_and_without_registered_clients() {
            for clients in [registered(), Vec::new()] {
                let strict = !clients.is_empty();
                let issuer = named(clients);
                let page = issuer.workbench_url(BASE);
                let url = redirect(authorize(&issuer, &pkce_request(&page)));
                assert!(
                    url.starts_with(&format!("{page}?code=")),
                    "strict={strict}: {url}"
                );
                assert_eq!(param(&url, "state").as_deref(), Some("s1"));
                assert_eq!(
                    param(&url, "iss").as_deref(),
                    Some("http://127.0.0.1:8081/t")
                );
                let code = param(&url, "code").unwrap();
                let tokens = exchange(&issuer, &code, &page).unwrap();
                let claims = crate::jwt::verify(
                    &tokens.access_token,
                    &issuer.keys().merged(),
                    Some("http://127.0.0.1:8081/t"),
                )
                .unwrap();
                assert_eq!(claims["sub"], "user_alice", "strict={strict}");
                assert_eq!(claims["client_id"], "workbench");
                assert!(tokens.id_token.is_some() && tokens.refresh_token.is_some());
                // The refresh token rotates for the built-in client too.
                let refresh = format!(
                    "grant_type=refresh_token&client_id=workbench&refresh_token={}",
                    tokens.refresh_token.unwrap()
                );
                assert!(
                    issuer.token(&RC, None, &form(&refresh)).is_ok(),
                    "strict={strict}"
                );
                // The verifier is checked: a code exchanged without it fails.
                let url = redirect(authorize(&issuer, &pkce_request(&page)));
                let code = param(&url, "code").unwrap();
                let e = issuer
                    .token(
                        &RC,
                        None,
                        &form(&format!(
                            "grant_type=authorization_code&client_id=workbench&code={code}&redirect_uri={page}"
                        )),
                    )
                    .unwrap_err();
                assert!(e.to_string().contains("code_verifier: is required"), "{e}");
            }
        }

        #[test]
        fn only_the_own_page_pkce_and_the_code_grants() {
            for clients in [registered(), Vec::new()] {
                let strict = !clients.is_empty();
                let issuer = named(clients);
                // Another page, another issuer's page, a prefix: never.
                for other in [
                    "http://evil.test/",
                    "http://127.0.0.1:8081/",
                    "http://127.0.0.1:8081/t",
                    "http://127.0.0.1:8081/t/x",
                    "http://127.0.0.1:9999/t/",
                ] {
                    let message = error_page(authorize(&issuer, &pkce_request(other)));
                    assert!(
                        message.contains("is not registered for client \"workbench\""),
                        "strict={strict} {other}: {message}"
                    );
                }
                // No redirect_uri: the page (its only one).
                let query = pkce_request("x").replace("redirect_uri=x&", "");
                let url = redirect(authorize(&issuer, &query));
                assert!(url.starts_with("http://127.0.0.1:8081/t/?code="), "{url}");
                // PKCE is required: it is a public client.
                let query = format!(
                    "response_type=code&client_id=workbench&redirect_uri={}&state=s",
                    issuer.workbench_url(BASE)
                );
                let url = redirect(authorize(&issuer, &query));
                assert_eq!(param(&url, "error").as_deref(), Some("invalid_request"));
                assert!(
                    param(&url, "error_description")
                        .unwrap()
                        .contains("code_challenge: is required")
                );
                // Only the code flow's grants.
                for grant in ["password&username=alice", "client_credentials"] {
                    let e = issuer
                        .token(
                            &RC,
                            None,
                            &form(&format!("grant_type={grant}&client_id=workbench")),
                        )
                        .unwrap_err();
                    assert_eq!(
                        e.code,
                        ErrorCode::UnauthorizedClient,
                        "strict={strict} {grant}: {e}"
                    );
                }
            }
        }

        #[test]
        fn registered_clients_stay_strict_for_everyone_else() {
            let issuer = named(registered());
            let message = error_page(authorize(
                &issuer,
                &pkce_request(&issuer.workbench_url(BASE))
                    .replace("client_id=workbench", "client_id=mallory"),
            ));
            assert!(message.contains("unknown client \"mallory\""), "{message}");
            let e = issuer
                .token(
                    &RC,
                    None,
                    &form("grant_type=authorization_code&client_id=mallory&code=x"),
                )
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient);
            assert!(issuer.clients().len() == 1 && !issuer.clients().contains_key("workbench"));
        }

        #[test]
        fn a_registered_workbench_client_replaces_the_built_in_one() {
            let mut clients = registered();
            clients.push(ClientConfig {
                client_id: "workbench".into(),
                client_secret: Some("own".into()),
                redirect_uris: vec!["http://app.test/wb".into()],
                ..Default::default()
            });
            let issuer = named(clients);
            let url = redirect(authorize(&issuer, &pkce_request("http://app.test/wb")));
            assert!(url.starts_with("http://app.test/wb?code="), "{url}");
            let message = error_page(authorize(
                &issuer,
                &pkce_request(&issuer.workbench_url(BASE)),
            ));
            assert!(message.contains("is not registered"), "{message}");
            let e = issuer
                .token(
                    &RC,
                    None,
                    &form("grant_type=refresh_token&client_id=workbench&refresh_token=x"),
                )
                .unwrap_err();
            assert!(e.to_string().contains("client_secret: is required"), "{e}");
        }
    }
}
