//! HTTP server middleware: a SERVER span and a duration measurement per request.
//!
//! # Example
//!
//! ```
//! use axum::{Router, routing::get};
//! use http_body_util::BodyExt as _;
//! use opentelemetry::trace::{SpanKind, TracerProvider as _};
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use tower::ServiceExt as _;
//! use tracewire_tower::ServerLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let exporter = InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
//!
//! let app = Router::new()
//!     .route("/users/{id}", get(|| async { "hello" }))
//!     .layer(ServerLayer::new().with_tracer(provider.tracer("app")));
//!
//! let request = http::Request::get("/users/42").body(axum::body::Body::empty()).unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! response.into_body().collect().await.unwrap(); // the span ends with the body
//!
//! let spans = exporter.get_finished_spans().unwrap();
//! assert_eq!(spans[0].name, "GET /users/{id}");
//! assert_eq!(spans[0].span_kind, SpanKind::Server);
//! # }
//! ```
//!
//! # Where to add the layer
//!
//! With axum, add it with `Router::layer`: axum then wraps every route after routing, so the
//! layer sees the matched route (`MatchedPath`). Wrapping the whole `Router` from outside works
//! too, but the route is unknown there (span name `{METHOD}`, no `http.route`) unless a route
//! extractor finds it. Stacking the layer twice, or nesting routers that each have it, still makes
//! one SERVER span per request: the outermost layer marks the request and the others pass it on.
//!
//! # The span
//!
//! Named `{METHOD} {route}` when the route is known, else `{METHOD}` (never the raw path); an
//! unknown method is `_OTHER` and the name's method part `HTTP`. Kind SERVER. Its parent is the
//! context the propagator extracts from the request headers (the global propagator unless one is
//! given); in public-endpoint mode it starts a new trace with a link to the caller's span instead.
//!
//! The inner service runs inside the span's context: the context is attached while the service's
//! `call` runs and on every poll of its future (never held across an `.await`), so in a handler
//! `Context::current()`, a `tracing` span (through tracing-opentelemetry), a log line and an
//! outgoing request through [`ClientLayer`](crate::ClientLayer) all belong to the trace.
//!
//! # Span attributes
//!
//! By the [stable HTTP semantic conventions](https://opentelemetry.io/docs/specs/semconv/http/http-spans/),
//! all present when the span starts (so head samplers can use them), each left out rather than
//! recorded empty:
//!
//! | attribute | from |
//! |---|---|
//! | `http.request.method` | the method, `_OTHER` when unknown (plus `http.request.method_original`) |
//! | `url.path`, `url.query` | the request target; values of `AWSAccessKeyId`, `Signature`, `sig`, `X-Goog-Signature` become `REDACTED` |
//! | `url.scheme` | the request URI, else `Forwarded: proto` / `X-Forwarded-Proto` (`http` or `https` only), else `https` when [`with_tls`](ServerLayer::with_tls), else `http` |
//! | `http.route` | axum's `MatchedPath` or the route extractor |
//! | `server.address`, `server.port` | `Forwarded: host`, `X-Forwarded-Host`, the URI's authority (HTTP/2), `Host`; port defaults from the scheme |
//! | `client.address` | forwarding headers when the peer is a [trusted proxy](crate::TrustedProxies), else the peer |
//! | `network.peer.address`, `network.peer.port` | axum's `ConnectInfo<SocketAddr>` |
//! | `user_agent.original` | `User-Agent` |
//! | `network.protocol.version` | the HTTP version |
//! | `http.request.header.<name>` | allow-listed request headers ([`with_request_headers`](ServerLayer::with_request_headers)) |
//! | `http.response.status_code` | the response (an integer) |
//! | `http.response.header.<name>` | allow-listed response headers |
//! | `error.type` | see below |
//!
//! # Status
//!
//! 5xx and codes outside 100–599 set Error without a description and `error.type` to the code;
//! 1xx–4xx leave the status unset. An error from the inner service sets Error (its message as the
//! description) and `error.type` to the error's type name; so does an error from the response body.
//! A request cancelled before its response is complete (the future or the body dropped early,
//! except for `HEAD` and the bodiless 1xx, 204 and 304 responses) sets Error with `error.type`
//! `cancelled`.
//!
//! # When the span ends
//!
//! When the response body ends (its last frame, the last byte of its declared `Content-Length`,
//! an error, or the body being dropped), not when the headers are sent: a streamed response is
//! timed in full. `http.server.request.duration` (seconds, with the conventions' buckets and
//! `http.request.method`, `url.scheme`, `http.route`, `http.response.status_code`, `error.type`,
//! `network.protocol.version`) is recorded then.

