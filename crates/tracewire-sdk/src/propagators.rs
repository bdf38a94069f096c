//! The global propagator: the one given in code, or tracewire-propagation's composite from
//! `OTEL_PROPAGATORS` (default `tracecontext,baggage`).

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector};
use tracewire_core::env::{EnvSource, OtelEnv};
use tracewire_propagation::Propagators;

/// The propagator to install and the names to log.
pub(crate) fn resolve<S: EnvSource>(
    code: Option<Box<dyn TextMapPropagator + Send + Sync>>,
    env: &OtelEnv<S>,
) -> (Box<dyn TextMapPropagator + Send + Sync>, Vec<String>) {
    match code {
        Some(p) => (p, vec!["set in code".to_owned()]),
        None => {
            let p = Propagators::from_env(env);
            let names = if p.is_empty() {
                vec!["none".to_owned()]
            } else {
                p.formats().iter().map(|f| f.name().to_owned()).collect()
            };
            (Box::new(p), names)
        }
    }
}

/// Installs `propagator` as the global text-map propagator.
pub(crate) fn install(propagator: Box<dyn TextMapPropagator + Send + Sync>) {
    opentelemetry::global::set_text_map_propagator(BoxedPropagator(propagator));
}

#[derive(Debug)]
struct BoxedPropagator(Box<dyn TextMapPropagator + Send + Sync>);

impl TextMapPropagator for BoxedPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        self.0.inject_context(cx, injector);
    }
    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        self.0.extract_with_context(cx, extractor)
    }
    fn fields(&self) -> FieldIter<'_> {
        self.0.fields()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_follow_the_environment_and_code() {
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Vars<'_>, &[&str]); 3] = [
            (&[], &["tracecontext", "baggage"]),
            (
                &[("OTEL_PROPAGATORS", "b3multi,jaeger")],
                &["b3multi", "jaeger"],
            ),
            (&[("OTEL_PROPAGATORS", "none")], &["none"]),
        ];
        for (vars, want) in cases {
            let (p, names) = resolve(None, &OtelEnv::new(vars));
            assert_eq!(names, want, "{vars:?}");
            let mut headers: HashMap<String, String> = HashMap::new();
            p.inject_context(&Context::new(), &mut headers);
            assert!(headers.is_empty(), "no span, nothing injected");
        }
        let code: Box<dyn TextMapPropagator + Send + Sync> = Box::new(Propagators::none());
        let (_, names) = resolve(Some(code), &OtelEnv::new([("OTEL_PROPAGATORS", "b3")]));
        assert_eq!(names, ["set in code"]);
    }
}
