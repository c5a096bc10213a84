//! # Offline commands: `mock-idp mint`, `jwks` and `decode`
//!
//! For shell scripts and CI jobs with no server running. None of them binds
//! a port, contacts a peer or writes a file.
//!
//! - `mint` builds the root issuer (or the named issuer `--issuer-name`)
//!   exactly as `serve` does ([`Registry::from_config`], so every option,
//!   variable and config file applies), gives it the key persisted in
//!   `PERSIST_KEYS_DIR` ([`persist::load_existing`], which never creates
//!   one) and mints through [`Issuer::mint`]: the claims are those
//!   `POST /token` gives for the same fields. Refused in production
//!   ([`guard`], exit 78) like `serve`: a production environment must not
//!   mint mock tokens, even offline.
//! - `jwks` prints that key's JWKS, byte for byte what the server serves at
//!   `/.well-known/jwks.json` when it has no peers.
//! - [`decode`]: header, payload, signature check and what a verifier would
//!   complain about.
//!
//! Exit codes: [`CmdError::exit_code`] (`decode` also exits 1 for an invalid
//! signature or a malformed token).

pub mod decode;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::claims::{Audience, MintRequest, Profile, Variant};
use crate::cli::{DecodeArgs, JwksArgs, LogFormat, MintArgs, Opts};
use crate::config::Config;
use crate::issuer::registry::{At, Registry};
use crate::issuer::{ErrorCode, Issuer, OAuthError, RequestCtx};
use crate::keys::persist::{self, PersistError};
use crate::keys::{Alg, SigningKey};
use crate::prod_guard;

/// Why an offline command failed.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// A bad flag value, variable or config file, or no persisted key:
    /// the message names it and says what to do (exit 2).
    #[error("{0}")]
    Usage(String),
    /// `NODE_ENV`/`APP_ENV` says production (exit 78).
    #[error("{0}")]
    Production(String),
    /// The persisted key file is unusable (exit 1, as for `serve`).
    #[error(transparent)]
    Key(#[from] PersistError),
    /// Anything else that failed (exit 1).
    #[error(transparent)]
    Failed(anyhow::Error),
}

impl CmdError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CmdError::Usage(_) => 2,
            CmdError::Production(_) => prod_guard::EXIT_CODE,
            CmdError::Key(_) | CmdError::Failed(_) => 1,
        }
    }
}

/// `mock-idp mint`: prints the token and a newline, or one error line.
pub fn mint_cmd(opts: &Opts, args: &MintArgs) -> ExitCode {
    init_logging(opts.log_format);
    finish(
        "mint",
        mint(opts, args, |var| std::env::var(var).ok()).map(|token| println!("{token}")),
    )
}

/// `mock-idp jwks`: prints the JWKS and a newline, or one error line.
pub fn jwks_cmd(opts: &Opts, args: &JwksArgs) -> ExitCode {
    init_logging(opts.log_format);
    finish("jwks", jwks(opts, args).map(|json| println!("{json}")))
}

/// `mock-idp decode`: prints the report (exit 0, or 1 for an invalid
/// signature or a malformed token), or one error line (exit 2).
pub fn decode_cmd(opts: &Opts, args: &DecodeArgs) -> ExitCode {
    init_logging(opts.log_format);
    let secret = opts.hs256_secret.as_ref().map(|s| s.0.as_bytes());
    match decode::run(args, secret, std::io::stdin().lock(), crate::unix_now()) {
        Ok(report) => {
            println!("{}", report.to_json());
            ExitCode::from(report.exit_code())
        }
        Err(e) => finish("decode", Err(e)),
    }
}

fn finish(command: &str, result: Result<(), CmdError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            // `{:#}` prints each cause of the chain once, on one line.
            eprintln!("mock-idp {command}: {:#}", anyhow::Error::from(e));
            ExitCode::from(code)
        }
    }
}

