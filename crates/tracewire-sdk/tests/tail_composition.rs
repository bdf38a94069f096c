//! How the head sampler and the tail sampler compose, in one service and across two.

mod tail_support;

use opentelemetry::trace::{
    Span as _, SpanContext, Status, TraceContextExt as _, TraceFlags, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};
use tracewire_sdk::tail::{
    PolicyConfig, RecordOnlySampler, SpanStatusCode, TailSamplingConfig, TailSamplingProcessor,
    recording_head_sampler,
};

fn config(policies: Vec<PolicyConfig>) -> TailSamplingConfig {
    TailSamplingConfig {
        policies,
        ..TailSamplingConfig::default()
    }
}

fn errors() -> TailSamplingConfig {
    config(vec![PolicyConfig::status_code(
        "errors",
        [SpanStatusCode::Error],
    )])
}

fn service(
    sampler: impl Into<Box<dyn opentelemetry_sdk::trace::ShouldSample>>,
    config: TailSamplingConfig,
) -> anyhow::Result<(SdkTracerProvider, InMemorySpanExporter)> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(TailSamplingProcessor::new(exporter.clone(), config)?)
        .build();
    Ok((provider, exporter))
}

/// A request whose inner span fails.
fn failing_request(provider: &SdkTracerProvider, parent: &Context) {
    let tracer = provider.tracer("svc");
    let root = tracer
        .span_builder("POST /checkout")
        .start_with_context(&tracer, parent);
    let cx = parent.with_span(root);
    let _guard = cx.clone().attach();
    tracer.in_span("charge card", |cx| {
        cx.span().set_status(Status::error("declined"));
    });
}

fn names(exporter: &InMemorySpanExporter) -> Vec<String> {
    let mut n: Vec<String> = exporter
        .get_finished_spans()
        .unwrap_or_default()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    n.sort_unstable();
    n
}

#[test]
fn the_head_sampler_must_record_what_the_tail_decides_on() -> anyhow::Result<()> {
    // Recording head sampler: the whole error trace reaches the tail and is kept.
    let (p, e) = service(recording_head_sampler(), errors())?;
    failing_request(&p, &Context::new());
    p.force_flush()?;
    assert_eq!(names(&e), vec!["POST /checkout", "charge card"]);

    // AlwaysOn records everything too (and flags every trace sampled).
    let (p, e) = service(Sampler::AlwaysOn, errors())?;
    failing_request(&p, &Context::new());
    p.force_flush()?;
    assert_eq!(names(&e).len(), 2);

    // A head sampler that drops the trace hides it from the tail: the error is lost.
    let (p, e) = service(Sampler::TraceIdRatioBased(0.0), errors())?;
    failing_request(&p, &Context::new());
    p.force_flush()?;
    assert!(names(&e).is_empty());

    // Parent-based with a record-only root but the specification's default branches: the
    // children of a record-only (not sampled) local parent are dropped, so the tail sees the root
    // alone, without the error. This is why `recording_head_sampler` sets those branches.
    let (p, e) = service(Sampler::parent_based(RecordOnlySampler), errors())?;
    failing_request(&p, &Context::new());
    p.force_flush()?;
    assert!(names(&e).is_empty(), "the failing child was never recorded");
    Ok(())
}

/// The context a downstream service extracts from an incoming `traceparent`.
fn remote_parent(trace: u128, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(SpanContext::new(
        opentelemetry::trace::TraceId::from(trace),
        opentelemetry::trace::SpanId::from(7u64),
        flags,
        true,
        Default::default(),
    ))
}

#[test]
fn an_upstream_sampling_decision_is_followed_with_a_trace_flags_policy() -> anyhow::Result<()> {
    let cfg = config(vec![
        PolicyConfig::status_code("errors", [SpanStatusCode::Error]),
        PolicyConfig::new("upstream-sampled", tracewire_sdk::tail::Policy::TraceFlags),
    ]);
    let (p, e) = service(recording_head_sampler(), cfg)?;
    let tracer = p.tracer("svc");
    // Upstream kept trace 1 (sampled=1): this service keeps its part, error or not.
    tracer
        .span_builder("GET /stock")
        .start_with_context(&tracer, &remote_parent(1, true))
        .end();
    // Upstream did not keep trace 2 (sampled=0): recorded anyway, the tail decides (no error).
    let span = tracer
        .span_builder("GET /stock")
        .start_with_context(&tracer, &remote_parent(2, false));
    assert!(span.is_recording());
    drop(span);
    p.force_flush()?;
    let spans = e.get_finished_spans()?;
    assert_eq!(spans.len(), 1);
    assert_eq!(
        spans[0].span_context.trace_id(),
        opentelemetry::trace::TraceId::from(1u128)
    );
    Ok(())
}

#[test]
fn each_service_decides_its_own_part_and_only_trace_id_policies_agree() -> anyhow::Result<()> {
    // Two services with their own tail samplers: errors and a 30% baseline.
    let cfg = || {
        config(vec![
            PolicyConfig::status_code("errors", [SpanStatusCode::Error]),
            PolicyConfig::probabilistic("baseline", 30.0),
        ])
    };
    let (upstream, up) = service(recording_head_sampler(), cfg())?;
    let (downstream, down) = service(recording_head_sampler(), cfg())?;
    let (ut, dt) = (upstream.tracer("checkout"), downstream.tracer("payments"));
    for i in 0..300u64 {
        let root = ut.start("POST /checkout");
        let sc = root.span_context().clone();
        // The downstream call fails one time in ten; the upstream span does not see it.
        let incoming = Context::new().with_remote_span_context(SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags(),
            true,
            sc.trace_state().clone(),
        ));
        let mut call = dt.start_with_context("POST /charge", &incoming);
        if i.is_multiple_of(10) {
            call.set_status(Status::error("declined"));
            call.set_attribute(KeyValue::new("failure", true));
        }
        drop(call);
        drop(root);
    }
    upstream.force_flush()?;
    downstream.force_flush()?;
    let ids = |e: &InMemorySpanExporter| {
        let mut v: Vec<_> = e
            .get_finished_spans()
            .unwrap_or_default()
            .iter()
            .map(|s| s.span_context.trace_id())
            .collect();
        v.sort_unstable_by_key(|t| t.to_bytes());
        v
    };
    let (up_ids, down_ids) = (ids(&up), ids(&down));
    let errored: Vec<_> = down
        .get_finished_spans()?
        .iter()
        .filter(|s| matches!(s.status, Status::Error { .. }))
        .map(|s| s.span_context.trace_id())
        .collect();
    assert_eq!(errored.len(), 30, "downstream keeps every failed call");
    // Upstream kept exactly the baseline: the same trace ids downstream's baseline kept.
    let down_baseline: Vec<_> = down_ids
        .iter()
        .filter(|t| !errored.contains(t))
        .copied()
        .collect();
    let up_baseline: Vec<_> = up_ids
        .iter()
        .filter(|t| !errored.contains(t))
        .copied()
        .collect();
    assert_eq!(
        up_baseline, down_baseline,
        "trace-id policies agree across services"
    );
    // The downstream errors are missing upstream unless the baseline also drew them.
    let upstream_has_error_traces = errored.iter().filter(|t| up_ids.contains(t)).count();
    assert!(
        upstream_has_error_traces < errored.len(),
        "the upstream service cannot see downstream errors"
    );
    Ok(())
}
