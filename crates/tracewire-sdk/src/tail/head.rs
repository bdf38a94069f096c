//! A head sampler that records what the tail sampler must see.
//!
//! Spans reach a span processor's `on_end` only when the head sampler made them recording, so
//! the head sampler in front of the tail sampler must record every span of the traces the tail
//! may keep. See `docs/guides/tail-sampling.md` for how the two compose across services.

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    ParentBasedSampler, Sampler, SamplingDecision, SamplingResult, ShouldSample,
};

/// Records every span without marking it sampled: the tail sampler decides later. The trace
/// state of the parent is kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordOnlySampler;

impl ShouldSample for RecordOnlySampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let trace_state = parent_context
            .filter(|cx| cx.has_active_span())
            .map_or_else(TraceState::default, |cx| {
                cx.span().span_context().trace_state().clone()
            });
        SamplingResult {
            decision: SamplingDecision::RecordOnly,
            attributes: Vec::new(),
            trace_state,
        }
    }
}

/// The head sampler to put in front of a [`TailSamplingProcessor`](super::TailSamplingProcessor)
/// when the service should not force its downstream services to keep every trace:
///
/// - a trace that starts here is recorded but not flagged sampled (the tail decides; outgoing
///   `traceparent` headers carry `sampled=0`);
/// - a trace an upstream service already sampled stays sampled (parent-based), so its spans
///   carry the flag and a `trace_flags` policy can keep this service's part too;
/// - a trace an upstream service did not sample is still recorded, for the tail to decide.
///
/// `Sampler::AlwaysOn` also records everything, but flags every trace sampled, which tells
/// downstream services with parent-based head samplers to keep all of them.
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tracewire_sdk::tail::recording_head_sampler;
///
/// let provider = SdkTracerProvider::builder()
///     .with_sampler(recording_head_sampler())
///     .build();
/// # let _ = provider;
/// ```
pub fn recording_head_sampler() -> ParentBasedSampler {
    Sampler::parent_based(RecordOnlySampler)
        .with_remote_parent_sampled(Sampler::AlwaysOn)
        .with_remote_parent_not_sampled(RecordOnlySampler)
        .with_local_parent_sampled(Sampler::AlwaysOn)
        .with_local_parent_not_sampled(RecordOnlySampler)
}
