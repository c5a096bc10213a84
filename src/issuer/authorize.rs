//! The authorization endpoint's logic (RFC 6749 §4.1, OIDC Core §3.1.2):
//! request validation, the login decision, code issuance, and the
//! RP-initiated logout redirect. The HTML and the HTTP adapters live in
//! the HTTP layer (`crate::http::routes`).
//!
//! Error handling follows RFC 6749 §4.1.2.1: while the client or the
//! redirect URI is unknown or invalid, the user gets an error page and is
//! never sent to the URI; after that, errors go back to the client as a
//! redirect with `error`, `error_description`, `state` and `iss`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::artifacts::{self, ArtifactKind, CODE_TTL, CodeClaims, Envelope, Login};
use super::grant::LoginMode;
use super::{Form, Issuer, OAuthError, pkce};
use crate::clients::{ClientConfig, GrantType};

/// `response_type`s supported (only the authorization code flow).
pub const RESPONSE_TYPES: &[&str] = &["code"];
/// `response_mode`s supported.
pub const RESPONSE_MODES: &[&str] = &["query"];
/// Scopes listed in discovery; any other scope is accepted and echoed too.
pub const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Authorization request parameters the login page carries as hidden fields,
/// so the submitted login is validated exactly like the original request.
pub const CARRIED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "prompt",
    "login_hint",
];

/// A valid authorization request.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthzRequest {
    /// The client.
    pub client_id: String,
    /// The client's display name, when registered with one.
    pub client_name: Option<String>,
    /// Where the result goes.
    pub redirect_uri: String,
    /// Whether `redirect_uri` was in the request (then the token request must repeat it).
    pub redirect_uri_given: bool,
    /// Requested scope.
    pub scope: Option<String>,
    /// Opaque client state, returned as is.
    pub state: Option<String>,
    /// OIDC nonce, echoed in the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// PKCE method (`plain` when a challenge came without one).
    pub code_challenge_method: Option<pkce::PkceMethod>,
    /// OIDC `login_hint`: a persona name skips the login page.
    pub login_hint: Option<String>,
    /// OIDC `prompt`.
    pub prompt: Option<String>,
    /// The parameters as received, for the login page's hidden fields.
    pub carried: Vec<(String, String)>,
}

/// Why an authorization request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Client or redirect URI unusable: show this message, never redirect.
    Page(String),
    /// Send the browser back to the client: the full redirect URL.
    Redirect(String),
}

/// Appends `params` to `uri`'s query string.
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    if query.is_empty() {
        return uri.to_string();
    }
    let sep = match uri.split_once('?') {
        None => '?',
        Some((_, q)) if q.is_empty() || q.ends_with('&') => return format!("{uri}{query}"),
        Some(_) => '&',
    };
    format!("{uri}{sep}{query}")
}

/// Checks the syntax of a redirect URI: absolute, no fragment (RFC 6749
/// §3.1.2), and no scheme a browser would execute.
pub fn check_redirect_syntax(uri: &str, field: &str) -> Result<(), String> {
    let scheme = uri.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    let scheme_ok = scheme.as_deref().is_some_and(|s| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !scheme_ok {
        return Err(format!(
            "{field}: must be an absolute URI, e.g. http://localhost:3000/callback"
        ));
    }
    if matches!(
        scheme.as_deref(),
        Some("javascript" | "data" | "vbscript" | "file")
    ) {
        return Err(format!(
            "{field}: the {} scheme is not allowed",
            scheme.unwrap_or_default()
        ));
    }
    if matches!(scheme.as_deref(), Some("http" | "https")) {
        let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or("");
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!("{field}: {uri:?} has no host"));
        }
    }
    if uri.contains('#') {
        return Err(format!("{field}: must not contain a fragment (#)"));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{field}: must not contain spaces or control characters"
        ));
    }
    Ok(())
}

