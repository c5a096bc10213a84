//! The resolved [`Config`]: config file < environment < flags, validated, with
//! every default filled in. Errors name the flag, variable or file and say
//! what to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::claims::{Audience, Users, users};
use crate::cli::{LogFormat, Opts};
use crate::clients::{self, ClientConfig, Clients};
use crate::issuer::Secret;
use crate::keys::Alg;
use crate::profiles::Profile;

pub use crate::issuer::spent::DEFAULT_CAPACITY as DEFAULT_REPLAY_CAPACITY;

/// Default bind address.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default port.
pub const DEFAULT_PORT: u16 = 8081;
/// Default issuer.
pub const DEFAULT_ISSUER: &str = "https://issuer.local";
/// Default token lifetime in seconds.
pub const DEFAULT_TOKEN_TTL: i64 = 900;
/// Default peer refresh interval in seconds.
pub const DEFAULT_PEER_REFRESH_SEC: u64 = 30;
/// Default timeout of one peer key fetch, in milliseconds.
pub const DEFAULT_PEER_TIMEOUT_MS: u64 = 2000;
/// Default `HEADER_TIMEOUT_SEC`.
pub const DEFAULT_HEADER_TIMEOUT_SEC: u64 = 10;
/// Default `IDLE_TIMEOUT_SEC`.
pub const DEFAULT_IDLE_TIMEOUT_SEC: u64 = 60;
/// Default `SHUTDOWN_GRACE_SEC`.
pub const DEFAULT_SHUTDOWN_GRACE_SEC: u64 = 10;
/// Default `MAX_CONNECTIONS`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The largest number of seconds any duration setting takes (100 years, as
/// `expires_in`): beyond it a deadline or a sum of durations could overflow
/// (`Instant + Duration` panics), and no test stack waits that long.
pub const MAX_SECONDS: u64 = crate::claims::MAX_EXPIRES_IN.unsigned_abs();

/// `value` of the setting `name` (in `unit`s of `per_second` each) is at most [`MAX_SECONDS`].
fn check_max(value: u64, per_second: u64, name: &str, unit: &str) -> Result<(), ConfigError> {
    let max = MAX_SECONDS.saturating_mul(per_second);
    if value > max {
        return err(format!(
            "{name}: {value} is too large; use at most {max} {unit} (100 years)"
        ));
    }
    Ok(())
}

/// The resolved configuration of a running mock-idp.
#[derive(Debug, Clone)]
pub struct Config {
    /// Bind address (`--host` / `HOST`).
    pub host: String,
    /// Bind port; 0 = any free port (`--port` / `PORT`).
    pub port: u16,
    /// `iss` of tokens and discovery (`--issuer` / `ISSUER`).
    pub issuer: String,
    /// Default `aud` (`--audience` / `AUDIENCE`).
    pub audience: Option<Audience>,
    /// Token lifetime in seconds (`--token-ttl` / `TOKEN_TTL`).
    pub token_ttl: i64,
    /// Fixed key id (`--kid` / `KID`); `None` = RFC 7638 thumbprint.
    pub kid: Option<String>,
    /// Where the key pair is kept across restarts (`PERSIST_KEYS_DIR`).
    pub persist_keys_dir: Option<PathBuf>,
    /// Personas (`USERS_FILE` and the config file's `users:`).
    pub users: Users,
    /// The personas file read, if any (`USERS_FILE`, or `users_file` in the config file).
    pub users_file: Option<PathBuf>,
    /// Peer base URLs (`PEERS`, or `cluster.static_peers`).
    pub peers: Vec<String>,
    /// How often peers are fetched (`PEER_REFRESH_SEC`).
    pub peer_refresh: Duration,
    /// Prefix of this replica's `kid` (`INSTANCE_ID`).
    pub instance_id: Option<String>,
    /// Name resolved on every refresh, each address a peer (`PEERS_DNS`, or
    /// `cluster.dns_name` with `cluster.discovery: dns`).
    pub peers_dns: Option<PeerDns>,
    /// Timeout of one peer key fetch (`PEER_TIMEOUT_MS`).
    pub peer_timeout: Duration,
    /// How long a peer's key is served after its last successful fetch
    /// (`PEER_RETENTION_SEC`; default TOKEN_TTL + refresh + timeout).
    pub peer_retention: Duration,
    /// CORS allowed origins; `None` = any (`CORS_ORIGINS`).
    pub cors_origins: Option<Vec<String>>,
    /// Base URL of endpoint URLs in discovery; `None` = from the request (`PUBLIC_URL`).
    pub public_url: Option<String>,
    /// Log format (`LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Registered OAuth clients (config file `clients:`); empty = any client accepted.
    pub clients: Clients,
    /// Named issuers declared in the config file (`issuers:`), by name.
    pub issuers: BTreeMap<String, NamedIssuer>,
    /// Create named issuers on first use (`DYNAMIC_ISSUERS`).
    pub dynamic_issuers: bool,
    /// Bound of each issuer's spent-`jti` set (`REPLAY_CAPACITY`).
    pub replay_capacity: usize,
    /// Head-and-body deadline of a request after its first byte (`HEADER_TIMEOUT_SEC`).
    pub header_timeout: Duration,
    /// How long a connection may wait for a request (`IDLE_TIMEOUT_SEC`).
    pub idle_timeout: Duration,
    /// How long busy connections may finish after a signal (`SHUTDOWN_GRACE_SEC`).
    pub shutdown_grace: Duration,
    /// Connections served at once (`MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// The root issuer's profile (`PROFILE`).
    pub profile: Profile,
    /// Default `azp` of Clerk session tokens (`AUTHORIZED_PARTY`).
    pub authorized_party: Option<String>,
    /// Auth0 profile: namespace of the `roles`/`groups` claims (`CLAIMS_NAMESPACE`).
    pub claims_namespace: Option<String>,
    /// Entra profile: the root issuer's tenant id (`TENANT_ID`).
    pub tenant_id: Option<String>,
    /// Cognito profile: the root issuer's AWS region (`COGNITO_REGION`).
    pub cognito_region: Option<String>,
    /// The root issuer's default algorithm (`ALG`).
    pub alg: Alg,
    /// The root issuer's HS256 secret (`HS256_SECRET`).
    pub hs256_secret: Option<Secret>,
    /// Lifecycle auto-renewal threshold in seconds (`AUTO_RENEW_THRESHOLD_SECONDS`).
    pub auto_renew_threshold: u64,
    /// Lifecycle renewal worker interval in seconds (`AUTO_RENEW_WORKER_INTERVAL`).
    pub auto_renew_interval: u64,
    /// Bearer token the test controls (`_admin`) require (`ADMIN_TOKEN`);
    /// `None` = open. Its `Debug` is `<hidden>`.
    pub admin_token: Option<Secret>,
}

