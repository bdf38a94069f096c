//! Round-trip properties: injecting a context and extracting it again gives the same context,
//! for every format, through the `TextMapPropagator` trait and the direct `HeaderMap` path.

use std::collections::HashSet;

use http::{HeaderMap, HeaderValue};
use opentelemetry::Context;
use opentelemetry::baggage::{Baggage, BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use proptest::prelude::*;
use tracewire_propagation::tracestate::otel_accepts_key;
use tracewire_propagation::{
    B3Encoding, B3Propagator, BaggagePropagator, Format, HeaderExtractor, HeaderInjector,
    JaegerPropagator, Propagators, TraceContextPropagator,
};

/// The span context of `cx`, owned.
fn sc(cx: &Context) -> SpanContext {
    cx.span().span_context().clone()
}

fn span_context(trace: u128, span: u64, flags: u8, state: TraceState) -> SpanContext {
    SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        TraceFlags::new(flags),
        true,
        state,
    )
}

/// Injects `cx` with `p` through the trait, extracts it back, and returns the headers and the
/// extracted context.
fn round_trip(p: &dyn TextMapPropagator, cx: &Context) -> (HeaderMap, Context) {
    let mut headers = HeaderMap::new();
    p.inject_context(cx, &mut HeaderInjector(&mut headers));
    let back = p.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
    (headers, back)
}

/// A `tracestate` key by the Level 2 grammar, often with `@` (several of them, too).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9][a-z0-9_*/-]{0,20}",
        "[a-z0-9][a-z0-9_*/-]{0,10}@[a-z0-9][a-z0-9_*/-]{0,20}",
        "[a-z0-9][a-z0-9_*/@-]{0,30}",
    ]
}

/// A `tracestate` value: printable ASCII other than `,` and `=`, not ending in a space.
fn value() -> impl Strategy<Value = String> {
    r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,40}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
}

fn members() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((key(), value()), 0..=32).prop_map(|mut m| {
        let mut seen = HashSet::new();
        m.retain(|(k, _)| seen.insert(k.clone()));
        m
    })
}

proptest! {
    #[test]
    fn trace_context_round_trips(
        trace in 1u128..,
        span in 1u64..,
        flags in 0u8..=3,
        members in members(),
    ) {
        let representable: Vec<_> = members.iter().filter(|(k, _)| otel_accepts_key(k)).cloned().collect();
        let state = TraceState::from_key_value(representable).expect("valid");
        let cx = Context::new().with_remote_span_context(span_context(trace, span, flags, state));
        let p = TraceContextPropagator::new();
        let (headers, back) = round_trip(&p, &cx);
        prop_assert_eq!(sc(&back), sc(&cx));
        let direct = p.extract_from_headers(&headers, &Context::new());
        prop_assert_eq!(sc(&direct), sc(&cx));
    }

    #[test]
    fn spec_valid_tracestate_survives_extract_then_inject(
        trace in 1u128..,
        span in 1u64..,
        members in members(),
    ) {
        let tracestate: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let tracestate = tracestate.join(",");
        let mut incoming = HeaderMap::new();
        let tp = format!("00-{trace:032x}-{span:016x}-01");
        incoming.insert("traceparent", HeaderValue::from_str(&tp).expect("ascii"));
        incoming.insert("tracestate", HeaderValue::from_str(&tracestate).expect("ascii"));
        let p = TraceContextPropagator::new();
        let cx = p.extract_with_context(&Context::new(), &HeaderExtractor(&incoming));
        let mut outgoing = HeaderMap::new();
        p.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
        prop_assert_eq!(outgoing["traceparent"].to_str().expect("ascii"), tp.as_str());
        match outgoing.get("tracestate") {
            Some(sent) => prop_assert_eq!(sent.to_str().expect("ascii"), tracestate.as_str()),
            None => prop_assert!(members.is_empty()),
        }
    }

    #[test]
    fn baggage_round_trips(
        entries in proptest::collection::vec(
            (
                "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}",
                any::<String>().prop_map(|s| s.chars().take(24).collect::<String>()),
                prop_oneof![Just(String::new()), "[a-z]{1,5}(=[a-zA-Z0-9%]{0,5})?"],
            ),
            0..20,
        ),
    ) {
        let baggage: Baggage = entries
            .iter()
            .map(|(k, v, m)| KeyValueMetadata::new(k.clone(), v.clone(), m.as_str()))
            .collect();
        let cx = Context::new().with_baggage(baggage);
        let p = BaggagePropagator::new();
        let (headers, back) = round_trip(&p, &cx);
        let direct = p.extract_from_headers(&headers, &Context::new());
        for extracted in [&back, &direct] {
            prop_assert_eq!(extracted.baggage().len(), cx.baggage().len());
            for (k, (v, m)) in cx.baggage() {
                let (v2, m2) = extracted.baggage().get_with_metadata(k.as_str()).expect("present");
                prop_assert_eq!(v2, v);
                prop_assert_eq!(m2, m);
            }
        }
    }

    #[test]
    fn b3_and_jaeger_round_trip(
        trace in 1u128..,
        span in 1u64..,
        sampled in any::<bool>(),
    ) {
        let flags = if sampled { 1 } else { 0 };
        let cx = Context::new()
            .with_remote_span_context(span_context(trace, span, flags, TraceState::NONE));
        let propagators: [&dyn TextMapPropagator; 3] = [
            &B3Propagator::with_encoding(B3Encoding::SingleHeader),
            &B3Propagator::with_encoding(B3Encoding::MultipleHeader),
            &JaegerPropagator::new(),
        ];
        for p in propagators {
            let (_, back) = round_trip(p, &cx);
            prop_assert_eq!(sc(&back), sc(&cx));
        }
    }

    #[test]
    fn the_composite_round_trips_every_format_at_once(
        trace in 1u128..,
        span in 1u64..,
        flags in 0u8..=1,
        value in "[a-z ]{0,10}",
    ) {
        let cx = Context::new()
            .with_remote_span_context(span_context(trace, span, flags, TraceState::NONE))
            .with_baggage([KeyValueMetadata::new("k", value.trim().to_owned(), "")]);
        let all = Propagators::new(Format::ALL);
        let (headers, back) = round_trip(&all, &cx);
        prop_assert_eq!(sc(&back), sc(&cx));
        prop_assert_eq!(back.baggage().get("k"), cx.baggage().get("k"));
        let direct = all.extract_from_headers(&headers, &Context::new());
        prop_assert_eq!(sc(&direct), sc(&cx));
    }
}
