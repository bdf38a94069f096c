//! The Zipkin v2 receiver, driven by the real opentelemetry-zipkin exporter.

// opentelemetry-zipkin 0.33 deprecates its exporter in favour of OTLP; it is still what users
// of Zipkin's v2 API run, so the receiver is tested against it.
#![allow(deprecated)]

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracewire_testing::server::{Behaviour, Outcome};
use tracewire_testing::zipkin::ZipkinServer;

const WAIT: Duration = Duration::from_secs(10);

fn provider(server: &ZipkinServer) -> SdkTracerProvider {
    let exporter = opentelemetry_zipkin::ZipkinExporter::builder()
        .with_collector_endpoint(server.endpoint())
        .build()
        .expect("exporter");
    SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("checkout")
                .build(),
        )
        .with_simple_exporter(exporter)
        .build()
}

#[test]
fn zipkin_spans_arrive_as_json() {
    let server = ZipkinServer::start().expect("server");
    let provider = provider(&server);
    let tracer = provider.tracer("shop");
    let mut span = tracer
        .span_builder("charge")
        .with_kind(SpanKind::Client)
        .start(&tracer);
    span.set_attribute(KeyValue::new("payment.amount", 42_i64));
    let trace_id = span.span_context().trace_id().to_string();
    span.end();

    let spans = server.wait_for_spans(1, WAIT).expect("one span");
    assert_eq!(spans[0]["name"], "charge");
    assert_eq!(spans[0]["kind"], "CLIENT");
    assert_eq!(spans[0]["traceId"], trace_id.as_str());
    // opentelemetry-zipkin 0.33 does not read the resource: no `localEndpoint.serviceName`.
    assert_eq!(spans[0]["tags"]["payment.amount"], "42");
    let requests = server.requests();
    assert_eq!(requests[0].outcome, Outcome::Accepted);
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
}

#[test]
fn zipkin_failure_behaviours() {
    let server = ZipkinServer::start().expect("server");
    let provider = provider(&server);
    server.set_behaviour(Behaviour::Status(500));
    provider.tracer("t").start("refused").end();
    let requests = server.wait_for_requests(1, WAIT).expect("an attempt");
    assert_eq!(requests[0].outcome, Outcome::Rejected(500));
    assert!(server.spans().is_empty());

    let client = reqwest::blocking::Client::new();
    server.set_behaviour(Behaviour::Accept);
    let status = client
        .post(server.endpoint())
        .header("content-type", "application/json")
        .body("{\"not\":\"an array\"}")
        .send()
        .expect("response")
        .status();
    assert_eq!(status.as_u16(), 400);
    assert!(matches!(server.requests()[1].outcome, Outcome::Invalid(_)));
    server.reset();
    assert!(server.requests().is_empty());
}
