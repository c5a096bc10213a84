//! Personas: named users with their claims (`USERS_FILE` or `users:` in the
//! config file), so a test asks for `{"user": "alice"}` and gets her token.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Audience, Profile};

/// One named user. Every field is optional; request fields override these.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// Subject; defaults to `user_<name>`.
    pub sub: Option<String>,
    /// Organisation id (Clerk `o.id`).
    pub org_id: Option<String>,
    /// Organisation role (Clerk `o.rol`, `org:` prefix stripped).
    pub org_role: Option<String>,
    /// Organisation slug (Clerk `o.slg`).
    pub org_slug: Option<String>,
    /// Audience of this user's tokens.
    pub aud: Option<Audience>,
    /// Authorized party.
    pub azp: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Claim shape for this user: any profile name (default: the issuer's profile).
    pub preset: Option<Profile>,
    /// E-mail address (each profile maps it: `docs/profiles.md`).
    pub email: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Login name (Keycloak `preferred_username`, Cognito `username`, ...);
    /// default: the persona's name.
    pub username: Option<String>,
    /// Roles (realm roles, app roles, Auth0 namespaced roles, ...).
    pub roles: Option<Vec<String>>,
    /// Groups.
    pub groups: Option<Vec<String>>,
    /// Permissions (Auth0 RBAC, Entra `scp`, Cognito custom scopes, ...).
    pub permissions: Option<Vec<String>>,
    /// Organization permissions, Clerk keys `org:<feature>:<permission>`
    /// (the `org:` prefix is optional).
    pub org_permissions: Option<Vec<String>>,
    /// Client roles: client id -> roles (Keycloak `resource_access`).
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    /// Extra claims, merged after the profile's claims.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Password for the OAuth `password` grant and the login page; none = any password.
    pub password: Option<String>,
}

impl fmt::Debug for Persona {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persona")
            .field("sub", &self.sub)
            .field("org_id", &self.org_id)
            .field("org_role", &self.org_role)
            .field("org_slug", &self.org_slug)
            .field("email", &self.email)
            .field("roles", &self.roles)
            .field("claims", &self.claims)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

impl Persona {
    /// What a person picking this persona wants to see: subject, name,
    /// email and organisation role (login page and workbench).
    pub fn details(&self, name: &str) -> Vec<String> {
        let mut details = vec![self.subject(name)];
        for key in ["name", "email"] {
            if let Some(v) = self.claims.get(key).and_then(Value::as_str) {
                details.push(v.to_string());
            }
        }
        if let Some(role) = &self.org_role {
            let org = self
                .org_slug
                .as_deref()
                .or(self.org_id.as_deref())
                .unwrap_or("");
            details.push(format!("{role} {org}").trim().to_string());
        }
        details
    }

    /// The subject of this persona's tokens.
    pub fn subject(&self, name: &str) -> String {
        self.sub.clone().unwrap_or_else(|| format!("user_{name}"))
    }
}

/// All personas by name (sorted, so listings are stable).
pub type Users = BTreeMap<String, Persona>;

/// Why a users file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("users file {path}: {reason}")]
pub struct UsersFileError {
    /// The file as given.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// Parses a users file: a YAML (or JSON) map of name -> [`Persona`].
pub fn parse_users(text: &str) -> Result<Users, String> {
    if text.trim().is_empty() {
        return Ok(Users::new());
    }
    let users: Option<Users> = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    let users = users.unwrap_or_default();
    if let Some(bad) = users.keys().find(|name| name.trim().is_empty()) {
        return Err(format!("persona name {bad:?} is empty"));
    }
    Ok(users)
}

/// Reads and parses the users file at `path`.
pub fn load_users(path: &Path) -> Result<Users, UsersFileError> {
    let err = |reason: String| UsersFileError {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    parse_users(&text).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yaml_and_json() {
        let yaml = "alice: {sub: user_alice, org_id: org_1, org_role: admin, password: pw, claims: {email: a@x}}\nbob: {}\n";
        let users = parse_users(yaml).unwrap();
        assert_eq!(users["alice"].org_id.as_deref(), Some("org_1"));
        assert_eq!(users["alice"].claims["email"], "a@x");
        assert_eq!(users["bob"].subject("bob"), "user_bob");
        assert!(!format!("{:?}", users["alice"]).contains("pw"));

        let json = r#"{"carol": {"sub": "u_c", "aud": ["a", "b"], "preset": "plain"}}"#;
        let users = parse_users(json).unwrap();
        assert_eq!(users["carol"].preset, Some(Profile::Plain));
        assert!(parse_users("").unwrap().is_empty());
    }

    #[test]
    fn rejects_unknown_fields_and_bad_types() {
        let err = parse_users("alice: {subject: x}").unwrap_err();
        assert!(err.contains("unknown field `subject`"), "{err}");
        let err = parse_users("alice: {claims: [1]}").unwrap_err();
        assert!(err.contains("claims"), "{err}");
        let err = parse_users("- alice").unwrap_err();
        assert!(!err.is_empty());
    }

    #[test]
    fn load_names_the_file() {
        let err = load_users(Path::new("/nonexistent/users.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nonexistent/users.yaml") && err.contains("cannot read"),
            "{err}"
        );
    }
}
