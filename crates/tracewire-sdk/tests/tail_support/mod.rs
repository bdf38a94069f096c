//! Helpers shared by the tail sampling tests: synthetic spans and an exporter that counts.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::SpanData;

/// The article's config, indented as a Collector config file (the seed text lost its
/// indentation; the keys and values are the article's).
pub const ARTICLE_YAML: &str = r#"processors:
  tail_sampling:
    decision_wait: 30s
    num_traces: 10000
    expected_new_traces_per_sec: 100
    policies:
      - name: error-sampling
        type: status_code
        config:
          status_code: ERROR
          sampling_percentage: 100
      - name: latency-sampling
        type: latency
        config:
          threshold_ms: 500
          sampling_percentage: 50
      - name: probabilistic
        type: probabilistic
        config:
          sampling_percentage: 5
"#;

/// A synthetic span.
#[derive(Debug, Clone)]
pub struct S {
    data: SpanData,
}

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

impl S {
    pub fn new(trace: u128, span: u64) -> Self {
        Self {
            data: SpanData {
                span_context: SpanContext::new(
                    TraceId::from(trace),
                    SpanId::from(span),
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::NONE,
                ),
                parent_span_id: SpanId::INVALID,
                parent_span_is_remote: false,
                span_kind: SpanKind::Internal,
                name: "op".into(),
                start_time: t0(),
                end_time: t0() + Duration::from_millis(10),
                attributes: Vec::new(),
                dropped_attributes_count: 0,
                events: Default::default(),
                links: Default::default(),
                status: Status::Unset,
                instrumentation_scope: InstrumentationScope::builder("test").build(),
            },
        }
    }

    pub fn parent(mut self, parent: u64) -> Self {
        self.data.parent_span_id = SpanId::from(parent);
        self
    }

    pub fn remote_parent(mut self, parent: u64) -> Self {
        self.data.parent_span_id = SpanId::from(parent);
        self.data.parent_span_is_remote = true;
        self
    }

    pub fn error(mut self) -> Self {
        self.data.status = Status::error("boom");
        self
    }

    pub fn ok(mut self) -> Self {
        self.data.status = Status::Ok;
        self
    }

    /// Start and end, in milliseconds after a fixed time.
    pub fn at_ms(mut self, start: u64, end: u64) -> Self {
        self.data.start_time = t0() + Duration::from_millis(start);
        self.data.end_time = t0() + Duration::from_millis(end);
        self
    }

    pub fn attr(mut self, kv: KeyValue) -> Self {
        self.data.attributes.push(kv);
        self
    }

    pub fn not_sampled(mut self) -> Self {
        let sc = &self.data.span_context;
        self.data.span_context = SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            TraceFlags::default(),
            false,
            sc.trace_state().clone(),
        );
        self
    }

    pub fn trace_state(mut self, header: &str) -> Self {
        let sc = &self.data.span_context;
        let ts: TraceState = header.parse().expect("valid tracestate");
        self.data.span_context =
            SpanContext::new(sc.trace_id(), sc.span_id(), sc.trace_flags(), false, ts);
        self
    }

    pub fn big_attribute(mut self, bytes: usize) -> Self {
        self.data
            .attributes
            .push(KeyValue::new("payload", "x".repeat(bytes)));
        self
    }

    pub fn build(self) -> SpanData {
        self.data
    }
}

/// Deterministic pseudo-random trace ids (splitmix64), never zero.
pub fn trace_ids(seed: u64) -> impl Iterator<Item = u128> {
    let mut state = seed;
    std::iter::repeat_with(move || {
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        (u128::from(next()) << 64 | u128::from(next())).max(1)
    })
}

/// An exporter that keeps every span it gets, even after shutdown.
#[derive(Debug, Clone, Default)]
pub struct KeepingExporter {
    pub spans: std::sync::Arc<std::sync::Mutex<Vec<SpanData>>>,
}

impl KeepingExporter {
    pub fn len(&self) -> usize {
        self.spans.lock().map_or(0, |s| s.len())
    }

    pub fn trace_ids(&self) -> Vec<u128> {
        let mut ids: Vec<u128> = self
            .spans
            .lock()
            .map(|s| {
                s.iter()
                    .map(|s| u128::from_be_bytes(s.span_context.trace_id().to_bytes()))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl opentelemetry_sdk::trace::SpanExporter for KeepingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
        if let Ok(mut s) = self.spans.lock() {
            s.extend(batch);
        }
        Ok(())
    }
}

/// Hands out the given trace ids in order (span ids count up).
#[derive(Debug)]
pub struct FixedIds {
    ids: std::sync::Mutex<std::vec::IntoIter<u128>>,
    span: std::sync::atomic::AtomicU64,
}

impl FixedIds {
    pub fn new(ids: Vec<u128>) -> Self {
        Self {
            ids: std::sync::Mutex::new(ids.into_iter()),
            span: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

impl opentelemetry_sdk::trace::IdGenerator for FixedIds {
    fn new_trace_id(&self) -> TraceId {
        let next = self
            .ids
            .lock()
            .ok()
            .and_then(|mut it| it.next())
            .unwrap_or(1);
        TraceId::from(next)
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from(self.span.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}
