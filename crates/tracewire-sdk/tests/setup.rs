//! Setup through the public builder, end to end with in-memory exporters (no globals).

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _};
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SimpleLogProcessor};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use std::sync::{Arc, Mutex};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData, SpanExporter};
use tracewire_sdk::config::{ExporterKind, SpanLimitSettings};
use tracewire_sdk::export::console::SharedBuffer;
use tracewire_sdk::sampler::{Rule, RuleSampler};
use tracewire_sdk::{BatchProcessor, Tracewire};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An exporter that keeps the resource it is given.
#[derive(Debug, Clone, Default)]
struct ResourceProbe(Arc<Mutex<Option<Resource>>>);

impl SpanExporter for ResourceProbe {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
    fn set_resource(&mut self, resource: &Resource) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(resource.clone());
        }
    }
}

#[test]
fn spans_reach_a_code_exporter_with_the_resource() {
    let memory = InMemorySpanExporter::default();
    let probe = ResourceProbe::default();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_SERVICE_NAME", "from-env"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=test,team=a%20b",
            ),
            ("K8S_POD_NAME", "pod-1"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_service_version("1.2.3")
        .with_span_exporter(memory.clone())
        .with_span_exporter(probe.clone())
        .build()
        .unwrap();
    let tracer = guard.tracer("setup-test");
    tracer.in_span("checkout", |_| {
        tracer.in_span("payment.charge", |_| {});
    });
    guard.force_flush().unwrap();
    let spans = memory.get_finished_spans().unwrap();
    assert_eq!(
        spans.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>(),
        ["payment.charge", "checkout"]
    );
    assert_eq!(spans[0].parent_span_id, spans[1].span_context.span_id());
    let r = probe
        .0
        .lock()
        .unwrap()
        .clone()
        .expect("the exporter got the resource");
    assert_eq!(
        r.get(&Key::new("service.name")),
        Some(Value::from("from-env"))
    );
    assert_eq!(
        r.get(&Key::new("service.version")),
        Some(Value::from("1.2.3"))
    );
    assert_eq!(r.get(&Key::new("team")), Some(Value::from("a b")));
    assert_eq!(
        r.get(&Key::new("deployment.environment.name")),
        Some(Value::from("test"))
    );
    assert_eq!(r.get(&Key::new("k8s.pod.name")), Some(Value::from("pod-1")));
    assert_eq!(
        r.get(&Key::new("telemetry.sdk.language")),
        Some(Value::from("rust"))
    );
    assert_eq!(guard.diagnostics().exported_spans(), 2);
    guard.shutdown().unwrap();
}

#[test]
fn values_in_code_win_over_the_environment() {
    let memory = InMemorySpanExporter::default();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_SERVICE_NAME", "from-env"),
            ("OTEL_TRACES_SAMPLER", "always_off"),
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_service_name("from-code")
        .with_sampler(
            RuleSampler::builder()
                .rule(Rule::span_name("health-check").never())
                .build(),
        )
        .with_span_exporter(memory.clone())
        .build()
        .unwrap();
    let tracer = guard.tracer("t");
    tracer.in_span("health-check", |_| {});
    tracer.in_span("work", |_| {});
    guard.force_flush().unwrap();
    let names: Vec<String> = memory
        .get_finished_spans()
        .unwrap()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["work"]);
    guard.shutdown().unwrap();
}

