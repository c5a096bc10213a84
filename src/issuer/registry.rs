//! [`Registry`]: every issuer of the server. The root issuer always exists;
//! named issuers are declared in the config file (`issuers:`) or, with
//! `DYNAMIC_ISSUERS` on, created the first time a request names them
//! (navikt/mock-oauth2-server's behaviour). Also the inbound side of
//! federation: peers' keys per issuer name, kept even for names this
//! replica has not created yet.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use super::lifecycle::RenewalSettings;
use super::{Issuer, Settings, paths};
use crate::claims::Users;
use crate::clients::Clients;
use crate::config::Config;
use crate::keys::{Jwk, KidPolicy};
use crate::profiles::{Profile, ProfileOptions};

/// Longest issuer name.
pub const MAX_NAME_LEN: usize = 64;

/// Request ledger entries of a dynamic issuer (configured ones keep 1000).
pub const DYNAMIC_LEDGER_CAPACITY: usize = 100;

/// Most dynamic issuers one server creates (bounds memory and metrics).
pub const MAX_DYNAMIC: usize = 1000;

/// Why a name is not a valid issuer name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
    #[error(
        "issuer names are 1 to {MAX_NAME_LEN} characters of A-Z a-z 0-9 . _ -, starting with a \
         letter or digit"
    )]
    Syntax,
    /// The first segment of a root endpoint, or ends in `.pem`.
    #[error("the name is reserved: it would shadow a root endpoint")]
    Reserved,
}

/// Checks an issuer name.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !first_ok || !rest_ok || name.len() > MAX_NAME_LEN {
        return Err(NameError::Syntax);
    }
    if paths::is_reserved(name) || name.to_ascii_lowercase().ends_with(".pem") {
        return Err(NameError::Reserved);
    }
    Ok(())
}

/// Where a request names a named issuer: `/{name}/...` or, for Keycloak
/// issuers, `/realms/{name}/...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum At {
    /// `/{name}`.
    #[default]
    Named,
    /// `/realms/{name}`.
    Realm,
}

/// Why a request's issuer does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The name is not a valid issuer name.
    BadName {
        /// The name asked for.
        name: String,
        /// What is wrong with it.
        reason: NameError,
    },
    /// Dynamic issuers are off and the name is not configured.
    Unknown {
        /// The name asked for.
        name: String,
        /// The configured names.
        configured: Vec<String>,
    },
    /// Too many dynamic issuers exist already.
    Full {
        /// The name asked for.
        name: String,
    },
    /// The issuer lives at another mount (Keycloak issuers only under
    /// `/realms/{name}`, every other profile only at `/{name}`).
    WrongMount {
        /// The name asked for.
        name: String,
        /// Its profile.
        profile: Profile,
        /// Where it is mounted.
        mount: String,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::BadName { name, reason } => write!(f, "no issuer {name:?}: {reason}"),
            LookupError::Unknown { name, configured } => write!(
                f,
                "no issuer {name:?}: dynamic issuers are off (DYNAMIC_ISSUERS=false) and the \
                 configured issuers are: {}",
                if configured.is_empty() {
                    "none (declare them under `issuers:` in the config file)".to_string()
                } else {
                    configured.join(", ")
                }
            ),
            LookupError::Full { name } => write!(
                f,
                "no issuer {name:?}: this server already has {MAX_DYNAMIC} dynamic issuers"
            ),
            LookupError::WrongMount {
                name,
                profile,
                mount,
            } => write!(
                f,
                "no issuer {name:?} here: it has profile {profile}, its endpoints are under {mount}"
            ),
        }
    }
}

impl std::error::Error for LookupError {}

/// [`LookupError::WrongMount`] when an issuer of `profile` does not live at `at`.
fn wrong_mount(name: &str, profile: Profile, at: At) -> Option<LookupError> {
    (profile.shape().realm_mounted() != (at == At::Realm)).then(|| LookupError::WrongMount {
        name: name.to_string(),
        profile,
        mount: mount_of(profile, name),
    })
}

