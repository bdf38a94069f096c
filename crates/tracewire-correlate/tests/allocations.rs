//! Enrichment adds no heap allocation per record: the same logger with and without the ids
//! allocates the same number of times for the same records (counted per thread by the test
//! kit's counting allocator, which is why this test has its own binary).

use std::io;
use std::sync::Mutex;

use opentelemetry::Context;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use slog::{Drain, o};
use tracewire_correlate::slog::TraceIdsDrain;
use tracewire_correlate::subscriber::{OtelContextExt, TraceIdsFormat};
use tracewire_testing::bench::{CountingAlloc, count_allocations};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const RECORDS: usize = 200;

#[test]
fn the_slog_drain_adds_no_allocation() {
    let plain = slog::Logger::root(
        Mutex::new(slog_json::Json::default(io::sink())).fuse(),
        o!("service" => "payments"),
    );
    let enriched = slog::Logger::root(
        TraceIdsDrain::new(Mutex::new(slog_json::Json::default(io::sink())).fuse()).fuse(),
        o!("service" => "payments"),
    );
    let sc = SpanContext::new(
        TraceId::from_bytes([7; 16]),
        SpanId::from_bytes([9; 8]),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    let _cx = Context::new().with_remote_span_context(sc).attach();
    let run = |log: &slog::Logger| {
        for i in 0..RECORDS {
            slog::info!(log, "order placed"; "order" => i);
        }
    };
    run(&plain);
    run(&enriched);
    let (_, without) = count_allocations(|| run(&plain));
    let (_, with) = count_allocations(|| run(&enriched));
    assert_eq!(with, without);
}

fn dispatch(enrich: bool) -> Dispatch {
    // Unsampled spans still get ids (flags 00) but record no events, so the count is the
    // formatter's alone.
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOff)
        .build();
    let registry = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("alloc")));
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(io::sink);
    if enrich {
        Dispatch::new(
            registry.with(
                fmt.event_format(TraceIdsFormat::default_json())
                    .with_otel_context(),
            ),
        )
    } else {
        Dispatch::new(registry.with(fmt))
    }
}

#[test]
fn the_fmt_formatter_and_the_wrapper_add_no_allocation() {
    let run = |dispatch: &Dispatch, span: &tracing::Span| {
        tracing::dispatcher::with_default(dispatch, || {
            let _entered = span.enter();
            for i in 0..RECORDS {
                tracing::info!(order = i, "order placed");
            }
        });
    };
    let (plain, enriched) = (dispatch(false), dispatch(true));
    let plain_span = tracing::dispatcher::with_default(&plain, || tracing::info_span!("request"));
    let enriched_span =
        tracing::dispatcher::with_default(&enriched, || tracing::info_span!("request"));
    // Warm up: thread-local buffers, the span's cached ids, the OpenTelemetry spans.
    run(&plain, &plain_span);
    run(&enriched, &enriched_span);
    let (_, without) = count_allocations(|| run(&plain, &plain_span));
    let (_, with) = count_allocations(|| run(&enriched, &enriched_span));
    assert_eq!(with, without);
}
