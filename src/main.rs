//! The `mock-idp` binary: parse the command line, check the production guard,
//! resolve the config, set up logging, bind, serve. Errors are printed once.
//! `mint`, `jwks` and `decode` run in [`mock_idp::offline`].

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use mock_idp::cli::{Cli, Command, LogFormat, Opts};
use mock_idp::config::{Config, DEFAULT_HOST, DEFAULT_PORT};
use mock_idp::http::SharedState;
use mock_idp::issuer::paths;
use mock_idp::{healthcheck, offline, prod_guard, server};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Exit code for an invalid configuration (sysexits `EX_USAGE`-like; clap uses 2 too).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.opts),
        Command::Healthcheck => healthcheck_cmd(&cli.opts),
        Command::Mint(args) => offline::mint_cmd(&cli.opts, &args),
        Command::Jwks(args) => offline::jwks_cmd(&cli.opts, &args),
        Command::Decode(args) => offline::decode_cmd(&cli.opts, &args),
    }
}

fn serve(opts: &Opts) -> ExitCode {
    // Before anything else: no port bound, no key written in production.
    if let Err(message) = prod_guard::check(|var| std::env::var(var).ok()) {
        eprintln!("{message}");
        return ExitCode::from(prod_guard::EXIT_CODE);
    }
    let config = match Config::resolve(opts) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mock-idp: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    init_tracing(config.log_format);
    // Key generation and file I/O happen here, before the runtime exists.
    let state = match server::load_state(config) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("mock-idp: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mock-idp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve_async(state)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-idp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_async(state: SharedState) -> anyhow::Result<()> {
    let (host, port) = (state.config.host.clone(), state.config.port);
    let listener = TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot listen on {host}:{port} (--host/HOST, --port/PORT): {e}")
        })?;
    let bound = listener.local_addr()?;
    // A wildcard bind (the image's 0.0.0.0) is printed as a URL one can open.
    let addr = match bound.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, bound.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, bound.port()))
        }
        _ => bound,
    };
    tracing::info!(%bound, "listening");
    println!(
        "mock-idp listening on http://{addr} (JWKS: http://{addr}{})",
        paths::JWKS_WELL_KNOWN
    );
    server::run(listener, state, server::shutdown_signal()).await?;
    Ok(())
}

fn healthcheck_cmd(opts: &Opts) -> ExitCode {
    // Only host and port matter; a broken config file must not make a healthy server look sick.
    let file = opts
        .config
        .as_deref()
        .and_then(|p| mock_idp::config::load_file(p).ok())
        .unwrap_or_default();
    let host = opts
        .host
        .clone()
        .or(file.host)
        .unwrap_or_else(|| DEFAULT_HOST.into());
    let port = opts.port.or(file.port).unwrap_or(DEFAULT_PORT);
    match healthcheck::check(&host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-idp healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a command-line error as one line naming the flag and its
/// environment variable (clap's own is 3-4 lines), exit 2; `--help` and
/// `--version` print as usual.
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.to_string();
    // The error line and what clap lists under it (e.g. the missing
    // `<TOKEN>` of `decode`), up to the usage block; tips are left out.
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"));
    let mut first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    for detail in lines {
        first.push(' ');
        first.push_str(detail);
    }
    // Name the environment variable of the flag, which is where a bad value
    // usually comes from in containers.
    let flag = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.split_whitespace().next().map(str::to_string),
        _ => None,
    };
    let env = flag.as_deref().and_then(|flag| {
        Cli::command()
            .get_arguments()
            .find(|a| a.get_long().is_some_and(|l| flag == format!("--{l}")))
            .and_then(|a| a.get_env().map(|v| v.to_string_lossy().into_owned()))
    });
    match (flag, env) {
        (Some(flag), Some(env)) => eprintln!("mock-idp: {flag} / {env}: {first} (see --help)"),
        _ => eprintln!("mock-idp: {first} (see --help)"),
    }
    ExitCode::from(EXIT_CONFIG)
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("mock_idp=info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
