//! The connection loop behind [`super::run`]: accept within
//! `MAX_CONNECTIONS`, serve each connection with HTTP/1.1 keep-alive, and
//! enforce the timeouts and the shutdown rules of the contract:
//!
//! - a connection waiting for its first or next request is closed after
//!   `IDLE_TIMEOUT_SEC`;
//! - a request whose head (and then its body) is not complete
//!   `HEADER_TIMEOUT_SEC` after its first byte is dropped with its connection;
//! - on shutdown the listener is closed, idle connections are closed at once
//!   unless a request's bytes already reached them (those are read and
//!   answered with `Connection: close`), busy ones finish their response,
//!   and whatever is left after `SHUTDOWN_GRACE_SEC` is dropped;
//! - at `MAX_CONNECTIONS` new connections wait in the listen backlog, with
//!   one warning line per episode (at most one a minute).
//!
//! Each connection tracks its phase ([`Phase`]): the socket wrapper sees the
//! first byte of a request, the request body wrapper sees its end, the
//! response body wrapper sees the end of the answer (a stream of
//! Server-Sent Events is answered, not idle, for as long as it lasts); a
//! watchdog per connection closes it at the deadline of the current phase.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// At most one "MAX_CONNECTIONS reached" (or "accepting a connection
/// failed") warning per this long.
pub const FULL_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Most bytes read from a socket at once (requests are far smaller; larger
/// bodies take several reads).
const READ_CHUNK: usize = 16 * 1024;

/// The limits of the connection loop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `HEADER_TIMEOUT_SEC`: from a request's first byte to its complete body.
    pub header_timeout: Duration,
    /// `IDLE_TIMEOUT_SEC`: a connection with no request.
    pub idle_timeout: Duration,
    /// `SHUTDOWN_GRACE_SEC`: how long busy connections may finish after a signal.
    pub shutdown_grace: Duration,
    /// `MAX_CONNECTIONS`: connections served at once.
    pub max_connections: usize,
}

/// Where a connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Waiting for the first byte of a request (idle timeout).
    Idle = 0,
    /// A request's head or body is arriving (header timeout).
    Receiving = 1,
    /// The request is complete; mock-idp is answering (no timeout).
    Processing = 2,
}

/// A connection's phase and since when, shared by its socket wrapper, its
/// service and its watchdog.
#[derive(Debug)]
pub struct ConnState {
    born: Instant,
    phase: AtomicU8,
    /// Milliseconds after `born` when the phase began.
    since_ms: AtomicU64,
    changed: Notify,
    /// Set on shutdown: the next response says `Connection: close`.
    draining: AtomicBool,
}

impl ConnState {
    fn new() -> Self {
        ConnState {
            born: Instant::now(),
            phase: AtomicU8::new(Phase::Idle as u8),
            since_ms: AtomicU64::new(0),
            changed: Notify::new(),
            draining: AtomicBool::new(false),
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Idle,
            1 => Phase::Receiving,
            _ => Phase::Processing,
        }
    }

    fn set(&self, phase: Phase) {
        let ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.since_ms.store(ms, Ordering::Release);
        self.phase.store(phase as u8, Ordering::Release);
        self.changed.notify_one();
    }

    /// `from` -> `to`, only if the phase is `from`.
    fn advance(&self, from: Phase, to: Phase) {
        if self.phase() == from {
            self.set(to);
        }
    }

    /// When the current phase runs out (`None`: it does not).
    /// A timeout too large to be a point in time (`IDLE_TIMEOUT_SEC` of
    /// `u64::MAX` seconds) means no deadline, never a panic: `Instant +
    /// Duration` panics on overflow, and the release build aborts on panic.
    pub fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let since = self.born + Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        match self.phase() {
            Phase::Idle => since.checked_add(limits.idle_timeout),
            Phase::Receiving => since.checked_add(limits.header_timeout),
            Phase::Processing => None,
        }
    }
}

