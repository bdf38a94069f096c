//! The OTLP/HTTP receiver, driven by the real opentelemetry-otlp exporters (and by raw HTTP for
//! bad input): protobuf and JSON, gzip, headers, logs and metrics, and the failure behaviours.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{
    Compression, Protocol, RetryPolicy, WithExportConfig as _, WithHttpConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracewire_testing::otlp::OtlpServer;
use tracewire_testing::proto::tonic::common::v1::any_value::Value as AnyValue;
use tracewire_testing::server::{Behaviour, Outcome};

const WAIT: Duration = Duration::from_secs(10);

fn provider(server: &OtlpServer, protocol: Protocol, gzip: bool) -> SdkTracerProvider {
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(server.traces_endpoint())
        .with_protocol(protocol)
        .with_headers(HashMap::from([(
            "x-api-key".to_owned(),
            "s3cret".to_owned(),
        )]))
        .with_retry_policy(RetryPolicy::disabled())
        .with_timeout(Duration::from_secs(1));
    if gzip {
        builder = builder.with_compression(Compression::Gzip);
    }
    let exporter = builder.build().expect("exporter");
    SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("checkout")
                .build(),
        )
        .with_simple_exporter(exporter)
        .build()
}

/// Makes `checkout` (server) with a child `charge` (client); returns their (trace id, span ids).
fn make_spans(provider: &SdkTracerProvider) -> (String, String, String) {
    let tracer = provider.tracer("shop");
    let parent = tracer
        .span_builder("checkout")
        .with_kind(SpanKind::Server)
        .start(&tracer);
    let cx = Context::current_with_span(parent);
    let mut child = tracer.start_with_context("charge", &cx);
    child.set_attribute(KeyValue::new("payment.amount", 42_i64));
    child.set_attribute(KeyValue::new("payment.currency", "EUR"));
    let ids = (
        cx.span().span_context().trace_id().to_string(),
        cx.span().span_context().span_id().to_string(),
        child.span_context().span_id().to_string(),
    );
    child.end();
    cx.span().end();
    ids
}

fn check_spans(server: &OtlpServer, ids: &(String, String, String)) {
    let spans = server.wait_for_spans(2, WAIT).expect("two spans");
    assert_eq!(spans.len(), 2);
    let charge = spans.iter().find(|s| s.name() == "charge").expect("charge");
    let checkout = spans
        .iter()
        .find(|s| s.name() == "checkout")
        .expect("checkout");
    assert_eq!(charge.service_name(), Some("checkout"));
    assert_eq!(charge.scope.name, "shop");
    assert_eq!(charge.i64_attribute("payment.amount"), Some(42));
    assert_eq!(charge.str_attribute("payment.currency"), Some("EUR"));
    assert_eq!(charge.trace_id_hex(), ids.0);
    assert_eq!(checkout.trace_id_hex(), ids.0);
    assert_eq!(checkout.span_id_hex(), ids.1);
    assert_eq!(charge.span_id_hex(), ids.2);
    assert_eq!(charge.parent_span_id(), checkout.span_id());
    // SpanKind::Server is 2 in the OTLP enum.
    assert_eq!(checkout.span.kind, 2);
}

#[test]
fn protobuf_spans_arrive_with_resource_scope_and_headers() {
    let server = OtlpServer::start_http().expect("server");
    let provider = provider(&server, Protocol::HttpBinary, false);
    let ids = make_spans(&provider);
    check_spans(&server, &ids);
    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.outcome, Outcome::Accepted);
        assert_eq!(r.header("x-api-key"), Some("s3cret"));
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    }
    server.reset();
    assert!(server.spans().is_empty() && server.requests().is_empty());
}

#[test]
fn gzipped_json_spans_arrive_with_their_hex_ids() {
    let server = OtlpServer::start_http().expect("server");
    let provider = provider(&server, Protocol::HttpJson, true);
    let ids = make_spans(&provider);
    check_spans(&server, &ids);
    let requests = server.requests();
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(requests[0].header("content-encoding"), Some("gzip"));
}

#[test]
fn a_status_behaviour_rejects_and_keeps_nothing_until_changed() {
    let server = OtlpServer::start_http().expect("server");
    server.set_behaviour(Behaviour::Status(503));
    let provider = provider(&server, Protocol::HttpBinary, false);
    provider.tracer("t").start("refused").end();
    let requests = server.wait_for_requests(1, WAIT).expect("one attempt");
    assert_eq!(requests[0].outcome, Outcome::Rejected(503));
    assert!(server.spans().is_empty());

    server.set_behaviour(Behaviour::Accept);
    provider.tracer("t").start("accepted").end();
    let spans = server.wait_for_spans(1, WAIT).expect("accepted span");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name(), "accepted");
}

#[test]
fn a_hanging_receiver_never_answers_and_still_stops() {
    let server = OtlpServer::start_http().expect("server");
    server.set_behaviour(Behaviour::Hang);
    let provider = provider(&server, Protocol::HttpBinary, false);
    // The exporter gives up after its 1 s timeout; the span end returns then.
    provider.tracer("t").start("lost").end();
    let requests = server.wait_for_requests(1, WAIT).expect("one attempt");
    assert_eq!(requests[0].outcome, Outcome::Hung);
    assert!(server.spans().is_empty());
    // Dropping the server with a hanging connection returns (the runtime is torn down).
    drop(server);
}