impl Issuer {
    /// Validates an authorization request (GET query or POST form) that
    /// reached the server at `base`.
    pub fn authorize_request(
        &self,
        base: &str,
        form: &Form,
    ) -> Result<AuthzRequest, AuthorizeError> {
        let page = AuthorizeError::Page;
        let client_id = form
            .non_empty("client_id")
            .ok_or_else(|| page("client_id: is required".into()))?
            .to_string();
        // A registered client, the built-in `workbench` one, or (open mode) none.
        let registration = self.client_registration(base, &client_id);
        if registration.is_none() && !self.clients().is_empty() {
            return Err(page(format!(
                "client_id: unknown client {client_id:?}; it is not one of this issuer's clients"
            )));
        }
        let reg: Option<&ClientConfig> = registration.as_deref();
        let iss = self.iss(base);
        let given = form.non_empty("redirect_uri");
        let redirect_uri = match (given, reg) {
            (Some(uri), None) => {
                check_redirect_syntax(uri, "redirect_uri").map_err(page)?;
                uri.to_string()
            }
            (Some(uri), Some(reg)) => {
                if !reg.redirect_uris.iter().any(|r| r == uri) {
                    return Err(page(format!(
                        "redirect_uri: {uri:?} is not registered for client {client_id:?}"
                    )));
                }
                uri.to_string()
            }
            // RFC 6749 §3.1.2.3: may be omitted when exactly one is registered.
            (None, Some(reg)) if reg.redirect_uris.len() == 1 => reg.redirect_uris[0].clone(),
            (None, _) => return Err(page("redirect_uri: is required".into())),
        };

        let get = |name: &str| form.non_empty(name).map(str::to_string);
        let state_param = form.get("state").map(str::to_string);
        let back = |error: &str, description: String| {
            let mut params = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = &state_param {
                params.push(("state", s));
            }
            params.push(("iss", &iss));
            AuthorizeError::Redirect(with_query(&redirect_uri, &params))
        };

        if let Some(k) = form.repeated() {
            return Err(back(
                "invalid_request",
                format!("{k}: must not be repeated"),
            ));
        }
        match form.non_empty("response_type") {
            None => return Err(back("invalid_request", "response_type: is required".into())),
            Some("code") => {}
            Some(other) => {
                return Err(back(
                    "unsupported_response_type",
                    format!("response_type: {other:?} is not supported; use code"),
                ));
            }
        }
        if let Some(mode) = form.non_empty("response_mode")
            && !RESPONSE_MODES.contains(&mode)
        {
            return Err(back(
                "invalid_request",
                format!("response_mode: {mode:?} is not supported; use query"),
            ));
        }
        if let Some(reg) = reg
            && !reg.allows(GrantType::AuthorizationCode)
        {
            return Err(back(
                "unauthorized_client",
                format!("client {client_id:?} may not use the authorization_code grant"),
            ));
        }
        let code_challenge = get("code_challenge");
        let code_challenge_method = get("code_challenge_method");
        let pkce_method = match &code_challenge {
            Some(challenge) => Some(
                pkce::check_challenge(challenge, code_challenge_method.as_deref())
                    .map_err(|e| back("invalid_request", e))?,
            ),
            None if reg.is_some_and(ClientConfig::is_public) => {
                return Err(back(
                    "invalid_request",
                    "code_challenge: is required for public clients (PKCE, RFC 7636)".into(),
                ));
            }
            None if code_challenge_method.is_some() => {
                return Err(back(
                    "invalid_request",
                    "code_challenge: is required when code_challenge_method is given".into(),
                ));
            }
            None => None,
        };
        let scope = get("scope").or_else(|| reg.and_then(|r| r.scope.clone()));
        let carried = CARRIED_PARAMS
            .iter()
            .filter_map(|name| form.get(name).map(|v| (name.to_string(), v.to_string())))
            .collect();
        Ok(AuthzRequest {
            client_name: reg.and_then(|r| r.client_name.clone()),
            client_id,
            redirect_uri,
            redirect_uri_given: given.is_some(),
            scope,
            state: state_param,
            nonce: get("nonce"),
            code_challenge,
            code_challenge_method: pkce_method,
            login_hint: get("login_hint"),
            prompt: get("prompt"),
            carried,
        })
    }
}