/// The socket as hyper sees it: a `TcpStream` shared with the connection
/// task (which may peek at it on shutdown), reporting a request's first byte.
struct ConnIo {
    stream: Arc<TcpStream>,
    state: Arc<ConnState>,
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            // hyper hands over a fresh (uninitialized) buffer view each time:
            // zero at most READ_CHUNK of it, not all of it, per read.
            let want = buf.remaining().min(READ_CHUNK);
            let unfilled = buf.initialize_unfilled_to(want);
            match self.stream.try_read(unfilled) {
                Ok(n) => {
                    if n > 0 {
                        self.state.advance(Phase::Idle, Phase::Receiving);
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // Readiness was stale: `poll_read_ready` registers again.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let sock = socket2::SockRef::from(&*self.stream);
        Poll::Ready(match sock.shutdown(std::net::Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        })
    }
}

/// Whether bytes the server has not read yet are waiting on the socket.
fn has_pending_input(stream: &TcpStream) -> bool {
    let mut one = [MaybeUninit::<u8>::uninit()];
    matches!(socket2::SockRef::from(stream).peek(&mut one), Ok(n) if n > 0)
}

/// A request body that reports its end (the request is then complete).
struct TrackedBody {
    inner: Incoming,
    state: Arc<ConnState>,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_))))
            || self.inner.is_end_stream()
        {
            self.state.advance(Phase::Receiving, Phase::Processing);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that puts its connection back to [`Phase::Idle`] when
/// it ends (or is dropped: written out, or the connection went away).
struct TrackedResponse {
    inner: Body,
    state: Option<Arc<ConnState>>,
}

impl TrackedResponse {
    fn done(&mut self) {
        if let Some(state) = self.state.take() {
            state.set(Phase::Idle);
        }
    }
}

impl Drop for TrackedResponse {
    fn drop(&mut self) {
        self.done();
    }
}

impl http_body::Body for TrackedResponse {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.done();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Accepts connections on `listener` and serves `app` on each until
/// `shutdown` resolves; then drains as the module documentation says.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = JoinSet::new();
    // One warning per episode of overload: a server at its limit goes on
    // admitting and refilling as connections close, so "reached" is said at
    // most once per FULL_WARNING_EVERY, not every time a freed slot is taken.
    let mut warned_at: Option<Instant> = None;
    let mut accept_warned_at: Option<Instant> = None;
    let mut accept_failures = 0u64;
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if warned_at.is_none_or(|at| at.elapsed() >= FULL_WARNING_EVERY) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "MAX_CONNECTIONS reached: new connections wait in the listen backlog \
                         until one closes"
                    );
                    warned_at = Some(Instant::now());
                }
                tokio::select! {
                    permit = Arc::clone(&permits).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let stop = stop_rx.clone();
                connections.spawn(async move {
                    serve_connection(stream, app, limits, stop).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // EMFILE and friends: back off a little instead of spinning,
                // and say so once a minute, not 20 times a second.
                accept_failures += 1;
                if accept_warned_at.is_none_or(|at| at.elapsed() >= FULL_WARNING_EVERY) {
                    tracing::warn!(
                        error = %e,
                        failures = accept_failures,
                        "accepting a connection failed (out of file descriptors? raise the \
                         open-files limit, ulimit -n, or lower MAX_CONNECTIONS); retrying, \
                         said again at most once a minute"
                    );
                    accept_warned_at = Some(Instant::now());
                    accept_failures = 0;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            grace_sec = limits.shutdown_grace.as_secs(),
            "closing the connections still busy after SHUTDOWN_GRACE_SEC"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Serves one connection until it closes, times out, or is drained.
async fn serve_connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let stream = Arc::new(stream);
    let state = Arc::new(ConnState::new());
    let io = TokioIo::new(ConnIo {
        stream: Arc::clone(&stream),
        state: Arc::clone(&state),
    });
    let service_state = Arc::clone(&state);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let state = Arc::clone(&service_state);
        let app = app.clone();
        async move {
            // The head is parsed: the request is complete once its body is.
            if req.body().is_end_stream() {
                state.advance(Phase::Receiving, Phase::Processing);
            }
            let tracked = Arc::clone(&state);
            let req = req.map(|inner| {
                Body::new(TrackedBody {
                    inner,
                    state: tracked,
                })
            });
            let mut response = app.oneshot(req).await;
            if state.draining.load(Ordering::Acquire)
                && let Ok(response) = response.as_mut()
            {
                // Shutting down: hyper closes the connection after this response.
                response.headers_mut().insert(
                    hyper::header::CONNECTION,
                    hyper::header::HeaderValue::from_static("close"),
                );
            }
            // Idle once the whole response is out: a streamed body (Server-Sent
            // Events) is still being answered, not idle.
            response.map(|response| {
                response.map(|inner| {
                    Body::new(TrackedResponse {
                        inner,
                        state: Some(state),
                    })
                })
            })
        }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = *stop.borrow();
    if draining && drain_now(&state, &stream) {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let changed = state.changed.notified();
        let deadline = state.deadline(&limits);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = changed => {}
            () = sleep_until(deadline) => {
                if state.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!(phase = ?state.phase(), "closing a connection at its timeout");
                    return;
                }
            }
            _ = stop.changed(), if !draining => {
                draining = true;
                if drain_now(&state, &stream) {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Starts draining one connection: whether hyper may shut it down now
/// (`graceful_shutdown`: an idle connection closes at once, a busy one after
/// its response), or must first read and answer a request that is here.
///
/// hyper sees a connection as idle until it has parsed a request head, so
/// its `graceful_shutdown` would also close one whose request bytes are
/// waiting in the socket (or only partly read): that request would be lost.
/// Those are left to hyper to read and answer; the `draining` flag makes the
/// response say `Connection: close`, and hyper closes after it.
fn drain_now(state: &ConnState, stream: &TcpStream) -> bool {
    state.draining.store(true, Ordering::Release);
    !(state.phase() == Phase::Receiving || has_pending_input(stream))
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
            max_connections: 4,
        }
    }

    #[test]
    fn phases_and_their_deadlines() {
        let s = ConnState::new();
        let born = s.born;
        assert_eq!(s.phase(), Phase::Idle);
        assert_eq!(s.deadline(&limits()), Some(born + Duration::from_secs(60)));
        s.advance(Phase::Idle, Phase::Receiving);
        assert_eq!(s.phase(), Phase::Receiving);
        let d = s.deadline(&limits()).unwrap();
        assert!(d >= born + Duration::from_secs(10) && d < born + Duration::from_secs(11));
        // A second first byte does not restart the clock.
        s.advance(Phase::Idle, Phase::Receiving);
        assert_eq!(s.deadline(&limits()), Some(d));
        s.advance(Phase::Receiving, Phase::Processing);
        assert_eq!(s.deadline(&limits()), None, "no timeout while answering");
        s.set(Phase::Idle);
        assert_eq!(s.phase(), Phase::Idle);
    }

    #[test]
    fn huge_timeouts_mean_no_deadline_not_a_panic() {
        let huge = Limits {
            header_timeout: Duration::from_secs(u64::MAX),
            idle_timeout: Duration::from_secs(u64::MAX),
            ..limits()
        };
        let s = ConnState::new();
        assert_eq!(s.deadline(&huge), None);
        s.advance(Phase::Idle, Phase::Receiving);
        assert_eq!(s.deadline(&huge), None);
    }
}
