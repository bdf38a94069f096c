//! HTTP client middleware: a CLIENT span per outgoing request, with the trace context injected.
//!
//! # Example
//!
//! ```
//! use http::{Request, Response};
//! use opentelemetry::trace::TracerProvider as _;
//! use opentelemetry_sdk::propagation::TraceContextPropagator;
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use tower::{ServiceBuilder, ServiceExt as _, service_fn};
//! use tracewire_tower::ClientLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let exporter = InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
//!
//! // Stands in for hyper-util's `Client`: answers 503 and echoes the traceparent it got.
//! let transport = service_fn(|req: Request<String>| async move {
//!     let tp = req.headers()["traceparent"].to_str().unwrap().to_owned();
//!     let res = Response::builder().status(503).body(tp).unwrap();
//!     Ok::<_, std::convert::Infallible>(res)
//! });
//! let client = ServiceBuilder::new()
//!     .layer(
//!         ClientLayer::new()
//!             .with_tracer(provider.tracer("app"))
//!             .with_propagator(TraceContextPropagator::new()),
//!     )
//!     .service(transport);
//!
//! let req = Request::get("https://user:pw@api.example.com/v1?sig=abc").body(String::new()).unwrap();
//! let res = client.oneshot(req).await.unwrap();
//!
//! let span = &exporter.get_finished_spans().unwrap()[0];
//! assert!(res.body().contains(&span.span_context.span_id().to_string()));
//! let url = span.attributes.iter().find(|kv| kv.key.as_str() == "url.full").unwrap();
//! assert_eq!(url.value.as_str(), "https://REDACTED:REDACTED@api.example.com/v1?sig=REDACTED");
//! assert_eq!(span.status, opentelemetry::trace::Status::error(""));
//! # }
//! ```
//!
//! # The span
//!
//! Named `{METHOD}` (`HTTP` for an unknown method), kind CLIENT, child of `Context::current()`
//! (inside a handler traced by [`ServerLayer`](crate::ServerLayer), the server span). By the
//! [stable HTTP semantic conventions](https://opentelemetry.io/docs/specs/semconv/http/http-spans/#http-client-span):
//! `http.request.method` (`_OTHER` and `http.request.method_original` for unknown methods),
//! `server.address`, `server.port` (from the URI, else `Host`; the port defaults from the
//! scheme) and `url.full` (credentials become `REDACTED:REDACTED`, signature-like query values
//! `REDACTED`) at the start; `http.response.status_code` and `network.protocol.version` from the
//! response.
//!
//! # Status, and when the span ends
//!
//! 4xx, 5xx and codes outside 100–599 set Error without a description and `error.type` to the
//! code; an error from the inner service sets Error with its message and `error.type` to its type
//! name; a request dropped before its response set `error.type` `cancelled`. The span ends when
//! the response head arrives (the conventions advise against ending client spans when an
//! unread body is cleaned up later), and `http.client.request.duration` is recorded then, with
//! `http.request.method`, `server.address`, `server.port`, `http.response.status_code`,
//! `error.type` and `network.protocol.version` (not `url.scheme`, which the conventions make
//! opt-in on this histogram).
//!
//! # Propagation and baggage
//!
//! The context with the CLIENT span is injected into the request headers with the global
//! propagator (or the one given). A request carrying the [`NoPropagation`] extension is traced
//! but gets no propagation headers. Baggage is user data: limit what leaves the process with
//! [`with_baggage_keys`](ClientLayer::with_baggage_keys) and send it only to your own services with
//! [`with_baggage_hosts`](ClientLayer::with_baggage_hosts).
//!
//! # reqwest
//!
//! `reqwest::Client` is a tower service over `reqwest::Request`, not `http::Request`, and
//! reqwest-middleware is a middleware system of its own, not tower. Two paths work: wrap reqwest
//! in a tower service over `http::Request` (convert with `reqwest::Request::try_from` and
//! `http::Response::from`) and put [`ClientLayer`] on it; or, for a single call, start a span and
//! inject its context into the `reqwest::Request`'s headers yourself. docs/guides/http.md shows
//! both.

mod future;
mod layer;
mod service;

use http::Request;
use opentelemetry::baggage::{Baggage, BaggageExt as _};
use opentelemetry::{Context, StringValue};

pub use future::ResponseFuture;
pub use layer::ClientLayer;
pub use service::Client;

use crate::attrs;

/// A request extension that turns propagation off for one request: the request is traced but
/// carries no trace context or baggage headers (for calls to third parties).
///
/// ```
/// let mut req = http::Request::get("https://api.partner.example/").body(()).unwrap();
/// req.extensions_mut().insert(tracewire_tower::NoPropagation);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPropagation;