impl AuthzRequest {
    /// The redirect back to the client with an `error` (RFC 6749 §4.1.2.1).
    pub fn error_redirect(&self, issuer: &str, error: &str, description: &str) -> String {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(s) = &self.state {
            params.push(("state", s));
        }
        params.push(("iss", issuer));
        with_query(&self.redirect_uri, &params)
    }

    /// The [`Login`] that lets this request skip the login page: a
    /// `login_hint` naming a persona without a password, or any name when no
    /// personas are configured.
    pub fn hinted_login(&self, issuer: &Issuer, now: i64) -> Option<Login> {
        let hint = self.login_hint.as_deref()?;
        let users = issuer.users();
        if !users.is_empty() && !users.contains_key(hint) {
            return None;
        }
        issuer
            .login_for(hint, None, Map::new(), now, LoginMode::AnyName)
            .ok()
    }

    /// Whether `prompt` asks for no user interaction (OIDC Core §3.1.2.1).
    pub fn prompt_none(&self) -> bool {
        self.prompt
            .as_deref()
            .is_some_and(|p| p.split_whitespace().any(|x| x == "none"))
    }
}

/// What the browser gets after an authorization request or a login submit.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeOutcome {
    /// Send the browser to this URL (the client's redirect URI with a code
    /// or an error).
    Redirect(String),
    /// Show the login page for `request` (again, after a failed attempt).
    Login {
        /// The validated authorization request.
        request: Box<AuthzRequest>,
        /// What went wrong with the last attempt.
        error: Option<String>,
        /// The username typed last time.
        username: String,
        /// The claims JSON typed last time.
        claims: String,
    },
    /// Show an error page: the client or redirect URI cannot be trusted.
    ErrorPage(String),
}

impl From<AuthorizeError> for AuthorizeOutcome {
    fn from(e: AuthorizeError) -> Self {
        match e {
            AuthorizeError::Page(message) => AuthorizeOutcome::ErrorPage(message),
            AuthorizeError::Redirect(url) => AuthorizeOutcome::Redirect(url),
        }
    }
}

impl Issuer {
    /// `GET`/`POST /authorize`: a redirect with a code when `login_hint`
    /// names a usable persona, `login_required` for `prompt=none`, else the
    /// login page.
    pub fn authorize(&self, base: &str, form: &Form) -> Result<AuthorizeOutcome, OAuthError> {
        let now = self.clock().now();
        let req = match self.authorize_request(base, form) {
            Ok(req) => req,
            Err(e) => return Ok(e.into()),
        };
        if let Some(login) = req.hinted_login(self, now) {
            return Ok(AuthorizeOutcome::Redirect(
                self.issue_code(base, &req, login, now)?,
            ));
        }
        if req.prompt_none() {
            return Ok(AuthorizeOutcome::Redirect(req.error_redirect(
                &self.iss(base),
                "login_required",
                "prompt=none needs a login_hint naming a persona without a password",
            )));
        }
        Ok(AuthorizeOutcome::Login {
            request: Box::new(req),
            error: None,
            username: String::new(),
            claims: String::new(),
        })
    }

    /// `POST /authorize/login`: the login page's submit. The carried
    /// authorization request is validated again (hidden fields are input too).
    pub fn login_submit(&self, base: &str, form: &Form) -> Result<AuthorizeOutcome, OAuthError> {
        let req = match self.authorize_request(base, form) {
            Ok(req) => req,
            Err(e) => return Ok(e.into()),
        };
        if form.get("action") == Some("cancel") {
            return Ok(AuthorizeOutcome::Redirect(req.error_redirect(
                &self.iss(base),
                "access_denied",
                "the user cancelled the sign-in",
            )));
        }
        let now = self.clock().now();
        let claims_text = form.get("claims").unwrap_or("");
        let username = form.get("username").unwrap_or("").trim();
        let again = |message: String| {
            Ok(AuthorizeOutcome::Login {
                request: Box::new(req.clone()),
                error: Some(message),
                username: username.to_string(),
                claims: claims_text.to_string(),
            })
        };
        let claims = if claims_text.trim().is_empty() {
            Map::new()
        } else {
            match super::form::parse_claims(claims_text) {
                Ok(claims) => claims,
                Err(message) => return again(message),
            }
        };
        let name = match form.non_empty("user") {
            Some(user) if !self.users().contains_key(user) => {
                return again(format!("user: {user:?} is not a persona"));
            }
            Some(user) => user,
            None if username.is_empty() => {
                return again("username: enter a username or pick a persona".into());
            }
            None => username,
        };
        match self.login_for(name, form.get("password"), claims, now, LoginMode::AnyName) {
            Ok(login) => Ok(AuthorizeOutcome::Redirect(
                self.issue_code(base, &req, login, now)?,
            )),
            Err(message) => again(message),
        }
    }
}

