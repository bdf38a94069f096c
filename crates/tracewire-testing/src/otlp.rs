//! A real OTLP endpoint on 127.0.0.1 that decodes what exporters send (feature `servers`).
//!
//! [`OtlpServer::start_http`] serves OTLP/HTTP on `127.0.0.1:<free port>`: `POST /v1/traces`,
//! `/v1/logs` and `/v1/metrics`, with `application/x-protobuf` or `application/json` bodies
//! (the [OTLP JSON encoding](https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
//! hex ids), gzipped when `Content-Encoding: gzip`. [`OtlpServer::start_grpc`] (feature `grpc`)
//! serves the OTLP gRPC services with tonic, gzip accepted. Both decode with opentelemetry-proto
//! into its types and keep every request, resource, scope, span, log record and metrics batch.
//!
//! Tests wait for what they expect with [`wait_for_spans`](OtlpServer::wait_for_spans) (blocking;
//! for sync tests and multi-thread runtimes) or
//! [`wait_for_spans_async`](OtlpServer::wait_for_spans_async) (for any runtime, current-thread
//! included). Failure tests change the [`Behaviour`]: answer with a status, hang, or delay.
//! Every request's headers are recorded, so a test can check that `OTEL_EXPORTER_OTLP_HEADERS`
//! reached the wire.
//!
//! # Example
//!
//! A real exporter is a dev-dependency of the crates that export; here a hand-made request
//! shows the shape (the server decodes whatever protobuf or JSON it is sent):
//!
//! ```
//! use std::io::{Read as _, Write as _};
//! use std::time::Duration;
//! use tracewire_testing::otlp::OtlpServer;
//!
//! let server = OtlpServer::start_http().expect("server starts");
//! let body = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
//!   "scopeSpans":[{"scope":{"name":"shop"},"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736",
//!   "spanId":"00f067aa0ba902b7","name":"charge","kind":3}]}]}]}"#;
//! let mut conn = std::net::TcpStream::connect(server.addr()).expect("connect");
//! write!(
//!     conn,
//!     "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-api-key: secret\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
//!     body.len()
//! )
//! .expect("send");
//! let mut response = String::new();
//! conn.read_to_string(&mut response).expect("response");
//! assert!(response.starts_with("HTTP/1.1 200"));
//!
//! let spans = server.wait_for_spans(1, Duration::from_secs(10)).expect("one span");
//! assert_eq!(spans[0].name(), "charge");
//! assert_eq!(spans[0].service_name(), Some("checkout"));
//! assert_eq!(spans[0].trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(server.requests()[0].header("x-api-key"), Some("secret"));
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::ResourceMetrics;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::server::{
    Behaviour, Outcome, ReceivedRequest, ServerThread, Shared, StartError, WaitError, decode_body,
    media_type, summarize,
};

/// The largest request body the receiver reads.
const BODY_LIMIT: usize = 64 << 20;

/// Everything an [`OtlpServer`] received.
#[derive(Debug, Default, Clone)]
pub struct OtlpReceived {
    /// Every request, in arrival order, whatever its outcome.
    pub requests: Vec<ReceivedRequest>,
    /// Accepted trace export requests.
    pub traces: Vec<ExportTraceServiceRequest>,
    /// Accepted log export requests.
    pub logs: Vec<ExportLogsServiceRequest>,
    /// Accepted metrics export requests.
    pub metrics: Vec<ExportMetricsServiceRequest>,
}

