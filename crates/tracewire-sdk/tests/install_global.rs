//! `install()` sets the global tracer provider, meter provider and propagator (its own test
//! binary, since it changes process-wide state).

use opentelemetry::KeyValue;
use std::collections::HashMap;

use opentelemetry::global;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracewire_sdk::Tracewire;

#[test]
fn install_sets_the_global_providers_and_propagator() {
    let spans = InMemorySpanExporter::default();
    let metrics = InMemoryMetricExporter::default();
    let guard = Tracewire::builder()
        .with_env([
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_PROPAGATORS", "tracecontext,baggage,b3"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ])
        .with_span_exporter(spans.clone())
        .with_metric_exporter(metrics.clone())
        .install()
        .expect("install");

    let tracer = global::tracer("global-test");
    let (trace_id, headers) = tracer.in_span("payment.charge", |cx| {
        let mut headers = HashMap::new();
        global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
        (cx.span().span_context().trace_id(), headers)
    });
    let traceparent = headers
        .get("traceparent")
        .unwrap_or_else(|| panic!("traceparent injected: {headers:?} {trace_id}"));
    assert!(traceparent.contains(&trace_id.to_string()), "{traceparent}");
    assert!(
        headers.contains_key("b3"),
        "b3 from OTEL_PROPAGATORS: {headers:?}"
    );

    global::meter("shop")
        .u64_counter("payment.requests")
        .build()
        .add(1, &[KeyValue::new("status", "ok")]);
    guard.force_flush().expect("flush");
    let finished = spans.get_finished_spans().expect("spans");
    assert_eq!(finished[0].name, "payment.charge");
    assert_eq!(finished[0].span_context.trace_id(), trace_id);
    let names: Vec<String> = metrics
        .get_finished_metrics()
        .expect("metrics")
        .iter()
        .flat_map(|rm| {
            rm.scope_metrics()
                .flat_map(|sm| sm.metrics().map(|m| m.name().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(names.contains(&"payment.requests".to_owned()), "{names:?}");
    guard.shutdown().expect("shutdown");
}