/// A named issuer from the config file, resolved: every setting it gives
/// itself; what it leaves out comes from the root when the issuer is built.
#[derive(Debug, Clone, Default)]
pub struct NamedIssuer {
    /// Fixed `iss` (default `<PUBLIC_URL or request base>/{name}`).
    pub issuer: Option<String>,
    /// Default `aud` (default: the root's).
    pub audience: Option<Audience>,
    /// Token lifetime (default: the root's).
    pub token_ttl: Option<i64>,
    /// Fixed key id (default: RFC 7638 thumbprint; never the root's `KID`).
    pub kid: Option<String>,
    /// Personas (default: the root's).
    pub users: Option<Users>,
    /// Registered clients (default: the root's).
    pub clients: Option<Clients>,
    /// Profile (default: the root's).
    pub profile: Option<Profile>,
    /// Clerk `azp` default (default: the root's).
    pub authorized_party: Option<String>,
    /// Auth0 claims namespace (default: the root's, else `https://mock-idp.local/`).
    pub claims_namespace: Option<String>,
    /// Entra tenant id (default: the name when it is a GUID, else a UUID v5 of it; never the root's).
    pub tenant_id: Option<String>,
    /// Cognito region (default: the name's `<region>_` prefix, else `us-east-1`; never the root's).
    pub cognito_region: Option<String>,
    /// Default signing algorithm (default: the root's).
    pub alg: Option<Alg>,
    /// HS256 secret (never inherited).
    pub hs256_secret: Option<Secret>,
    /// Lifecycle auto-renewal threshold in seconds (default: the root's).
    pub auto_renew_threshold: Option<u64>,
    /// Lifecycle renewal worker interval in seconds (default: the root's).
    pub auto_renew_interval: Option<u64>,
}

/// An issuer under `issuers:` in the config file; every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerFile {
    /// `iss` of its tokens.
    pub issuer: Option<String>,
    /// Default `aud`.
    pub audience: Option<Audience>,
    /// Seconds until `exp`.
    pub token_ttl: Option<i64>,
    /// Fixed key id.
    pub kid: Option<String>,
    /// A personas file (relative to the config file's directory).
    pub users_file: Option<PathBuf>,
    /// Inline personas.
    pub users: Option<Users>,
    /// Registered clients.
    pub clients: Option<Vec<ClientConfig>>,
    /// Claim shape, paths and discovery: `clerk`, `plain`, `auth0`,
    /// `keycloak` (mounted at `/realms/{name}`), `entra`, `google`,
    /// `cognito`, `jwt-auth-service`.
    pub profile: Option<Profile>,
    /// Default `azp` of Clerk session tokens.
    pub authorized_party: Option<String>,
    /// Auth0: prefix of the namespaced `roles`/`groups` claims.
    pub claims_namespace: Option<String>,
    /// Entra: the tenant id in `iss` and `tid`.
    pub tenant_id: Option<String>,
    /// Cognito: the AWS region in `iss`.
    pub cognito_region: Option<String>,
    /// Default signing algorithm.
    pub alg: Option<Alg>,
    /// HS256 secret.
    pub hs256_secret: Option<Secret>,
    /// `jwt-auth-service`: renew a child with this many seconds or fewer left.
    pub auto_renew_threshold_seconds: Option<u64>,
    /// `jwt-auth-service`: seconds between two runs of the renewal worker.
    pub auto_renew_worker_interval: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: DEFAULT_HOST.into(),
            port: DEFAULT_PORT,
            issuer: DEFAULT_ISSUER.into(),
            audience: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            kid: None,
            persist_keys_dir: None,
            users: Users::new(),
            users_file: None,
            peers: Vec::new(),
            peer_refresh: Duration::from_secs(DEFAULT_PEER_REFRESH_SEC),
            instance_id: None,
            peers_dns: None,
            peer_timeout: Duration::from_millis(DEFAULT_PEER_TIMEOUT_MS),
            peer_retention: default_retention(
                DEFAULT_TOKEN_TTL,
                Duration::from_secs(DEFAULT_PEER_REFRESH_SEC),
                Duration::from_millis(DEFAULT_PEER_TIMEOUT_MS),
            ),
            cors_origins: None,
            public_url: None,
            log_format: LogFormat::Text,
            clients: Clients::new(),
            issuers: BTreeMap::new(),
            dynamic_issuers: true,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SEC),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SEC),
            shutdown_grace: Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SEC),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            profile: Profile::default(),
            authorized_party: None,
            claims_namespace: None,
            tenant_id: None,
            cognito_region: None,
            alg: Alg::RS256,
            hs256_secret: None,
            auto_renew_threshold: crate::issuer::lifecycle::DEFAULT_THRESHOLD_SEC,
            auto_renew_interval: crate::issuer::lifecycle::DEFAULT_INTERVAL_SEC,
            admin_token: None,
        }
    }
}

impl Config {
    /// Whether a personas file was given.
    pub fn users_file_given(&self) -> bool {
        self.users_file.is_some()
    }

    /// True when peers are configured (`PEERS` and/or `PEERS_DNS`).
    pub fn federation_enabled(&self) -> bool {
        !self.peers.is_empty() || self.peers_dns.is_some()
    }
}

/// Default peer key retention: a peer's token minted just before its last
/// successful fetch, or up to one refresh (plus a fetch timeout) after it,
/// stays verifiable for its whole TOKEN_TTL.
pub fn default_retention(token_ttl: i64, refresh: Duration, timeout: Duration) -> Duration {
    let ttl = Duration::from_secs(u64::try_from(token_ttl).unwrap_or(0));
    let timeout = Duration::from_secs(timeout.as_millis().div_ceil(1000) as u64);
    ttl + refresh + timeout
}

/// A DNS name and port (`PEERS_DNS=name:port`): every address the name
/// resolves to is a peer `http://ip:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDns {
    /// Host name (or IP literal) to resolve.
    pub host: String,
    /// Port of every peer.
    pub port: u16,
}

