//! Command line: every option is a flag and an environment variable (the
//! flag wins); a YAML config file (`--config`) is the lowest layer. Options
//! are `Option`s here so [`crate::config`] can tell "not given" from a default.
//!
//! The doc comments of the options are their `--help` text, written for a
//! terminal: `[default: ...]` is not a link, a URL stays bare.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::profiles::Profile;

/// A mock OAuth 2.0 / OpenID Connect identity provider for test stacks.
/// Never run it in production: it refuses to start when NODE_ENV or APP_ENV
/// is production/prod.
#[derive(Debug, Parser)]
#[command(name = "mock-idp", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options shared by every subcommand.
    #[command(flatten)]
    pub opts: Opts,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Run the identity provider (the default).
    Serve,
    /// GET /health on the configured host and port; exit 0 when it answers
    /// 200, 1 otherwise (for container images without a shell).
    Healthcheck,
    /// Print a token signed with the key persisted in PERSIST_KEYS_DIR, with
    /// no server: the compact JWT and a newline on stdout. The fields are
    /// those of `POST /token`; ISSUER, AUDIENCE, TOKEN_TTL, USERS_FILE,
    /// CONFIG_FILE, KID, INSTANCE_ID, ALG (the algorithm), HS256_SECRET...
    /// apply as they do to the server. It never creates a key: with no key
    /// there it exits 2 saying what to do. Refused (exit 78) when NODE_ENV
    /// or APP_ENV says production.
    Mint(Box<MintArgs>),
    /// Print the JWKS of the key persisted in PERSIST_KEYS_DIR for the
    /// issuer's algorithm (ALG): the JSON a server with these settings
    /// serves at /.well-known/jwks.json when it starts (no peers). It never
    /// creates a key.
    Jwks(JwksArgs),
    /// Decode a JWT and say what a verifier would complain about: prints
    /// {"header", "payload", "signature": "valid"|"invalid"|"unchecked",
    /// "problems": [...]}. Exit 0 unless the signature is invalid or the
    /// token is malformed (1); 2 when the JWKS cannot be read.
    Decode(DecodeArgs),
}

/// `mock-idp mint`: the fields of a `POST /token` mint request.
#[derive(Debug, Clone, Default, Args, PartialEq, Eq)]
#[command(next_help_heading = "Token fields (those of POST /token)")]
pub struct MintArgs {
    /// Subject [default: the persona's, else user_default].
    #[arg(long)]
    pub sub: Option<String>,
    /// A persona of the users file (USERS_FILE or `users:`); its fields are the base.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Claim shape: any profile (clerk, plain, auth0, keycloak, entra, google,
    /// cognito, jwt-auth-service) [default: the issuer's profile, clerk].
    #[arg(long)]
    pub preset: Option<String>,
    /// Organisation id (`o.id` with clerk, `org_id` with plain).
    #[arg(long)]
    pub org_id: Option<String>,
    /// Organisation role, e.g. org:admin (`o.rol` without `org:` with clerk).
    #[arg(long)]
    pub org_role: Option<String>,
    /// Organisation slug (`o.slg` with clerk, `org_slug` with plain).
    #[arg(long)]
    pub org_slug: Option<String>,
    /// Audience; repeat it for several (`--aud a --aud b` gives an array,
    /// one gives a string; commas are not split) [default: AUDIENCE].
    #[arg(long, value_name = "AUD")]
    pub aud: Vec<String>,
    /// `iss` of this token [default: ISSUER; for a named issuer, its `issuer:`
    /// or PUBLIC_URL/{name}].
    #[arg(long, value_name = "URL")]
    pub iss: Option<String>,
    /// Authorized party (`azp`).
    #[arg(long)]
    pub azp: Option<String>,
    /// Space-separated scopes (`scope` claim).
    #[arg(long)]
    pub scope: Option<String>,
    /// Lifetime in seconds; negative mints an already expired token
    /// (`--expires-in=-600`) [default: TOKEN_TTL].
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub expires_in: Option<i64>,
    /// Claims merged last, as a JSON object (`null` removes a claim), or
    /// @FILE to read the object from a file.
    #[arg(long, value_name = "JSON")]
    pub claims: Option<String>,
    /// A deliberately broken token: expired, not_yet_valid, wrong_issuer,
    /// wrong_audience, bad_signature, unknown_kid, no_kid, alg_none,
    /// hs256_key_confusion, missing_exp, missing_sub, wrong_typ
    /// (`GET /token/variants` describes them).
    #[arg(long)]
    pub variant: Option<String>,
    /// JOSE `typ` [default: JWT]; `at+jwt` also adds the RFC 9068 claims.
    #[arg(long)]
    pub typ: Option<String>,
    /// `client_id` claim of an `at+jwt` token [default: azp, else sub].
    #[arg(long)]
    pub client_id: Option<String>,
    /// Mint for the named issuer NAME (`/{NAME}/...` on the server), with its
    /// key from PERSIST_KEYS_DIR/NAME [default: the root issuer].
    #[arg(long, value_name = "NAME")]
    pub issuer_name: Option<String>,
}

