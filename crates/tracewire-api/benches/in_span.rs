//! `in_span` against the raw SDK tracer: start with 3 attributes, end (sampled; a processor that
//! counts and drops spans, so no exporter cost hides the difference).
//!
//! Cases per group, measured side by side:
//! - `raw start+3 attrs+end`: the baseline, the SDK tracer used directly, the span never current;
//! - `raw + made current`: the same span also made current for the work, as opentelemetry's
//!   own `Tracer::in_span` does (`Context::current_with_span` + `attach`); the floor for any
//!   helper whose span is current, since the opentelemetry API boxes the span and puts it in an
//!   `Arc` to store it in a `Context`;
//! - `tracewire in_span`: `SpanOptions::in_span` with the same 3 attributes (span current,
//!   status from the outcome, panic capture).
//!
//! The `future` group does the same for a future polled once to completion.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use tracewire_api::SpanOptions;
use tracewire_testing::CountingProcessor;
use tracewire_testing::bench::{Bench, CountingAlloc, Target, count_allocations};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn attributes() -> [KeyValue; 3] {
    [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.route", "/orders/{id}"),
        KeyValue::new("http.response.status_code", 200_i64),
    ]
}

fn raw(tracer: &SdkTracer) {
    let mut span = tracer
        .span_builder("GET /orders/{id}")
        .with_attributes(attributes())
        .start(tracer);
    black_box(&mut span);
    span.end();
}

fn raw_current(tracer: &SdkTracer) {
    let span = tracer
        .span_builder("GET /orders/{id}")
        .with_attributes(attributes())
        .start(tracer);
    let cx = Context::current_with_span(span);
    {
        let _guard = cx.clone().attach();
        black_box(&cx);
    }
    cx.span().end();
}

fn in_span(tracer: &SdkTracer) {
    SpanOptions::new("GET /orders/{id}")
        .with_tracer(tracer)
        .with_attributes(attributes())
        .in_span(|cx| {
            black_box(cx);
        });
}

fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut task = TaskContext::from_waker(Waker::noop());
    match future.as_mut().poll(&mut task) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the benched futures complete on their first poll"),
    }
}

fn raw_future(tracer: &SdkTracer) {
    let span = tracer
        .span_builder("GET /orders/{id}")
        .with_attributes(attributes())
        .start(tracer);
    let cx = Context::current_with_span(span);
    poll_once(
        async {
            black_box(());
        }
        .with_context(cx.clone()),
    );
    cx.span().end();
}

fn in_span_future(tracer: &SdkTracer) {
    poll_once(
        SpanOptions::new("GET /orders/{id}")
            .with_tracer(tracer)
            .with_attributes(attributes())
            .in_span_future(async {
                black_box(());
            }),
    );
}

fn main() {
    let (provider, counter) = CountingProcessor::provider();
    let tracer = provider.tracer("bench");
    let cases = [
        ("raw", raw as fn(&SdkTracer)),
        ("raw_current", raw_current),
        ("in_span", in_span),
        ("raw_future", raw_future),
        ("in_span_future", in_span_future),
    ];

    // `IN_SPAN_PROFILE=<case>` runs one case 100 000 times and nothing else, for a profiler
    // (`valgrind --tool=callgrind` counts instructions, which load on a shared machine does
    // not change).
    if let Ok(name) = std::env::var("IN_SPAN_PROFILE") {
        let Some((_, case)) = cases.iter().find(|(n, _)| *n == name) else {
            eprintln!("IN_SPAN_PROFILE: unknown case {name:?}");
            std::process::exit(2);
        };
        for _ in 0..100_000 {
            case(&tracer);
        }
        return;
    }

    // The cases really record and end one sampled span each, with no allocation beyond the
    // baseline's other than what making a span current costs.
    for (name, case) in cases {
        counter.reset();
        let ((), allocs) = count_allocations(|| case(&tracer));
        assert_eq!(counter.ended(), 1, "{name} ends one span");
        println!("{name}: {allocs} allocations for one span");
    }

    let (_, raw_allocs) = count_allocations(|| raw(&tracer));
    let mut bench = Bench::new("in_span");
    bench.group("closure", |g| {
        g.case("raw start+3 attrs+end", || raw(&tracer));
        g.case("raw + made current", || raw_current(&tracer));
        g.case("tracewire in_span", || in_span(&tracer));
        g.target(
            "tracewire in_span",
            Target::ratio(1.1).and_allocs(raw_allocs as f64),
        );
    });
    bench.group("future", |g| {
        g.case("raw start+3 attrs+end", || raw(&tracer));
        g.case("raw with_context future", || raw_future(&tracer));
        g.case("tracewire in_span_future", || in_span_future(&tracer));
        g.target(
            "tracewire in_span_future",
            Target::ratio(1.1).and_allocs(raw_allocs as f64),
        );
    });
    let _ = bench.finish();
}
