//! A span processor that only counts ended spans, for benches of instrumented code.
//!
//! Middleware and helper benches want the real cost of recording a span (the SDK builds the span,
//! keeps its attributes and hands it to the processors when it ends) without the cost of an
//! exporter. [`CountingProcessor`] drops each span when it ends and counts it, so a bench can also
//! check that the spans it expects were really made.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{Span as _, Tracer as _};
//! use tracewire_testing::CountingProcessor;
//!
//! let (provider, counter) = CountingProcessor::provider();
//! let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "bench");
//! tracer.start("op").end();
//! assert_eq!(counter.ended(), 1);
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Span, SpanData, SpanProcessor};

/// Counts spans started and ended; exports nothing. Clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct CountingProcessor {
    counts: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    started: AtomicU64,
    ended: AtomicU64,
}

impl CountingProcessor {
    /// A processor with zeroed counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// A provider that samples every span and sends it to a new counting processor, with a clone
    /// of that processor to read the counts.
    pub fn provider() -> (SdkTracerProvider, CountingProcessor) {
        let counter = Self::new();
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOn)
            .with_span_processor(counter.clone())
            .build();
        (provider, counter)
    }

    /// Spans started so far (recording spans only: the SDK does not call processors for
    /// spans its sampler dropped).
    pub fn started(&self) -> u64 {
        self.counts.started.load(Ordering::Relaxed)
    }

    /// Spans ended so far.
    pub fn ended(&self) -> u64 {
        self.counts.ended.load(Ordering::Relaxed)
    }

    /// Sets both counters back to zero.
    pub fn reset(&self) {
        self.counts.started.store(0, Ordering::Relaxed);
        self.counts.ended.store(0, Ordering::Relaxed);
    }
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {
        self.counts.started.fetch_add(1, Ordering::Relaxed);
    }

    fn on_end(&self, _span: SpanData) {
        self.counts.ended.fetch_add(1, Ordering::Relaxed);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}