mod body;
mod future;
mod layer;
mod service;

use std::borrow::Cow;
use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{SpanId, Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue, StringValue};
use tracewire_core::semconv::attribute as attr;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::ServerLayer;
pub use service::Server;

use crate::attrs::{self, MethodAttr};
use crate::hooks::{ExtractRoute, OnRequest};
use crate::intern::{self, HostPort};
use crate::names::{NAMES, NameAndRoute};
use crate::otel::SpanName;
use crate::proxies::ForwardingHeader;
use crate::report;
use service::{End, Start};

/// `error.type` for a request cancelled before its response was complete.
const CANCELLED: &str = "cancelled";

/// Attribute slots the span starts with at most, before captured headers and hooks.
const REQUEST_ATTRIBUTES: usize = 13;

/// Attribute slots added after the start (status code, error type), reserved up front so the
/// span's attribute list does not grow.
const LATER_ATTRIBUTES: usize = 2;

/// What the server knows about a request when its span starts.
pub(crate) struct RequestInfo {
    pub(crate) name: SpanName,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) method: &'static str,
    pub(crate) scheme: &'static str,
    pub(crate) route: Option<StringValue>,
    pub(crate) protocol: Option<&'static str>,
    pub(crate) is_head: bool,
}

/// The span's name and start attributes for `req`.
pub(crate) fn request_attributes<B, T, P, R, F, Q>(
    start: &Start<T, P, R, F, Q>,
    req: &Request<B>,
) -> RequestInfo
where
    R: ExtractRoute<B>,
    Q: OnRequest<B>,
{
    let method = start.known_methods.lookup(req.method());
    let (name, route) = match start.route.route(req) {
        Some(r) if !r.is_empty() => {
            let cached = span_name(method, &r);
            (cached.name, Some(cached.route))
        }
        _ => (Cow::Borrowed(method.span_name()), None),
    };

    let mut a = Vec::with_capacity(
        REQUEST_ATTRIBUTES
            + start.request_headers.len()
            + LATER_ATTRIBUTES
            + start.response_headers_len,
    );
    a.push(KeyValue::new(attr::HTTP_REQUEST_METHOD, method.value()));
    if method == MethodAttr::Other {
        a.push(KeyValue::new(
            attr::HTTP_REQUEST_METHOD_ORIGINAL,
            req.method().as_str().to_owned(),
        ));
    }

    let uri = req.uri();
    let path = uri.path();
    if !path.is_empty() {
        a.push(KeyValue::new(attr::URL_PATH, path.to_owned()));
    }
    if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
        a.push(KeyValue::new(
            attr::URL_QUERY,
            attrs::redact_query(query).into_owned(),
        ));
    }

    let headers = req.headers();
    let head = Head::scan(headers);
    let scheme = uri
        .scheme_str()
        .and_then(attrs::known_scheme)
        .or_else(|| {
            (head.forwarded || head.x_forwarded_proto)
                .then(|| attrs::forwarded_proto(headers))
                .flatten()
        })
        .unwrap_or(if start.tls { "https" } else { "http" });
    a.push(KeyValue::new(attr::URL_SCHEME, scheme));

    if let Some(route) = &route {
        a.push(KeyValue::new(attr::HTTP_ROUTE, route.clone()));
    }

    if let Some((host, port)) = server_host(req, &head) {
        let port = port.or_else(|| attrs::default_port(scheme));
        a.push(KeyValue::new(attr::SERVER_ADDRESS, host));
        if let Some(port) = port {
            a.push(KeyValue::new(attr::SERVER_PORT, i64::from(port)));
        }
    }

    let peer = peer_addr(req);
    let peer_ip = peer.map(|p| attrs::ip_value(p.ip()));
    let trusted_peer = match peer {
        Some(p) => start.trusted.contains(p.ip()),
        None => start.trusted.contains_all(),
    };
    let header = start.trusted.header();
    let has_forwarding = match header {
        ForwardingHeader::Forwarded => head.forwarded,
        ForwardingHeader::XForwardedFor => head.x_forwarded_for,
        _ => head.forwarded || head.x_forwarded_for,
    };
    // Behind a trusted proxy that forwarded the request, the client is the header's (none when
    // the header names no usable one); otherwise it is the peer.
    let client = if trusted_peer && has_forwarding {
        attrs::forwarded_client(headers, header, |ip| start.trusted.contains(ip))
            .map(attrs::ip_value)
    } else {
        peer_ip.clone()
    };
    if let Some(client) = client {
        a.push(KeyValue::new(attr::CLIENT_ADDRESS, client));
    }
    if let (Some(peer), Some(ip)) = (peer, peer_ip) {
        a.push(KeyValue::new(attr::NETWORK_PEER_ADDRESS, ip));
        a.push(KeyValue::new(
            attr::NETWORK_PEER_PORT,
            i64::from(peer.port()),
        ));
    }

    if let Some(ua) = head.user_agent
        && !ua.is_empty()
    {
        a.push(KeyValue::new(
            attr::USER_AGENT_ORIGINAL,
            intern::user_agent(ua.as_bytes()),
        ));
    }

    let protocol = attrs::protocol_version(req.version());
    if let Some(v) = protocol {
        a.push(KeyValue::new(attr::NETWORK_PROTOCOL_VERSION, v));
    }

    start.request_headers.capture(headers, &mut a);
    start.on_request.on_request(req, &mut a);

    RequestInfo {
        name,
        attributes: a,
        method: method.value(),
        scheme,
        route,
        protocol,
        is_head: req.method() == Method::HEAD,
    }
}