/// The mount of a named issuer of `profile` called `name`.
fn mount_of(profile: Profile, name: &str) -> String {
    if profile.shape().realm_mounted() {
        format!("{}/{name}", paths::REALMS)
    } else {
        format!("/{name}")
    }
}

/// What a dynamic issuer starts from: the root's inheritable settings.
#[derive(Debug, Clone)]
pub struct Template {
    /// The root's settings (`issuer`, `kid` and `keys_dir` are not inherited).
    pub settings: Settings,
    /// The root's personas.
    pub users: Users,
    /// The root's clients.
    pub clients: Clients,
    /// `PERSIST_KEYS_DIR`: named issuers keep their keys in `<dir>/{name}/`.
    pub keys_dir: Option<PathBuf>,
}

impl Template {
    /// The settings of a named issuer `name` with nothing of its own.
    pub fn settings_for(&self, name: &str) -> Settings {
        Settings {
            name: name.to_string(),
            issuer: None,
            kid: KidPolicy {
                fixed: None,
                instance_id: self.settings.kid.instance_id.clone(),
            },
            keys_dir: self.keys_dir.as_ref().map(|d| d.join(name)),
            // The tenant and the region identify an issuer, like its `iss`:
            // only the claims namespace is inherited.
            profile_options: ProfileOptions {
                claims_namespace: self.settings.profile_options.claims_namespace.clone(),
                tenant_id: None,
                region: None,
            },
            hs256_secret: None,
            ..self.settings.clone()
        }
    }
}

/// Every issuer of the server.
#[derive(Debug)]
pub struct Registry {
    root: Arc<Issuer>,
    named: RwLock<BTreeMap<String, Arc<Issuer>>>,
    configured: Vec<String>,
    template: Template,
    dynamic: bool,
    /// Peers' keys by issuer name (`""` = root), as last set by federation.
    peer_keys: RwLock<BTreeMap<String, Vec<Jwk>>>,
    /// Woken when a dynamic issuer is created (federation fetches at once).
    created: tokio::sync::Notify,
}

impl Registry {
    /// A registry of `root`, the `configured` named issuers, and (when
    /// `dynamic`) issuers made from `template` on first use.
    pub fn new(root: Issuer, configured: Vec<Issuer>, template: Template, dynamic: bool) -> Self {
        let names = configured.iter().map(|i| i.name().to_string()).collect();
        Registry {
            root: Arc::new(root),
            named: RwLock::new(
                configured
                    .into_iter()
                    .map(|i| (i.name().to_string(), Arc::new(i)))
                    .collect(),
            ),
            configured: names,
            template,
            dynamic,
            peer_keys: RwLock::new(BTreeMap::new()),
            created: tokio::sync::Notify::new(),
        }
    }

