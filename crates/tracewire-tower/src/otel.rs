//! The default tracer and propagator: the ones installed globally, resolved when first used.

use std::borrow::Cow;

use opentelemetry::global;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::{Context, InstrumentationScope};

/// The instrumentation scope of tracewire-tower's spans and metrics.
pub(crate) fn scope() -> InstrumentationScope {
    tracewire_core::otel::scope("tracewire-tower", env!("CARGO_PKG_VERSION"))
}

/// The globally installed tracer provider's tracer, resolved on the first span (install the
/// provider before the first request; a layer or client built earlier picks it up then). Give the
/// builder a concrete tracer (`with_tracer`) to avoid the boxed span of the global tracer.
pub type GlobalTracer = tracewire_core::otel::LazyGlobalTracer;

/// The default tracer: the global one, for this crate's scope.
pub(crate) fn global_tracer() -> GlobalTracer {
    GlobalTracer::new(scope)
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
