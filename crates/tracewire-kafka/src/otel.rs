//! The default tracer (the globally installed one, resolved on first use) and the crate's
//! instrumentation scope.

use opentelemetry::InstrumentationScope;

/// The instrumentation scope of tracewire-kafka's spans and metrics.
pub(crate) fn scope() -> InstrumentationScope {
    tracewire_core::otel::scope("tracewire-kafka", env!("CARGO_PKG_VERSION"))
}

/// The globally installed tracer provider's tracer, resolved on the first span (install the
/// provider before the first message; a layer or client built earlier picks it up then). Give the
/// builder a concrete tracer (`with_tracer`) to avoid the boxed span of the global tracer.
pub type GlobalTracer = tracewire_core::otel::LazyGlobalTracer;

/// The default tracer: the global one, for this crate's scope.
pub(crate) fn global_tracer() -> GlobalTracer {
    GlobalTracer::new(scope)
}