impl OtlpReceived {
    /// Every accepted span with its resource and scope, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let mut out = Vec::new();
        for req in &self.traces {
            for rs in &req.resource_spans {
                let resource = rs.resource.clone().unwrap_or_default();
                for ss in &rs.scope_spans {
                    let scope = ss.scope.clone().unwrap_or_default();
                    for span in &ss.spans {
                        out.push(ReceivedSpan {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// How many spans were accepted.
    pub fn span_count(&self) -> usize {
        self.traces
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }

    /// Every accepted log record with its resource and scope, in arrival order.
    pub fn log_records(&self) -> Vec<ReceivedLogRecord> {
        let mut out = Vec::new();
        for req in &self.logs {
            for rl in &req.resource_logs {
                let resource = rl.resource.clone().unwrap_or_default();
                for sl in &rl.scope_logs {
                    let scope = sl.scope.clone().unwrap_or_default();
                    for record in &sl.log_records {
                        out.push(ReceivedLogRecord {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            record: record.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// How many log records were accepted.
    pub fn log_record_count(&self) -> usize {
        self.logs
            .iter()
            .flat_map(|r| &r.resource_logs)
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum()
    }

    /// Every accepted batch of metrics, per resource.
    pub fn resource_metrics(&self) -> Vec<ResourceMetrics> {
        self.metrics
            .iter()
            .flat_map(|r| r.resource_metrics.iter().cloned())
            .collect()
    }
}

/// A received span with its resource and instrumentation scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// The resource of the batch it came in.
    pub resource: Resource,
    /// The instrumentation scope it came under.
    pub scope: InstrumentationScope,
    /// The span.
    pub span: Span,
}

impl ReceivedSpan {
    /// The span's name.
    pub fn name(&self) -> &str {
        &self.span.name
    }

    /// The span's attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&any_value::Value> {
        attribute(&self.span.attributes, key)
    }

    /// The span's attribute `key` when it is a string.
    pub fn str_attribute(&self, key: &str) -> Option<&str> {
        as_str(self.attribute(key))
    }

    /// The span's attribute `key` when it is an integer.
    pub fn i64_attribute(&self, key: &str) -> Option<i64> {
        match self.attribute(key)? {
            any_value::Value::IntValue(i) => Some(*i),
            _ => None,
        }
    }

    /// The resource's attribute `key`.
    pub fn resource_attribute(&self, key: &str) -> Option<&any_value::Value> {
        attribute(&self.resource.attributes, key)
    }

    /// The resource's attribute `key` when it is a string.
    pub fn resource_str(&self, key: &str) -> Option<&str> {
        as_str(self.resource_attribute(key))
    }

    /// The resource's `service.name`.
    pub fn service_name(&self) -> Option<&str> {
        self.resource_str("service.name")
    }

    /// The trace id (`TraceId::INVALID` when it is not 16 bytes).
    pub fn trace_id(&self) -> TraceId {
        <[u8; 16]>::try_from(self.span.trace_id.as_slice())
            .map(TraceId::from_bytes)
            .unwrap_or(TraceId::INVALID)
    }

    /// The span id (`SpanId::INVALID` when it is not 8 bytes).
    pub fn span_id(&self) -> SpanId {
        span_id(&self.span.span_id)
    }

    /// The parent span id (`SpanId::INVALID` for a root).
    pub fn parent_span_id(&self) -> SpanId {
        span_id(&self.span.parent_span_id)
    }

    /// The trace id in lowercase hex.
    pub fn trace_id_hex(&self) -> String {
        self.trace_id().to_string()
    }

    /// The span id in lowercase hex.
    pub fn span_id_hex(&self) -> String {
        self.span_id().to_string()
    }
}

/// A received log record with its resource and instrumentation scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedLogRecord {
    /// The resource of the batch it came in.
    pub resource: Resource,
    /// The instrumentation scope it came under.
    pub scope: InstrumentationScope,
    /// The log record.
    pub record: LogRecord,
}

impl ReceivedLogRecord {
    /// The body when it is a string.
    pub fn body_str(&self) -> Option<&str> {
        as_str(self.record.body.as_ref().and_then(|b| b.value.as_ref()))
    }

    /// The record's attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&any_value::Value> {
        attribute(&self.record.attributes, key)
    }

    /// The record's attribute `key` when it is a string.
    pub fn str_attribute(&self, key: &str) -> Option<&str> {
        as_str(self.attribute(key))
    }

    /// The trace id the record carries (`TraceId::INVALID` when none).
    pub fn trace_id(&self) -> TraceId {
        <[u8; 16]>::try_from(self.record.trace_id.as_slice())
            .map(TraceId::from_bytes)
            .unwrap_or(TraceId::INVALID)
    }

    /// The span id the record carries (`SpanId::INVALID` when none).
    pub fn span_id(&self) -> SpanId {
        span_id(&self.record.span_id)
    }
}

fn span_id(bytes: &[u8]) -> SpanId {
    <[u8; 8]>::try_from(bytes)
        .map(SpanId::from_bytes)
        .unwrap_or(SpanId::INVALID)
}

/// The value of attribute `key` in an OTLP attribute list.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn as_str(v: Option<&any_value::Value>) -> Option<&str> {
    match v? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

/// An OTLP receiver on 127.0.0.1; dropping it stops it.
pub struct OtlpServer {
    shared: Arc<Shared<OtlpReceived>>,
    thread: ServerThread,
    grpc: bool,
}

impl std::fmt::Debug for OtlpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpServer")
            .field("addr", &self.addr())
            .field("grpc", &self.grpc)
            .finish_non_exhaustive()
    }
}

impl OtlpServer {
    /// Starts an OTLP/HTTP receiver on a free port of 127.0.0.1.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound or the receiver's thread cannot start.
    pub fn start_http() -> Result<Self, StartError> {
        let shared = Shared::<OtlpReceived>::new();
        let router = Router::new()
            .route("/v1/traces", post(traces))
            .route("/v1/logs", post(logs))
            .route("/v1/metrics", post(metrics))
            .fallback(unknown)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(Arc::clone(&shared));
        let thread = ServerThread::spawn("otlp-http", move |listener| async move {
            let _ = axum::serve(listener, router).await;
        })?;
        Ok(Self {
            shared,
            thread,
            grpc: false,
        })
    }

    /// Starts an OTLP gRPC receiver on a free port of 127.0.0.1 (feature `grpc`).
    ///
    /// # Errors
    ///
    /// When the port cannot be bound or the receiver's thread cannot start.
    #[cfg(feature = "grpc")]
    pub fn start_grpc() -> Result<Self, StartError> {
        let shared = Shared::<OtlpReceived>::new();
        let thread = ServerThread::spawn("otlp-grpc", {
            let shared = Arc::clone(&shared);
            move |listener| crate::grpc::serve(shared, listener)
        })?;
        Ok(Self {
            shared,
            thread,
            grpc: true,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.thread.addr()
    }

    /// The base endpoint, `http://127.0.0.1:<port>`: what `OTEL_EXPORTER_OTLP_ENDPOINT` takes
    /// (exporters append `/v1/traces` to it for HTTP; gRPC uses it as is).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The traces URL, `http://127.0.0.1:<port>/v1/traces`: what
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` takes for HTTP.
    pub fn traces_endpoint(&self) -> String {
        format!("http://{}/v1/traces", self.addr())
    }

    /// The logs URL, `http://127.0.0.1:<port>/v1/logs`.
    pub fn logs_endpoint(&self) -> String {
        format!("http://{}/v1/logs", self.addr())
    }

    /// The metrics URL, `http://127.0.0.1:<port>/v1/metrics`.
    pub fn metrics_endpoint(&self) -> String {
        format!("http://{}/v1/metrics", self.addr())
    }

    /// Changes how the receiver answers from the next request on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.shared.set_behaviour(behaviour);
    }

    /// A copy of everything received so far.
    pub fn received(&self) -> OtlpReceived {
        self.shared.lock().clone()
    }

    /// The accepted spans so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.shared.lock().spans()
    }

    /// The accepted log records so far.
    pub fn log_records(&self) -> Vec<ReceivedLogRecord> {
        self.shared.lock().log_records()
    }

    /// The accepted metrics so far.
    pub fn resource_metrics(&self) -> Vec<ResourceMetrics> {
        self.shared.lock().resource_metrics()
    }

    /// Every request so far, whatever its outcome.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets everything received (the behaviour stays).
    pub fn reset(&self) {
        self.shared.update(|s| *s = OtlpReceived::default());
    }

    /// Blocks until at least `n` spans were accepted, and returns all of them.
    ///
    /// Do not call it on a current-thread runtime whose thread must also run the exporter: use
    /// [`wait_for_spans_async`](Self::wait_for_spans_async) there.
    ///
    /// # Errors
    ///
    /// When `timeout` passes first; the error says what was received instead.
    pub fn wait_for_spans(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedSpan>, WaitError> {
        self.shared.wait(
            timeout,
            |s| (s.span_count() >= n).then(|| s.spans()),
            |s| wait_error(n, s.span_count(), timeout, "spans", s),
        )
    }

    /// Waits until at least `n` spans were accepted, without blocking the caller's runtime (any
    /// runtime: the timeout is kept by the receiver's own).
    ///
    /// # Errors
    ///
    /// When `timeout` passes first; the error says what was received instead.
    pub async fn wait_for_spans_async(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedSpan>, WaitError> {
        self.shared
            .wait_async(
                self.thread.runtime(),
                timeout,
                |s| (s.span_count() >= n).then(|| s.spans()),
                |s| wait_error(n, s.span_count(), timeout, "spans", s),
            )
            .await
    }

    /// Blocks until at least `n` log records were accepted, and returns all of them.
    ///
    /// # Errors
    ///
    /// When `timeout` passes first.
    pub fn wait_for_log_records(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedLogRecord>, WaitError> {
        self.shared.wait(
            timeout,
            |s| (s.log_record_count() >= n).then(|| s.log_records()),
            |s| wait_error(n, s.log_record_count(), timeout, "log records", s),
        )
    }

    /// Blocks until at least `n` metrics export requests were accepted, and returns every
    /// batch of metrics received.
    ///
    /// # Errors
    ///
    /// When `timeout` passes first.
    pub fn wait_for_metrics(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ResourceMetrics>, WaitError> {
        self.shared.wait(
            timeout,
            |s| (s.metrics.len() >= n).then(|| s.resource_metrics()),
            |s| wait_error(n, s.metrics.len(), timeout, "metrics requests", s),
        )
    }

    /// Blocks until at least `n` requests arrived, whatever their outcome (for failure tests:
    /// the exporter tried), and returns them.
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

    /// Like [`wait_for_requests`](Self::wait_for_requests) without blocking the caller's
    /// runtime.
    ///
    /// # Errors
    ///
    /// When `timeout` passes first.
    pub async fn wait_for_requests_async(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedRequest>, WaitError> {
        self.shared
            .wait_async(
                self.thread.runtime(),
                timeout,
                |s| (s.requests.len() >= n).then(|| s.requests.clone()),
                |s| wait_error(n, s.requests.len(), timeout, "requests", s),
            )
            .await
    }
}

fn wait_error(
    wanted: usize,
    received: usize,
    timeout: Duration,
    what: &'static str,
    s: &OtlpReceived,
) -> WaitError {
    WaitError {
        wanted,
        received,
        timeout,
        what,
        requests: summarize(&s.requests),
    }
}

// === HTTP handlers ===

type AppState = State<Arc<Shared<OtlpReceived>>>;

async fn traces(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    handle(
        &shared,
        "/v1/traces",
        &headers,
        &body,
        ExportTraceServiceResponse::default(),
        |s, r: ExportTraceServiceRequest| s.traces.push(r),
    )
    .await
}

async fn logs(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    handle(
        &shared,
        "/v1/logs",
        &headers,
        &body,
        ExportLogsServiceResponse::default(),
        |s, r: ExportLogsServiceRequest| s.logs.push(r),
    )
    .await
}

async fn metrics(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    handle(
        &shared,
        "/v1/metrics",
        &headers,
        &body,
        ExportMetricsServiceResponse::default(),
        |s, r: ExportMetricsServiceRequest| s.metrics.push(r),
    )
    .await
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

#[derive(Clone, Copy)]
enum Encoding {
    Protobuf,
    Json,
}

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

async fn handle<Req, Resp>(
    shared: &Shared<OtlpReceived>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    response: Resp,
    keep: impl FnOnce(&mut OtlpReceived, Req),
) -> Response
where
    Req: prost::Message + Default + serde::de::DeserializeOwned,
    Resp: prost::Message + serde::Serialize,
{
    let record = |outcome: Outcome| ReceivedRequest {
        method: "POST".to_owned(),
        path: path.to_owned(),
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
    let invalid = |status: StatusCode, why: String| {
        shared.update(|s| s.requests.push(record(Outcome::Invalid(why.clone()))));
        (status, why).into_response()
    };
    let encoding = match media_type(headers).as_str() {
        PROTOBUF => Encoding::Protobuf,
        JSON => Encoding::Json,
        other => {
            return invalid(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported content-type {other:?}"),
            );
        }
    };
    let bytes = match decode_body(headers, body) {
        Ok(b) => b,
        Err(why) => return invalid(StatusCode::BAD_REQUEST, why),
    };
    let decoded: Result<Req, String> = match encoding {
        Encoding::Protobuf => Req::decode(bytes.as_slice()).map_err(|e| format!("protobuf: {e}")),
        Encoding::Json => serde_json::from_slice(&bytes).map_err(|e| format!("json: {e}")),
    };
    let request = match decoded {
        Ok(r) => r,
        Err(why) => return invalid(StatusCode::BAD_REQUEST, why),
    };
    shared.update(|s| {
        s.requests.push(record(Outcome::Accepted));
        keep(s, request);
    });
    match encoding {
        Encoding::Protobuf => {
            ([(header::CONTENT_TYPE, PROTOBUF)], response.encode_to_vec()).into_response()
        }
        Encoding::Json => (
            [(header::CONTENT_TYPE, JSON)],
            serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()),
        )
            .into_response(),
    }
}
