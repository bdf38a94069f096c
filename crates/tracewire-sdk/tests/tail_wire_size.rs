//! `maximum_trace_size_bytes` and `bytes_limiting` measure a trace as the Collector does
//! (`ptrace.ProtoMarshaler`): its protobuf size as OTLP export sends it, here the body of the one
//! export request that carries it, not the memory the buffered spans take.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Array, KeyValue, Value};
use tracewire_sdk::Tracewire;
use tracewire_sdk::tail::{PolicyConfig, TailSamplingConfig};
use tracewire_testing::otlp::OtlpServer;

const SPANS: usize = 6;

/// Ends one trace of [`SPANS`] spans (attributes of every type, an event, an error status)
/// through tail sampling with `config`, into a real OTLP/HTTP receiver. Returns the spans
/// received and the bytes of the trace export request bodies.
fn run(config: TailSamplingConfig) -> anyhow::Result<(usize, usize)> {
    let server = OtlpServer::start_http()?;
    let env: HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
        ("OTEL_SERVICE_NAME", "checkout".to_owned()),
        ("OTEL_METRICS_EXPORTER", "none".to_owned()),
        ("OTEL_LOGS_EXPORTER", "none".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let guard = Tracewire::builder()
        .with_env(env)
        .with_tail_sampling(config)
        .build()?;
    let tracer = guard.tracer("shop");
    tracer.in_span("POST /checkout", |cx| {
        cx.span()
            .set_attribute(KeyValue::new("http.route", "/checkout"));
        for i in 1..SPANS as i64 {
            tracer.in_span(format!("step {i}"), |cx| {
                let span = cx.span();
                span.set_attribute(KeyValue::new("step", i * 1000));
                span.set_attribute(KeyValue::new("delta", -i));
                span.set_attribute(KeyValue::new("ratio", 0.5));
                span.set_attribute(KeyValue::new("retry", i % 2 == 0));
                span.set_attribute(KeyValue::new(
                    "tags",
                    Value::Array(Array::String(vec!["a".into(), "bc".into()])),
                ));
                span.add_event("checkpoint", vec![KeyValue::new("n", i)]);
                if i == 2 {
                    span.set_status(Status::error("declined"));
                }
            });
        }
    });
    guard.force_flush()?;
    // force_flush exported what was sampled; wait a little in case it was not all.
    let spans = server
        .wait_for_spans(SPANS, Duration::from_millis(500))
        .map_or_else(|_| server.received().span_count(), |s| s.len());
    let body = server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/traces")
        .map(|r| r.body_len)
        .sum();
    guard.shutdown()?;
    Ok((spans, body))
}

fn max_size(max: u64) -> TailSamplingConfig {
    TailSamplingConfig {
        maximum_trace_size_bytes: max,
        policies: vec![PolicyConfig::always_sample("all")],
        ..TailSamplingConfig::default()
    }
}

fn bytes_limit(burst: u64) -> anyhow::Result<TailSamplingConfig> {
    Ok(TailSamplingConfig::from_yaml_str(&format!(
        "policies: [{{name: b, type: bytes_limiting, bytes_limiting: {{bytes_per_second: 1, burst_capacity: {burst}}}}}]"
    ))?)
}

#[test]
fn maximum_trace_size_bytes_counts_the_traces_protobuf_size() -> anyhow::Result<()> {
    let (spans, body) = run(max_size(0))?;
    assert_eq!(spans, SPANS, "no limit: the trace is kept");
    let limit = u64::try_from(body)?;
    // The limit is inclusive: a trace exactly the limit's size is kept, one byte more is not.
    let (kept, kept_body) = run(max_size(limit))?;
    assert_eq!(
        kept, SPANS,
        "a trace of exactly {limit} bytes is within the limit"
    );
    assert_eq!(kept_body, body, "the same trace, the same request");
    let (dropped, _) = run(max_size(limit - 1))?;
    assert_eq!(
        dropped,
        0,
        "a trace of {limit} bytes is over a limit of {}",
        limit - 1
    );
    Ok(())
}

/// A trace passes a full bucket of `bucket(burst)` when its size is at most the bucket's: one of
/// exactly its exported size keeps it, one a byte smaller does not.
fn assert_bucket_counts_the_traces_protobuf_size(
    bucket: impl Fn(u64) -> anyhow::Result<TailSamplingConfig>,
) -> anyhow::Result<()> {
    let (_, body) = run(max_size(0))?;
    let size = u64::try_from(body)?;
    let (kept, _) = run(bucket(size)?)?;
    assert_eq!(kept, SPANS, "a {size}-byte trace fits a {size}-byte bucket");
    let (dropped, _) = run(bucket(size - 1)?)?;
    assert_eq!(
        dropped,
        0,
        "a {size}-byte trace is over a {}-byte bucket",
        size - 1
    );
    Ok(())
}

#[test]
fn bytes_limiting_counts_the_traces_protobuf_size() -> anyhow::Result<()> {
    assert_bucket_counts_the_traces_protobuf_size(bytes_limit)
}

/// `bytes_limiting` inside `and`: the size is measured for nested policies too.
fn nested_bytes_limit(burst: u64) -> anyhow::Result<TailSamplingConfig> {
    Ok(TailSamplingConfig::from_yaml_str(&format!(
        "policies: [{{name: both, type: and, and: {{and_sub_policy: [{{name: all, type: always_sample}}, {{name: b, type: bytes_limiting, bytes_limiting: {{bytes_per_second: 1, burst_capacity: {burst}}}}}]}}}}]"
    ))?)
}

#[test]
fn nested_bytes_limiting_counts_the_traces_protobuf_size() -> anyhow::Result<()> {
    assert_bucket_counts_the_traces_protobuf_size(nested_bytes_limit)
}