#[test]
fn delayed_answers_still_accept() {
    let server = OtlpServer::start_http().expect("server");
    server.set_behaviour(Behaviour::Delay(Duration::from_millis(50)));
    let provider = provider(&server, Protocol::HttpBinary, false);
    provider.tracer("t").start("late").end();
    assert_eq!(
        server.wait_for_spans(1, WAIT).expect("span")[0].name(),
        "late"
    );
}

#[test]
fn logs_and_metrics_arrive() {
    let server = OtlpServer::start_http().expect("server");
    let resource = Resource::builder_empty()
        .with_service_name("checkout")
        .build();

    let log_exporter = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_endpoint(server.logs_endpoint())
        .with_protocol(Protocol::HttpBinary)
        .build()
        .expect("log exporter");
    let logs = SdkLoggerProvider::builder()
        .with_resource(resource.clone())
        .with_simple_exporter(log_exporter)
        .build();
    let logger = logs.logger("shop");
    let mut record = logger.create_log_record();
    record.set_body("order placed".into());
    record.add_attribute("order.id", "o-1");
    logger.emit(record);
    let records = server.wait_for_log_records(1, WAIT).expect("log record");
    assert_eq!(records[0].body_str(), Some("order placed"));
    assert_eq!(records[0].str_attribute("order.id"), Some("o-1"));
    assert_eq!(
        tracewire_testing::otlp::attribute(&records[0].resource.attributes, "service.name"),
        Some(&AnyValue::StringValue("checkout".to_owned()))
    );

    let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_endpoint(server.metrics_endpoint())
        .with_protocol(Protocol::HttpBinary)
        .build()
        .expect("metric exporter");
    let meters = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_periodic_exporter(metric_exporter)
        .build();
    meters
        .meter("shop")
        .u64_counter("orders")
        .build()
        .add(3, &[]);
    meters.force_flush().expect("flush");
    let metrics = server.wait_for_metrics(1, WAIT).expect("metrics");
    let names: Vec<&str> = metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(|m| m.name.as_str())
        .collect();
    assert!(names.contains(&"orders"), "{names:?}");
    let _ = meters.shutdown();
}

#[test]
fn bad_requests_are_answered_and_recorded() {
    let server = OtlpServer::start_http().expect("server");
    let client = reqwest::blocking::Client::new();
    let post = |path: &str, content_type: &str, encoding: Option<&str>, body: &'static [u8]| {
        let mut req = client
            .post(format!("{}{path}", server.endpoint()))
            .header("content-type", content_type)
            .body(body);
        if let Some(e) = encoding {
            req = req.header("content-encoding", e);
        }
        req.send().expect("response").status().as_u16()
    };
    assert_eq!(
        post(
            "/v1/traces",
            "application/x-protobuf",
            None,
            b"\xff\xff\xff"
        ),
        400
    );
    assert_eq!(
        post("/v1/traces", "application/json", None, b"{not json"),
        400
    );
    assert_eq!(post("/v1/traces", "text/plain", None, b"hello"), 415);
    assert_eq!(
        post("/v1/traces", "application/json", Some("gzip"), b"not gzip"),
        400
    );
    assert_eq!(
        post("/v1/traces", "application/json", Some("br"), b"{}"),
        400
    );
    assert_eq!(post("/v1/trace", "application/json", None, b"{}"), 404);
    // An empty JSON object is a valid, empty export request.
    assert_eq!(post("/v1/traces", "application/json", None, b"{}"), 200);

    let requests = server.requests();
    assert_eq!(requests.len(), 7);
    assert!(matches!(&requests[0].outcome, Outcome::Invalid(why) if why.starts_with("protobuf")));
    assert!(matches!(&requests[1].outcome, Outcome::Invalid(why) if why.starts_with("json")));
    assert!(matches!(&requests[2].outcome, Outcome::Invalid(why) if why.contains("content-type")));
    assert!(matches!(&requests[3].outcome, Outcome::Invalid(why) if why.starts_with("gzip")));
    assert!(
        matches!(&requests[4].outcome, Outcome::Invalid(why) if why.contains("content-encoding"))
    );
    assert_eq!(requests[5].path, "/v1/trace");
    assert_eq!(requests[6].outcome, Outcome::Accepted);
    assert!(server.spans().is_empty());
}

#[test]
fn waiting_times_out_with_what_arrived() {
    let server = OtlpServer::start_http().expect("server");
    let err = server
        .wait_for_spans(1, Duration::from_millis(50))
        .expect_err("nothing was sent");
    assert_eq!((err.wanted, err.received), (1, 0));
    assert!(err.to_string().contains("requests seen: none"), "{err}");
}

#[test]
fn async_waits_work_on_a_current_thread_runtime_without_timers() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async_waits());
}

async fn async_waits() {
    let server = OtlpServer::start_http().expect("server");
    // The blocking HTTP client must not run on the runtime's thread.
    let export = {
        let endpoint = server.traces_endpoint();
        std::thread::spawn(move || {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(endpoint)
                .build()
                .expect("exporter");
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(exporter)
                .build();
            provider.tracer("t").start("from a thread").end();
        })
    };
    let spans = server
        .wait_for_spans_async(1, WAIT)
        .await
        .expect("span arrives");
    assert_eq!(spans[0].name(), "from a thread");
    export.join().expect("exporting thread");

    // The timeout is kept by the receiver's runtime: the caller's runtime has no timer.
    let err = server
        .wait_for_spans_async(2, Duration::from_millis(50))
        .await
        .expect_err("only one span");
    assert_eq!((err.wanted, err.received), (2, 1));
}
