//! Through a real OTLP/HTTP endpoint: for one event inside a span, the ids in the JSON line, on
//! the exported log record and on the exported span are the same (tracing and slog).

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::Buf;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use slog::Drain;
use tracewire_correlate::slog::{OtelLogsDrain, TraceIdsDrain};
use tracewire_correlate::subscriber::{OtelContextExt, TraceIdsFormat, logs_layer};
use tracewire_testing::otlp::{OtlpServer, ReceivedLogRecord, ReceivedSpan};
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(10);

fn providers(server: &OtlpServer) -> (SdkTracerProvider, SdkLoggerProvider) {
    let resource = Resource::builder_empty()
        .with_service_name("payments")
        .build();
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(server.traces_endpoint())
        .with_protocol(Protocol::HttpBinary)
        .build()
        .expect("span exporter");
    let logs = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_endpoint(server.logs_endpoint())
        .with_protocol(Protocol::HttpBinary)
        .build()
        .expect("log exporter");
    (
        SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_simple_exporter(spans)
            .build(),
        SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_simple_exporter(logs)
            .build(),
    )
}

fn assert_same(line: &serde_json::Value, record: &ReceivedLogRecord, span: &ReceivedSpan) {
    assert_eq!(line["trace_id"], span.trace_id_hex().as_str());
    assert_eq!(line["span_id"], span.span_id_hex().as_str());
    assert_eq!(line["trace_flags"], "01");
    assert_eq!(record.trace_id(), span.trace_id());
    assert_eq!(record.span_id(), span.span_id());
    // OTLP carries the W3C flags in the low byte of the record's and the span's `flags`.
    assert_eq!(record.record.flags & 0xff, 0x01);
    assert_eq!(span.span.flags & 0xff, 0x01);
}

#[test]
fn tracing_json_line_exported_log_and_exported_span_agree() {
    let server = OtlpServer::start_http().expect("server");
    let (tracer_provider, logger_provider) = providers(&server);
    let out = Buf::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("payments")))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(TraceIdsFormat::default_json())
                .with_writer(move || writer.clone())
                .with_otel_context(),
        )
        .with(logs_layer(&logger_provider));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("charge").in_scope(|| tracing::info!(amount = 42, "card charged"));
    });

    let spans = server.wait_for_spans(1, WAIT).expect("span");
    let records = server.wait_for_log_records(1, WAIT).expect("log record");
    assert_eq!(records[0].body_str(), Some("card charged"));
    assert_same(&out.json_lines()[0], &records[0], &spans[0]);
    assert_eq!(spans[0].name(), "charge");
}

#[test]
fn slog_json_line_exported_log_and_exported_span_agree() {
    let server = OtlpServer::start_http().expect("server");
    let (tracer_provider, logger_provider) = providers(&server);
    let out = Buf::default();
    let json = slog_json::Json::new(out.clone()).build().fuse();
    let drain = slog::Duplicate::new(
        TraceIdsDrain::new(Mutex::new(json)).fuse(),
        OtelLogsDrain::new(&logger_provider),
    )
    .fuse();
    let log = slog::Logger::root(drain, slog::o!());

    let tracer = tracer_provider.tracer("payments");
    let trace_id = tracer.in_span("charge", |cx| {
        slog::info!(log, "card charged"; "amount" => 42);
        cx.span().span_context().trace_id()
    });

    let spans = server.wait_for_spans(1, WAIT).expect("span");
    let records = server.wait_for_log_records(1, WAIT).expect("log record");
    assert_eq!(spans[0].trace_id(), trace_id);
    assert_eq!(records[0].body_str(), Some("card charged"));
    assert_same(&out.json_lines()[0], &records[0], &spans[0]);
}