/// What the attributes need from the request headers, found in one pass over them (cheaper
/// than a hash lookup per name for the usual handful of headers).
struct Head<'a> {
    host: Option<&'a HeaderValue>,
    user_agent: Option<&'a HeaderValue>,
    forwarded: bool,
    x_forwarded_for: bool,
    x_forwarded_host: bool,
    x_forwarded_proto: bool,
}

impl<'a> Head<'a> {
    fn scan(headers: &'a HeaderMap) -> Self {
        let mut head = Head {
            host: None,
            user_agent: None,
            forwarded: false,
            x_forwarded_for: false,
            x_forwarded_host: false,
            x_forwarded_proto: false,
        };
        for (name, value) in headers {
            if name == http::header::HOST {
                head.host.get_or_insert(value);
            } else if name == http::header::USER_AGENT {
                head.user_agent.get_or_insert(value);
            } else if name == http::header::FORWARDED {
                head.forwarded = true;
            } else if name.as_str().starts_with("x-forwarded-") {
                head.x_forwarded_for |= name == attrs::X_FORWARDED_FOR;
                head.x_forwarded_host |= name == attrs::X_FORWARDED_HOST;
                head.x_forwarded_proto |= name == attrs::X_FORWARDED_PROTO;
            }
        }
        head
    }
}

/// `server.address` and `server.port` sources in the conventions' order.
fn server_host<B>(req: &Request<B>, head: &Head<'_>) -> Option<HostPort> {
    let headers = req.headers();
    if (head.forwarded || head.x_forwarded_host)
        && let Some(value) = attrs::forwarded_host(headers)
    {
        match intern::host(value.as_bytes(), || parsed_host(value)) {
            Some(hp) => return Some(hp),
            None => report::once(
                &report::BAD_HOST,
                "a forwarded host is not a valid host; server.address falls back to Host",
            ),
        }
    }
    if let Some(authority) = req.uri().authority() {
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if !host.is_empty() {
            let value = intern::host(host.as_bytes(), || Some((intern::keep(host), None)));
            return value.map(|(h, _)| (h, authority.port_u16()));
        }
    }
    let host = head.host?;
    let parsed = intern::host(host.as_bytes(), || host.to_str().ok().and_then(parsed_host));
    if parsed.is_none() {
        report::once(
            &report::BAD_HOST,
            "a Host header is not a valid host; server.address is left out",
        );
    }
    parsed
}

fn parsed_host(value: &str) -> Option<HostPort> {
    attrs::parse_host_port(value).map(|(h, p)| (intern::keep(h), p))
}

