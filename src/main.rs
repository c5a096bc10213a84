//! The `mock-idp` binary: parse the command line, check the production guard,
//! resolve the config, set up logging, bind, serve. Errors are printed once.
//! `mint`, `jwks` and `decode` run in [`mock_idp::offline`].

use std::process::ExitCode;

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
    let cli = match Cli::parse_or_exit_code(std::env::args_os()) {
        Ok(cli) => cli,
        Err(code) => return code,
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
    let addr = listener.local_addr()?;
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
