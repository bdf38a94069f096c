//! Propagation benches: tracewire's propagators against opentelemetry_sdk's through
//! opentelemetry-http, from and into a `HeaderMap` holding 5 other common headers.
//!
//! Each group's baseline (first case) is the SDK propagator through opentelemetry-http's
//! carriers, called through `&dyn TextMapPropagator` as the global propagator is; then tracewire
//! the same way; then tracewire's direct `HeaderMap` path.

use http::{HeaderMap, HeaderValue, header};
use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use tracewire_propagation::{
    BaggagePropagator, HeaderExtractor, HeaderInjector, Propagators, TraceContextPropagator,
};
use tracewire_testing::bench::{Bench, CountingAlloc, Target};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
const BAGGAGE: &str = "user.id=alice,session.region=eu-west-1,request.source=web%20checkout";

const SDK: &str = "sdk + opentelemetry-http";
const TW_DYN: &str = "tracewire (dyn TextMapPropagator)";
const TW_COMPOSITE: &str = "tracewire Propagators default (dyn)";
const TW_DIRECT: &str = "tracewire direct HeaderMap";
const SDK_COMPOSITE: &str = "sdk TextMapCompositePropagator (tracecontext, baggage)";
const FLOOR: &str = "floor: opentelemetry types alone, no parsing";

/// A request's headers without any propagation header.
fn common_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::HOST,
        HeaderValue::from_static("checkout.internal:8080"),
    );
    h.insert(
        header::USER_AGENT,
        HeaderValue::from_static("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"),
    );
    h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("342"));
    h
}

fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = common_headers();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_static(v));
    }
    h
}

