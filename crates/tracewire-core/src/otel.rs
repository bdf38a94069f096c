//! The globally installed tracer provider's tracer, for instrumentation that defaults to it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::global::{self, BoxedSpan, BoxedTracer};
use opentelemetry::trace::{SpanBuilder, Tracer};
use opentelemetry::{Context, InstrumentationScope};

use crate::semconv::SCHEMA_URL;

/// An instrumentation scope for a library: its name and version, and the semantic-convention
/// schema tracewire follows.
pub fn scope(name: &'static str, version: &'static str) -> InstrumentationScope {
    InstrumentationScope::builder(name)
        .with_version(version)
        .with_schema_url(SCHEMA_URL)
        .build()
}

/// The globally installed tracer provider's tracer for one instrumentation scope, resolved on
/// the first span rather than when the instrumentation is built.
///
/// Middleware and clients are often built before `main` installs the tracer provider
/// (`opentelemetry::global::set_tracer_provider`); resolving on the first span lets them pick it
/// up all the same. Clones share the resolved tracer. Spans of the global tracer are boxed trait
/// objects: instrumentation that is given a concrete tracer avoids that allocation per span.
///
/// # Example
///
/// ```
/// use opentelemetry::trace::{Span as _, Tracer as _};
/// use tracewire_core::otel::{LazyGlobalTracer, scope};
///
/// let tracer = LazyGlobalTracer::new(|| scope("my-middleware", "1.0.0"));
/// // With no provider installed, the global tracer is a no-op: the span records nothing.
/// let span = tracer.start("GET /users/{id}");
/// assert!(!span.is_recording());
/// ```
#[derive(Clone)]
pub struct LazyGlobalTracer {
    scope: fn() -> InstrumentationScope,
    inner: Arc<OnceLock<BoxedTracer>>,
}

impl LazyGlobalTracer {
    /// The global tracer for the scope `scope` returns (called once, on the first span).
    pub fn new(scope: fn() -> InstrumentationScope) -> Self {
        Self {
            scope,
            inner: Arc::default(),
        }
    }
}

impl fmt::Debug for LazyGlobalTracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyGlobalTracer")
            .field("resolved", &self.inner.get().is_some())
            .finish()
    }
}

impl Tracer for LazyGlobalTracer {
    type Span = BoxedSpan;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        self.inner
            .get_or_init(|| global::tracer_with_scope((self.scope)()))
            .build_with_context(builder, parent_cx)
    }
}
