//! OTLP over gRPC to a real endpoint on 127.0.0.1 (tracewire-testing's tonic receiver): spans,
//! metrics and logs arrive with their resource and the configured metadata, from inside a
//! current-thread runtime as well.
#![cfg(feature = "grpc")]

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::Tracer as _;
use tracewire_sdk::Tracewire;
use tracewire_testing::otlp::OtlpServer;

const WAIT: Duration = Duration::from_secs(20);

fn setup(server: &OtlpServer) -> tracewire_sdk::Guard {
    Tracewire::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_SERVICE_NAME", "fulfillment"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=gr%70c-key"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ])
        .with_otlp_endpoint(server.endpoint())
        .build()
        .expect("setup")
}

#[test]
fn spans_metrics_and_logs_arrive_over_grpc() {
    let server = OtlpServer::start_grpc().expect("receiver");
    let guard = setup(&server);
    let tracer = guard.tracer("orders");
    tracer.in_span("process orders", |_| {
        tracer.in_span("reserve-stock", |_| {})
    });
    let counter = guard
        .meter_provider()
        .meter("orders")
        .u64_counter("orders.processed")
        .build();
    counter.add(1, &[KeyValue::new("status", "ok")]);
    let logger = guard.logger_provider().logger("orders");
    let mut record = logger.create_log_record();
    record.set_body("order processed".into());
    logger.emit(record);
    guard.force_flush().expect("flush");

    let spans = server.wait_for_spans(2, WAIT).expect("spans");
    assert_eq!(spans.len(), 2);
    assert!(
        spans
            .iter()
            .all(|s| s.service_name() == Some("fulfillment"))
    );
    let logs = server.wait_for_log_records(1, WAIT).expect("logs");
    assert_eq!(logs[0].body_str(), Some("order processed"));
    server.wait_for_metrics(1, WAIT).expect("metrics");
    for r in server.requests() {
        assert_eq!(r.header("x-api-key"), Some("grpc-key"), "{}", r.path);
        assert!(
            r.header("user-agent")
                .is_some_and(|ua| ua.contains("tracewire/")),
            "{:?}",
            r.header("user-agent")
        );
    }
    guard.shutdown().expect("shutdown");
}

#[tokio::test(flavor = "current_thread")]
async fn grpc_works_from_a_current_thread_runtime_and_drop_flushes() {
    let server = OtlpServer::start_grpc().expect("receiver");
    let guard = setup(&server);
    guard.tracer("orders").in_span("process orders", |_| {});
    // Dropping inside the runtime's only thread: exports do not need this runtime.
    drop(guard);
    let spans = server.wait_for_spans_async(1, WAIT).await.expect("span");
    assert_eq!(spans[0].name(), "process orders");
}