impl Issuer {
    /// Issues a code for `login` and returns the redirect back to the client
    /// (`code`, `state`, and `iss` per RFC 9207).
    pub fn issue_code(
        &self,
        base: &str,
        req: &AuthzRequest,
        login: Login,
        now: i64,
    ) -> Result<String, OAuthError> {
        let iss = self.iss(base);
        let content = CodeClaims {
            envelope: Envelope::new(&iss, &req.client_id, now, CODE_TTL)?,
            redirect_uri: req.redirect_uri_given.then(|| req.redirect_uri.clone()),
            scope: req.scope.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            code_challenge_method: req.code_challenge_method.map(|m| m.as_str().to_string()),
            login,
        };
        let code = artifacts::seal(&*self.signing_key()?, ArtifactKind::Code, &content)?;
        let mut params = vec![("code", code.as_str())];
        if let Some(s) = &req.state {
            params.push(("state", s));
        }
        params.push(("iss", &iss));
        Ok(with_query(&req.redirect_uri, &params))
    }

    /// RP-initiated logout: where `GET /logout` sends the browser, if anywhere.
    ///
    /// There is no session to end (every `/authorize` shows the login page
    /// again), so this only validates `post_logout_redirect_uri`: with clients
    /// configured it must be one of the client's `post_logout_redirect_uris` or
    /// `redirect_uris` (the client from `client_id` or the `id_token_hint`'s
    /// `aud`; any registered client's when neither is given). Auth0's
    /// `returnTo` is read as `post_logout_redirect_uri`.
    pub fn logout_redirect(&self, form: &Form) -> Result<Option<String>, String> {
        // `returnTo`: Auth0's name for it (`/v2/logout`).
        let Some(uri) = form
            .non_empty("post_logout_redirect_uri")
            .or_else(|| form.non_empty("returnTo"))
        else {
            return Ok(None);
        };
        check_redirect_syntax(uri, "post_logout_redirect_uri")?;
        let clients = self.clients();
        if !clients.is_empty() {
            let client_id = form
                .non_empty("client_id")
                .map(str::to_string)
                .or_else(|| form.non_empty("id_token_hint").and_then(unverified_aud));
            let allowed = |c: &ClientConfig| {
                c.post_logout_redirect_uris
                    .iter()
                    .chain(&c.redirect_uris)
                    .any(|r| r == uri)
            };
            let ok = match &client_id {
                Some(id) => clients.get(id).is_some_and(|c| allowed(c)),
                None => clients.values().any(|c| allowed(c)),
            };
            if !ok {
                return Err(format!(
                    "post_logout_redirect_uri: {uri:?} is not registered{}",
                    client_id
                        .map(|id| format!(" for client {id:?}"))
                        .unwrap_or_default()
                ));
            }
        }
        let mut params = Vec::new();
        if let Some(s) = form.get("state") {
            params.push(("state", s));
        }
        Ok(Some(with_query(uri, &params)))
    }
}

