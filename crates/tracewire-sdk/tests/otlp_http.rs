//! OTLP/HTTP to a real endpoint on 127.0.0.1 (tracewire-testing's receiver, decoding with
//! opentelemetry-proto): exactly the spans made arrive, with their resource, attributes and the
//! configured headers; metrics and logs go to their own paths.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
use tracewire_sdk::{Guard, Tracewire};
use tracewire_testing::otlp::OtlpServer;

const WAIT: Duration = Duration::from_secs(20);

fn env(server: &OtlpServer, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint()),
        ("OTEL_SERVICE_NAME", "checkout".to_owned()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=test,team=pay%20ments".to_owned(),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
        ("OTEL_METRICS_EXPORTER", "none".to_owned()),
        ("OTEL_LOGS_EXPORTER", "none".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    vars
}

/// Makes the article's two spans and returns (trace id, checkout span id) as hex.
fn make_spans(guard: &Guard) -> (String, String) {
    let tracer = guard.tracer("shop");
    let mut ids = (String::new(), String::new());
    let span = tracer
        .span_builder("POST /checkout")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("http.route", "/checkout"),
            KeyValue::new("http.response.status_code", 200),
        ])
        .start(&tracer);
    let cx = opentelemetry::Context::current_with_span(span);
    {
        let _attached = cx.clone().attach();
        ids.0 = cx.span().span_context().trace_id().to_string();
        ids.1 = cx.span().span_context().span_id().to_string();
        tracer.in_span("payment.charge", |cx| {
            cx.span().set_attribute(KeyValue::new("payment.amount", 42));
            cx.span()
                .set_attribute(KeyValue::new("payment.currency", "EUR"));
        });
    }
    cx.span().end();
    ids
}

#[test]
fn spans_arrive_exactly_with_resource_attributes_and_headers() {
    let server = OtlpServer::start_http().expect("receiver");
    let guard = Tracewire::builder()
        .with_env(env(
            &server,
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-api-key=s3cret,authorization=Bearer%20t0ken",
            )],
        ))
        .build()
        .expect("setup");
    let (trace_id, checkout_id) = make_spans(&guard);
    guard.force_flush().expect("flush");

    let spans = server.wait_for_spans(2, WAIT).expect("two spans");
    assert_eq!(spans.len(), 2, "exactly the spans made");
    let charge = spans
        .iter()
        .find(|s| s.name() == "payment.charge")
        .expect("charge");
    let checkout = spans
        .iter()
        .find(|s| s.name() == "POST /checkout")
        .expect("checkout");
    assert_eq!(checkout.trace_id_hex(), trace_id);
    assert_eq!(checkout.span_id_hex(), checkout_id);
    assert_eq!(charge.trace_id_hex(), trace_id);
    assert_eq!(charge.parent_span_id(), checkout.span_id());
    assert_eq!(checkout.span.kind, 2, "SPAN_KIND_SERVER");
    assert_eq!(checkout.str_attribute("http.route"), Some("/checkout"));
    assert_eq!(
        checkout.i64_attribute("http.response.status_code"),
        Some(200)
    );
    assert_eq!(charge.i64_attribute("payment.amount"), Some(42));
    assert_eq!(charge.str_attribute("payment.currency"), Some("EUR"));
    for s in &spans {
        assert_eq!(s.service_name(), Some("checkout"));
        assert_eq!(s.resource_str("team"), Some("pay ments"));
        assert_eq!(s.resource_str("deployment.environment.name"), Some("test"));
        assert_eq!(s.resource_str("telemetry.sdk.language"), Some("rust"));
        assert!(s.resource_str("host.name").is_some());
        assert_eq!(s.scope.name, "shop");
    }

    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.header("x-api-key"), Some("s3cret"));
        assert_eq!(r.header("authorization"), Some("Bearer t0ken"));
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        assert!(
            r.header("user-agent")
                .is_some_and(|ua| ua.starts_with("tracewire/"))
        );
    }
    assert_eq!(guard.diagnostics().exported_spans(), 2);
    assert_eq!(guard.diagnostics().failed_spans(), 0);
    guard.shutdown().expect("shutdown");
    assert_eq!(server.spans().len(), 2, "nothing more after shutdown");
}

#[test]
fn dropping_the_guard_flushes() {
    let server = OtlpServer::start_http().expect("receiver");
    let guard = Tracewire::builder()
        .with_env(env(&server, &[("OTEL_BSP_SCHEDULE_DELAY", "600000")]))
        .build()
        .expect("setup");
    make_spans(&guard);
    drop(guard);
    assert_eq!(server.wait_for_spans(2, WAIT).expect("spans").len(), 2);
}

#[test]
fn json_gzip_and_signal_specific_endpoint() {
    let server = OtlpServer::start_http().expect("receiver");
    let guard = Tracewire::builder()
        .with_env(env(
            &server,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    &server.traces_endpoint(),
                ),
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ],
        ))
        .build()
        .expect("setup");
    make_spans(&guard);
    guard.force_flush().expect("flush");
    let spans = server.wait_for_spans(2, WAIT).expect("spans");
    assert_eq!(spans.len(), 2);
    let r = &server.requests()[0];
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    guard.shutdown().expect("shutdown");
}

#[test]
fn headers_given_in_code_override_the_environment() {
    let server = OtlpServer::start_http().expect("receiver");
    let guard = Tracewire::builder()
        .with_env(env(
            &server,
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "x-api-key=from-env,x-tenant=t1",
            )],
        ))
        .with_otlp_header("X-Api-Key", "from-code")
        .build()
        .expect("setup");
    make_spans(&guard);
    guard.force_flush().expect("flush");
    server.wait_for_spans(2, WAIT).expect("spans");
    let r = &server.requests()[0];
    assert_eq!(r.header("x-api-key"), Some("from-code"));
    assert_eq!(r.header("x-tenant"), Some("t1"));
}

#[test]
fn metrics_and_logs_reach_their_paths() {
    let server = OtlpServer::start_http().expect("receiver");
    let guard = Tracewire::builder()
        .with_env(env(
            &server,
            &[
                ("OTEL_METRICS_EXPORTER", "otlp"),
                ("OTEL_LOGS_EXPORTER", "otlp"),
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=k"),
            ],
        ))
        .build()
        .expect("setup");
    let counter = guard
        .meter_provider()
        .meter("shop")
        .u64_counter("payment.requests")
        .build();
    counter.add(3, &[KeyValue::new("status", "ok")]);
    let logger = guard.logger_provider().logger("shop");
    let mut record = logger.create_log_record();
    record.set_body("order placed".into());
    logger.emit(record);
    guard.force_flush().expect("flush");

    let logs = server.wait_for_log_records(1, WAIT).expect("log record");
    assert_eq!(logs[0].body_str(), Some("order placed"));
    let metrics = server.wait_for_metrics(1, WAIT).expect("metrics");
    let names: Vec<String> = metrics
        .iter()
        .flat_map(|rm| rm.scope_metrics.iter())
        .flat_map(|sm| sm.metrics.iter().map(|m| m.name.clone()))
        .collect();
    assert!(names.contains(&"payment.requests".to_owned()), "{names:?}");
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.contains(&"/v1/logs".to_owned()) && paths.contains(&"/v1/metrics".to_owned()),
        "{paths:?}"
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("x-api-key") == Some("k"))
    );
    guard.shutdown().expect("shutdown");
}
