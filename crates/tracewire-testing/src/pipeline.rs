//! The in-memory pipeline: an SDK tracer provider whose spans are readable as soon as they end.
//!
//! [`InMemoryPipeline`] owns an [`SdkTracerProvider`] with an [`InMemoryExporter`] behind a
//! [`SimpleSpanProcessor`], so a span is exported synchronously inside `Span::end` and a test
//! reads it right after the code under test returns: no flush, no sleep. Spans come back as the
//! SDK's [`SpanData`], or as a [`SpanTree`] to assert on.
//!
//! The pipeline is plain scoped state: pass its provider or a [`tracer`](InMemoryPipeline::tracer)
//! to the code under test. Test binaries that need the global provider and propagator call
//! [`install_global`](InMemoryPipeline::install_global) explicitly (one test binary per global
//! state, as the tests of a crate that reads `global::tracer` need).
//!
//! # Example
//!
//! ```
//! use opentelemetry::KeyValue;
//! use opentelemetry::trace::{Span as _, SpanKind, Tracer as _};
//! use tracewire_testing::InMemoryPipeline;
//!
//! let pipeline = InMemoryPipeline::new();
//! let tracer = pipeline.tracer("checkout");
//! let mut span = tracer
//!     .span_builder("charge")
//!     .with_kind(SpanKind::Client)
//!     .start(&tracer);
//! span.set_attribute(KeyValue::new("payment.amount", 42_i64));
//! span.end();
//!
//! let tree = pipeline.tree();
//! tree.span("charge")
//!     .assert_kind(SpanKind::Client)
//!     .assert_root()
//!     .assert_attribute("payment.amount", 42_i64);
//! pipeline.reset();
//! assert!(pipeline.spans().is_empty());
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry::global;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracer, SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter,
    SpanProcessor, TracerProviderBuilder,
};

use crate::tree::SpanTree;

/// A span exporter that keeps every exported span in memory, shared between its clones.
///
/// Use it with [`InMemoryPipeline`], or on its own with any processor (for instance behind a
/// batch processor to test flushing).
#[derive(Debug, Clone, Default)]
pub struct InMemoryExporter {
    spans: Arc<Mutex<Vec<SpanData>>>,
}

impl InMemoryExporter {
    /// An empty exporter.
    pub fn new() -> Self {
        Self::default()
    }

    /// The spans exported so far, in the order they ended.
    pub fn spans(&self) -> Vec<SpanData> {
        self.lock().clone()
    }

    /// How many spans were exported so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no span was exported yet.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every exported span.
    pub fn reset(&self) {
        self.lock().clear();
    }

    /// Removes and returns the spans exported so far.
    pub fn take(&self) -> Vec<SpanData> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SpanData>> {
        // A test that panicked while holding the lock leaves valid data behind; keep using it.
        self.spans.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SpanExporter for InMemoryExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.lock().extend(batch);
        Ok(())
    }
}

/// An SDK tracer provider exporting synchronously to an [`InMemoryExporter`].
///
/// The sampler is `AlwaysOn` unless the builder sets another. Dropping the pipeline shuts the
/// provider down once its last clone is gone.
#[derive(Debug, Clone)]
pub struct InMemoryPipeline {
    provider: SdkTracerProvider,
    exporter: InMemoryExporter,
}

impl Default for InMemoryPipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryPipeline {
    /// A pipeline with the `AlwaysOn` sampler and the SDK's default resource.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to choose the sampler, resource, span limits or extra processors.
    pub fn builder() -> InMemoryPipelineBuilder {
        InMemoryPipelineBuilder {
            inner: SdkTracerProvider::builder().with_sampler(Sampler::AlwaysOn),
        }
    }

    /// A tracer of this pipeline's provider, with `name` as its instrumentation scope.
    pub fn tracer(&self, name: &'static str) -> SdkTracer {
        self.provider.tracer(name)
    }

    /// The provider, to hand to code that takes one.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The exporter holding the spans.
    pub fn exporter(&self) -> &InMemoryExporter {
        &self.exporter
    }

    /// The spans that ended so far, in the order they ended.
    pub fn spans(&self) -> Vec<SpanData> {
        self.exporter.spans()
    }

    /// The spans that ended so far as a [`SpanTree`] to assert on.
    pub fn tree(&self) -> SpanTree {
        SpanTree::new(self.exporter.spans())
    }

    /// Forgets every span exported so far.
    pub fn reset(&self) {
        self.exporter.reset();
    }

    /// Makes this pipeline's provider the global tracer provider and the W3C Trace Context +
    /// Baggage propagators (the SDK's) the global propagator, until the guard is dropped.
    ///
    /// Global state is shared by every test of a test binary: use it only in a test binary of
    /// its own (one `tests/` file) whose tests do not run concurrently with other global users.
    pub fn install_global(&self) -> GlobalGuard {
        global::set_tracer_provider(self.provider.clone());
        global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]));
        GlobalGuard { _private: () }
    }

    /// A `tracing` subscriber (registry + tracing-opentelemetry layer) writing to this
    /// pipeline, to install with `tracing::subscriber::set_default` or `with_default`.
    #[cfg(feature = "tracing")]
    pub fn subscriber(&self) -> crate::subscriber::TestSubscriber {
        crate::subscriber::subscriber(self.tracer("tracing"))
    }
}

/// A builder for [`InMemoryPipeline`].
#[derive(Debug)]
pub struct InMemoryPipelineBuilder {
    inner: TracerProviderBuilder,
}

impl InMemoryPipelineBuilder {
    /// Sets the sampler (default: `AlwaysOn`).
    pub fn with_sampler(mut self, sampler: Sampler) -> Self {
        self.inner = self.inner.with_sampler(sampler);
        self
    }

    /// Sets the resource.
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.inner = self.inner.with_resource(resource);
        self
    }

    /// Adds a processor that runs before the in-memory exporter's (a tail sampler under test,
    /// an enriching processor).
    pub fn with_span_processor(mut self, processor: impl SpanProcessor + 'static) -> Self {
        self.inner = self.inner.with_span_processor(processor);
        self
    }

    /// Applies any other setting of the SDK's provider builder.
    pub fn with_provider_builder(
        mut self,
        f: impl FnOnce(TracerProviderBuilder) -> TracerProviderBuilder,
    ) -> Self {
        self.inner = f(self.inner);
        self
    }

    /// Builds the pipeline.
    pub fn build(self) -> InMemoryPipeline {
        let exporter = InMemoryExporter::new();
        let provider = self
            .inner
            .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
            .build();
        InMemoryPipeline { provider, exporter }
    }
}

/// Restores a no-op global tracer provider when dropped (see
/// [`InMemoryPipeline::install_global`]).
#[derive(Debug)]
#[must_use = "the global provider is reset when the guard is dropped"]
pub struct GlobalGuard {
    _private: (),
}

impl Drop for GlobalGuard {
    fn drop(&mut self) {
        global::set_tracer_provider(opentelemetry::trace::noop::NoopTracerProvider::new());
    }
}