/// The `aud` (first one) of a JWT, unverified: an `id_token_hint` may be
/// expired, and it only selects whose registered URIs apply.
fn unverified_aud(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    match claims.get("aud")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(all) => all.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_appended() {
        assert_eq!(
            with_query("http://a/cb", &[("code", "x y")]),
            "http://a/cb?code=x+y"
        );
        assert_eq!(
            with_query("http://a/cb?k=1", &[("code", "c")]),
            "http://a/cb?k=1&code=c"
        );
        assert_eq!(
            with_query("http://a/cb?", &[("code", "c")]),
            "http://a/cb?code=c"
        );
        assert_eq!(with_query("http://a/cb", &[]), "http://a/cb");
    }

    #[test]
    fn redirect_syntax() {
        for ok in [
            "http://localhost:3000/cb",
            "https://app.example/cb?x=1",
            "com.example.app:/cb",
        ] {
            assert_eq!(check_redirect_syntax(ok, "redirect_uri"), Ok(()), "{ok}");
        }
        for bad in [
            "/cb",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "http://",
            "http:///x",
            "http://a/cb#frag",
            "http://a/c b",
            "",
        ] {
            let e = check_redirect_syntax(bad, "redirect_uri").unwrap_err();
            assert!(e.starts_with("redirect_uri: "), "{bad}: {e}");
        }
    }

    use crate::clients::{ClientConfig, GrantType};
    use crate::issuer::testing;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn strict() -> Issuer {
        testing::issuer(
            "alice: {sub: user_alice}\nbob: {password: pw}\n",
            vec![
                ClientConfig {
                    client_id: "web".into(),
                    client_secret: Some("s".into()),
                    redirect_uris: vec!["http://app/cb".into()],
                    ..Default::default()
                },
                ClientConfig {
                    client_id: "spa".into(),
                    redirect_uris: vec!["http://spa/cb".into(), "http://spa/other".into()],
                    ..Default::default()
                },
                ClientConfig {
                    client_id: "svc".into(),
                    client_secret: Some("s".into()),
                    redirect_uris: vec!["http://svc/cb".into()],
                    grant_types: vec![GrantType::ClientCredentials],
                    ..Default::default()
                },
            ],
        )
    }

    fn form(s: &str) -> Form {
        Form::parse(s.as_bytes(), "q").unwrap()
    }

    #[test]
    fn authorization_requests_are_validated_in_the_rfc_order() {
        let issuer = strict();
        // Page errors: the client or the redirect URI cannot be trusted.
        let pages = [
            ("", "client_id: is required"),
            ("client_id=nope", "unknown client"),
            (
                "client_id=web&redirect_uri=http://evil/cb",
                "is not registered",
            ),
            ("client_id=spa", "redirect_uri: is required"),
        ];
        for (q, want) in pages {
            match issuer.authorize_request("http://h", &form(q)) {
                Err(AuthorizeError::Page(m)) => assert!(m.contains(want), "{q}: {m}"),
                other => panic!("{q}: expected a page, got {other:?}"),
            }
        }
        // Redirect errors: back to the client with state and iss.
        let redirects = [
            ("client_id=web&state=s1", "response_type%3A+is+required"),
            (
                "client_id=web&response_type=token&state=s1",
                "unsupported_response_type",
            ),
            (
                "client_id=web&response_type=code&response_mode=fragment&state=s1",
                "response_mode",
            ),
            (
                "client_id=svc&response_type=code&state=s1",
                "unauthorized_client",
            ),
            (
                "client_id=spa&redirect_uri=http://spa/cb&response_type=code&state=s1",
                "code_challenge%3A+is+required+for+public",
            ),
            (
                "client_id=web&response_type=code&code_challenge=short&state=s1",
                "43+to+128",
            ),
            (
                "client_id=web&response_type=code&code_challenge_method=S256&state=s1",
                "code_challenge%3A+is+required+when",
            ),
            (
                "client_id=web&response_type=code&state=s1&state=s2",
                "must+not+be+repeated",
            ),
        ];
        for (q, want) in redirects {
            match issuer.authorize_request("http://h", &form(q)) {
                Err(AuthorizeError::Redirect(url)) => {
                    assert!(url.contains(want), "{q}: {url}");
                    assert!(url.contains("state=s1"), "{q}: {url}");
                    assert!(url.contains("iss=https%3A%2F%2Fissuer.test"), "{q}: {url}");
                }
                other => panic!("{q}: expected a redirect, got {other:?}"),
            }
        }
        // A good request: one registered URI may be omitted; PKCE plain by default.
        let req = issuer
            .authorize_request(
                "http://h",
                &form(&format!(
                    "client_id=web&response_type=code&code_challenge={CHALLENGE}&scope=openid"
                )),
            )
            .unwrap();
        assert_eq!(req.redirect_uri, "http://app/cb");
        assert!(!req.redirect_uri_given);
        assert_eq!(req.code_challenge_method, Some(pkce::PkceMethod::Plain));
        assert_eq!(req.scope.as_deref(), Some("openid"));
    }

    #[test]
    fn login_decisions() {
        let issuer = strict();
        let base = "client_id=web&response_type=code&state=st";
        // login_hint naming a persona without password: a code at once.
        match issuer
            .authorize("http://h", &form(&format!("{base}&login_hint=alice")))
            .unwrap()
        {
            AuthorizeOutcome::Redirect(url) => {
                assert!(url.contains("code=") && url.contains("state=st"), "{url}")
            }
            other => panic!("{other:?}"),
        }
        // A persona with a password, or an unknown name: the login page.
        for hint in ["bob", "mallory"] {
            let outcome = issuer
                .authorize("http://h", &form(&format!("{base}&login_hint={hint}")))
                .unwrap();
            assert!(
                matches!(outcome, AuthorizeOutcome::Login { .. }),
                "{hint}: {outcome:?}"
            );
        }
        match issuer
            .authorize("http://h", &form(&format!("{base}&prompt=none")))
            .unwrap()
        {
            AuthorizeOutcome::Redirect(url) => {
                assert!(url.contains("error=login_required"), "{url}")
            }
            other => panic!("{other:?}"),
        }
        // The login page's submit.
        let submit = |extra: &str| {
            issuer
                .login_submit("http://h", &form(&format!("{base}&{extra}")))
                .unwrap()
        };
        match submit("action=cancel") {
            AuthorizeOutcome::Redirect(url) => {
                assert!(url.contains("error=access_denied"), "{url}")
            }
            other => panic!("{other:?}"),
        }
        for (extra, want) in [
            ("user=nobody", "is not a persona"),
            ("user=bob&password=wrong", "wrong password"),
            ("username=", "enter a username"),
            (
                "username=dave&claims=%5B1%5D",
                "claims: must be a JSON object",
            ),
        ] {
            match submit(extra) {
                AuthorizeOutcome::Login { error: Some(e), .. } => {
                    assert!(e.contains(want), "{extra}: {e}")
                }
                other => panic!("{extra}: {other:?}"),
            }
        }
        for ok in [
            "user=bob&password=pw",
            "username=dave&claims=%7B%22x%22%3A1%7D",
        ] {
            assert!(
                matches!(submit(ok), AuthorizeOutcome::Redirect(u) if u.contains("code=")),
                "{ok}"
            );
        }
    }

    #[test]
    fn logout_redirects_only_to_registered_uris() {
        let issuer = strict();
        assert_eq!(issuer.logout_redirect(&form("")), Ok(None));
        assert_eq!(
            issuer.logout_redirect(&form("post_logout_redirect_uri=http://spa/other&state=x")),
            Ok(Some("http://spa/other?state=x".into()))
        );
        let e = issuer
            .logout_redirect(&form("post_logout_redirect_uri=http://evil/&client_id=spa"))
            .unwrap_err();
        assert!(e.contains("not registered for client \"spa\""), "{e}");
        let open = testing::issuer("", vec![]);
        assert!(
            open.logout_redirect(&form("post_logout_redirect_uri=http://any/"))
                .unwrap()
                .is_some()
        );
        assert!(
            open.logout_redirect(&form("post_logout_redirect_uri=javascript:x"))
                .is_err()
        );
    }

    #[test]
    fn aud_of_a_hint() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"aud":["web","x"]}"#);
        assert_eq!(
            unverified_aud(&format!("h.{payload}.s")).as_deref(),
            Some("web")
        );
        assert_eq!(unverified_aud("garbage"), None);
    }
}