impl PeerDns {
    /// Parses `name:port` (`[v6]:port` for an IPv6 literal).
    pub fn parse(s: &str, name: &str) -> Result<PeerDns, ConfigError> {
        let bad = |why: &str| {
            ConfigError(format!(
                "{name}: {s:?} {why}; expected name:port, e.g. \
                 mock-idp-headless.default.svc.cluster.local:8081"
            ))
        };
        let s = s.trim();
        if s.contains("://") || s.contains('/') {
            return Err(bad("is a URL"));
        }
        let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("has no valid port"))?;
        if host.is_empty() {
            return Err(bad("has no name"));
        }
        Ok(PeerDns {
            host: host.to_string(),
            port,
        })
    }
}

impl std::fmt::Display for PeerDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Stoke-shaped `cluster:` section of the config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Federation on/off (default on when the section lists peers).
    pub enabled: Option<bool>,
    /// `static` (default: `static_peers`) or `dns` (`dns_name`).
    pub discovery: Option<String>,
    /// `name:port` resolved on every refresh when `discovery: dns` (like `PEERS_DNS`).
    pub dns_name: Option<String>,
    /// Peer base URLs when `discovery: static`.
    #[serde(default)]
    pub static_peers: Vec<String>,
    /// Refresh interval in seconds.
    pub refresh_sec: Option<u64>,
    /// Prefix of this replica's `kid`.
    pub instance_id: Option<String>,
}

/// `peers` in the config file: a comma-separated string or a list.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PeerList {
    /// `"http://a:8081,http://b:8081"`.
    Csv(String),
    /// `[http://a:8081, http://b:8081]`.
    List(Vec<String>),
}

/// The YAML config file; every key optional, unknown keys rejected.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// See [`Config::host`].
    pub host: Option<String>,
    /// See [`Config::port`].
    pub port: Option<u16>,
    /// See [`Config::issuer`].
    pub issuer: Option<String>,
    /// See [`Config::audience`].
    pub audience: Option<Audience>,
    /// See [`Config::token_ttl`].
    pub token_ttl: Option<i64>,
    /// See [`Config::kid`].
    pub kid: Option<String>,
    /// See [`Config::persist_keys_dir`].
    pub persist_keys_dir: Option<PathBuf>,
    /// A personas file, like `USERS_FILE`.
    pub users_file: Option<PathBuf>,
    /// Inline personas (same content as a users file).
    pub users: Option<Users>,
    /// See [`Config::peers`].
    pub peers: Option<PeerList>,
    /// See [`Config::peer_refresh`].
    pub peer_refresh_sec: Option<u64>,
    /// See [`Config::instance_id`].
    pub instance_id: Option<String>,
    /// See [`Config::peers_dns`] (`name:port`).
    pub peers_dns: Option<String>,
    /// See [`Config::peer_timeout`] (milliseconds).
    pub peer_timeout_ms: Option<u64>,
    /// See [`Config::peer_retention`] (seconds).
    pub peer_retention_sec: Option<u64>,
    /// See [`Config::cors_origins`] (comma-separated).
    pub cors_origins: Option<String>,
    /// See [`Config::public_url`].
    pub public_url: Option<String>,
    /// See [`Config::log_format`].
    pub log_format: Option<LogFormat>,
    /// Registered clients.
    pub clients: Option<Vec<ClientConfig>>,
    /// Federation in Stoke's shape.
    pub cluster: Option<ClusterFile>,
    /// Named issuers.
    pub issuers: Option<BTreeMap<String, IssuerFile>>,
    /// See [`Config::dynamic_issuers`].
    pub dynamic_issuers: Option<bool>,
    /// See [`Config::replay_capacity`].
    pub replay_capacity: Option<usize>,
    /// See [`Config::header_timeout`] (seconds).
    pub header_timeout_sec: Option<u64>,
    /// See [`Config::idle_timeout`] (seconds).
    pub idle_timeout_sec: Option<u64>,
    /// See [`Config::shutdown_grace`] (seconds).
    pub shutdown_grace_sec: Option<u64>,
    /// See [`Config::max_connections`].
    pub max_connections: Option<usize>,
    /// See [`Config::profile`].
    pub profile: Option<Profile>,
    /// See [`Config::authorized_party`].
    pub authorized_party: Option<String>,
    /// See [`Config::claims_namespace`].
    pub claims_namespace: Option<String>,
    /// See [`Config::tenant_id`].
    pub tenant_id: Option<String>,
    /// See [`Config::cognito_region`].
    pub cognito_region: Option<String>,
    /// See [`Config::alg`].
    pub alg: Option<Alg>,
    /// See [`Config::hs256_secret`].
    pub hs256_secret: Option<Secret>,
    /// See [`Config::auto_renew_threshold`].
    pub auto_renew_threshold_seconds: Option<u64>,
    /// See [`Config::auto_renew_interval`].
    pub auto_renew_worker_interval: Option<u64>,
    /// See [`Config::admin_token`].
    pub admin_token: Option<Secret>,
    /// Where the file is (relative paths in it are resolved against its directory).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// A configuration problem, as one line naming where to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Reads and parses a config file.
pub fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "config file {} (--config / CONFIG_FILE): cannot read it: {e}",
            path.display()
        ))
    })?;
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    let mut file = parse_named(&text, &format!("config file {}", path.display()))?;
    file.path = Some(path.to_path_buf());
    Ok(file)
}

/// Parses the text of a config file that is not read from disk (tests, the
/// fuzz targets): like [`load_file`], but relative paths in it stay relative
/// to the working directory and errors say "config file".
pub fn parse_file(text: &str) -> Result<FileConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    parse_named(text, "config file")
}

fn parse_named(text: &str, name: &str) -> Result<FileConfig, ConfigError> {
    serde_norway::from_str::<Option<FileConfig>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| ConfigError(format!("{name}: {e}")))
}

impl FileConfig {
    /// `path` as written in the file, resolved against the file's directory.
    fn relative(&self, path: &Path) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// How errors name this file.
    fn name(&self) -> String {
        match &self.path {
            Some(p) => format!("config file {}", p.display()),
            None => "config file".into(),
        }
    }
}

impl Config {
    /// Resolves flags/env (`opts`, already merged by clap) over the config file.
    pub fn resolve(opts: &Opts) -> Result<Config, ConfigError> {
        let file = match &opts.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        Self::from_layers(opts, file)
    }

