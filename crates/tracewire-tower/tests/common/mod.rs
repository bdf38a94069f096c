//! Shared test setup: an in-memory span pipeline, a server on 127.0.0.1, a hyper-util client.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::propagation::BaggagePropagator;
use opentelemetry_sdk::trace::{Sampler, SamplingResult, SdkTracer, ShouldSample, SpanData};
use tracewire_propagation::TraceContextPropagator;
use tracewire_testing::{InMemoryPipeline, SpanTree, TestSubscriber};

/// tracewire-testing's in-memory pipeline, with waiting for spans ended on server tasks.
pub struct Pipeline {
    pub inner: InMemoryPipeline,
}

impl Pipeline {
    pub fn new() -> Self {
        Self {
            inner: InMemoryPipeline::new(),
        }
    }

    pub fn with_sampler(sampler: impl ShouldSample + 'static) -> Self {
        Self {
            inner: InMemoryPipeline::builder()
                .with_sampler(Sampler::ParentBased(Box::new(sampler)))
                .build(),
        }
    }

    pub fn tree(&self) -> SpanTree {
        self.inner.tree()
    }

    pub fn subscriber(&self) -> TestSubscriber {
        self.inner.subscriber()
    }

    pub fn tracer(&self) -> SdkTracer {
        self.inner.tracer("test")
    }

    pub fn spans(&self) -> Vec<SpanData> {
        self.inner.spans()
    }

    /// Waits (up to 10 s) until at least `n` spans have ended, then returns them all.
    pub async fn wait_spans(&self, n: usize) -> Vec<SpanData> {
        for _ in 0..1000 {
            let spans = self.spans();
            if spans.len() >= n {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let spans = self.spans();
        panic!(
            "expected {n} spans, got {}: {:#?}",
            spans.len(),
            names(&spans)
        );
    }

    /// The only span named `name`.
    pub fn one(&self, name: &str) -> SpanData {
        let mut found: Vec<SpanData> = self
            .spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "spans named {name}: {:#?}",
            names(&self.spans())
        );
        found.remove(0)
    }
}

pub fn names(spans: &[SpanData]) -> Vec<String> {
    spans.iter().map(|s| s.name.to_string()).collect()
}

/// W3C trace context (tracewire's strict propagator) and baggage.
pub fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

/// The value of attribute `key`, if present.
pub fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

pub fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

pub fn attr_i64(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key) {
        Some(Value::I64(i)) => Some(*i),
        Some(other) => panic!("{key} is not an integer: {other:?}"),
        None => None,
    }
}

/// Serves `app` on 127.0.0.1 (a port the OS picks), with `ConnectInfo<SocketAddr>`.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A response read in full.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends `method url` with `headers` and reads the whole response.
pub async fn send(method: Method, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = client()
        .request(req.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub async fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    send(Method::GET, url, headers).await
}

/// A span's name and the attributes it started with.
pub type Started = (String, Vec<KeyValue>);

/// A sampler that samples everything and remembers the attributes each span started with.
#[derive(Debug, Clone, Default)]
pub struct RecordingSampler {
    pub seen: Arc<Mutex<Vec<Started>>>,
}

impl ShouldSample for RecordingSampler {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: opentelemetry::trace::TraceId,
        name: &str,
        _kind: &opentelemetry::trace::SpanKind,
        attributes: &[KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        self.seen
            .lock()
            .expect("lock")
            .push((name.to_owned(), attributes.to_vec()));
        SamplingResult {
            decision: opentelemetry_sdk::trace::SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}
