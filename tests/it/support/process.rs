//! The one harness for the real `mock-idp` binary: a command over a cleared
//! environment, started as a server (its startup line parsed, stderr kept
//! in a log file that is printed when the test fails, killed on drop) or run
//! to its exit (CLI errors, `--help`, `healthcheck`).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Idp, client};

/// How long a server may take to print its startup line.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a command run to its exit may take.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `mock-idp` binary to run: arguments and environment, over a cleared
/// environment (`RUST_LOG=info,mock_idp=debug` and `PORT=0` unless set).
pub(crate) struct MockIdp {
    name: String,
    cmd: Command,
    /// What [`MockIdp::run_to_exit`] writes to its stdin (then closed).
    input: Option<Vec<u8>>,
}

/// A `mock-idp` command named `name` (in failure messages).
pub(crate) fn mock_idp(name: &str) -> MockIdp {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mock-idp"));
    cmd.env_clear()
        .env("RUST_LOG", "info,mock_idp=debug")
        .env("PORT", "0")
        .stdin(Stdio::null());
    MockIdp {
        name: name.to_string(),
        cmd,
        input: None,
    }
}

impl MockIdp {
    /// Sets one environment variable.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Adds arguments.
    pub(crate) fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.cmd.args(args);
        self
    }

    /// Gives `input` on stdin to [`MockIdp::run_to_exit`] (`decode -`).
    pub(crate) fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.input = Some(input.into());
        self
    }

    /// Starts the server and waits for its startup line.
    pub(crate) fn start(mut self) -> Server {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(log.as_file().try_clone().unwrap())
            .spawn()
            .expect("spawn mock-idp");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading so the pipe never fills; only the first line matters.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(START_TIMEOUT);
        let mut server = Server {
            name: self.name,
            base: String::new(),
            started: Instant::now(),
            client: client(),
            child,
            log,
        };
        let line = line.unwrap_or_else(|e| {
            panic!(
                "{} printed no startup line within {START_TIMEOUT:?} ({e})",
                server.name
            )
        });
        server.base = parse_startup_line(&line)
            .unwrap_or_else(|| panic!("{}: unexpected startup line {line:?}", server.name));
        server
    }

    /// Runs the command to its exit (bounded), capturing stdout and stderr.
    pub(crate) fn run_to_exit(mut self) -> Exit {
        if self.input.is_some() {
            self.cmd.stdin(Stdio::piped());
        }
        let mut child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mock-idp");
        if let (Some(input), Some(mut pipe)) = (self.input.take(), child.stdin.take()) {
            // A thread, so a child that never reads cannot block the test;
            // dropping the pipe closes stdin.
            std::thread::spawn(move || {
                let _ = std::io::Write::write_all(&mut pipe, &input);
            });
        }
        let read = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = read(Box::new(child.stdout.take().unwrap()));
        let stderr = read(Box::new(child.stderr.take().unwrap()));
        let status = wait_for_exit(&mut child, EXIT_TIMEOUT, &self.name);
        Exit {
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }
}

/// How a command run to its exit ended.
pub(crate) struct Exit {
    /// Exit code (-1 when killed by a signal).
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// A running `mock-idp` process.
pub(crate) struct Server {
    pub(crate) name: String,
    /// `http://ip:port` as printed on its startup line.
    pub(crate) base: String,
    /// When its startup line was read.
    pub(crate) started: Instant,
    client: reqwest::Client,
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Idp for Server {
    fn base(&self) -> &str {
        &self.base
    }
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl Server {
    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// SIGKILL, as a crash would.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as an orchestrator stopping it would, then waits (bounded) for its exit.
    #[cfg(unix)]
    pub(crate) fn terminate(&mut self, within: Duration) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {}", self.name);
        wait_for_exit(&mut self.child, within, &self.name)
    }

    /// Its stderr so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "---- {} ({}) stderr, last lines ----\n{}",
                self.name,
                self.base,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// Waits for `child` to exit; kills it and panics after `within`.
fn wait_for_exit(child: &mut Child, within: Duration, name: &str) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `mock-idp listening on http://ADDR (JWKS: http://ADDR/.well-known/jwks.json)`
/// -> `http://ADDR`.
pub(crate) fn parse_startup_line(line: &str) -> Option<String> {
    let rest = line.trim_end().strip_prefix("mock-idp listening on ")?;
    let (url, jwks) = rest.split_once(" (JWKS: ")?;
    (url.starts_with("http://") && jwks == format!("{url}/.well-known/jwks.json)"))
        .then(|| url.to_string())
}

/// Replicas federated through `PEERS`: replica `i` is called `names[i]`
/// (also its `INSTANCE_ID`), listens on its own free loopback port and
/// lists every replica, itself included, as a peer, refreshed every second.
pub(crate) struct Federation {
    names: Vec<String>,
    ports: Vec<u16>,
    /// The replicas' URLs, in order.
    pub(crate) urls: Vec<String>,
}

impl Federation {
    /// Ports and peer list for one replica per name.
    pub(crate) fn new(names: &[&str]) -> Self {
        let ports = free_ports(names.len());
        let urls = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        Federation {
            names: names.iter().map(|n| n.to_string()).collect(),
            ports,
            urls,
        }
    }

    /// Replica `i`, not started yet: add its other settings, then `start()`.
    pub(crate) fn replica(&self, i: usize) -> MockIdp {
        mock_idp(&self.names[i])
            .env("HOST", "127.0.0.1")
            .env("PORT", self.ports[i].to_string())
            .env("PEERS", self.urls.join(","))
            .env("INSTANCE_ID", &self.names[i])
            .env("PEER_REFRESH_SEC", "1")
    }

    /// Every replica started with `config_file` as its `CONFIG_FILE`.
    pub(crate) fn start_all(&self, config_file: &std::path::Path) -> Vec<Server> {
        (0..self.names.len())
            .map(|i| self.replica(i).env("CONFIG_FILE", config_file).start())
            .collect()
    }
}

/// `n` distinct free loopback ports (bound together, then released).
pub(crate) fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

#[test]
fn startup_line_is_parsed() {
    assert_eq!(
        parse_startup_line(
            "mock-idp listening on http://127.0.0.1:4000 (JWKS: http://127.0.0.1:4000/.well-known/jwks.json)\n"
        )
        .as_deref(),
        Some("http://127.0.0.1:4000")
    );
    for bad in [
        "hello",
        "mock-idp listening on http://127.0.0.1:4000",
        "mock-idp listening on http://127.0.0.1:4000 (JWKS: http://127.0.0.1:4001/.well-known/jwks.json)",
        "mock-idp listening on 127.0.0.1:4000 (JWKS: 127.0.0.1:4000/.well-known/jwks.json)",
    ] {
        assert_eq!(parse_startup_line(bad), None, "{bad:?}");
    }
}