/// `mock-idp jwks`.
#[derive(Debug, Clone, Default, Args, PartialEq, Eq)]
pub struct JwksArgs {
    /// The JWKS of the named issuer NAME, from PERSIST_KEYS_DIR/NAME
    /// [default: the root issuer].
    #[arg(long, value_name = "NAME")]
    pub issuer_name: Option<String>,
}

/// `mock-idp decode`.
#[derive(Debug, Clone, Default, Args, PartialEq, Eq)]
pub struct DecodeArgs {
    /// The JWT; `-` reads it from stdin (a `Bearer ` prefix and surrounding
    /// whitespace are ignored).
    #[arg(value_name = "TOKEN")]
    pub token: String,
    /// Check the signature against this JWKS: an http:// URL (fetched with
    /// a 5 s timeout, at most 4 MiB, no redirects; https is not supported,
    /// download it and pass the file) or a file [default: signature unchecked].
    #[arg(long, value_name = "URL|FILE")]
    pub jwks: Option<String>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Every option of `mock-idp`; the default is given where one exists.
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Settings (each a flag and an environment variable)")]
pub struct Opts {
    /// YAML config file (lowest precedence; unknown keys are an error).
    #[arg(long, env = "CONFIG_FILE", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bind address [default: 127.0.0.1; the container image sets 0.0.0.0].
    #[arg(long, env = "HOST", global = true)]
    pub host: Option<String>,
    /// Bind port; 0 picks any free port [default: 8081].
    #[arg(long, env = "PORT", global = true)]
    pub port: Option<u16>,
    /// `iss` of minted tokens and of discovery [default: https://issuer.local].
    #[arg(long, env = "ISSUER", global = true, value_name = "URL")]
    pub issuer: Option<String>,
    /// Default `aud` of minted tokens [default: none, no `aud` claim].
    #[arg(long, env = "AUDIENCE", global = true)]
    pub audience: Option<String>,
    /// Seconds until `exp` [default: 900].
    #[arg(long, env = "TOKEN_TTL", global = true, value_name = "SECONDS")]
    pub token_ttl: Option<i64>,
    /// Fixed key id; `dev-key` reproduces the classic fixed id [default: RFC 7638 thumbprint].
    /// A value may start with `-` (a thumbprint can).
    #[arg(long, env = "KID", global = true, allow_hyphen_values = true)]
    pub kid: Option<String>,
    /// Directory for private.pem/public.pem so restarts keep the key [default: key in memory only].
    #[arg(long, env = "PERSIST_KEYS_DIR", global = true, value_name = "DIR")]
    pub persist_keys_dir: Option<PathBuf>,
    /// Personas file (YAML or JSON): name -> {sub, org_id, org_role, org_slug, claims, ...}.
    #[arg(long = "users", env = "USERS_FILE", global = true, value_name = "FILE")]
    pub users_file: Option<PathBuf>,
    /// Comma-separated peer base URLs (`http://host:port`); enables key
    /// federation. This replica's own URL may be listed: it is recognised and skipped.
    #[arg(long, env = "PEERS", global = true, value_name = "URLS")]
    pub peers: Option<String>,
    /// How often peers' keys are fetched, in seconds [default: 30].
    #[arg(long, env = "PEER_REFRESH_SEC", global = true, value_name = "SECONDS")]
    pub peer_refresh_sec: Option<u64>,
    /// Prefix of this replica's `kid` (e.g. the pod name).
    #[arg(long, env = "INSTANCE_ID", global = true)]
    pub instance_id: Option<String>,
    /// `name:port` resolved on every refresh; each address is a peer
    /// `http://ip:port` (e.g. a Kubernetes headless Service). Enables key
    /// federation; combines with --peers.
    #[arg(long, env = "PEERS_DNS", global = true, value_name = "NAME:PORT")]
    pub peers_dns: Option<String>,
    /// Timeout of one peer key fetch (connect + response), in milliseconds [default: 2000].
    #[arg(long, env = "PEER_TIMEOUT_MS", global = true, value_name = "MS")]
    pub peer_timeout_ms: Option<u64>,
    /// How long a peer's key is still served after it was last fetched
    /// successfully, in seconds [default: TOKEN_TTL + PEER_REFRESH_SEC + the
    /// fetch timeout, rounded up]. Raise it when tokens are minted with a longer
    /// `expires_in` than TOKEN_TTL.
    #[arg(
        long,
        env = "PEER_RETENTION_SEC",
        global = true,
        value_name = "SECONDS"
    )]
    pub peer_retention_sec: Option<u64>,
    /// Comma-separated origins allowed by CORS, or `*` [default: *].
    #[arg(long, env = "CORS_ORIGINS", global = true, value_name = "ORIGINS")]
    pub cors_origins: Option<String>,
    /// Base URL for endpoint URLs in discovery [default: taken from each request's Host].
    #[arg(long, env = "PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Log format [default: text]. Verbosity comes from RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Create a named issuer the first time a request uses `/{name}/...`
    /// (true/false) [default: true]. With false, only issuers declared under
    /// `issuers:` in the config file exist.
    #[arg(
        long,
        env = "DYNAMIC_ISSUERS",
        global = true,
        value_name = "BOOL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub dynamic_issuers: Option<bool>,
    /// How many used codes, rotated refresh tokens and revoked tokens each
    /// issuer remembers until they expire; when full of live entries, what
    /// must remember one more answers `temporarily_unavailable` [default: 100000].
    #[arg(long, env = "REPLAY_CAPACITY", global = true, value_name = "N")]
    pub replay_capacity: Option<usize>,
    /// A request whose head (or then its body) is not complete this long
    /// after its first byte is dropped and its connection closed, in seconds [default: 10].
    #[arg(
        long,
        env = "HEADER_TIMEOUT_SEC",
        global = true,
        value_name = "SECONDS"
    )]
    pub header_timeout_sec: Option<u64>,
    /// A connection waiting for its first or next request is closed after
    /// this many seconds [default: 60].
    #[arg(long, env = "IDLE_TIMEOUT_SEC", global = true, value_name = "SECONDS")]
    pub idle_timeout_sec: Option<u64>,
    /// On SIGTERM/ctrl-c: stop accepting, answer every request that reached
    /// the server, close idle connections at once and the rest after this
    /// many seconds, then exit 0 [default: 10].
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SEC",
        global = true,
        value_name = "SECONDS"
    )]
    pub shutdown_grace_sec: Option<u64>,
    /// The root issuer's default signing algorithm: RS256, RS384, RS512,
    /// PS256, PS384, PS512, ES256, ES384, EdDSA or HS256 (needs HS256_SECRET)
    /// [default: RS256]. A request may ask for another with `alg`.
    #[arg(long, env = "ALG", global = true, value_name = "ALG")]
    pub alg: Option<String>,
    /// The root issuer's HS256 secret (never published; enables `alg: HS256`).
    #[arg(
        long,
        env = "HS256_SECRET",
        global = true,
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub hs256_secret: Option<crate::issuer::Secret>,
    /// Connections served at once; beyond it new ones wait in the listen
    /// backlog (one warning line) [default: 10000].
    #[arg(long, env = "MAX_CONNECTIONS", global = true, value_name = "N")]
    pub max_connections: Option<usize>,
    /// The root issuer's profile: claim shape, paths and discovery of a
    /// provider (clerk, plain, auth0, keycloak, entra, google, cognito,
    /// jwt-auth-service) [default: clerk]. Named issuers inherit it.
    #[arg(long, env = "PROFILE", global = true, value_name = "NAME")]
    pub profile: Option<Profile>,
    /// Default `azp` of Clerk session tokens when the request names none
    /// and sends no Origin header (e.g. http://localhost:3000) [default: none].
    #[arg(long, env = "AUTHORIZED_PARTY", global = true, value_name = "URL")]
    pub authorized_party: Option<String>,
    /// Auth0 profile: prefix of the namespaced `roles`/`groups` claims
    /// [default: https://mock-idp.local/].
    #[arg(long, env = "CLAIMS_NAMESPACE", global = true, value_name = "PREFIX")]
    pub claims_namespace: Option<String>,
    /// Entra profile: the root issuer's tenant id (`tid`, `iss`) [default:
    /// a UUID v5 of the issuer name].
    #[arg(long, env = "TENANT_ID", global = true, value_name = "GUID")]
    pub tenant_id: Option<String>,
    /// Cognito profile: the root issuer's AWS region in `iss` [default: the
    /// issuer name's `<region>_` prefix, else us-east-1].
    #[arg(long, env = "COGNITO_REGION", global = true, value_name = "REGION")]
    pub cognito_region: Option<String>,
    /// Token lifecycle (jwt-auth-service profile): renew a child once it
    /// has this many seconds or fewer to live [default: 120]. Named issuers
    /// inherit it (`auto_renew_threshold_seconds`).
    #[arg(
        long,
        env = "AUTO_RENEW_THRESHOLD_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub auto_renew_threshold_seconds: Option<u64>,
    /// Token lifecycle (jwt-auth-service profile): how often the renewal
    /// worker looks, in seconds [default: 30]. Named issuers inherit it
    /// (`auto_renew_worker_interval`).
    #[arg(
        long,
        env = "AUTO_RENEW_WORKER_INTERVAL",
        global = true,
        value_name = "SECONDS"
    )]
    pub auto_renew_worker_interval: Option<u64>,
    /// Bearer token every `<issuer>/_admin` call must present
    /// (`Authorization: Bearer <token>`); token minting stays open
    /// [default: unset, the test controls are open].
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<crate::issuer::Secret>,
}
