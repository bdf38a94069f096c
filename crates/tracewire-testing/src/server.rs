//! What the loopback receivers share: behaviours, recorded requests, errors, and the server thread.
//!
//! Each receiver runs on a thread of its own with a current-thread tokio runtime, so tests need
//! no runtime to use it, and a test's own runtime (current-thread or not) never has to drive it.
//! Dropping the receiver stops that runtime, which closes every connection, hanging ones
//! included.

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http::HeaderMap;
use tokio::runtime::Handle;
use tokio::sync::{Notify, oneshot};

/// How a receiver answers export requests. Change it at any time with `set_behaviour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Behaviour {
    /// Decode, keep, and answer with success (the default).
    #[default]
    Accept,
    /// Answer with this HTTP status without keeping the data (for gRPC: the matching status
    /// code, see [`grpc_code_for`]).
    Status(u16),
    /// Read the request and never answer (until the receiver is dropped).
    Hang,
    /// Wait this long, then behave as [`Accept`](Behaviour::Accept).
    Delay(Duration),
}

/// The gRPC status code a receiver answers with for [`Behaviour::Status`]: the mapping of the
/// [gRPC HTTP status table](https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md)
/// (400 → INTERNAL, 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED, 404 → UNIMPLEMENTED,
/// 429, 502, 503, 504 → UNAVAILABLE, others → UNKNOWN), as a `tonic::Code` number.
pub fn grpc_code_for(status: u16) -> i32 {
    match status {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502..=504 => 14,
        _ => 2,
    }
}

/// What became of a received request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Decoded and kept; answered with success.
    Accepted,
    /// Answered with this status by [`Behaviour::Status`]; nothing kept.
    Rejected(u16),
    /// Left unanswered by [`Behaviour::Hang`].
    Hung,
    /// The body could not be read or decoded; answered 400 (or 415 for an unsupported content
    /// type, 404 for an unknown path).
    Invalid(String),
}

/// One request as a receiver saw it.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// The HTTP method (`POST` for every exporter).
    pub method: String,
    /// The request path (`/v1/traces`, or the gRPC method path).
    pub path: String,
    /// The request headers (gRPC metadata included).
    pub headers: HeaderMap,
    /// The body's length as received (before decompression).
    pub body_len: usize,
    /// What the receiver did with it.
    pub outcome: Outcome,
}

impl ReceivedRequest {
    /// The first value of header `name` (case-insensitive), when it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A receiver could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Binding 127.0.0.1:0 failed.
    #[error("could not bind a receiver to 127.0.0.1:0")]
    Bind(#[source] std::io::Error),
    /// The receiver's thread or runtime could not start.
    #[error("could not start the receiver's thread and runtime")]
    Runtime(#[source] std::io::Error),
}

/// Waiting for data timed out; says what was received instead.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "waited {timeout:?} for {wanted} {what} but received {received}; requests seen: {requests}"
)]
pub struct WaitError {
    /// How many items were wanted.
    pub wanted: usize,
    /// How many had arrived when the time ran out.
    pub received: usize,
    /// How long the wait lasted.
    pub timeout: Duration,
    /// What was waited for (`spans`, `log records`, ...).
    pub what: &'static str,
    /// A summary of the requests seen (path and outcome).
    pub requests: String,
}

/// State shared between a receiver's handlers and the test thread.
pub(crate) struct Shared<S> {
    state: Mutex<S>,
    behaviour: Mutex<Behaviour>,
    changed: Condvar,
    notify: Notify,
}

impl<S: Default> Shared<S> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(S::default()),
            behaviour: Mutex::new(Behaviour::Accept),
            changed: Condvar::new(),
            notify: Notify::new(),
        })
    }
}