/// The span name and route for a known route: from this thread's recent names, else from the
/// process-wide cache.
fn span_name(method: MethodAttr, route: &str) -> NameAndRoute {
    // A name the process-wide cache does not keep (past its cap) is not kept here either; it is
    // returned as made, not made a second time.
    let mut uncached = None;
    if let Some((name, route)) = intern::name(method.span_name(), route, || {
        let made = NAMES.get(method, route);
        match made.name {
            Cow::Borrowed(name) => Some((name, made.route)),
            Cow::Owned(_) => {
                uncached = Some(made);
                None
            }
        }
    }) {
        return NameAndRoute {
            name: Cow::Borrowed(name),
            route,
        };
    }
    uncached.unwrap_or_else(|| NAMES.get(method, route))
}

/// The connection's peer, from axum's `ConnectInfo<SocketAddr>`.
fn peer_addr<B>(_req: &Request<B>) -> Option<SocketAddr> {
    #[cfg(feature = "axum")]
    {
        _req.extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
    }
    #[cfg(not(feature = "axum"))]
    {
        None
    }
}

/// The attributes of `http.server.request.duration`.
#[derive(Debug)]
pub(crate) struct MetricAttrs {
    method: &'static str,
    scheme: &'static str,
    route: Option<StringValue>,
    protocol: Option<&'static str>,
    status: Option<i64>,
    error_type: Option<StringValue>,
}

impl MetricAttrs {
    pub(crate) fn new(
        method: &'static str,
        scheme: &'static str,
        route: Option<StringValue>,
        protocol: Option<&'static str>,
    ) -> Self {
        Self {
            method,
            scheme,
            route,
            protocol,
            status: None,
            error_type: None,
        }
    }

    fn record(&self, histogram: &Histogram<f64>, seconds: f64) {
        // The common case, built in place.
        if let (Some(route), Some(status), None, Some(protocol)) =
            (&self.route, self.status, &self.error_type, self.protocol)
        {
            histogram.record(
                seconds,
                &[
                    KeyValue::new(attr::HTTP_REQUEST_METHOD, self.method),
                    KeyValue::new(attr::URL_SCHEME, self.scheme),
                    KeyValue::new(attr::HTTP_ROUTE, route.clone()),
                    KeyValue::new(attr::HTTP_RESPONSE_STATUS_CODE, status),
                    KeyValue::new(attr::NETWORK_PROTOCOL_VERSION, protocol),
                ],
            );
            return;
        }
        // A fixed array rather than a Vec: no allocation per measurement.
        let mut kv: [KeyValue; 6] = std::array::from_fn(|_| KeyValue::new("", ""));
        let mut n = 0;
        let mut push = |k: KeyValue| {
            kv[n] = k;
            n += 1;
        };
        push(KeyValue::new(attr::HTTP_REQUEST_METHOD, self.method));
        push(KeyValue::new(attr::URL_SCHEME, self.scheme));
        if let Some(route) = &self.route {
            push(KeyValue::new(attr::HTTP_ROUTE, route.clone()));
        }
        if let Some(status) = self.status {
            push(KeyValue::new(attr::HTTP_RESPONSE_STATUS_CODE, status));
        }
        if let Some(error) = &self.error_type {
            push(KeyValue::new(attr::ERROR_TYPE, error.clone()));
        }
        if let Some(protocol) = self.protocol {
            push(KeyValue::new(attr::NETWORK_PROTOCOL_VERSION, protocol));
        }
        histogram.record(seconds, &kv[..n]);
    }
}

/// How a request ended.
pub(crate) enum Outcome<'a> {
    /// The body ended normally (or there was none).
    Complete,
    /// The inner service failed: its error type and message.
    ServiceError(&'static str, &'a dyn std::fmt::Display),
    /// The response body failed: its error type and message.
    BodyError(&'static str, &'a dyn std::fmt::Display),
    /// The future or the body was dropped before the end.
    Dropped,
}

/// The span's context and what is recorded when the request ends; ends the span exactly once,
/// at the latest when dropped.
#[derive(Debug)]
pub(crate) struct EndState {
    pub(crate) cx: Context,
    started: SystemTime,
    is_head: bool,
    histogram: Histogram<f64>,
    metric: MetricAttrs,
    finished: bool,
}