fn main() {
    let sdk_tc = opentelemetry_sdk::propagation::TraceContextPropagator::new();
    let sdk_bg = opentelemetry_sdk::propagation::BaggagePropagator::new();
    let sdk_tc: &dyn TextMapPropagator = &sdk_tc;
    let sdk_bg: &dyn TextMapPropagator = &sdk_bg;
    let tw_tc_concrete = TraceContextPropagator::new();
    let tw_bg_concrete = BaggagePropagator::new();
    let tw_tc: &dyn TextMapPropagator = &tw_tc_concrete;
    let tw_bg: &dyn TextMapPropagator = &tw_bg_concrete;
    let sdk_composite = TextMapCompositePropagator::new(vec![
        Box::new(opentelemetry_sdk::propagation::TraceContextPropagator::new()),
        Box::new(opentelemetry_sdk::propagation::BaggagePropagator::new()),
    ]);
    let sdk_composite: &dyn TextMapPropagator = &sdk_composite;
    let composite_concrete = Propagators::default();
    let composite: &dyn TextMapPropagator = &composite_concrete;

    let tp_only = with(&[("traceparent", TRACEPARENT)]);
    let tp_ts = with(&[("traceparent", TRACEPARENT), ("tracestate", TRACESTATE)]);
    let baggage = with(&[("baggage", BAGGAGE)]);

    let sc = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap_or(TraceId::INVALID),
        SpanId::from_hex("00f067aa0ba902b7").unwrap_or(SpanId::INVALID),
        TraceFlags::SAMPLED,
        true,
        TRACESTATE.parse::<TraceState>().unwrap_or_default(),
    );
    let span_cx = Context::new().with_remote_span_context(sc);
    let baggage_cx = Context::new().with_baggage([
        KeyValue::new("user.id", "alice"),
        KeyValue::new("session.region", "eu-west-1"),
        KeyValue::new("request.source", "web checkout"),
    ]);

    // Short samples, many of them: the cases of a group alternate every millisecond, so a burst
    // of load from elsewhere on a shared machine hits them alike, and a sample is seldom cut by
    // the scheduler (whose time slices are a few milliseconds).
    let mut bench = Bench::new("propagation")
        .with_samples(301)
        .with_sample_time_ms(1);

    bench.group("(a) traceparent extract", |g| {
        g.case(SDK, || {
            sdk_tc.extract_with_context(
                &Context::new(),
                &opentelemetry_http::HeaderExtractor(&tp_only),
            )
        });
        g.case(TW_DYN, || {
            tw_tc.extract_with_context(&Context::new(), &HeaderExtractor(&tp_only))
        });
        g.case(TW_COMPOSITE, || {
            composite.extract_with_context(&Context::new(), &HeaderExtractor(&tp_only))
        });
        g.case(TW_DIRECT, || {
            tw_tc_concrete.extract_from_headers(&tp_only, &Context::new())
        });
        g.target(TW_DYN, Target::ratio(0.35).and_allocs(1.0));
        // The composite also looks for a `baggage` header; compare it with the SDK's composite of
        // the same two propagators, just below.
        g.case(SDK_COMPOSITE, || {
            sdk_composite.extract_with_context(
                &Context::new(),
                &opentelemetry_http::HeaderExtractor(&tp_only),
            )
        });
        g.target(TW_COMPOSITE, Target::allocs(1.0));
    });

    bench.group("(b) traceparent + tracestate (2 members) extract", |g| {
        g.case(SDK, || {
            sdk_tc.extract_with_context(
                &Context::new(),
                &opentelemetry_http::HeaderExtractor(&tp_ts),
            )
        });
        g.case(TW_DYN, || {
            tw_tc.extract_with_context(&Context::new(), &HeaderExtractor(&tp_ts))
        });
        g.case(TW_COMPOSITE, || {
            composite.extract_with_context(&Context::new(), &HeaderExtractor(&tp_ts))
        });
        g.case(TW_DIRECT, || {
            tw_tc_concrete.extract_from_headers(&tp_ts, &Context::new())
        });
        // What any propagator on the opentelemetry API must build: the TraceState and the
        // Context's span.
        g.case(FLOOR, || {
            let state = TraceState::from_key_value([
                ("rojo", "00f067aa0ba902b7"),
                ("congo", "t61rcWkgMzE"),
            ])
            .unwrap_or_default();
            Context::new().with_remote_span_context(SpanContext::new(
                TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
                SpanId::from(0x00f0_67aa_0ba9_02b7),
                TraceFlags::SAMPLED,
                true,
                state,
            ))
        });
        // The span context's TraceState costs 5 allocations (its list and two strings per
        // member), the Context's span one more, and reading the tracestate lines through the
        // `Extractor` trait (`get_all`) one `Vec`.
        g.target(TW_DYN, Target::allocs(7.0));
    });

    // Inject into a request's headers. From the second iteration on, the header is replaced
    // rather than added, at the same cost; taking it out again would measure `HeaderMap::remove`,
    // which is not part of injecting.
    let mut out_sdk = common_headers();
    let mut out_dyn = common_headers();
    let mut out_composite = common_headers();
    let mut out_direct = common_headers();
    bench.group("(c) traceparent + tracestate inject", |g| {
        g.case(SDK, || {
            sdk_tc.inject_context(
                &span_cx,
                &mut opentelemetry_http::HeaderInjector(&mut out_sdk),
            );
        });
        g.case(TW_DYN, || {
            tw_tc.inject_context(&span_cx, &mut HeaderInjector(&mut out_dyn));
        });
        g.case(TW_COMPOSITE, || {
            composite.inject_context(&span_cx, &mut HeaderInjector(&mut out_composite));
        });
        g.case(TW_DIRECT, || {
            tw_tc_concrete.inject_into_headers(&span_cx, &mut out_direct);
        });
        // Two header values written: two allocations.
        g.target(TW_DYN, Target::ratio(0.5).and_allocs(2.0));
        g.target(TW_COMPOSITE, Target::ratio(0.5).and_allocs(2.0));
    });

    bench.group("(d) baggage extract (3 entries)", |g| {
        g.case(SDK, || {
            sdk_bg.extract_with_context(
                &Context::new(),
                &opentelemetry_http::HeaderExtractor(&baggage),
            )
        });
        g.case(TW_DYN, || {
            tw_bg.extract_with_context(&Context::new(), &HeaderExtractor(&baggage))
        });
        g.case(TW_DIRECT, || {
            tw_bg_concrete.extract_from_headers(&baggage, &Context::new())
        });
        // What any propagator on the opentelemetry API must build: the Baggage (a map, a key and
        // a value per entry, SipHash and key validation per insert) and the Context value.
        g.case(FLOOR, || {
            let mut b = Baggage::new();
            b.insert(String::from("user.id"), String::from("alice"));
            b.insert(String::from("session.region"), String::from("eu-west-1"));
            b.insert(String::from("request.source"), String::from("web checkout"));
            Context::new().with_baggage(b)
        });
        g.target(TW_DYN, Target::ratio(0.5));
    });

    let mut bout_sdk = common_headers();
    let mut bout_dyn = common_headers();
    let mut bout_direct = common_headers();
    bench.group("(e) baggage inject (3 entries)", |g| {
        g.case(SDK, || {
            sdk_bg.inject_context(
                &baggage_cx,
                &mut opentelemetry_http::HeaderInjector(&mut bout_sdk),
            );
        });
        g.case(TW_DYN, || {
            tw_bg.inject_context(&baggage_cx, &mut HeaderInjector(&mut bout_dyn));
        });
        g.case(TW_DIRECT, || {
            tw_bg_concrete.inject_into_headers(&baggage_cx, &mut bout_direct);
        });
        // One header value written: one allocation.
        g.target(TW_DYN, Target::ratio(0.5).and_allocs(1.0));
    });

    bench.finish();
}