/// Which baggage leaves the process, and to whom.
#[derive(Debug, Clone, Default)]
pub(crate) struct BaggagePolicy {
    pub(crate) keys: Option<Vec<String>>,
    pub(crate) hosts: Option<Vec<String>>,
}

impl BaggagePolicy {
    /// The context to inject for a request to `host`: `cx` itself when all its baggage may go.
    pub(crate) fn apply(&self, cx: &Context, host: Option<&str>) -> Context {
        let baggage = cx.baggage();
        if baggage.is_empty() || (self.keys.is_none() && self.hosts.is_none()) {
            return cx.clone();
        }
        if let Some(hosts) = &self.hosts {
            let allowed = host.is_some_and(|h| hosts.iter().any(|p| host_matches(p, h)));
            if !allowed {
                return cx.with_cleared_baggage();
            }
        }
        match &self.keys {
            None => cx.clone(),
            Some(keys) => {
                let kept: Baggage = baggage
                    .iter()
                    .filter(|(k, _)| keys.iter().any(|allowed| allowed == k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                cx.with_baggage(kept)
            }
        }
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('.') {
        Some(domain) => {
            host.eq_ignore_ascii_case(domain)
                || (host.len() > pattern.len()
                    && host
                        .get(host.len() - pattern.len()..)
                        .is_some_and(|s| s.eq_ignore_ascii_case(pattern)))
        }
        None => host.eq_ignore_ascii_case(pattern),
    }
}

/// Where a client request goes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) host: Option<StringValue>,
    pub(crate) port: Option<u16>,
}

/// The host and port of a client request (URI, else `Host`; the port defaults from the scheme).
pub(crate) fn request_target<B>(req: &Request<B>) -> Target {
    let uri = req.uri();
    let scheme = uri
        .scheme_str()
        .and_then(attrs::known_scheme)
        .unwrap_or("http");
    let (host, port) = match uri.authority() {
        Some(a) => {
            let h = a.host();
            let h = h
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(h);
            (Some(h), a.port_u16())
        }
        None => req
            .headers()
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(attrs::parse_host_port)
            .map_or((None, None), |(h, p)| (Some(h), p)),
    };
    let host = host.filter(|h| !h.is_empty());
    Target {
        port: host.and(port.or_else(|| attrs::default_port(scheme))),
        host: host.map(|h| StringValue::from(h.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::KeyValue;

    #[test]
    fn targets() {
        let t = request_target(&Request::get("https://[::1]/x").body(()).unwrap());
        assert_eq!(
            (t.host.as_ref().map(StringValue::as_str), t.port),
            (Some("::1"), Some(443))
        );
        let t = request_target(&Request::get("http://svc:8080/").body(()).unwrap());
        assert_eq!(
            (t.host.as_ref().map(StringValue::as_str), t.port),
            (Some("svc"), Some(8080))
        );
        let t = request_target(
            &Request::get("/x")
                .header("host", "svc.internal:81")
                .body(())
                .unwrap(),
        );
        assert_eq!(
            (t.host.as_ref().map(StringValue::as_str), t.port),
            (Some("svc.internal"), Some(81))
        );
        let t = request_target(&Request::get("/x").body(()).unwrap());
        assert_eq!((t.host, t.port), (None, None));
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("api.example.com", "API.example.com"));
        assert!(!host_matches("api.example.com", "evil-api.example.com"));
        assert!(host_matches(".example.com", "example.com"));
        assert!(host_matches(".example.com", "a.b.example.com"));
        assert!(!host_matches(".example.com", "badexample.com"));
    }

    #[test]
    fn baggage_policy() {
        let cx = Context::new().with_baggage([
            KeyValue::new("user.id", "42"),
            KeyValue::new("session.region", "eu"),
        ]);
        let keys_of = |cx: &Context| {
            let mut k: Vec<String> = cx.baggage().iter().map(|(k, _)| k.to_string()).collect();
            k.sort();
            k
        };
        let all = BaggagePolicy::default();
        assert_eq!(keys_of(&all.apply(&cx, Some("x"))).len(), 2);

        let keys = BaggagePolicy {
            keys: Some(vec!["session.region".into()]),
            hosts: None,
        };
        assert_eq!(keys_of(&keys.apply(&cx, Some("x"))), ["session.region"]);

        let hosts = BaggagePolicy {
            keys: None,
            hosts: Some(vec![".internal".into()]),
        };
        assert_eq!(keys_of(&hosts.apply(&cx, Some("pay.internal"))).len(), 2);
        assert!(keys_of(&hosts.apply(&cx, Some("api.partner.com"))).is_empty());
        assert!(keys_of(&hosts.apply(&cx, None)).is_empty());
    }
}
