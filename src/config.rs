//! The resolved [`Config`]: config file < environment < flags, validated, with
//! every default filled in. Errors name the flag, variable or file and say
//! what to do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::claims::{Audience, Users, users};
use crate::cli::{LogFormat, Opts};

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
    /// Peer base URLs (`PEERS`, or `cluster.static_peers`).
    pub peers: Vec<String>,
    /// How often peers are fetched (`PEER_REFRESH_SEC`).
    pub peer_refresh: Duration,
    /// Prefix of this replica's `kid` (`INSTANCE_ID`).
    pub instance_id: Option<String>,
    /// CORS allowed origins; `None` = any (`CORS_ORIGINS`).
    pub cors_origins: Option<Vec<String>>,
    /// Base URL of endpoint URLs in discovery; `None` = from the request (`PUBLIC_URL`).
    pub public_url: Option<String>,
    /// Log format (`LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Registered OAuth clients (config file `clients:`); empty = any client accepted.
    pub clients: Vec<ClientConfig>,
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
            peers: Vec::new(),
            peer_refresh: Duration::from_secs(DEFAULT_PEER_REFRESH_SEC),
            instance_id: None,
            cors_origins: None,
            public_url: None,
            log_format: LogFormat::Text,
            clients: Vec::new(),
        }
    }
}

/// A registered OAuth client (RFC 7591 field names), from the config file.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Client identifier.
    pub client_id: String,
    /// Secret; none = public client (PKCE required).
    pub client_secret: Option<String>,
    /// Allowed redirect URIs (exact match).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Allowed grant types; empty = all.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Where `GET /logout` may send the browser (besides `redirect_uris`).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Display name on the login page.
    pub client_name: Option<String>,
    /// Default scope granted when none is asked.
    pub scope: Option<String>,
    /// Default `aud` of this client's tokens.
    pub audience: Option<Audience>,
    /// Claims added to this client's tokens.
    #[serde(default)]
    pub claims: Map<String, Value>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<hidden>"),
            )
            .field("redirect_uris", &self.redirect_uris)
            .field("grant_types", &self.grant_types)
            .finish_non_exhaustive()
    }
}

/// Stoke-shaped `cluster:` section of the config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Federation on/off (default on when the section lists peers).
    pub enabled: Option<bool>,
    /// `static` (default) or `dns`.
    pub discovery: Option<String>,
    /// `name:port` resolved on every refresh when `discovery: dns`.
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
    serde_norway::from_str::<Option<FileConfig>>(&text)
        .map(Option::unwrap_or_default)
        .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))
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
        let cluster = file.cluster.clone().unwrap_or_default();
        let cluster_on = cluster.enabled.unwrap_or(true);
        if cluster_on && cluster.discovery.as_deref().is_some_and(|d| d != "static") {
            return err(format!(
                "config file: cluster.discovery {:?} is not supported; use `static` with \
                 cluster.static_peers, or PEERS",
                cluster.discovery.as_deref().unwrap_or_default()
            ));
        }

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
        let audience = match &opts.audience {
            Some(a) if a.is_empty() => None,
            Some(a) => Some(Audience::One(a.clone())),
            None => file.audience,
        };

        let mut users = file.users.unwrap_or_default();
        if let Some(path) = opts.users_file.as_ref().or(file.users_file.as_ref()) {
            let from_file = users::load_users(path)
                .map_err(|e| ConfigError(format!("{e} (--users / USERS_FILE)")))?;
            users.extend(from_file);
        }

        let peers = match (&opts.peers, file.peers) {
            (Some(csv), _) => split_csv(csv),
            (None, Some(PeerList::Csv(csv))) => split_csv(&csv),
            (None, Some(PeerList::List(list))) => list,
            (None, None) if cluster_on => cluster.static_peers.clone(),
            (None, None) => Vec::new(),
        };
        for peer in &peers {
            check_url(peer, "--peers / PEERS")?;
        }
        let refresh = opts
            .peer_refresh_sec
            .or(file.peer_refresh_sec)
            .or(cluster.refresh_sec)
            .unwrap_or(DEFAULT_PEER_REFRESH_SEC);
        if refresh == 0 {
            return err("--peer-refresh-sec / PEER_REFRESH_SEC: must be at least 1 second");
        }

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
        let clients = file.clients.unwrap_or_default();
        for (i, c) in clients.iter().enumerate() {
            if c.client_id.trim().is_empty() {
                return err(format!("config file: clients[{i}].client_id is empty"));
            }
        }

        Ok(Config {
            host: opts
                .host
                .clone()
                .or(file.host)
                .unwrap_or_else(|| DEFAULT_HOST.into()),
            port: opts.port.or(file.port).unwrap_or(DEFAULT_PORT),
            issuer,
            audience,
            token_ttl,
            kid: non_empty(opts.kid.clone().or(file.kid)),
            persist_keys_dir: opts.persist_keys_dir.clone().or(file.persist_keys_dir),
            users,
            peers,
            peer_refresh: Duration::from_secs(refresh),
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
        })
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
    fn bad_values_name_the_option() {
        let cases = [
            (
                Opts {
                    token_ttl: Some(0),
                    ..Default::default()
                },
                "TOKEN_TTL",
            ),
            (
                Opts {
                    issuer: Some("issuer.local".into()),
                    ..Default::default()
                },
                "ISSUER",
            ),
            (
                Opts {
                    peers: Some("a:1".into()),
                    ..Default::default()
                },
                "PEERS",
            ),
            (
                Opts {
                    peer_refresh_sec: Some(0),
                    ..Default::default()
                },
                "PEER_REFRESH_SEC",
            ),
            (
                Opts {
                    cors_origins: Some("nope".into()),
                    ..Default::default()
                },
                "CORS_ORIGINS",
            ),
            (
                Opts {
                    public_url: Some("/x".into()),
                    ..Default::default()
                },
                "PUBLIC_URL",
            ),
            (
                Opts {
                    users_file: Some("/nonexistent.yaml".into()),
                    ..Default::default()
                },
                "USERS_FILE",
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
    fn client_debug_hides_secret() {
        let c = ClientConfig {
            client_id: "web".into(),
            client_secret: Some("s3cret".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