impl<S> Shared<S> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        // A panicking test thread leaves valid data behind; keep serving it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn behaviour(&self) -> Behaviour {
        *self
            .behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_behaviour(&self, behaviour: Behaviour) {
        *self
            .behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = behaviour;
    }

    /// Changes the state and wakes every waiter.
    pub(crate) fn update(&self, f: impl FnOnce(&mut S)) {
        f(&mut self.lock());
        self.wake();
    }

    fn wake(&self) {
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    /// Blocks until `check` returns `Some`, or `timeout` passes (then `Err` with the last state
    /// given to `on_timeout`).
    pub(crate) fn wait<R, E>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&S) -> Option<R>,
        on_timeout: impl FnOnce(&S) -> E,
    ) -> Result<R, E> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(r) = check(&state) {
                return Ok(r);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(on_timeout(&state));
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Like [`wait`](Self::wait) for async callers: the deadline is kept by the receiver's own
    /// runtime, so the caller's runtime needs no timer and is never blocked.
    pub(crate) async fn wait_async<R, E>(
        self: &Arc<Self>,
        runtime: &Handle,
        timeout: Duration,
        mut check: impl FnMut(&S) -> Option<R>,
        on_timeout: impl FnOnce(&S) -> E,
    ) -> Result<R, E>
    where
        S: Send + 'static,
    {
        let deadline = Instant::now() + timeout;
        let alarm = {
            let shared = Arc::clone(self);
            runtime.spawn(async move {
                tokio::time::sleep(timeout).await;
                shared.notify.notify_waiters();
            })
        };
        let result = loop {
            // Registered before the check, so an update between the check and the await is not
            // missed (`notify_waiters` wakes every `Notified` created before it).
            let notified = self.notify.notified();
            {
                let state = self.lock();
                if let Some(r) = check(&state) {
                    break Ok(r);
                }
                if Instant::now() >= deadline {
                    break Err(on_timeout(&state));
                }
            }
            notified.await;
        };
        alarm.abort();
        result
    }
}

/// A receiver's server thread; dropping it stops the server.
pub(crate) struct ServerThread {
    addr: SocketAddr,
    runtime: Handle,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Binds 127.0.0.1:0 and runs `serve` on the listener, on a new thread with its own runtime.
    pub(crate) fn spawn<F, Fut>(name: &str, serve: F) -> Result<Self, StartError>
    where
        F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let listener = StdTcpListener::bind(("127.0.0.1", 0)).map_err(StartError::Bind)?;
        let addr = listener.local_addr().map_err(StartError::Bind)?;
        listener.set_nonblocking(true).map_err(StartError::Bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let handle = runtime.handle().clone();
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("tracewire-testing {name} {addr}"))
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            tokio::select! {
                                () = serve(listener) => {}
                                _ = stop => {}
                            }
                        }
                        Err(e) => eprintln!("tracewire-testing: receiver on {addr} failed: {e}"),
                    }
                });
                // Dropping the runtime here cancels every connection task, hanging ones too.
                drop(runtime);
            })
            .map_err(StartError::Runtime)?;
        Ok(Self {
            addr,
            runtime: handle,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn runtime(&self) -> &Handle {
        &self.runtime
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A one-line summary of requests for error messages.
pub(crate) fn summarize(requests: &[ReceivedRequest]) -> String {
    if requests.is_empty() {
        return "none".to_owned();
    }
    requests
        .iter()
        .map(|r| format!("{} {} → {:?}", r.method, r.path, r.outcome))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a request body: gunzips it when `Content-Encoding: gzip`.
pub(crate) fn decode_body(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, String> {
    let encoding = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(body.to_vec()),
        "gzip" => {
            use std::io::Read as _;
            // Bounded, so a test that sends a compression bomb fails instead of eating memory.
            const MAX: u64 = 256 << 20;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .take(MAX)
                .read_to_end(&mut out)
                .map_err(|e| format!("gzip body: {e}"))?;
            Ok(out)
        }
        other => Err(format!("unsupported content-encoding {other:?}")),
    }
}

/// The media type of the request, lowercased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}
