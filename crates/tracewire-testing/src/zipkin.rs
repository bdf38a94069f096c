//! A real Zipkin v2 endpoint on 127.0.0.1 (feature `servers`).
//!
//! [`ZipkinServer::start`] serves `POST /api/v2/spans` with a JSON array of
//! [Zipkin v2 spans](https://zipkin.io/zipkin-api/#/default/post_spans) (gzipped when
//! `Content-Encoding: gzip`), answers `202 Accepted` as Zipkin does, and keeps each span as a
//! `serde_json::Value`. The same [`Behaviour`]s as the OTLP receiver apply.
//!
//! # Example
//!
//! ```
//! use std::io::{Read as _, Write as _};
//! use std::time::Duration;
//! use tracewire_testing::zipkin::ZipkinServer;
//!
//! let server = ZipkinServer::start().expect("server starts");
//! let body = r#"[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","id":"00f067aa0ba902b7","name":"charge",
//!   "kind":"CLIENT","localEndpoint":{"serviceName":"checkout"},"tags":{"http.method":"POST"}}]"#;
//! let mut conn = std::net::TcpStream::connect(server.addr()).expect("connect");
//! write!(
//!     conn,
//!     "POST /api/v2/spans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
//!     body.len()
//! )
//! .expect("send");
//! let mut response = String::new();
//! conn.read_to_string(&mut response).expect("response");
//! assert!(response.starts_with("HTTP/1.1 202"));
//!
//! let spans = server.wait_for_spans(1, Duration::from_secs(10)).expect("one span");
//! assert_eq!(spans[0]["name"], "charge");
//! assert_eq!(spans[0]["localEndpoint"]["serviceName"], "checkout");
//! assert_eq!(spans[0]["tags"]["http.method"], "POST");
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use crate::server::{
    Behaviour, Outcome, ReceivedRequest, ServerThread, Shared, StartError, WaitError, decode_body,
    summarize,
};

/// The path Zipkin v2 spans are posted to.
pub const SPANS_PATH: &str = "/api/v2/spans";

/// Everything a [`ZipkinServer`] received.
#[derive(Debug, Default, Clone)]
pub struct ZipkinReceived {
    /// Every request, in arrival order, whatever its outcome.
    pub requests: Vec<ReceivedRequest>,
    /// Every accepted span (one JSON object each), in arrival order.
    pub spans: Vec<Value>,
}

/// A Zipkin v2 receiver on 127.0.0.1; dropping it stops it.
pub struct ZipkinServer {
    shared: Arc<Shared<ZipkinReceived>>,
    thread: ServerThread,
}

impl std::fmt::Debug for ZipkinServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipkinServer")
            .field("addr", &self.addr())
            .finish_non_exhaustive()
    }
}

impl ZipkinServer {
    /// Starts a receiver on a free port of 127.0.0.1.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound or the receiver's thread cannot start.
    pub fn start() -> Result<Self, StartError> {
        let shared = Shared::<ZipkinReceived>::new();
        let router = Router::new()
            .route(SPANS_PATH, post(spans))
            .fallback(unknown)
            .layer(DefaultBodyLimit::max(64 << 20))
            .with_state(Arc::clone(&shared));
        let thread = ServerThread::spawn("zipkin", move |listener| async move {
            let _ = axum::serve(listener, router).await;
        })?;
        Ok(Self { shared, thread })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.thread.addr()
    }

    /// The collector URL, `http://127.0.0.1:<port>/api/v2/spans`: what the Zipkin exporter's
    /// endpoint (`OTEL_EXPORTER_ZIPKIN_ENDPOINT`) takes.
    pub fn endpoint(&self) -> String {
        format!("http://{}{SPANS_PATH}", self.addr())
    }

    /// Changes how the receiver answers from the next request on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.shared.set_behaviour(behaviour);
    }

    /// The accepted spans so far.
    pub fn spans(&self) -> Vec<Value> {
        self.shared.lock().spans.clone()
    }

    /// Every request so far, whatever its outcome.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets everything received (the behaviour stays).
    pub fn reset(&self) {
        self.shared.update(|s| *s = ZipkinReceived::default());
    }

    /// Blocks until at least `n` spans were accepted, and returns all of them.
    ///
    /// # Errors
    ///
    /// When `timeout` passes first; the error says what was received instead.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Result<Vec<Value>, WaitError> {
        self.shared.wait(
            timeout,
            |s| (s.spans.len() >= n).then(|| s.spans.clone()),
            |s| wait_error(n, s.spans.len(), timeout, "spans", s),
        )
    }

    /// Waits until at least `n` spans were accepted without blocking the caller's runtime.
    ///
    /// # Errors
    ///
    /// When `timeout` passes first.
    pub async fn wait_for_spans_async(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Value>, WaitError> {
        self.shared
            .wait_async(
                self.thread.runtime(),
                timeout,
                |s| (s.spans.len() >= n).then(|| s.spans.clone()),
                |s| wait_error(n, s.spans.len(), timeout, "spans", s),
            )
            .await
    }

    /// Blocks until at least `n` requests arrived, whatever their outcome.
    ///
    /// # Errors
    ///
    /// When `timeout` passes first.
    pub fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedRequest>, WaitError> {
        self.shared.wait(
            timeout,
            |s| (s.requests.len() >= n).then(|| s.requests.clone()),
            |s| wait_error(n, s.requests.len(), timeout, "requests", s),
        )
    }
}

fn wait_error(
    wanted: usize,
    received: usize,
    timeout: Duration,
    what: &'static str,
    s: &ZipkinReceived,
) -> WaitError {
    WaitError {
        wanted,
        received,
        timeout,
        what,
        requests: summarize(&s.requests),
    }
}

type AppState = State<Arc<Shared<ZipkinReceived>>>;

async fn spans(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let record = |outcome: Outcome| ReceivedRequest {
        method: "POST".to_owned(),
        path: SPANS_PATH.to_owned(),
        headers: headers.clone(),
        body_len: body.len(),
        outcome,
    };
    match shared.behaviour() {
        Behaviour::Accept => {}
        Behaviour::Delay(d) => tokio::time::sleep(d).await,
        Behaviour::Status(code) => {
            shared.update(|s| s.requests.push(record(Outcome::Rejected(code))));
            return StatusCode::from_u16(code)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response();
        }
        Behaviour::Hang => {
            shared.update(|s| s.requests.push(record(Outcome::Hung)));
            std::future::pending::<()>().await;
        }
    }
    let decoded = decode_body(&headers, &body).and_then(|bytes| {
        serde_json::from_slice::<Vec<Value>>(&bytes).map_err(|e| format!("json: {e}"))
    });
    match decoded {
        Ok(spans) => {
            shared.update(|s| {
                s.requests.push(record(Outcome::Accepted));
                s.spans.extend(spans);
            });
            StatusCode::ACCEPTED.into_response()
        }
        Err(why) => {
            shared.update(|s| s.requests.push(record(Outcome::Invalid(why.clone()))));
            (StatusCode::BAD_REQUEST, why).into_response()
        }
    }
}

async fn unknown(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.update(|s| {
        s.requests.push(ReceivedRequest {
            method: method.to_string(),
            path: uri.path().to_owned(),
            headers,
            body_len: body.len(),
            outcome: Outcome::Invalid("unknown path".to_owned()),
        })
    });
    StatusCode::NOT_FOUND.into_response()
}