#[test]
fn sampler_and_limits_from_the_environment() {
    let memory = InMemorySpanExporter::default();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_span_exporter(memory.clone())
        .build()
        .unwrap();
    let tracer = guard.tracer("t");
    for _ in 0..20 {
        tracer.in_span("x", |_| {});
    }
    guard.force_flush().unwrap();
    assert!(memory.get_finished_spans().unwrap().is_empty());
    drop(guard);

    let memory = InMemorySpanExporter::default();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_span_exporter(memory.clone())
        .build()
        .unwrap();
    let tracer = guard.tracer("t");
    let mut span = tracer.start("limited");
    span.set_attribute(KeyValue::new("a", "abcdefgh"));
    span.set_attribute(KeyValue::new("b", 1));
    span.set_attribute(KeyValue::new("c", 2));
    span.end();
    guard.force_flush().unwrap();
    let spans = memory.get_finished_spans().unwrap();
    assert_eq!(spans[0].attributes.len(), 2);
    assert_eq!(spans[0].dropped_attributes_count, 1);
    assert_eq!(spans[0].attributes[0].value, Value::from("abcd"));
    guard.shutdown().unwrap();

    // Limits in code win.
    let memory = InMemorySpanExporter::default();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_span_limits(SpanLimitSettings {
            attribute_count: 3,
            ..SpanLimitSettings::default()
        })
        .with_span_exporter(memory.clone())
        .build()
        .unwrap();
    let tracer = guard.tracer("t");
    tracer.in_span("x", |cx| {
        use opentelemetry::trace::TraceContextExt as _;
        for i in 0..5 {
            cx.span().set_attribute(KeyValue::new(format!("k{i}"), i));
        }
    });
    guard.force_flush().unwrap();
    assert_eq!(memory.get_finished_spans().unwrap()[0].attributes.len(), 3);
}

#[test]
fn sdk_disabled_records_nothing() {
    let memory = InMemorySpanExporter::default();
    let guard = Tracewire::builder()
        .with_env(env(&[("OTEL_SDK_DISABLED", "true")]))
        .with_span_exporter(memory.clone())
        .build()
        .unwrap();
    assert!(guard.is_disabled());
    let tracer = guard.tracer("t");
    tracer.in_span("x", |_| {});
    guard.force_flush().unwrap();
    assert!(memory.get_finished_spans().unwrap().is_empty());
    guard.shutdown().unwrap();
}

#[test]
fn a_shutdown_limit_too_long_for_the_clock_is_no_panic() {
    let memory = InMemorySpanExporter::default();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_METRICS_EXPORTER", "console"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_console_output(SharedBuffer::default)
        .with_span_exporter(memory.clone())
        .with_shutdown_timeout(Duration::MAX)
        .build()
        .unwrap();
    guard.tracer("t").in_span("x", |_| {});
    guard.force_flush().unwrap();
    assert_eq!(memory.get_finished_spans().unwrap().len(), 1);
    guard.shutdown().unwrap();
}

#[test]
fn the_processor_hook_wraps_the_configured_exporters() {
    let memory = InMemorySpanExporter::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_span_exporter(memory.clone())
        .with_exporter_processor(move |exporter, cx| {
            let _ = tx.send(cx.batch.max_queue_size);
            BatchProcessor::builder(exporter)
                .with_settings(cx.batch)
                .with_diagnostics(cx.diagnostics.clone())
                .build()
        })
        .build()
        .unwrap();
    assert_eq!(rx.recv().unwrap(), 2048);
    guard.tracer("t").in_span("hooked", |_| {});
    guard.force_flush().unwrap();
    assert_eq!(memory.get_finished_spans().unwrap().len(), 1);
    assert_eq!(guard.diagnostics().exported_spans(), 1);
}

#[test]
fn console_prints_a_tree_per_trace() {
    let out = SharedBuffer::default();
    let out2 = out.clone();
    let guard = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_console_output(move || out2.clone())
        .build()
        .unwrap();
    let tracer = guard.tracer("t");
    tracer.in_span("POST /orders", |cx| {
        let mut s = tracer
            .span_builder("payment.charge")
            .with_kind(SpanKind::Client)
            .start_with_context(&tracer, &cx);
        s.end();
    });
    let text = out.contents();
    assert!(text.contains("(checkout)"), "{text}");
    assert!(text.contains("└─ POST /orders"), "{text}");
    assert!(text.contains("   └─ payment.charge [client]"), "{text}");
    guard.shutdown().unwrap();
}