    /// Resolves `opts` over an already parsed `file`.
    pub fn from_layers(opts: &Opts, file: FileConfig) -> Result<Config, ConfigError> {
        let file_name = file.name();
        let file_users_file = file.users_file.as_ref().map(|p| file.relative(p));
        let issuers = resolve_issuers(&file)?;
        let cluster = file.cluster.clone().unwrap_or_default();
        let cluster_on = cluster.enabled.unwrap_or(true);
        let discovery = cluster
            .discovery
            .as_deref()
            .map(|d| d.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "static".into());
        let cluster_dns = match discovery.as_str() {
            "static" => None,
            "dns" => match non_empty(cluster.dns_name.clone()) {
                Some(name) => Some(name),
                None if cluster_on => {
                    return err(
                        "config file: cluster.discovery is `dns` but cluster.dns_name is \
                         missing; set it to name:port (e.g. \
                         mock-idp-headless.default.svc.cluster.local:8081) or set PEERS_DNS",
                    );
                }
                None => None,
            },
            other => {
                return err(format!(
                    "config file: cluster.discovery {other:?} is not supported; use `static` \
                     (with cluster.static_peers) or `dns` (with cluster.dns_name)"
                ));
            }
        };

        let issuer = opts
            .issuer
            .clone()
            .or(file.issuer)
            .unwrap_or_else(|| DEFAULT_ISSUER.into());
        check_url(&issuer, "--issuer / ISSUER")?;
        let token_ttl = opts
            .token_ttl
            .or(file.token_ttl)
            .unwrap_or(DEFAULT_TOKEN_TTL);
        if token_ttl <= 0 {
            return err(format!(
                "--token-ttl / TOKEN_TTL: must be a positive number of seconds, got {token_ttl}"
            ));
        }
        check_max(
            token_ttl.unsigned_abs(),
            1,
            "--token-ttl / TOKEN_TTL",
            "seconds",
        )?;
        let audience = match &opts.audience {
            Some(a) if a.is_empty() => None,
            Some(a) => Some(Audience::One(a.clone())),
            None => file.audience,
        };

        let mut users = file.users.clone().unwrap_or_default();
        let users_file = match (&opts.users_file, file_users_file) {
            (Some(path), _) => {
                users.extend(
                    users::load_users(path)
                        .map_err(|e| ConfigError(format!("{e} (--users / USERS_FILE)")))?,
                );
                Some(path.clone())
            }
            (None, Some(path)) => {
                users.extend(
                    users::load_users(&path)
                        .map_err(|e| ConfigError(format!("{file_name}: users_file: {e}")))?,
                );
                Some(path)
            }
            (None, None) => None,
        };

        let peers = match (&opts.peers, file.peers) {
            (Some(csv), _) => split_csv(csv),
            (None, Some(PeerList::Csv(csv))) => split_csv(&csv),
            (None, Some(PeerList::List(list))) => list,
            (None, None) if cluster_on => cluster.static_peers.clone(),
            (None, None) => Vec::new(),
        };
        for peer in &peers {
            check_url(peer, "--peers / PEERS")?;
            if peer.starts_with("https://") {
                return err(format!(
                    "--peers / PEERS: {peer:?}: peers are fetched over plain HTTP inside the \
                     cluster; give each replica's http:// address"
                ));
            }
        }
        let refresh = opts
            .peer_refresh_sec
            .or(file.peer_refresh_sec)
            .or(cluster.refresh_sec)
            .unwrap_or(DEFAULT_PEER_REFRESH_SEC);
        if refresh == 0 {
            return err("--peer-refresh-sec / PEER_REFRESH_SEC: must be at least 1 second");
        }
        check_max(
            refresh,
            1,
            "--peer-refresh-sec / PEER_REFRESH_SEC",
            "seconds",
        )?;
        let peer_refresh = Duration::from_secs(refresh);
        let peers_dns = match non_empty(opts.peers_dns.clone()) {
            Some(s) => Some(PeerDns::parse(&s, "--peers-dns / PEERS_DNS")?),
            None => match non_empty(file.peers_dns) {
                Some(s) => Some(PeerDns::parse(&s, "config file: peers_dns")?),
                None => match cluster_dns.filter(|_| cluster_on) {
                    Some(s) => Some(PeerDns::parse(&s, "config file: cluster.dns_name")?),
                    None => None,
                },
            },
        };
        let timeout_ms = opts
            .peer_timeout_ms
            .or(file.peer_timeout_ms)
            .unwrap_or(DEFAULT_PEER_TIMEOUT_MS);
        if timeout_ms == 0 {
            return err("--peer-timeout-ms / PEER_TIMEOUT_MS: must be at least 1 millisecond");
        }
        check_max(
            timeout_ms,
            1000,
            "--peer-timeout-ms / PEER_TIMEOUT_MS",
            "milliseconds",
        )?;
        let peer_timeout = Duration::from_millis(timeout_ms);
        let peer_retention = match opts.peer_retention_sec.or(file.peer_retention_sec) {
            Some(0) => {
                return err("--peer-retention-sec / PEER_RETENTION_SEC: must be at least 1 second");
            }
            Some(secs) => {
                check_max(
                    secs,
                    1,
                    "--peer-retention-sec / PEER_RETENTION_SEC",
                    "seconds",
                )?;
                Duration::from_secs(secs)
            }
            None => default_retention(token_ttl, peer_refresh, peer_timeout),
        };

        let cors_origins = match opts.cors_origins.clone().or(file.cors_origins) {
            None => None,
            Some(s) if s.trim() == "*" || s.trim().is_empty() => None,
            Some(s) => {
                let list = split_csv(&s);
                for origin in &list {
                    check_url(origin, "--cors-origins / CORS_ORIGINS")?;
                }
                Some(list)
            }
        };
        let public_url = opts.public_url.clone().or(file.public_url);
        if let Some(url) = &public_url {
            check_url(url, "--public-url / PUBLIC_URL")?;
        }
        let clients = clients::to_map(
            file.clients.unwrap_or_default(),
            &format!("{file_name}: clients"),
        )
        .map_err(ConfigError)?;
        let replay_capacity = opts
            .replay_capacity
            .or(file.replay_capacity)
            .unwrap_or(DEFAULT_REPLAY_CAPACITY);
        if replay_capacity == 0 {
            return err("--replay-capacity / REPLAY_CAPACITY: must be at least 1");
        }
        let seconds = |flag: Option<u64>, file: Option<u64>, default: u64, name: &str| match flag
            .or(file)
            .unwrap_or(default)
        {
            0 => err(format!("{name}: must be at least 1 second")),
            s => check_max(s, 1, name, "seconds").map(|()| Duration::from_secs(s)),
        };
        let header_timeout = seconds(
            opts.header_timeout_sec,
            file.header_timeout_sec,
            DEFAULT_HEADER_TIMEOUT_SEC,
            "--header-timeout-sec / HEADER_TIMEOUT_SEC",
        )?;
        let idle_timeout = seconds(
            opts.idle_timeout_sec,
            file.idle_timeout_sec,
            DEFAULT_IDLE_TIMEOUT_SEC,
            "--idle-timeout-sec / IDLE_TIMEOUT_SEC",
        )?;
        let shutdown_grace = seconds(
            opts.shutdown_grace_sec,
            file.shutdown_grace_sec,
            DEFAULT_SHUTDOWN_GRACE_SEC,
            "--shutdown-grace-sec / SHUTDOWN_GRACE_SEC",
        )?;
        let max_connections = opts
            .max_connections
            .or(file.max_connections)
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        if max_connections == 0 {
            return err("--max-connections / MAX_CONNECTIONS: must be at least 1");
        }
        let alg = match &opts.alg {
            Some(a) => a
                .parse()
                .map_err(|e| ConfigError(format!("--alg / ALG: {e}")))?,
            None => file.alg.unwrap_or(Alg::RS256),
        };
        let hs256_secret = opts
            .hs256_secret
            .clone()
            .or(file.hs256_secret.clone())
            .filter(|s| !s.0.is_empty());
        if alg == Alg::HS256 && hs256_secret.is_none() {
            return err("--alg / ALG: HS256 needs a secret; set --hs256-secret / HS256_SECRET");
        }

        let host = opts
            .host
            .clone()
            .or(file.host)
            .unwrap_or_else(|| DEFAULT_HOST.into());
        check_host(&host)?;
        let authorized_party = non_empty(
            opts.authorized_party
                .clone()
                .or(file.authorized_party.clone()),
        );
        let claims_namespace = non_empty(
            opts.claims_namespace
                .clone()
                .or(file.claims_namespace.clone()),
        );
        let tenant_id = non_empty(opts.tenant_id.clone().or(file.tenant_id.clone()));
        let cognito_region = non_empty(opts.cognito_region.clone().or(file.cognito_region.clone()));
        if let Some(region) = &cognito_region {
            check_region(region, "--cognito-region / COGNITO_REGION")?;
        }

        let auto_renew_threshold = renewal_seconds(
            opts.auto_renew_threshold_seconds
                .or(file.auto_renew_threshold_seconds),
            crate::issuer::lifecycle::DEFAULT_THRESHOLD_SEC,
            "--auto-renew-threshold-seconds / AUTO_RENEW_THRESHOLD_SECONDS",
        )?;
        let auto_renew_interval = renewal_seconds(
            opts.auto_renew_worker_interval
                .or(file.auto_renew_worker_interval),
            crate::issuer::lifecycle::DEFAULT_INTERVAL_SEC,
            "--auto-renew-worker-interval / AUTO_RENEW_WORKER_INTERVAL",
        )?;

        Ok(Config {
            host,
            port: opts.port.or(file.port).unwrap_or(DEFAULT_PORT),
            issuer,
            audience,
            token_ttl,
            kid: non_empty(opts.kid.clone().or(file.kid)),
            persist_keys_dir: opts.persist_keys_dir.clone().or(file.persist_keys_dir),
            users,
            users_file,
            peers,
            peer_refresh,
            peers_dns,
            peer_timeout,
            peer_retention,
            instance_id: non_empty(
                opts.instance_id
                    .clone()
                    .or(file.instance_id)
                    .or(cluster.instance_id),
            ),
            cors_origins,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
            log_format: opts.log_format.or(file.log_format).unwrap_or_default(),
            clients,
            issuers,
            dynamic_issuers: opts
                .dynamic_issuers
                .or(file.dynamic_issuers)
                .unwrap_or(true),
            replay_capacity,
            header_timeout,
            idle_timeout,
            shutdown_grace,
            max_connections,
            profile: opts.profile.or(file.profile).unwrap_or_default(),
            authorized_party,
            claims_namespace,
            tenant_id,
            cognito_region,
            alg,
            hs256_secret,
            auto_renew_threshold,
            auto_renew_interval,
            // An empty ADMIN_TOKEN= is "not set": it never turns off a file's token.
            admin_token: opts
                .admin_token
                .clone()
                .filter(|t| !t.0.is_empty())
                .or(file.admin_token.filter(|t| !t.0.is_empty())),
        })
    }
}