/// Logs to stderr (stdout carries only the result): warnings by default,
/// `RUST_LOG` for more.
fn init_logging(format: Option<LogFormat>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("mock_idp=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is not an error worth reporting.
    let _ = match format.unwrap_or_default() {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The production guard of `mint`, through `lookup` (normally `std::env::var`).
pub fn guard(lookup: impl Fn(&str) -> Option<String>) -> Result<(), CmdError> {
    for var in prod_guard::GUARDED_VARS {
        if let Some(value) = lookup(var)
            && prod_guard::is_production(&value)
        {
            return Err(CmdError::Production(format!(
                "refusing to mint: {var}={:?} says this is production, and mock tokens must \
                 never reach a production system; unset {var} or set it to development/test",
                value.trim()
            )));
        }
    }
    Ok(())
}

/// Mints the token `args` asks for with the persisted key; `env` is the
/// environment for the production guard.
pub fn mint(
    opts: &Opts,
    args: &MintArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, CmdError> {
    guard(env)?;
    let request = mint_request(args)?;
    let config = resolve(opts)?;
    let issuer = issuer_with_keys(&config, args.issuer_name.as_deref())?;
    let response = issuer
        .mint(&RequestCtx::new(&base_url(&config)), &request)
        .map_err(mint_error)?;
    Ok(response.access_token)
}

/// The JWKS of the persisted key, as a server with the same settings
/// serves it when it starts.
pub fn jwks(opts: &Opts, args: &JwksArgs) -> Result<String, CmdError> {
    let config = resolve(opts)?;
    let issuer = issuer_with_keys(&config, args.issuer_name.as_deref())?;
    // With no peers the server serves exactly its own published keys.
    let json = issuer.jwks().json.clone();
    String::from_utf8(json.to_vec())
        .map_err(|e| CmdError::Failed(anyhow::anyhow!("the JWKS is not UTF-8: {e}")))
}

fn resolve(opts: &Opts) -> Result<Config, CmdError> {
    Config::resolve(opts).map_err(|e| CmdError::Usage(e.to_string()))
}

/// The flags as the request `POST /token` would get as JSON.
pub fn mint_request(args: &MintArgs) -> Result<MintRequest, CmdError> {
    let preset = match &args.preset {
        Some(name) => Some(
            serde_json::from_value::<Profile>(Value::String(name.clone()))
                .map_err(|e| CmdError::Usage(format!("--preset: {e}")))?,
        ),
        None => None,
    };
    let aud = match args.aud.as_slice() {
        [] => None,
        [one] => Some(Audience::One(one.clone())),
        many => Some(Audience::Many(many.to_vec())),
    };
    let claims = match &args.claims {
        Some(text) => Some(claims_object(text)?),
        None => None,
    };
    let variant = match &args.variant {
        Some(name) => Some(
            name.parse::<Variant>()
                .map_err(|e| CmdError::Usage(format!("--variant: {e}")))?,
        ),
        None => None,
    };
    // Fields `POST /token` gains later stay at their defaults until a flag sets them.
    #[allow(clippy::needless_update)]
    Ok(MintRequest {
        sub: args.sub.clone(),
        user: args.user.clone(),
        preset,
        org_id: args.org_id.clone(),
        org_role: args.org_role.clone(),
        org_slug: args.org_slug.clone(),
        aud,
        iss: args.iss.clone(),
        azp: args.azp.clone(),
        scope: args.scope.clone(),
        expires_in: args.expires_in,
        claims,
        variant,
        typ: args.typ.clone(),
        client_id: args.client_id.clone(),
        ..MintRequest::default()
    })
}

/// `--claims`: a JSON object, or `@FILE` holding one.
fn claims_object(text: &str) -> Result<Map<String, Value>, CmdError> {
    let (json, from) = match text.strip_prefix('@') {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| CmdError::Usage(format!("--claims: cannot read {path}: {e}")))?,
            format!(" (in {path})"),
        ),
        None => (text.to_string(), String::new()),
    };
    match serde_json::from_str::<Value>(&json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(CmdError::Usage(format!(
            "--claims: expected a JSON object{from}, got {}",
            crate::claims::json_type(&other)
        ))),
        Err(e) => Err(CmdError::Usage(format!(
            "--claims: not valid JSON{from}: {e}"
        ))),
    }
}

/// An issuer error as one line naming the flag (`expires_in: ...` becomes
/// `--expires-in: ...`).
fn mint_error(e: OAuthError) -> CmdError {
    if e.code != ErrorCode::InvalidRequest {
        return CmdError::Failed(anyhow::Error::from(e));
    }
    let description = match e.description.split_once(": ") {
        Some((field, rest))
            if !field.is_empty() && field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            format!("--{}: {rest}", field.replace('_', "-"))
        }
        _ => e.description,
    };
    CmdError::Usage(description)
}

/// The issuer `name` (`None` = root) of `config` with its keys as a
/// starting server has them: the persisted key pair of its algorithm and,
/// when configured, its HS256 secret. Never creates a key.
fn issuer_with_keys(config: &Config, name: Option<&str>) -> Result<Arc<Issuer>, CmdError> {
    let registry = Registry::from_config(config);
    // Wherever the issuer is mounted (Keycloak issuers live under /realms).
    let at = if registry.profile_at(name, At::Named).shape().realm_mounted() {
        At::Realm
    } else {
        At::Named
    };
    let issuer = registry
        .get_at(name, at)
        .map_err(|e| CmdError::Usage(format!("--issuer-name: {e}")))?;
    let settings = issuer.settings();
    let alg = settings.alg;
    // The default algorithm's key first, as `Issuer::ready` installs them.
    if alg.is_public() {
        let Some(dir) = settings.keys_dir.as_deref() else {
            return Err(CmdError::Usage(
                "no key to sign with: PERSIST_KEYS_DIR (--persist-keys-dir) is not set. mint \
                 and jwks use the key a server persisted: start `mock-idp` once with \
                 PERSIST_KEYS_DIR=DIR, then run this with the same PERSIST_KEYS_DIR; mint and \
                 jwks never create a key"
                    .into(),
            ));
        };
        match persist::load_existing_for(dir, alg, &settings.kid)? {
            Some(key) => issuer.keys().install(key),
            None => return Err(CmdError::Usage(no_key_message(dir, name, alg))),
        }
    }
    if let Some(secret) = &settings.hs256_secret {
        let key = SigningKey::hmac(secret.0.as_bytes(), &settings.kid)
            .map_err(|e| CmdError::Usage(format!("--hs256-secret / HS256_SECRET: {e}")))?;
        issuer.keys().install(key);
    }
    Ok(issuer)
}

fn no_key_message(dir: &Path, name: Option<&str>, alg: Alg) -> String {
    let shown = dir.display();
    let file = persist::file_names(alg).0;
    let what = if alg == Alg::RS256 {
        "no key".to_string()
    } else {
        format!("no {alg} key (ALG={alg})")
    };
    match name {
        None => format!(
            "{what} in {shown} (PERSIST_KEYS_DIR has no {file}): start `mock-idp` once with \
             PERSIST_KEYS_DIR={shown} and the same settings to create it, or copy the {file} of \
             a server there; mint and jwks never create a key"
        ),
        Some(name) => {
            let root = dir.parent().unwrap_or(dir).display();
            format!(
                "{what} in {shown} (PERSIST_KEYS_DIR/{name} has no {file}): a server with \
                 PERSIST_KEYS_DIR={root} and the same settings creates it on the first request \
                 to issuer {name} (e.g. GET /{name}/.well-known/jwks.json); mint and jwks never \
                 create a key"
            )
        }
    }
}

/// The base URL a named issuer's derived `iss` starts with:
/// `PUBLIC_URL`, else `http://HOST:PORT` (a wildcard host as loopback).
pub fn base_url(config: &Config) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = match config.host.as_str() {
        "" | "0.0.0.0" => "127.0.0.1",
        "::" | "[::]" => "[::1]",
        h if h.contains(':') && !h.starts_with('[') => {
            return format!("http://[{h}]:{}", config.port);
        }
        h => h,
    };
    format!("http://{host}:{}", config.port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> MintArgs {
        MintArgs::default()
    }

    #[test]
    fn flags_become_the_mint_request() {
        let req = mint_request(&MintArgs {
            sub: Some("u1".into()),
            preset: Some("plain".into()),
            aud: vec!["a".into()],
            expires_in: Some(-600),
            claims: Some(r#"{"email":"a@b","sid":null}"#.into()),
            ..args()
        })
        .unwrap();
        assert_eq!(req.sub.as_deref(), Some("u1"));
        assert_eq!(req.preset, Some(Profile::Plain));
        assert_eq!(req.aud, Some(Audience::One("a".into())));
        assert_eq!(req.expires_in, Some(-600));
        let claims = req.claims.unwrap();
        assert_eq!(claims["email"], "a@b");
        assert!(claims["sid"].is_null(), "null stays: it removes the claim");

        let req = mint_request(&MintArgs {
            aud: vec!["a".into(), "b,c".into()],
            ..args()
        })
        .unwrap();
        assert_eq!(
            req.aud,
            Some(Audience::Many(vec!["a".into(), "b,c".into()])),
            "repeated --aud is an array; commas are kept"
        );
        assert_eq!(mint_request(&args()).unwrap(), MintRequest::default());

        let req = mint_request(&MintArgs {
            variant: Some("missing_exp".into()),
            typ: Some("at+jwt".into()),
            client_id: Some("c1".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(req.variant, Some(Variant::MissingExp));
        assert_eq!(req.typ.as_deref(), Some("at+jwt"));
        assert_eq!(req.client_id.as_deref(), Some("c1"));
    }

    #[test]
    fn bad_flag_values_are_one_line_naming_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.json");
        std::fs::write(&list, "[1]").unwrap();
        let cases = [
            (
                "variant",
                MintArgs {
                    variant: Some("broken".into()),
                    ..args()
                },
                "--variant: unknown variant \"broken\"; variants: expired,",
            ),
            (
                "preset",
                MintArgs {
                    preset: Some("okta".into()),
                    ..args()
                },
                "--preset: unknown profile \"okta\"; the profiles are: clerk",
            ),
            (
                "claims not JSON",
                MintArgs {
                    claims: Some("{".into()),
                    ..args()
                },
                "--claims: not valid JSON",
            ),
            (
                "claims array",
                MintArgs {
                    claims: Some("[1]".into()),
                    ..args()
                },
                "--claims: expected a JSON object, got an array",
            ),
            (
                "claims file missing",
                MintArgs {
                    claims: Some("@/nonexistent.json".into()),
                    ..args()
                },
                "--claims: cannot read /nonexistent.json",
            ),
            (
                "claims file array",
                MintArgs {
                    claims: Some(format!("@{}", list.display())),
                    ..args()
                },
                "--claims: expected a JSON object (in",
            ),
        ];
        for (name, a, expected) in cases {
            let e = mint_request(&a).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{name}");
            let text = e.to_string();
            let flag = expected.split(':').next().unwrap();
            assert!(
                text.starts_with(flag) && text.contains(expected.trim_start_matches(flag)),
                "{name}: {text}"
            );
            assert!(!text.contains('\n'), "{name}: one line: {text}");
        }
    }

    #[test]
    fn issuer_errors_name_the_flag() {
        let e = mint_error(OAuthError::invalid_request("expires_in: 9 is out of range"));
        assert_eq!(e.to_string(), "--expires-in: 9 is out of range");
        assert_eq!(e.exit_code(), 2);
        let e = mint_error(OAuthError::invalid_request(
            "user: unknown user \"x\"; known: a",
        ));
        assert_eq!(e.to_string(), "--user: unknown user \"x\"; known: a");
        let e = mint_error(OAuthError::invalid_request("Something: else"));
        assert_eq!(e.to_string(), "Something: else");
        let e = mint_error(OAuthError::new(ErrorCode::ServerError, "signing failed"));
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn guard_refuses_production_only() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |var: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == var)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(guard(env(&[])).is_ok());
        assert!(guard(env(&[("NODE_ENV", "development")])).is_ok());
        for (var, value) in [("NODE_ENV", " Production "), ("APP_ENV", "prod")] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(vec![(var, value)].into_boxed_slice());
            let e = guard(env(pairs)).unwrap_err();
            assert_eq!(e.exit_code(), 78);
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    #[test]
    fn base_url_for_derived_issuers() {
        let mut config = Config::resolve(&Opts::default()).unwrap();
        assert_eq!(base_url(&config), "http://127.0.0.1:8081");
        config.host = "0.0.0.0".into();
        config.port = 9000;
        assert_eq!(base_url(&config), "http://127.0.0.1:9000");
        config.host = "::1".into();
        assert_eq!(base_url(&config), "http://[::1]:9000");
        config.public_url = Some("https://idp.test/".into());
        assert_eq!(base_url(&config), "https://idp.test");
    }

    #[test]
    fn no_key_is_a_usage_error_naming_the_variable_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let opts = Opts {
            persist_keys_dir: Some(keys.clone()),
            ..Opts::default()
        };
        for name in [None, Some("tenant")] {
            let e = mint(
                &opts,
                &MintArgs {
                    issuer_name: name.map(str::to_string),
                    ..args()
                },
                |_| None,
            )
            .unwrap_err();
            assert_eq!(e.exit_code(), 2, "{name:?}");
            let text = e.to_string();
            assert!(
                text.contains("PERSIST_KEYS_DIR") && text.contains(&keys.display().to_string()),
                "{name:?}: {text}"
            );
            assert!(!keys.exists(), "{name:?}: nothing created");
        }
        let e = jwks(&Opts::default(), &JwksArgs::default()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("PERSIST_KEYS_DIR"), "{e}");
    }

    #[test]
    fn mints_with_the_persisted_key_like_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) =
            persist::load_or_create(dir.path(), &crate::keys::KidPolicy::default()).unwrap();
        let opts = Opts {
            persist_keys_dir: Some(dir.path().to_path_buf()),
            issuer: Some("https://cli.test".into()),
            ..Opts::default()
        };
        let token = mint(
            &opts,
            &MintArgs {
                sub: Some("u1".into()),
                ..args()
            },
            |_| None,
        )
        .unwrap();
        let set = crate::keys::JwksSnapshot::new([key.jwk().clone()]);
        let claims = crate::jwt::verify(&token, &set, Some("https://cli.test")).unwrap();
        assert_eq!(claims["sub"], "u1");
        let served = jwks(&opts, &JwksArgs::default()).unwrap();
        assert_eq!(served.as_bytes(), &set.json[..]);
    }
}
