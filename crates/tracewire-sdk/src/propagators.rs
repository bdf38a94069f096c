//! The global propagator from `OTEL_PROPAGATORS`.

use opentelemetry::propagation::TextMapPropagator;
use tracewire_core::env::{EnvSource, OtelEnv};

/// The propagator `OTEL_PROPAGATORS` names.
pub(crate) fn from_env<S: EnvSource>(
    _env: &OtelEnv<S>,
) -> Option<Box<dyn TextMapPropagator + Send + Sync>> {
    None
}

/// The propagator names, for the startup log line.
pub(crate) fn names<S: EnvSource>(env: &OtelEnv<S>) -> Vec<String> {
    let list = env.list("OTEL_PROPAGATORS");
    if list.is_empty() {
        vec!["tracecontext".into(), "baggage".into()]
    } else {
        list
    }
}

/// Installs `propagator` as the global text-map propagator.
pub(crate) fn install(propagator: Box<dyn TextMapPropagator + Send + Sync>) {
    opentelemetry::global::set_text_map_propagator(BoxedPropagator(propagator));
}

#[derive(Debug)]
struct BoxedPropagator(Box<dyn TextMapPropagator + Send + Sync>);

impl TextMapPropagator for BoxedPropagator {
    fn inject_context(
        &self,
        cx: &opentelemetry::Context,
        injector: &mut dyn opentelemetry::propagation::Injector,
    ) {
        self.0.inject_context(cx, injector);
    }
    fn extract_with_context(
        &self,
        cx: &opentelemetry::Context,
        extractor: &dyn opentelemetry::propagation::Extractor,
    ) -> opentelemetry::Context {
        self.0.extract_with_context(cx, extractor)
    }
    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        self.0.fields()
    }
}