/// A renewal setting: at least 1 second (the original's ticker panics on 0).
fn renewal_seconds(value: Option<u64>, default: u64, name: &str) -> Result<u64, ConfigError> {
    match value.unwrap_or(default) {
        0 => err(format!("{name}: must be at least 1 second")),
        s => Ok(s),
    }
}

/// A Cognito region is `[a-z0-9-]` (it goes into `iss`).
fn check_region(region: &str, name: &str) -> Result<(), ConfigError> {
    if region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(())
    } else {
        err(format!(
            "{name}: {region:?} is not an AWS region name (e.g. us-east-1)"
        ))
    }
}

/// Resolves the `issuers:` section: names checked, files read, values validated.
fn resolve_issuers(file: &FileConfig) -> Result<BTreeMap<String, NamedIssuer>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, spec) in file.issuers.iter().flatten() {
        let place = format!("{}: issuers.{name}", file.name());
        crate::issuer::registry::check_name(name)
            .map_err(|e| ConfigError(format!("{place}: {e}")))?;
        if let Some(iss) = &spec.issuer {
            check_url(iss, &format!("{place}.issuer"))?;
        }
        if let Some(ttl) = spec.token_ttl
            && ttl <= 0
        {
            return err(format!(
                "{place}.token_ttl: must be a positive number of seconds, got {ttl}"
            ));
        }
        if let Some(ttl) = spec.token_ttl {
            check_max(
                ttl.unsigned_abs(),
                1,
                &format!("{place}.token_ttl"),
                "seconds",
            )?;
        }
        let mut users = spec.users.clone();
        if let Some(path) = &spec.users_file {
            let loaded = users::load_users(&file.relative(path))
                .map_err(|e| ConfigError(format!("{place}.users_file: {e}")))?;
            users.get_or_insert_with(Users::new).extend(loaded);
        }
        let clients = match &spec.clients {
            Some(list) => Some(
                clients::to_map(list.clone(), &format!("{place}.clients")).map_err(ConfigError)?,
            ),
            None => None,
        };
        if let Some(region) = &spec.cognito_region {
            check_region(region, &format!("{place}.cognito_region"))?;
        }
        let hs256_secret = spec.hs256_secret.clone().filter(|s| !s.0.is_empty());
        if spec.alg == Some(Alg::HS256) && hs256_secret.is_none() {
            return err(format!("{place}.alg: HS256 needs {place}.hs256_secret"));
        }
        let auto_renew_threshold = match spec.auto_renew_threshold_seconds {
            Some(s) => Some(renewal_seconds(
                Some(s),
                0,
                &format!("{place}.auto_renew_threshold_seconds"),
            )?),
            None => None,
        };
        let auto_renew_interval = match spec.auto_renew_worker_interval {
            Some(s) => Some(renewal_seconds(
                Some(s),
                0,
                &format!("{place}.auto_renew_worker_interval"),
            )?),
            None => None,
        };
        out.insert(
            name.clone(),
            NamedIssuer {
                alg: spec.alg,
                hs256_secret,
                issuer: spec.issuer.clone(),
                audience: spec.audience.clone(),
                token_ttl: spec.token_ttl,
                kid: non_empty(spec.kid.clone()),
                users,
                clients,
                profile: spec.profile,
                authorized_party: non_empty(spec.authorized_party.clone()),
                claims_namespace: non_empty(spec.claims_namespace.clone()),
                tenant_id: non_empty(spec.tenant_id.clone()),
                cognito_region: non_empty(spec.cognito_region.clone()),
                auto_renew_threshold,
                auto_renew_interval,
            },
        );
    }
    Ok(out)
}

