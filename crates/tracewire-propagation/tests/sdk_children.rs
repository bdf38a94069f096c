//! Behaviour with a real opentelemetry_sdk tracer: the `tracestate` extracted on a server span,
//! including keys opentelemetry's `TraceState` rejects, reaches the outgoing calls of the span's
//! children, and what a sampler adds to it is sent too.

use http::{HeaderMap, HeaderValue};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    Link, SpanKind, TraceContextExt, TraceId, TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample};
use tracewire_propagation::{HeaderExtractor, HeaderInjector, TraceContextPropagator};

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";
const TS: &str = "congo=t61rcWkgMzE,t@x@y=1,rojo=00f067aa0ba902b7,vendor@abcdefghijklmn=2";

fn incoming() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("traceparent", HeaderValue::from_static(TP));
    h.insert("tracestate", HeaderValue::from_static(TS));
    h
}

/// Extracts the incoming headers, starts a server span and a child, and returns the headers the
/// child's context injects.
fn outgoing_from_grandchild(provider: &SdkTracerProvider) -> HeaderMap {
    let tracer = provider.tracer("test");
    let propagator = TraceContextPropagator::new();
    let headers = incoming();
    let parent = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
    let server = tracer.start_with_context("server", &parent);
    let server_cx = parent.with_span(server);
    let child = tracer.start_with_context("child", &server_cx);
    let child_cx = server_cx.with_span(child);
    let mut out = HeaderMap::new();
    propagator.inject_context(&child_cx, &mut HeaderInjector(&mut out));
    out
}

#[test]
fn children_send_the_extracted_tracestate_unchanged() {
    let provider = SdkTracerProvider::builder().build();
    let out = outgoing_from_grandchild(&provider);
    let tp = out["traceparent"].to_str().expect("ascii");
    assert!(tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert!(tp.ends_with("-03"), "sampled and random flags kept: {tp}");
    assert_eq!(out["tracestate"], TS);
}

/// A sampler that records everything and puts its own key first, as a consistent-probability
/// sampler does with `ot`.
#[derive(Clone, Debug)]
struct MarkingSampler;

impl ShouldSample for MarkingSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let parent_state = parent_context
            .map(|cx| cx.span().span_context().trace_state().clone())
            .unwrap_or_default();
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: parent_state
                .insert("ot", "th:0")
                .unwrap_or(TraceState::NONE),
        }
    }
}

#[test]
fn a_sampler_change_is_sent_with_the_members_trace_state_could_not_hold() {
    let provider = SdkTracerProvider::builder()
        .with_sampler(MarkingSampler)
        .build();
    let out = outgoing_from_grandchild(&provider);
    assert_eq!(
        out["tracestate"],
        "ot=th:0,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,t@x@y=1,vendor@abcdefghijklmn=2"
    );
}

#[test]
fn a_new_root_trace_does_not_send_the_old_members() {
    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer("test");
    let propagator = TraceContextPropagator::new();
    let headers = incoming();
    let parent = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
    // A span that starts a new trace in the same context (for instance at a trust boundary).
    let root = tracer
        .span_builder("root")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &Context::new());
    let cx = parent.with_span(root);
    let mut out = HeaderMap::new();
    propagator.inject_context(&cx, &mut HeaderInjector(&mut out));
    assert!(out.get("traceparent").is_some());
    assert!(out.get("tracestate").is_none(), "{out:?}");
}
