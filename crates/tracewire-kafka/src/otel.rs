//! The default tracer (the globally installed one, resolved on first use) and the crate's
//! instrumentation scope.

use std::sync::{Arc, OnceLock};

use opentelemetry::global::{self, BoxedSpan, BoxedTracer};
use opentelemetry::trace::{SpanBuilder, Tracer};
use opentelemetry::{Context, InstrumentationScope};

/// The instrumentation scope of tracewire-kafka's spans and metrics.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("tracewire-kafka")
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(tracewire_core::semconv::SCHEMA_URL)
        .build()
}

/// The globally installed tracer provider's tracer, resolved on the first span.
///
/// Install the tracer provider (`opentelemetry::global::set_tracer_provider`) before the first
/// message; a producer or consumer built earlier picks it up then. Spans of the global tracer
/// are boxed trait objects; give the builder a concrete tracer (`with_tracer`) to avoid that
/// allocation per span.
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
