//! # Test controls
//!
//! What `<mount>/_admin` changes at runtime, per issuer: personas and
//! clients (replacing the issuer's maps, so the login page, `login_hint`
//! and every grant see a change at once), the clock ([`super::clock`]),
//! injected [`faults`], the request [`ledger`], and [`Issuer::reset_controls`]
//! back to the startup state. Plain functions over JSON bytes and typed
//! values; the HTTP layer (`crate::http::routes::admin`) only maps them.
//!
//! - [`faults`]: one fault per endpoint kind, counted or until cleared.
//! - [`ledger`]: the last requests of the issuer, secrets redacted, bounded.

pub mod faults;
pub mod ledger;

use std::sync::{Arc, RwLock, RwLockWriteGuard};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use faults::{Fault, FaultBody, Faults};
pub use ledger::{Ledger, TokenFacts};

use super::clock::{Clock, ClockSetting};
use super::{Issuer, OAuthError};
use crate::claims::{Persona, Users};
use crate::clients::{ClientConfig, Clients};

/// Most personas one issuer holds (a runaway test gets an error, not OOM).
pub const MAX_PERSONAS: usize = 10_000;
/// Most clients one issuer holds.
pub const MAX_CLIENTS: usize = 10_000;
/// Longest persona name or `client_id`, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Furthest the clock may be moved either way: 100 years, like `expires_in`.
pub const MAX_CLOCK_OFFSET: i64 = crate::claims::MAX_EXPIRES_IN;
/// Latest instant the clock may be frozen at (9999-12-31T23:59:59Z).
pub const MAX_CLOCK_NOW: i64 = 253_402_300_799;
/// What a persona's `password` or a client's secret shows as.
pub const SET: &str = "<set>";

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Bad input: the description names the field (HTTP 400).
    #[error(transparent)]
    Invalid(#[from] OAuthError),
    /// No such persona, client or fault (HTTP 404).
    #[error("{0}")]
    NotFound(String),
}

/// The controls an issuer holds besides its personas, clients and clock.
#[derive(Debug)]
pub struct Controls {
    faults: Faults,
    ledger: Ledger,
    startup_users: Arc<Users>,
    startup_clients: Arc<Clients>,
}

impl Controls {
    /// Controls remembering `users` and `clients` as the startup state,
    /// with a ledger of `ledger_capacity` entries.
    pub fn new(users: Arc<Users>, clients: Arc<Clients>, ledger_capacity: usize) -> Self {
        Controls {
            faults: Faults::default(),
            ledger: Ledger::with_capacity(ledger_capacity),
            startup_users: users,
            startup_clients: clients,
        }
    }
}

/// Parses a JSON object body as `T`; errors name the field (`claims.email:
/// ...`) or say the body is not a JSON object.
pub fn from_json<T: DeserializeOwned>(json: &[u8]) -> Result<T, OAuthError> {
    match json.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(OAuthError::invalid_request(
                "body: expected a JSON object, got an empty body",
            ));
        }
        Some(_) => {
            return Err(OAuthError::invalid_request("body: expected a JSON object"));
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // `.` = the whole body; `?` = a syntax error before any field.
        if path == "." || path == "?" {
            OAuthError::invalid_request(format!("body: {inner}"))
        } else {
            OAuthError::invalid_request(format!("{path}: {inner}"))
        }
    })
}

