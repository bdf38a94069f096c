//! Installing the `OTEL_PROPAGATORS` composite as the global propagator (its own test binary,
//! since the global propagator is process-wide).

use http::{HeaderMap, HeaderValue};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, global};
use tracewire_core::env::OtelEnv;
use tracewire_propagation::{Format, HeaderExtractor, HeaderInjector, Propagators};

#[test]
fn the_installed_composite_serves_the_global_propagator() {
    let env = OtelEnv::new([("OTEL_PROPAGATORS", "tracecontext,baggage,b3multi")]);
    let propagators = Propagators::from_env(&env);
    assert_eq!(
        propagators.formats(),
        [Format::TraceContext, Format::Baggage, Format::B3Multi]
    );
    propagators.install();

    let mut incoming = HeaderMap::new();
    incoming.insert(
        "traceparent",
        HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    );
    incoming.insert("baggage", HeaderValue::from_static("user.id=alice"));
    let cx = global::get_text_map_propagator(|p| {
        p.extract_with_context(&Context::new(), &HeaderExtractor(&incoming))
    });
    assert!(cx.span().span_context().is_valid());
    assert_eq!(
        cx.baggage().get("user.id").map(|v| v.as_str()),
        Some("alice")
    );

    let mut outgoing = HeaderMap::new();
    global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
        assert_eq!(
            p.fields().collect::<Vec<_>>(),
            [
                "traceparent",
                "tracestate",
                "baggage",
                "x-b3-traceid",
                "x-b3-spanid",
                "x-b3-sampled",
                "x-b3-flags"
            ]
        );
    });
    assert_eq!(outgoing["x-b3-traceid"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(outgoing["baggage"], "user.id=alice");
}