    /// The issuers of `config`: the root from the flags, the `issuers:` of
    /// the config file over the root's settings, and the template of
    /// dynamic ones. No key is created here.
    pub fn from_config(config: &Config) -> Self {
        let root_settings = Settings {
            name: String::new(),
            issuer: Some(config.issuer.clone()),
            audience: config.audience.clone(),
            token_ttl: config.token_ttl,
            kid: KidPolicy {
                fixed: config.kid.clone(),
                instance_id: config.instance_id.clone(),
            },
            keys_dir: config.persist_keys_dir.clone(),
            replay_capacity: config.replay_capacity,
            ledger_capacity: super::controls::ledger::CAPACITY,
            profile: config.profile,
            authorized_party: config.authorized_party.clone(),
            profile_options: ProfileOptions {
                claims_namespace: config.claims_namespace.clone(),
                tenant_id: config.tenant_id.clone(),
                region: config.cognito_region.clone(),
            },
            alg: config.alg,
            hs256_secret: config.hs256_secret.clone(),
            renewal: RenewalSettings {
                threshold_sec: config.auto_renew_threshold,
                interval_sec: config.auto_renew_interval,
            },
        };
        let template = Template {
            settings: root_settings.clone(),
            users: config.users.clone(),
            clients: config.clients.clone(),
            keys_dir: config.persist_keys_dir.clone(),
        };
        let configured = config
            .issuers
            .iter()
            .map(|(name, own)| {
                let mut settings = template.settings_for(name);
                settings.issuer = own.issuer.clone();
                settings.kid.fixed = own.kid.clone();
                if let Some(aud) = &own.audience {
                    settings.audience = Some(aud.clone());
                }
                if let Some(ttl) = own.token_ttl {
                    settings.token_ttl = ttl;
                }
                if let Some(profile) = own.profile {
                    settings.profile = profile;
                }
                if let Some(party) = &own.authorized_party {
                    settings.authorized_party = Some(party.clone());
                }
                if let Some(ns) = &own.claims_namespace {
                    settings.profile_options.claims_namespace = Some(ns.clone());
                }
                settings.profile_options.tenant_id = own.tenant_id.clone();
                settings.profile_options.region = own.cognito_region.clone();
                if let Some(alg) = own.alg {
                    settings.alg = alg;
                }
                settings.hs256_secret = own.hs256_secret.clone();
                if let Some(threshold) = own.auto_renew_threshold {
                    settings.renewal.threshold_sec = threshold;
                }
                if let Some(interval) = own.auto_renew_interval {
                    settings.renewal.interval_sec = interval;
                }
                Issuer::new(
                    settings,
                    own.users.clone().unwrap_or_else(|| template.users.clone()),
                    own.clients
                        .clone()
                        .unwrap_or_else(|| template.clients.clone()),
                )
            })
            .collect();
        let root = Issuer::new(root_settings, config.users.clone(), config.clients.clone());
        Registry::new(root, configured, template, config.dynamic_issuers)
    }

    /// The root issuer.
    pub fn root(&self) -> &Arc<Issuer> {
        &self.root
    }

    /// The configured names, in order.
    pub fn configured(&self) -> &[String] {
        &self.configured
    }

    /// Whether unknown names become issuers on first use.
    pub fn dynamic(&self) -> bool {
        self.dynamic
    }