/// Checks a persona name or client id from the URL; `what` names it.
fn check_name(name: &str, what: &str) -> Result<(), OAuthError> {
    if name.trim().is_empty() {
        return Err(OAuthError::invalid_request(format!("{what}: is empty")));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(OAuthError::invalid_request(format!(
            "{what}: longer than {MAX_NAME_LEN} bytes"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request(format!(
            "{what}: {name:?} contains control characters"
        )));
    }
    Ok(())
}

fn write<T>(lock: &RwLock<Arc<T>>) -> RwLockWriteGuard<'_, Arc<T>> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// `value` without its `null` members (how a users or config file would
/// leave them out).
fn without_nulls(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Map::new(),
    }
}

/// A persona as the admin API shows it: the users file entry, `password`
/// shown as `"<set>"` (never its value).
pub fn persona_view(persona: &Persona) -> Value {
    let mut map = without_nulls(serde_json::to_value(persona).unwrap_or_default());
    if map.contains_key("password") {
        map.insert("password".into(), json!(SET));
    }
    Value::Object(map)
}

/// Every persona, by name: the users file's shape.
pub fn users_view(users: &Users) -> Value {
    Value::Object(
        users
            .iter()
            .map(|(name, p)| (name.clone(), persona_view(p)))
            .collect(),
    )
}

/// How a client authenticates at the token endpoint (RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Public client: no secret, PKCE.
    None,
    /// Secret in `Authorization: Basic`.
    ClientSecretBasic,
    /// Secret in the form.
    ClientSecretPost,
}

/// A client as the admin API shows it: its RFC 7591 fields without
/// `client_secret`, plus `token_endpoint_auth_method` (`none` for a public
/// client, else `client_secret_basic`; both secret methods are accepted).
pub fn client_view(client: &ClientConfig) -> Value {
    let mut map = without_nulls(serde_json::to_value(client).unwrap_or_default());
    map.remove("client_secret");
    let method = if client.is_public() {
        AuthMethod::None
    } else {
        AuthMethod::ClientSecretBasic
    };
    map.insert("token_endpoint_auth_method".into(), json!(method));
    Value::Object(map)
}

/// Every client, as a list (the config file's `clients:` shape).
pub fn clients_view(clients: &Clients) -> Value {
    Value::Array(clients.values().map(|c| client_view(c)).collect())
}

/// Parses a `PUT /_admin/clients/{client_id}` body: RFC 7591 fields, the
/// `client_id` (optional, must equal the URL's) and an optional
/// `token_endpoint_auth_method` that must agree with `client_secret`.
pub fn parse_client(client_id: &str, json: &[u8]) -> Result<ClientConfig, OAuthError> {
    let mut fields: Map<String, Value> = from_json(json)?;
    match fields.get("client_id") {
        None => {
            fields.insert("client_id".into(), json!(client_id));
        }
        Some(Value::String(id)) if id == client_id => {}
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "client_id: {other} differs from {client_id:?} in the URL; leave it out or \
                 make them equal"
            )));
        }
    }
    let method = match fields.remove("token_endpoint_auth_method") {
        None => None,
        Some(value) => Some(serde_json::from_value::<AuthMethod>(value).map_err(|e| {
            OAuthError::invalid_request(format!(
                "token_endpoint_auth_method: {e}; use none, client_secret_basic or \
                 client_secret_post"
            ))
        })?),
    };
    let client: ClientConfig = from_json(&serde_json::to_vec(&fields).unwrap_or_default())?;
    if client.client_secret.as_deref() == Some("") {
        return Err(OAuthError::invalid_request(
            "client_secret: is empty; leave it out for a public client",
        ));
    }
    match (method, client.is_public()) {
        (Some(AuthMethod::None), false) => {
            return Err(OAuthError::invalid_request(
                "token_endpoint_auth_method: none, but a client_secret is given",
            ));
        }
        (Some(AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost), true) => {
            return Err(OAuthError::invalid_request(
                "client_secret: required by token_endpoint_auth_method",
            ));
        }
        _ => {}
    }
    for (i, uri) in client.redirect_uris.iter().enumerate() {
        check_redirect_uri(uri).map_err(|why| {
            OAuthError::invalid_request(format!("redirect_uris[{i}]: {uri:?} {why}"))
        })?;
    }
    for (i, uri) in client.post_logout_redirect_uris.iter().enumerate() {
        check_redirect_uri(uri).map_err(|why| {
            OAuthError::invalid_request(format!("post_logout_redirect_uris[{i}]: {uri:?} {why}"))
        })?;
    }
    Ok(client)
}

