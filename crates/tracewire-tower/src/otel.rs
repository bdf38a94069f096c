//! The default tracer and propagator: the ones installed globally, resolved when first used.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use opentelemetry::global::{self, BoxedSpan, BoxedTracer};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanBuilder, Tracer};
use opentelemetry::{Context, InstrumentationScope};

/// The instrumentation scope of tracewire-tower's spans and metrics.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("tracewire-tower")
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(tracewire_core::semconv::SCHEMA_URL)
        .build()
}

/// The globally installed tracer provider's tracer, resolved on the first span.
///
/// Install the tracer provider (`opentelemetry::global::set_tracer_provider`) before the first
/// request; a layer built earlier picks it up then. Spans of the global tracer are boxed trait
/// objects; pass a concrete tracer with `with_tracer` to avoid that allocation per span.
#[derive(Debug, Clone, Default)]
pub struct GlobalTracer {
    inner: Arc<OnceLock<BoxedTracer>>,
}

impl Tracer for GlobalTracer {
    type Span = BoxedSpan;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        self.inner
            .get_or_init(|| global::tracer_with_scope(scope()))
            .build_with_context(builder, parent_cx)
    }
}

/// The globally installed propagator (`opentelemetry::global::set_text_map_propagator`), read on
/// every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalPropagator;

impl TextMapPropagator for GlobalPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        global::get_text_map_propagator(|p| p.inject_context(cx, injector));
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        global::get_text_map_propagator(|p| p.extract_with_context(cx, extractor))
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&[])
    }
}

/// A name for a span that may borrow for the life of the process.
pub(crate) type SpanName = Cow<'static, str>;
