//! Zipkin JSON v2 to a real endpoint on 127.0.0.1: exactly the spans made arrive, with the
//! service name, kind, parent and tags.
#![cfg(feature = "zipkin")]

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use tracewire_sdk::Tracewire;
use tracewire_testing::zipkin::ZipkinServer;

#[test]
fn spans_arrive_as_zipkin_v2_json() {
    let server = ZipkinServer::start().expect("receiver");
    let guard = Tracewire::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "zipkin"),
            ("OTEL_SERVICE_NAME", "payments"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ])
        .with_zipkin_endpoint(server.endpoint())
        .build()
        .expect("setup");
    let tracer = guard.tracer("payments");
    let (trace_id, parent_id) = tracer.in_span("process-payment", |cx| {
        let span = tracer
            .span_builder("POST /charge")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("payment.amount", 42),
                KeyValue::new("payment.currency", "EUR"),
            ])
            .start_with_context(&tracer, &cx);
        let cx2 = cx.with_span(span);
        cx2.span().set_status(Status::error("declined"));
        cx2.span().end();
        (
            cx.span().span_context().trace_id().to_string(),
            cx.span().span_context().span_id().to_string(),
        )
    });
    guard.force_flush().expect("flush");

    let spans = server
        .wait_for_spans(2, Duration::from_secs(20))
        .expect("two spans");
    assert_eq!(spans.len(), 2, "exactly the spans made: {spans:?}");
    let charge = spans
        .iter()
        .find(|s| s["name"] == "POST /charge")
        .expect("charge");
    let root = spans
        .iter()
        .find(|s| s["name"] == "process-payment")
        .expect("root");
    assert_eq!(charge["traceId"], trace_id.as_str());
    assert_eq!(charge["parentId"], parent_id.as_str());
    assert_eq!(root["id"], parent_id.as_str());
    assert_eq!(charge["kind"], "CLIENT");
    assert_eq!(charge["tags"]["payment.amount"], "42");
    assert_eq!(charge["tags"]["payment.currency"], "EUR");
    assert_eq!(charge["tags"]["otel.status_code"], "ERROR");
    assert_eq!(charge["tags"]["error"], "declined");
    for s in &spans {
        assert_eq!(s["localEndpoint"]["serviceName"], "payments", "{s}");
    }
    guard.shutdown().expect("shutdown");
}
