//! The tail-sampling example's work: run a few traces through the in-process tail sampler and
//! report, for each, whether it was kept and by which policy.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Span as _, SpanId, SpanKind, Status, TraceContextExt as _, TraceId, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, InMemorySpanExporter, SdkTracerProvider};
use tracewire_sdk::tail::{
    Decision, TailSamplingConfig, TailSamplingProcessor, recording_head_sampler,
};

/// The article's config, as a Collector config file (`article.yaml` next to `Cargo.toml`).
pub const ARTICLE_YAML: &str = include_str!("../article.yaml");

/// How many traces [`run`] sends through the sampler.
pub const TRACES: usize = 40;

/// What a trace did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// 40 ms, no error.
    Fast,
    /// 40 ms, the payment call failed (status Error).
    Failing,
    /// 800 ms, no error: over the article's 500 ms threshold.
    Slow,
}

impl Shape {
    /// The shape of the `i`-th trace: a few failing and slow ones among fast ones.
    pub fn of(i: usize) -> Shape {
        match i % 8 {
            2 => Shape::Failing,
            5 => Shape::Slow,
            _ => Shape::Fast,
        }
    }

    fn duration(self) -> Duration {
        match self {
            Shape::Fast | Shape::Failing => Duration::from_millis(40),
            Shape::Slow => Duration::from_millis(800),
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::Fast => "fast, ok",
            Shape::Failing => "fast, card declined",
            Shape::Slow => "slow (800 ms), ok",
        })
    }
}

/// One trace and what the tail sampler decided about it.
#[derive(Debug, Clone)]
pub struct TraceOutcome {
    /// The trace.
    pub trace_id: TraceId,
    /// What it did.
    pub shape: Shape,
    /// Spans buffered when it was decided.
    pub spans: usize,
    /// Sampled (exported) or not.
    pub decision: Decision,
    /// The policy that kept it.
    pub policy: Option<String>,
}

impl TraceOutcome {
    /// Whether the trace was exported.
    pub fn kept(&self) -> bool {
        self.decision.is_sampled()
    }
}

/// What [`run`] saw.
#[derive(Debug)]
pub struct Report {
    /// Every trace, in the order they ran.
    pub traces: Vec<TraceOutcome>,
    /// Spans that reached the exporter.
    pub exported_spans: usize,
}

/// Trace and span ids from a fixed sequence, so every run makes the same traces and the
/// trace-id-based draws (the 5% baseline, the 50% of slow traces) decide the same way.
#[derive(Debug, Default)]
struct SequenceIds(AtomicU64);

impl SequenceIds {
    fn next(&self) -> u64 {
        // splitmix64: well-spread ids from a counter.
        let mut z = self
            .0
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl IdGenerator for SequenceIds {
    fn new_trace_id(&self) -> TraceId {
        TraceId::from((u128::from(self.next()) << 64) | u128::from(self.next()))
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from(self.next())
    }
}

type Decisions = Arc<Mutex<HashMap<TraceId, (Decision, Option<String>, usize)>>>;

/// Runs [`TRACES`] traces (a `POST /checkout` SERVER span with a `charge card` CLIENT child)
/// through a tail sampler configured with `config`, and reports each decision.
///
/// # Errors
///
/// When the processor cannot be built, or flushing fails.
pub fn run(config: TailSamplingConfig) -> anyhow::Result<Report> {
    let exporter = InMemorySpanExporter::default();
    let decisions: Decisions = Arc::default();
    let observed = decisions.clone();
    let processor = TailSamplingProcessor::builder(exporter.clone(), config)
        .with_decision_observer(Arc::new(move |d| {
            observed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(
                    d.trace_id,
                    (d.decision, d.policy.map(str::to_owned), d.spans),
                );
        }))
        .build()?;
    let provider = SdkTracerProvider::builder()
        // Record every span without deciding at the head: the tail decides.
        .with_sampler(recording_head_sampler())
        .with_id_generator(SequenceIds::default())
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("checkout");

    let mut ran = Vec::with_capacity(TRACES);
    for i in 0..TRACES {
        let shape = Shape::of(i);
        // Explicit timestamps: a slow trace without waiting for it.
        let start = SystemTime::now();
        let root = tracer
            .span_builder("POST /checkout")
            .with_kind(SpanKind::Server)
            .with_start_time(start)
            .start(&tracer);
        let cx = Context::new().with_span(root);
        let mut charge = tracer
            .span_builder("charge card")
            .with_kind(SpanKind::Client)
            .with_start_time(start + Duration::from_millis(5))
            .with_attributes([KeyValue::new("payment.currency", "USD")])
            .start_with_context(&tracer, &cx);
        if shape == Shape::Failing {
            charge.set_status(Status::error("card declined"));
        }
        charge.end_with_timestamp(start + shape.duration() - Duration::from_millis(5));
        cx.span().end_with_timestamp(start + shape.duration());
        ran.push((cx.span().span_context().trace_id(), shape));
    }

    // Decide every buffered trace now instead of after decision_wait (30 s).
    provider.force_flush()?;
    let exported_spans = exporter.get_finished_spans()?.len();
    provider.shutdown()?;

    let decisions = decisions.lock().unwrap_or_else(PoisonError::into_inner);
    let traces = ran
        .into_iter()
        .map(|(trace_id, shape)| {
            let (decision, policy, spans) =
                decisions
                    .get(&trace_id)
                    .cloned()
                    .unwrap_or((Decision::NotSampled, None, 0));
            TraceOutcome {
                trace_id,
                shape,
                spans,
                decision,
                policy,
            }
        })
        .collect();
    Ok(Report {
        traces,
        exported_spans,
    })
}