/// RFC 6749 §3.1.2: an absolute URI without a fragment.
fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    let scheme = uri.split_once(':').map(|(s, _)| s).unwrap_or("");
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err("is not an absolute URI");
    }
    if uri.contains('#') {
        return Err("has a fragment (RFC 6749 §3.1.2)");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace");
    }
    Ok(())
}

/// `PUT /_admin/clock` as sent: exactly one of the two.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    offset_sec: Option<i64>,
    now: Option<i64>,
}

/// Parses a `PUT /_admin/clock` body; errors name the field.
pub fn parse_clock(json: &[u8]) -> Result<ClockSetting, OAuthError> {
    let req: ClockRequest = from_json(json)?;
    match (req.offset_sec, req.now) {
        (Some(offset), None) if offset.abs() <= MAX_CLOCK_OFFSET => {
            Ok(ClockSetting::Offset(offset))
        }
        (Some(offset), None) => Err(OAuthError::invalid_request(format!(
            "offset_sec: {offset} is out of range; use at most {MAX_CLOCK_OFFSET} seconds \
             (100 years) either way"
        ))),
        (None, Some(now)) if (0..=MAX_CLOCK_NOW).contains(&now) => Ok(ClockSetting::Frozen(now)),
        (None, Some(now)) => Err(OAuthError::invalid_request(format!(
            "now: {now} is out of range; use a UNIX time from 0 to {MAX_CLOCK_NOW}"
        ))),
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "give either offset_sec (a running clock shifted) or now (a frozen clock), not both",
        )),
        (None, None) => Err(OAuthError::invalid_request(
            "give offset_sec (seconds to shift the clock) or now (a UNIX time to freeze it at)",
        )),
    }
}

/// The clock as `GET /_admin/clock` shows it: `now` (what the issuer
/// reads), `offset_sec` (from the system clock) and `frozen`.
pub fn clock_view(clock: &Clock) -> Value {
    let system = crate::unix_now();
    let now = clock.at(system);
    json!({
        "now": now,
        "offset_sec": now.saturating_sub(system),
        "frozen": matches!(clock.setting(), ClockSetting::Frozen(_)),
    })
}

impl Issuer {
    /// The injected faults.
    pub fn faults(&self) -> &Faults {
        &self.controls.faults
    }