impl EndState {
    pub(crate) fn new(
        cx: Context,
        started: SystemTime,
        is_head: bool,
        histogram: Histogram<f64>,
        metric: MetricAttrs,
    ) -> Self {
        Self {
            cx,
            started,
            is_head,
            histogram,
            metric,
            finished: false,
        }
    }

    /// Records the response status (and `extra` attributes) on the span.
    pub(crate) fn record_status(&mut self, status: StatusCode, extra: Vec<KeyValue>) {
        let code = status.as_u16();
        self.metric.status = Some(i64::from(code));
        let span = self.cx.span();
        let error = !(100..500).contains(&code);
        let error_type = error.then(|| StringValue::from(status.as_str().to_owned()));
        let code_kv = KeyValue::new(attr::HTTP_RESPONSE_STATUS_CODE, i64::from(code));
        if error_type.is_none() && extra.is_empty() {
            span.set_attribute(code_kv);
            return;
        }
        span.set_attributes(
            std::iter::once(code_kv)
                .chain(
                    error_type
                        .clone()
                        .map(|e| KeyValue::new(attr::ERROR_TYPE, e)),
                )
                .chain(extra),
        );
        if let Some(e) = error_type {
            span.set_status(Status::error(""));
            self.metric.error_type = Some(e);
        }
    }

    /// Ends the span and records the duration (once).
    pub(crate) fn finish(&mut self, outcome: Outcome<'_>) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let span = self.cx.span();
        let failure = match outcome {
            Outcome::Complete => None,
            // A HEAD response, or a status that has no body (1xx, 204, 304), goes out without
            // its body: the server drops the body unread once the head is written.
            Outcome::Dropped
                if self.is_head || matches!(self.metric.status, Some(100..=199 | 204 | 304)) =>
            {
                None
            }
            Outcome::Dropped => Some((CANCELLED, None)),
            Outcome::ServiceError(ty, msg) | Outcome::BodyError(ty, msg) => Some((ty, Some(msg))),
        };
        if let Some((ty, msg)) = failure {
            let description = msg.map(ToString::to_string).unwrap_or_default();
            span.set_status(Status::error(description));
            if self.metric.error_type.is_none() {
                let ty = StringValue::from(ty);
                span.set_attribute(KeyValue::new(attr::ERROR_TYPE, ty.clone()));
                self.metric.error_type = Some(ty);
            }
        }
        // One clock read for both: the span's end and the measured duration agree.
        let now = SystemTime::now();
        span.end_with_timestamp(now);
        let seconds = now
            .duration_since(self.started)
            .unwrap_or_default()
            .as_secs_f64();
        self.metric.record(&self.histogram, seconds);
    }
}

impl Drop for EndState {
    fn drop(&mut self) {
        self.finish(Outcome::Dropped);
    }
}

/// The state of a traced response future.
pub(crate) struct Traced<A> {
    pub(crate) end: EndState,
    pub(crate) span_id: SpanId,
    pub(crate) shared: Arc<End<A>>,
}

thread_local! {
    /// While a server layer runs its inner service (its `call`, each poll of its future): the
    /// span id it runs under (its SERVER span, or for a filtered request the span current then).
    static SCOPE: Cell<Option<SpanId>> = const { Cell::new(None) };
}

/// Marks the stretch of code in which a server layer runs its inner service, so that a server
/// layer inside it (the layer stacked twice, nested routers each with the layer) passes the
/// request on instead of making a second SERVER span. See docs/adr/0021-one-server-span.md.
pub(crate) struct Scope {
    previous: Option<SpanId>,
}

impl Scope {
    pub(crate) fn enter(span_id: SpanId) -> Self {
        Self {
            previous: SCOPE.with(|s| s.replace(Some(span_id))),
        }
    }

    /// The current context's span id (`INVALID` without a span).
    pub(crate) fn current_span_id() -> SpanId {
        Context::map_current(|cx| cx.span().span_context().span_id())
    }

    /// Whether this code runs directly inside a server layer: its scope is entered and no other
    /// span became current since (a span in between means a new, nested request).
    pub(crate) fn is_inside() -> bool {
        match SCOPE.with(Cell::get) {
            None => false,
            Some(id) => Self::current_span_id() == id,
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        SCOPE.with(|s| s.set(self.previous));
    }
}

impl<A> std::fmt::Debug for Traced<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traced").field("end", &self.end).finish()
    }
}
