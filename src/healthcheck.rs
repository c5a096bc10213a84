//! `mock-idp healthcheck`: GET `/health` on the configured host and port with
//! a plain TCP client (no shell, curl or TLS needed in the image). Exit 0 when
//! it answers 200, 1 otherwise.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long the check may take in total per address.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Checks `http://host:port/health`. A wildcard bind address is checked on loopback.
pub fn check(host: &str, port: u16) -> Result<(), String> {
    let host = match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" | "[::]" => "::1",
        h => h,
    };
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?;
    let mut last = format!("no address for {host}:{port}");
    for addr in addrs {
        match get_health(&addr, host) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn get_health(addr: &std::net::SocketAddr, host: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let request = format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut head = [0u8; 64];
    let n = stream
        .read(&mut head)
        .map_err(|e| format!("no answer from {addr}: {e}"))?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(format!(
            "{addr}/health answered {:?}",
            status_line.lines().next().unwrap_or("")
        ))
    }
}