/// The bind address must be an IP address or a name that resolves.
fn check_host(host: &str) -> Result<(), ConfigError> {
    use std::net::ToSocketAddrs;
    let looks_numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_numeric && host.parse::<std::net::Ipv4Addr>().is_err() {
        return err(format!(
            "--host / HOST: {host:?} is not a valid IPv4 address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)"
        ));
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    match (host, 0).to_socket_addrs().map(|addrs| addrs.len()) {
        Ok(n) if n > 0 => Ok(()),
        Ok(_) => err(format!("--host / HOST: {host:?} resolves to no address")),
        Err(e) => err(format!(
            "--host / HOST: {host:?} is neither an IP address nor a name that resolves ({e})"
        )),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn split_csv(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn check_url(url: &str, name: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => err(format!(
            "{name}: {url:?} is not an absolute http(s) URL (e.g. http://localhost:8081)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(yaml: &str) -> FileConfig {
        serde_norway::from_str(yaml).unwrap()
    }

    #[test]
    fn defaults() {
        let c = Config::from_layers(&Opts::default(), FileConfig::default()).unwrap();
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.port, 8081);
        assert_eq!(c.issuer, "https://issuer.local");
        assert_eq!(c.token_ttl, 900);
        assert_eq!(c.peer_refresh, Duration::from_secs(30));
        assert!(c.audience.is_none() && c.kid.is_none() && c.peers.is_empty());
    }

    #[test]
    fn flags_win_over_file() {
        let f = file(
            "issuer: http://from-file\nport: 1\ntoken_ttl: 5\nkid: k\npeers: [http://a, http://b]\n\
                      users: {alice: {sub: u_a}}\ncluster: {instance_id: r0, refresh_sec: 7}\n",
        );
        let opts = Opts {
            issuer: Some("http://from-flag".into()),
            ..Default::default()
        };
        let c = Config::from_layers(&opts, f).unwrap();
        assert_eq!(c.issuer, "http://from-flag");
        assert_eq!(c.port, 1);
        assert_eq!(c.token_ttl, 5);
        assert_eq!(c.kid.as_deref(), Some("k"));
        assert_eq!(c.peers, ["http://a", "http://b"]);
        assert_eq!(c.users["alice"].sub.as_deref(), Some("u_a"));
        assert_eq!(c.instance_id.as_deref(), Some("r0"));
        assert_eq!(c.peer_refresh, Duration::from_secs(7));
    }

    #[test]
    fn cluster_static_peers() {
        let f =
            file("cluster: {enabled: true, discovery: static, static_peers: ['http://r0:8081']}");
        let c = Config::from_layers(&Opts::default(), f).unwrap();
        assert_eq!(c.peers, ["http://r0:8081"]);
        let f = file("cluster: {enabled: false, static_peers: ['http://r0:8081']}");
        assert!(
            Config::from_layers(&Opts::default(), f)
                .unwrap()
                .peers
                .is_empty()
        );
        let opts = Opts {
            peers: Some(" http://x:1 , ,http://y:2".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::from_layers(&opts, FileConfig::default())
                .unwrap()
                .peers,
            ["http://x:1", "http://y:2"]
        );
    }

    #[test]
    fn federation_options_and_their_defaults() {
        let c = Config::from_layers(&Opts::default(), FileConfig::default()).unwrap();
        assert!(!c.federation_enabled());
        assert_eq!(c.peer_timeout, Duration::from_millis(2000));
        // TOKEN_TTL 900 + refresh 30 + timeout 2 s.
        assert_eq!(c.peer_retention, Duration::from_secs(932));
        assert_eq!(Config::default().peer_retention, c.peer_retention);

        let opts = Opts {
            peers_dns: Some("mock-idp-headless.ns.svc.cluster.local:8081".into()),
            peer_timeout_ms: Some(1500),
            token_ttl: Some(4),
            peer_refresh_sec: Some(1),
            ..Default::default()
        };
        let c = Config::from_layers(&opts, FileConfig::default()).unwrap();
        assert!(c.federation_enabled());
        let dns = c.peers_dns.unwrap();
        assert_eq!(
            (dns.host.as_str(), dns.port),
            ("mock-idp-headless.ns.svc.cluster.local", 8081)
        );
        assert_eq!(c.peer_timeout, Duration::from_millis(1500));
        assert_eq!(c.peer_retention, Duration::from_secs(4 + 1 + 2));

        let f = file("peer_timeout_ms: 300\npeer_retention_sec: 60\npeers_dns: 'peers.test:9'\n");
        let c = Config::from_layers(&Opts::default(), f).unwrap();
        assert_eq!(c.peer_timeout, Duration::from_millis(300));
        assert_eq!(c.peer_retention, Duration::from_secs(60));
        assert_eq!(c.peers_dns.unwrap().to_string(), "peers.test:9");
        // Empty env values (Kubernetes templates) mean "unset".
        let opts = Opts {
            peers_dns: Some(String::new()),
            peers: Some(String::new()),
            ..Default::default()
        };
        assert!(
            !Config::from_layers(&opts, FileConfig::default())
                .unwrap()
                .federation_enabled()
        );
    }

    #[test]
    fn cluster_dns_discovery() {
        let f = file(
            "cluster: {enabled: true, discovery: dns, dns_name: 'mock-idp-headless:8081', \
             refresh_sec: 5, instance_id: r0}",
        );
        let c = Config::from_layers(&Opts::default(), f).unwrap();
        assert_eq!(
            c.peers_dns.as_ref().unwrap().to_string(),
            "mock-idp-headless:8081"
        );
        assert!(c.peers.is_empty());
        assert_eq!(c.peer_refresh, Duration::from_secs(5));
        // PEERS_DNS wins over the file.
        let opts = Opts {
            peers_dns: Some("other:1".into()),
            ..Default::default()
        };
        let f = file("cluster: {discovery: dns, dns_name: 'mock-idp-headless:8081'}");
        let c = Config::from_layers(&opts, f).unwrap();
        assert_eq!(c.peers_dns.unwrap().to_string(), "other:1");
        // Disabled section: nothing.
        let f = file("cluster: {enabled: false, discovery: dns}");
        assert!(
            !Config::from_layers(&Opts::default(), f)
                .unwrap()
                .federation_enabled()
        );
        assert_eq!(
            PeerDns::parse("[::1]:8081", "X").unwrap().to_string(),
            "[::1]:8081"
        );
    }

    #[test]
    fn bad_federation_values_name_the_key() {
        let cases = [
            ("cluster: {discovery: dns}", "cluster.dns_name"),
            ("cluster: {discovery: consul}", "cluster.discovery"),
            (
                "cluster: {discovery: dns, dns_name: 'no-port'}",
                "cluster.dns_name",
            ),
            ("peers_dns: 'http://x:1'", "peers_dns"),
        ];
        for (yaml, name) in cases {
            let e = Config::from_layers(&Opts::default(), file(yaml))
                .unwrap_err()
                .to_string();
            assert!(e.contains(name), "{yaml}: {e}");
        }
    }

    /// `Opts` with one field changed.
    fn opts(set: impl FnOnce(&mut Opts)) -> Opts {
        let mut o = Opts::default();
        set(&mut o);
        o
    }

    #[test]
    fn bad_values_name_the_option() {
        let cases = [
            (opts(|o| o.token_ttl = Some(0)), "TOKEN_TTL"),
            (opts(|o| o.issuer = Some("issuer.local".into())), "ISSUER"),
            (opts(|o| o.host = Some("999.1.1.1".into())), "HOST"),
            (
                opts(|o| o.host = Some("no-such-host.invalid".into())),
                "HOST",
            ),
            (opts(|o| o.peers = Some("a:1".into())), "PEERS"),
            (opts(|o| o.peers = Some("https://a:8081".into())), "PEERS"),
            (opts(|o| o.peer_refresh_sec = Some(0)), "PEER_REFRESH_SEC"),
            (
                opts(|o| o.cors_origins = Some("nope".into())),
                "CORS_ORIGINS",
            ),
            (opts(|o| o.public_url = Some("/x".into())), "PUBLIC_URL"),
            (
                opts(|o| o.users_file = Some("/nonexistent.yaml".into())),
                "USERS_FILE",
            ),
            (
                opts(|o| o.peers_dns = Some("name-without-port".into())),
                "PEERS_DNS",
            ),
            (opts(|o| o.peers_dns = Some("name:0".into())), "PEERS_DNS"),
            (opts(|o| o.peers_dns = Some(":8081".into())), "PEERS_DNS"),
            (opts(|o| o.peer_timeout_ms = Some(0)), "PEER_TIMEOUT_MS"),
            (
                opts(|o| o.peer_retention_sec = Some(0)),
                "PEER_RETENTION_SEC",
            ),
        ];
        for (opts, name) in cases {
            let e = Config::from_layers(&opts, FileConfig::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
    }

    #[test]
    fn durations_over_100_years_are_refused_not_overflowed() {
        let max = MAX_SECONDS;
        let cases = [
            (opts(|o| o.token_ttl = Some(i64::MAX)), "TOKEN_TTL"),
            (
                opts(|o| o.peer_refresh_sec = Some(u64::MAX)),
                "PEER_REFRESH_SEC",
            ),
            (
                opts(|o| o.peer_timeout_ms = Some(u64::MAX)),
                "PEER_TIMEOUT_MS",
            ),
            (
                opts(|o| o.peer_retention_sec = Some(max + 1)),
                "PEER_RETENTION_SEC",
            ),
            (
                opts(|o| o.header_timeout_sec = Some(u64::MAX)),
                "HEADER_TIMEOUT_SEC",
            ),
            (
                opts(|o| o.idle_timeout_sec = Some(u64::MAX)),
                "IDLE_TIMEOUT_SEC",
            ),
            (
                opts(|o| o.shutdown_grace_sec = Some(max + 1)),
                "SHUTDOWN_GRACE_SEC",
            ),
        ];
        for (opts, name) in cases {
            let e = Config::from_layers(&opts, FileConfig::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(name) && e.contains("100 years"), "{name}: {e}");
        }
        let e = Config::from_layers(
            &Opts::default(),
            file("issuers: {t: {token_ttl: 3155760001}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("issuers.t.token_ttl"), "{e}");
        // The largest values are accepted, and their sum does not overflow.
        let c = Config::from_layers(
            &opts(|o| {
                o.token_ttl = Some(crate::claims::MAX_EXPIRES_IN);
                o.peer_refresh_sec = Some(max);
                o.peer_timeout_ms = Some(max * 1000);
                o.idle_timeout_sec = Some(max);
            }),
            FileConfig::default(),
        )
        .unwrap();
        assert_eq!(c.peer_retention, Duration::from_secs(3 * max));
    }

    #[test]
    fn unknown_keys_are_rejected_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mock-idp.yaml");
        std::fs::write(&path, "issuer: http://x\ntoken_tll: 5\n").unwrap();
        let e = load_file(&path).unwrap_err().to_string();
        assert!(
            e.contains("mock-idp.yaml") && e.contains("token_tll"),
            "{e}"
        );
        std::fs::write(&path, "clients: [{client_id: web, secret: x}]").unwrap();
        let e = load_file(&path).unwrap_err().to_string();
        assert!(e.contains("secret"), "{e}");
        std::fs::write(&path, "").unwrap();
        assert!(load_file(&path).is_ok());
        let e = load_file(&dir.path().join("missing.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing.yaml") && e.contains("CONFIG_FILE"),
            "{e}"
        );
    }

    #[test]
    fn admin_token_flag_over_file_empty_is_unset_and_debug_hides_it() {
        let f = || file("admin_token: from-file-t0ken\n");
        let c = Config::from_layers(&Opts::default(), f()).unwrap();
        assert_eq!(
            c.admin_token.as_ref().map(|t| t.0.as_str()),
            Some("from-file-t0ken")
        );
        let flag = opts(|o| o.admin_token = Some(Secret("flag-t0ken".to_string())));
        let c = Config::from_layers(&flag, f()).unwrap();
        assert!(
            c.admin_token
                .as_ref()
                .is_some_and(|t| t.matches("flag-t0ken"))
        );
        assert!(
            !c.admin_token
                .as_ref()
                .is_some_and(|t| t.matches("flag-t0ke"))
        );
        for shown in [format!("{c:?}"), format!("{flag:?}"), format!("{:?}", f())] {
            assert!(!shown.contains("t0ken"), "{shown}");
            assert!(shown.contains("admin_token: Some(<hidden>)"), "{shown}");
        }
        let empty = opts(|o| o.admin_token = Some(Secret(String::new())));
        assert!(
            Config::from_layers(&empty, FileConfig::default())
                .unwrap()
                .admin_token
                .is_none()
        );
        let c = Config::from_layers(&empty, f()).unwrap();
        assert!(
            c.admin_token.is_some_and(|t| t.matches("from-file-t0ken")),
            "file token kept"
        );
    }

    #[test]
    fn client_debug_hides_secret() {
        let c = ClientConfig {
            client_id: "web".into(),
            client_secret: Some("s3cret".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn issuers_section_resolves_names_files_and_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("team.yaml"), "carol: {sub: u_c}\n").unwrap();
        let path = dir.path().join("mock-idp.yaml");
        std::fs::write(
            &path,
            concat!(
                "issuers:\n",
                "  tenant-a: {audience: api-a, token_ttl: 60, users_file: team.yaml}\n",
                "  b: {issuer: 'http://b.test', clients: [{client_id: web}]}\n",
                "dynamic_issuers: false\nreplay_capacity: 5\n",
            ),
        )
        .unwrap();
        let c = Config::from_layers(&Opts::default(), load_file(&path).unwrap()).unwrap();
        assert!(!c.dynamic_issuers);
        assert_eq!(c.replay_capacity, 5);
        let a = &c.issuers["tenant-a"];
        assert_eq!(a.token_ttl, Some(60));
        assert_eq!(
            a.users.as_ref().unwrap()["carol"].sub.as_deref(),
            Some("u_c")
        );
        assert!(a.clients.is_none() && a.issuer.is_none());
        assert_eq!(c.issuers["b"].clients.as_ref().unwrap().len(), 1);

        let cases = [
            (
                "issuers: {token: {}}",
                "issuers.token: the name is reserved",
            ),
            ("issuers: {'a b': {}}", "issuers.a b: issuer names are"),
            ("issuers: {a: {token_ttl: 0}}", "issuers.a.token_ttl"),
            ("issuers: {a: {issuer: nope}}", "issuers.a.issuer"),
            (
                "issuers: {a: {users_file: missing.yaml}}",
                "issuers.a.users_file",
            ),
            (
                "issuers: {a: {clients: [{client_id: x}, {client_id: x}]}}",
                "issuers.a.clients[1]",
            ),
            ("issuers: {a: {tokn_ttl: 5}}", "unknown field `tokn_ttl`"),
            (
                "issuers: {a: {profile: okta}}",
                "unknown profile \"okta\"; the profiles are: clerk",
            ),
            (
                "issuers: {a: {cognito_region: 'US East'}}",
                "issuers.a.cognito_region",
            ),
            ("users_file: missing.yaml", "users_file"),
        ];
        for (yaml, want) in cases {
            std::fs::write(&path, yaml).unwrap();
            let e = load_file(&path)
                .and_then(|f| Config::from_layers(&Opts::default(), f))
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{yaml}: {e}");
            assert!(
                e.contains("mock-idp.yaml"),
                "{yaml}: {e} should name the file"
            );
        }
        // A relative users_file is read from the config file's directory.
        std::fs::write(&path, "users_file: team.yaml").unwrap();
        let c = Config::from_layers(&Opts::default(), load_file(&path).unwrap()).unwrap();
        assert!(c.users.contains_key("carol"));
    }

    #[test]
    fn profile_settings_root_and_named() {
        let c = Config::from_layers(
            &Opts::default(),
            file("profile: auth0\nauthorized_party: http://app\nclaims_namespace: https://ns/\n\
                  issuers:\n  kc: {profile: keycloak, tenant_id: t1, cognito_region: eu-west-1}\n  plain: {}\n"),
        )
        .unwrap();
        assert_eq!(c.profile, Profile::Auth0);
        assert_eq!(c.authorized_party.as_deref(), Some("http://app"));
        assert_eq!(c.claims_namespace.as_deref(), Some("https://ns/"));
        let kc = &c.issuers["kc"];
        assert_eq!(kc.profile, Some(Profile::Keycloak));
        assert_eq!(
            (kc.tenant_id.as_deref(), kc.cognito_region.as_deref()),
            (Some("t1"), Some("eu-west-1"))
        );
        assert_eq!(c.issuers["plain"].profile, None, "inherited when built");
        let opts = Opts {
            profile: Some(Profile::Google),
            cognito_region: Some("Not A Region".into()),
            ..Opts::default()
        };
        let e = Config::from_layers(&opts, FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--cognito-region / COGNITO_REGION"), "{e}");
        let opts = Opts {
            profile: Some(Profile::Google),
            ..Opts::default()
        };
        let c = Config::from_layers(&opts, file("profile: entra")).unwrap();
        assert_eq!(c.profile, Profile::Google, "the flag wins over the file");
    }
}