    fn named_map(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Issuer>>> {
        self.named.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The profile of the issuer a request names at `at`: the existing
    /// issuer's, else the one a dynamic issuer would be created with (so a
    /// request to another profile's path creates nothing).
    pub fn profile_at(&self, name: Option<&str>, at: At) -> Profile {
        match name.and_then(|n| self.named_map().get(n).map(|i| i.profile())) {
            Some(existing) => existing,
            None if name.is_none() => self.root.profile(),
            None => match at {
                At::Realm => Profile::Keycloak,
                At::Named => self.template.settings.profile,
            },
        }
    }

    /// The issuer `name` (`None` = root) as reached at `/{name}`, creating
    /// it when dynamic issuers are on and the name is valid. See [`Registry::get_at`].
    pub fn get(&self, name: Option<&str>) -> Result<Arc<Issuer>, LookupError> {
        self.get_at(name, At::Named)
    }

    /// The issuer `name` (`None` = root) as reached at `at`, creating it
    /// when dynamic issuers are on and the name is valid: with the root's
    /// profile at `/{name}`, as a Keycloak issuer at `/realms/{name}`
    /// (nothing else lives there). An issuer of the other kind of mount
    /// is [`LookupError::WrongMount`].
    pub fn get_at(&self, name: Option<&str>, at: At) -> Result<Arc<Issuer>, LookupError> {
        let Some(name) = name else {
            return Ok(Arc::clone(&self.root));
        };
        let wrong_mount = |profile: Profile| wrong_mount(name, profile, at);
        if let Some(found) = self.named_map().get(name) {
            return match wrong_mount(found.profile()) {
                Some(e) => Err(e),
                None => Ok(Arc::clone(found)),
            };
        }
        check_name(name).map_err(|reason| LookupError::BadName {
            name: name.to_string(),
            reason,
        })?;
        if !self.dynamic {
            return Err(LookupError::Unknown {
                name: name.to_string(),
                configured: self.configured.clone(),
            });
        }
        let profile = match at {
            At::Realm => Profile::Keycloak,
            At::Named => self.template.settings.profile,
        };
        if let Some(e) = wrong_mount(profile) {
            return Err(e);
        }
        let mut named = self.named.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = named.get(name) {
            return match wrong_mount(found.profile()) {
                Some(e) => Err(e),
                None => Ok(Arc::clone(found)),
            };
        }
        if named.len() >= self.configured.len() + MAX_DYNAMIC {
            return Err(LookupError::Full {
                name: name.to_string(),
            });
        }
        let mut settings = self.template.settings_for(name);
        settings.profile = profile;
        // Up to MAX_DYNAMIC of these: a smaller ledger keeps the total bounded.
        settings.ledger_capacity = DYNAMIC_LEDGER_CAPACITY;
        let issuer = Arc::new(Issuer::new(
            settings,
            self.template.users.clone(),
            self.template.clients.clone(),
        ));
        if let Some(keys) = self
            .peer_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            issuer.keys().set_peer_keys(keys.iter().cloned());
        }
        named.insert(name.to_string(), Arc::clone(&issuer));
        drop(named);
        tracing::info!(issuer = name, profile = %profile, "created dynamic issuer on first use");
        self.created.notify_one();
        Ok(issuer)
    }

    /// `issuer` (found earlier, e.g. by [`Registry::find`]) as reached at
    /// `at`: the same answer [`Registry::get_at`] gives for its name.
    pub fn at_mount(issuer: &Arc<Issuer>, at: At) -> Result<Arc<Issuer>, LookupError> {
        let name = issuer.name();
        match wrong_mount(name, issuer.profile(), at) {
            Some(e) if !name.is_empty() => Err(e),
            _ => Ok(Arc::clone(issuer)),
        }
    }

    /// The existing issuer `name` (`""` = root); never creates one.
    pub fn find(&self, name: &str) -> Option<Arc<Issuer>> {
        if name.is_empty() {
            return Some(Arc::clone(&self.root));
        }
        self.named_map().get(name).cloned()
    }

    /// Every issuer: the root first, then the named ones by name.
    pub fn all(&self) -> Vec<Arc<Issuer>> {
        std::iter::once(Arc::clone(&self.root))
            .chain(self.named_map().values().cloned())
            .collect()
    }

    /// Notified when a dynamic issuer is created.
    pub fn created(&self) -> &tokio::sync::Notify {
        &self.created
    }

    /// Every issuer's own public keys, by name (`""` = root), for peers.
    /// Issuers without a key yet are left out.
    pub fn own_keys(&self) -> BTreeMap<String, Vec<Jwk>> {
        self.all()
            .iter()
            .filter(|i| i.has_key())
            .map(|i| (i.name().to_string(), i.keys().local().keys.clone()))
            .collect()
    }

    /// The live revocations made on this replica, by issuer name, as
    /// `(hash, exp)`: what peers take from `/cluster/keys`. At most `max`
    /// in all (each issuer's latest-expiring first when there are more).
    pub fn own_revocations(&self, max: usize) -> BTreeMap<String, Vec<(u128, i64)>> {
        let mut left = max;
        let mut out = BTreeMap::new();
        for issuer in self.all() {
            let entries = issuer.spent().local_live(issuer.clock().now(), left);
            left -= entries.len();
            if !entries.is_empty() {
                out.insert(issuer.name().to_string(), entries);
            }
        }
        out
    }

    /// Takes revocations made on peers: each into its issuer's spent set
    /// (issuers that do not exist here are skipped).
    pub fn learn_revocations(&self, revoked: Vec<crate::federation::fetch::PeerRevocation>) {
        let mut by_issuer: BTreeMap<String, Vec<(u128, i64)>> = BTreeMap::new();
        for r in revoked {
            by_issuer.entry(r.issuer).or_default().push((r.hash, r.exp));
        }
        for (name, entries) in by_issuer {
            let Some(issuer) = self.find(&name) else {
                continue;
            };
            match issuer.spent().learn_all(&entries, issuer.clock().now()) {
                Ok(0) => {}
                Ok(added) => tracing::info!(issuer = name, added, "revocations learnt from peers"),
                Err(e) => {
                    tracing::warn!(issuer = name, error = %e, "cannot take peers' revocations")
                }
            }
        }
    }

    /// Replaces the peers' keys of every issuer with `by_issuer` (validated;
    /// names this replica has no issuer for are kept for when it does).
    pub fn set_peer_keys(&self, by_issuer: BTreeMap<String, Vec<Jwk>>) {
        for issuer in self.all() {
            let keys = by_issuer.get(issuer.name()).cloned().unwrap_or_default();
            issuer.keys().set_peer_keys(keys);
        }
        *self.peer_keys.write().unwrap_or_else(|e| e.into_inner()) = by_issuer;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::testing;

    fn template() -> Template {
        Template {
            settings: testing::settings("", Some("https://root")),
            users: Users::new(),
            clients: Clients::new(),
            keys_dir: Some(PathBuf::from("/keys")),
        }
    }

    fn registry(dynamic: bool) -> Registry {
        let root = Issuer::new(template().settings, Users::new(), Clients::new());
        let a = Issuer::new(template().settings_for("a"), Users::new(), Clients::new());
        Registry::new(root, vec![a], template(), dynamic)
    }

    #[test]
    fn names_are_checked() {
        for ok in ["a", "tenant-1", "us-east-1_Abc123", "x.y", &"a".repeat(64)] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-a", ".a", "a/b", "a b", "é", &"a".repeat(65)] {
            assert_eq!(check_name(bad), Err(NameError::Syntax), "{bad}");
        }
        for reserved in [
            "token", "health", "jwks", "realms", "_admin", "key.pem", "KEY.PEM",
        ] {
            assert!(check_name(reserved).is_err(), "{reserved}");
        }
        assert_eq!(check_name("metrics"), Err(NameError::Reserved));
    }

    #[test]
    fn lookup_configured_dynamic_and_errors() {
        let r = registry(true);
        assert!(r.get(None).unwrap().is_root());
        let a = r.get(Some("a")).unwrap();
        assert_eq!(a.name(), "a");
        assert!(Arc::ptr_eq(&a, &r.get(Some("a")).unwrap()));
        let b = r.get(Some("b")).unwrap();
        assert_eq!(b.settings().issuer, None, "iss is never inherited");
        assert_eq!(b.settings().keys_dir, Some(PathBuf::from("/keys/b")));
        assert_eq!(b.settings().token_ttl, 900, "inherited from the root");
        assert!(Arc::ptr_eq(&b, &r.get(Some("b")).unwrap()), "created once");
        assert_eq!(
            r.all()
                .iter()
                .map(|i| i.name().to_string())
                .collect::<Vec<_>>(),
            ["", "a", "b"]
        );
        let e = r.get(Some("token")).unwrap_err().to_string();
        assert!(e.contains("reserved"), "{e}");
        let e = r.get(Some("a b")).unwrap_err().to_string();
        assert!(e.contains("A-Z a-z 0-9"), "{e}");

        let fixed = registry(false);
        assert!(fixed.get(Some("a")).is_ok());
        let e = fixed.get(Some("b")).unwrap_err().to_string();
        assert!(
            e.contains("DYNAMIC_ISSUERS=false") && e.contains(": a"),
            "{e}"
        );
    }

    #[test]
    fn at_mount_answers_what_get_at_answers() {
        let r = registry(true);
        r.get_at(Some("kc"), At::Realm).unwrap();
        for (name, at) in [
            ("", At::Named),
            ("a", At::Named),
            ("a", At::Realm),
            ("kc", At::Named),
            ("kc", At::Realm),
        ] {
            let found = r.find(name).unwrap();
            let by_name = r.get_at(Some(name).filter(|n| !n.is_empty()), at);
            let by_issuer = Registry::at_mount(&found, at);
            match (by_name, by_issuer) {
                (Ok(x), Ok(y)) => assert!(Arc::ptr_eq(&x, &y), "{name} at {at:?}"),
                (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string(), "{name} at {at:?}"),
                (x, y) => panic!("{name} at {at:?}: get_at {x:?}, at_mount {y:?}"),
            }
        }
        assert!(Registry::at_mount(&r.find("kc").unwrap(), At::Named).is_err());
    }

    #[test]
    fn keycloak_issuers_live_under_realms_only() {
        let r = registry(true);
        let kc = r.get_at(Some("kc"), At::Realm).unwrap();
        assert_eq!(
            kc.profile(),
            Profile::Keycloak,
            "created as keycloak under /realms"
        );
        assert_eq!(kc.mount(), "/realms/kc");
        let e = r.get_at(Some("kc"), At::Named).unwrap_err().to_string();
        assert!(
            e.contains("profile keycloak") && e.contains("/realms/kc"),
            "{e}"
        );
        let e = r.get_at(Some("a"), At::Realm).unwrap_err().to_string();
        assert!(e.contains("profile clerk") && e.contains("under /a"), "{e}");
        // A root profile of keycloak never creates an issuer at /{name}.
        let mut t = template();
        t.settings.profile = Profile::Keycloak;
        let root = Issuer::new(t.settings.clone(), Users::new(), Clients::new());
        let r = Registry::new(root, vec![], t, true);
        assert!(matches!(
            r.get_at(Some("x"), At::Named),
            Err(LookupError::WrongMount { .. })
        ));
        assert!(r.find("x").is_none(), "not created");
        assert_eq!(
            r.get_at(Some("x"), At::Realm).unwrap().profile(),
            Profile::Keycloak
        );
    }

    #[test]
    fn named_issuers_inherit_profile_but_not_tenant() {
        let mut t = template();
        t.settings.profile = Profile::Entra;
        t.settings.authorized_party = Some("http://app".into());
        t.settings.profile_options = ProfileOptions {
            claims_namespace: Some("https://ns/".into()),
            tenant_id: Some("root-tenant".into()),
            region: Some("eu-west-1".into()),
        };
        let s = t.settings_for("b");
        assert_eq!(s.profile, Profile::Entra);
        assert_eq!(s.authorized_party.as_deref(), Some("http://app"));
        assert_eq!(
            s.profile_options.claims_namespace.as_deref(),
            Some("https://ns/")
        );
        assert_eq!(
            (s.profile_options.tenant_id, s.profile_options.region),
            (None, None)
        );
    }

    #[test]
    fn peer_keys_reach_existing_and_later_issuers() {
        let r = registry(true);
        let jwk = crate::keys::SigningKey::generate(&KidPolicy::default())
            .unwrap()
            .jwk()
            .clone();
        let mut by = BTreeMap::new();
        by.insert("a".to_string(), vec![jwk.clone()]);
        by.insert("later".to_string(), vec![jwk.clone()]);
        r.set_peer_keys(by);
        assert_eq!(
            r.get(Some("a")).unwrap().keys().merged().kids(),
            [jwk.kid.as_str()]
        );
        assert!(
            r.root().keys().merged().kids().is_empty(),
            "no leak across issuers"
        );
        let later = r.get(Some("later")).unwrap();
        assert_eq!(later.keys().merged().kids(), [jwk.kid.as_str()]);
        assert!(r.own_keys().is_empty(), "no issuer has its own key yet");
    }
}