#[test]
fn metrics_and_logs_come_from_the_same_setup() {
    let metrics = InMemoryMetricExporter::default();
    let logs = InMemoryLogExporter::default();
    let guard = Tracewire::builder()
        .with_env(env(&[("OTEL_SERVICE_NAME", "svc")]))
        .with_traces_exporters([])
        .with_metric_exporter(metrics.clone())
        .with_log_processor(SimpleLogProcessor::new(logs.clone()))
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let counter = guard
        .meter_provider()
        .meter("shop")
        .u64_counter("payment.requests")
        .build();
    counter.add(2, &[KeyValue::new("status", "ok")]);
    let logger = guard.logger_provider().logger("shop");
    let mut record = logger.create_log_record();
    record.set_body("order placed".into());
    logger.emit(record);
    guard.force_flush().unwrap();
    let exported = metrics.get_finished_metrics().unwrap();
    let names: Vec<String> = exported
        .iter()
        .flat_map(|rm| {
            rm.scope_metrics()
                .flat_map(|sm| sm.metrics().map(|m| m.name().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(names.contains(&"payment.requests".to_owned()), "{names:?}");
    let emitted = logs.get_emitted_logs().unwrap();
    assert_eq!(emitted.len(), 1);
    assert_eq!(
        emitted[0].resource.get(&Key::new("service.name")),
        Some(Value::from("svc"))
    );
    guard.shutdown().unwrap();
}

#[test]
fn exporters_named_in_code_need_their_feature() {
    let result = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_traces_exporters([ExporterKind::Zipkin])
        .build();
    if cfg!(feature = "zipkin") {
        assert!(result.is_ok());
    } else {
        let err = result.unwrap_err();
        assert!(err.to_string().contains("`zipkin`"), "{err}");
    }
}

#[test]
fn an_invalid_endpoint_in_code_is_an_error_naming_it() {
    let err = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_otlp_endpoint("http://bad host:4318")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("otlp"), "{err}");
    let err = Tracewire::builder()
        .with_env(env(&[
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]))
        .with_otlp_header("x-key", "bad\nvalue-s3cr3t")
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("x-key") && !err.to_string().contains("s3cr3t"),
        "{err}"
    );
}

#[test]
fn headers_from_the_environment_that_are_no_valid_http_headers_never_fail_setup() {
    // A header name with a space or a value with a line break (after percent-decoding) is an
    // invalid environment value: it is skipped with a warning, and the OTLP exporter is built.
    let mut protocols = vec!["http/protobuf", "http/json"];
    if cfg!(feature = "grpc") {
        protocols.push("grpc");
    }
    for protocol in protocols {
        for headers in ["a b=1", "x-key=bad%0Avalue", "good=1,é=2", "trace-bin=AAEC"] {
            let guard = Tracewire::builder()
                .with_env(env(&[
                    ("OTEL_TRACES_EXPORTER", "otlp"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
                    ("OTEL_EXPORTER_OTLP_HEADERS", headers),
                    ("OTEL_METRICS_EXPORTER", "none"),
                    ("OTEL_LOGS_EXPORTER", "none"),
                ]))
                .with_resource_detection(false)
                .build();
            assert!(guard.is_ok(), "{protocol} {headers}: {:?}", guard.err());
        }
    }
}

#[test]
fn a_huge_queue_size_in_the_environment_never_aborts_setup() {
    // `usize::MAX` parses; the queue is allocated up front, so it must be capped, not used.
    for prefix in ["OTEL_BSP", "OTEL_BLRP"] {
        let queue = format!("{prefix}_MAX_QUEUE_SIZE");
        let batch = format!("{prefix}_MAX_EXPORT_BATCH_SIZE");
        let guard = Tracewire::builder()
            .with_env(env(&[
                (&queue, "18446744073709551615"),
                (&batch, "18446744073709551615"),
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_LOGS_EXPORTER", "otlp"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ]))
            .with_span_exporter(InMemorySpanExporter::default())
            .with_resource_detection(false)
            .build();
        assert!(guard.is_ok(), "{prefix}: {:?}", guard.err());
    }
}