    /// The request ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.controls.ledger
    }

    /// The persona `name`.
    pub fn persona(&self, name: &str) -> Result<Persona, ControlError> {
        self.users()
            .get(name)
            .cloned()
            .ok_or_else(|| ControlError::NotFound(format!("no persona {name:?} on this issuer")))
    }

    /// Creates or replaces the persona `name` from a users-file entry in
    /// JSON; returns it and whether it is new.
    pub fn put_persona(&self, name: &str, json: &[u8]) -> Result<(Persona, bool), ControlError> {
        check_name(name, "persona name")?;
        let persona: Persona = from_json(json)?;
        let mut users = write(&self.users);
        if !users.contains_key(name) && users.len() >= MAX_PERSONAS {
            return Err(OAuthError::invalid_request(format!(
                "this issuer already has {MAX_PERSONAS} personas; delete some first"
            ))
            .into());
        }
        let created = Arc::make_mut(&mut users)
            .insert(name.to_string(), persona.clone())
            .is_none();
        drop(users);
        tracing::info!(issuer = self.name(), persona = name, created, "persona set");
        Ok((persona, created))
    }

    /// Deletes the persona `name`.
    pub fn delete_persona(&self, name: &str) -> Result<(), ControlError> {
        let mut users = write(&self.users);
        if !users.contains_key(name) {
            return Err(ControlError::NotFound(format!(
                "no persona {name:?} on this issuer"
            )));
        }
        Arc::make_mut(&mut users).remove(name);
        drop(users);
        tracing::info!(issuer = self.name(), persona = name, "persona deleted");
        Ok(())
    }

    /// The registered client `client_id`.
    pub fn client(&self, client_id: &str) -> Result<Arc<ClientConfig>, ControlError> {
        self.clients().get(client_id).cloned().ok_or_else(|| {
            ControlError::NotFound(format!("no client {client_id:?} on this issuer"))
        })
    }

    /// Registers or replaces the client `client_id` (see [`parse_client`]);
    /// returns it and whether it is new. The first client makes the issuer
    /// strict (only registered clients are accepted).
    pub fn put_client(
        &self,
        client_id: &str,
        json: &[u8],
    ) -> Result<(Arc<ClientConfig>, bool), ControlError> {
        check_name(client_id, "client_id")?;
        let client = Arc::new(parse_client(client_id, json)?);
        let mut clients = write(&self.clients);
        if !clients.contains_key(client_id) && clients.len() >= MAX_CLIENTS {
            return Err(OAuthError::invalid_request(format!(
                "this issuer already has {MAX_CLIENTS} clients; delete some first"
            ))
            .into());
        }
        let created = Arc::make_mut(&mut clients)
            .insert(client_id.to_string(), Arc::clone(&client))
            .is_none();
        drop(clients);
        tracing::info!(issuer = self.name(), client_id, created, "client set");
        Ok((client, created))
    }

    /// Deletes the client `client_id`; deleting the last one makes the
    /// issuer accept any client again.
    pub fn delete_client(&self, client_id: &str) -> Result<(), ControlError> {
        let mut clients = write(&self.clients);
        if !clients.contains_key(client_id) {
            return Err(ControlError::NotFound(format!(
                "no client {client_id:?} on this issuer"
            )));
        }
        Arc::make_mut(&mut clients).remove(client_id);
        drop(clients);
        tracing::info!(issuer = self.name(), client_id, "client deleted");
        Ok(())
    }

    /// Personas, clients, clock, faults and ledger back to the startup
    /// state. Keys and the replay set are kept.
    pub fn reset_controls(&self) {
        *write(&self.users) = Arc::clone(&self.controls.startup_users);
        *write(&self.clients) = Arc::clone(&self.controls.startup_clients);
        self.clock().reset();
        self.faults().clear_all();
        self.ledger().clear();
        tracing::info!(issuer = self.name(), "test controls reset");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::MintRequest;
    use crate::issuer::testing;
    use crate::issuer::{BasicCredentials, ErrorCode, Form, RequestCtx};

    const PERSONAS: &str = "alice: {sub: user_alice, password: wonderland}";

    fn form(s: &str) -> Form {
        Form::parse(s.as_bytes(), "test").unwrap()
    }

    fn startup_client() -> ClientConfig {
        ClientConfig {
            client_id: "web".into(),
            client_secret: Some("web-secret".into()),
            ..ClientConfig::default()
        }
    }

    #[test]
    fn personas_are_put_listed_and_deleted_and_grants_see_them_at_once() {
        let issuer = testing::issuer(PERSONAS, vec![]);
        let password = |user: &str, pw: &str| {
            issuer.token(
                &RequestCtx::new("http://h"),
                None,
                &form(&format!(
                    "grant_type=password&client_id=any&username={user}&password={pw}"
                )),
            )
        };
        assert!(password("bob", "pw").is_err(), "bob does not exist yet");
        let (bob, created) = issuer
            .put_persona(
                "bob",
                br#"{"sub": "user_bob", "password": "pw", "claims": {"email": "b@x"}}"#,
            )
            .unwrap();
        assert!(created && bob.claims["email"] == "b@x");
        let t = password("bob", "pw").unwrap();
        assert_eq!(
            TokenFacts::from_access_token(&t.access_token)
                .sub
                .as_deref(),
            Some("user_bob")
        );
        assert!(password("bob", "wrong").is_err());
        let (_, created) = issuer
            .put_persona("bob", br#"{"sub": "user_bob2"}"#)
            .unwrap();
        assert!(!created, "replaced");
        let minted = issuer
            .mint(
                &RequestCtx::new("http://h"),
                &MintRequest {
                    user: Some("bob".into()),
                    ..MintRequest::default()
                },
            )
            .unwrap();
        assert_eq!(
            TokenFacts::from_access_token(&minted.access_token)
                .sub
                .as_deref(),
            Some("user_bob2")
        );
        let view = users_view(&issuer.users());
        assert_eq!(
            view["alice"],
            json!({"sub": "user_alice", "password": "<set>", "claims": {}})
        );
        assert_eq!(view["bob"], json!({"sub": "user_bob2", "claims": {}}));
        issuer.delete_persona("bob").unwrap();
        assert!(matches!(
            issuer.delete_persona("bob"),
            Err(ControlError::NotFound(_))
        ));
        assert!(matches!(
            issuer.persona("bob"),
            Err(ControlError::NotFound(_))
        ));
        assert!(password("bob", "pw").is_err());
    }

    #[test]
    fn bad_personas_name_the_field() {
        let issuer = testing::issuer("", vec![]);
        let cases: [(&str, &[u8], &str); 7] = [
            ("x", br#"{"subject": "s"}"#, "unknown field `subject`"),
            ("x", br#"{"claims": [1]}"#, "claims"),
            ("x", br#"{"aud": 5}"#, "aud"),
            ("x", br#"{"preset": "nope"}"#, "preset"),
            ("x", b"", "empty body"),
            (" ", b"{}", "persona name: is empty"),
            ("a\nb", b"{}", "control characters"),
        ];
        for (name, body, want) in cases {
            let e = issuer.put_persona(name, body).unwrap_err().to_string();
            assert!(
                e.contains(want),
                "persona {name:?} {}: {e:?} should contain {want:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(issuer.users().is_empty(), "nothing stored");
    }

    #[test]
    fn the_first_client_makes_the_issuer_strict_and_the_last_open() {
        let issuer = testing::issuer("", vec![]);
        let cc = |id: &str, secret: &str| {
            issuer.token(
                &RequestCtx::new("http://h"),
                Some(&BasicCredentials {
                    id: id.into(),
                    secret: secret.into(),
                }),
                &form("grant_type=client_credentials"),
            )
        };
        assert!(cc("anyone", "x").is_ok(), "open mode");
        let (_, created) = issuer
            .put_client(
                "svc",
                br#"{"client_secret": "s3cret", "grant_types": ["client_credentials"]}"#,
            )
            .unwrap();
        assert!(created);
        assert_eq!(
            cc("anyone", "x").unwrap_err().code,
            ErrorCode::InvalidClient,
            "strict"
        );
        assert_eq!(
            cc("svc", "wrong").unwrap_err().code,
            ErrorCode::InvalidClient
        );
        assert!(cc("svc", "s3cret").is_ok());
        let view = client_view(&issuer.client("svc").unwrap());
        assert_eq!(view["token_endpoint_auth_method"], "client_secret_basic");
        assert!(view.get("client_secret").is_none() && !view.to_string().contains("s3cret"));
        issuer.delete_client("svc").unwrap();
        assert!(cc("anyone", "x").is_ok(), "open again");
        assert!(matches!(
            issuer.delete_client("svc"),
            Err(ControlError::NotFound(_))
        ));
    }

    #[test]
    fn bad_clients_name_the_field() {
        let issuer = testing::issuer("", vec![]);
        let cases: [(&str, &[u8], &str); 9] = [
            ("a", br#"{"client_id": "b"}"#, "client_id"),
            ("a", br#"{"client_secret": ""}"#, "client_secret: is empty"),
            ("a", br#"{"grant_types": ["implicit"]}"#, "grant_types"),
            (
                "a",
                br#"{"redirect_uris": ["/relative"]}"#,
                "redirect_uris[0]",
            ),
            (
                "a",
                br#"{"redirect_uris": ["http://x/cb#frag"]}"#,
                "fragment",
            ),
            (
                "a",
                br#"{"token_endpoint_auth_method": "none", "client_secret": "s"}"#,
                "token_endpoint_auth_method",
            ),
            (
                "a",
                br#"{"token_endpoint_auth_method": "client_secret_post"}"#,
                "client_secret: required",
            ),
            (
                "a",
                br#"{"token_endpoint_auth_method": "private_key_jwt"}"#,
                "token_endpoint_auth_method",
            ),
            (
                "a",
                br#"{"jwks_uri": "http://x"}"#,
                "unknown field `jwks_uri`",
            ),
        ];
        for (id, body, want) in cases {
            let e = issuer.put_client(id, body).unwrap_err().to_string();
            assert!(
                e.contains(want),
                "client {id} {}: {e:?} should contain {want:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(issuer.clients().is_empty(), "nothing stored");
        let (c, _) = issuer
            .put_client("spa", br#"{"client_id": "spa", "token_endpoint_auth_method": "none", "redirect_uris": ["com.example.app:/cb"]}"#)
            .unwrap();
        assert!(c.is_public());
    }

    #[test]
    fn clock_requests_are_checked() {
        assert_eq!(
            parse_clock(br#"{"offset_sec": -30}"#).unwrap(),
            ClockSetting::Offset(-30)
        );
        assert_eq!(
            parse_clock(br#"{"now": 5}"#).unwrap(),
            ClockSetting::Frozen(5)
        );
        let cases: [(&[u8], &str); 6] = [
            (br#"{"offset_sec": 1, "now": 2}"#, "not both"),
            (b"{}", "give offset_sec"),
            (
                br#"{"offset_sec": 9999999999}"#,
                "offset_sec: 9999999999 is out of range",
            ),
            (br#"{"now": -1}"#, "now: -1"),
            (br#"{"now": "soon"}"#, "now"),
            (br#"{"offset": 1}"#, "unknown field `offset`"),
        ];
        for (body, want) in cases {
            let e = parse_clock(body).unwrap_err().to_string();
            assert!(
                e.contains(want),
                "{}: {e:?} should contain {want:?}",
                String::from_utf8_lossy(body)
            );
        }
        let clock = Clock::default();
        clock.set(ClockSetting::Frozen(1000));
        assert_eq!(clock_view(&clock)["now"], 1000);
        assert_eq!(clock_view(&clock)["frozen"], true);
    }

    #[test]
    fn reset_returns_to_the_startup_state() {
        let issuer = testing::issuer(PERSONAS, vec![startup_client()]);
        issuer.put_persona("bob", b"{}").unwrap();
        issuer.delete_persona("alice").unwrap();
        issuer.delete_client("web").unwrap();
        issuer.put_client("other", b"{}").unwrap();
        issuer.clock().set(ClockSetting::Offset(3600));
        issuer
            .faults()
            .set(Fault::parse(br#"{"endpoint": "jwks", "status": 500}"#).unwrap());
        issuer.ledger().record(&ledger::Observed {
            unix_ms: 0,
            method: "GET",
            path: "/jwks",
            query: None,
            status: 200,
            facts: None,
            duration: std::time::Duration::ZERO,
        });
        issuer.reset_controls();
        assert_eq!(issuer.users().keys().collect::<Vec<_>>(), ["alice"]);
        assert_eq!(issuer.clients().keys().collect::<Vec<_>>(), ["web"]);
        assert_eq!(issuer.clock().setting(), ClockSetting::Offset(0));
        assert!(issuer.faults().list().is_empty() && issuer.ledger().is_empty());
    }
}
