//! Tail sampling benches: the per-span cost of ending a span with the tail sampling processor
//! against opentelemetry_sdk's `BatchSpanProcessor` (the baseline), both with the same no-op
//! exporter; the decision time per trace with the article's three policies; and the bytes
//! retained per buffered span.

use std::time::{Duration, Instant};

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceId, Tracer as _, TracerProvider as _,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter, SpanProcessor,
};
use tracewire_sdk::tail::{PolicySet, TailSamplingConfig, TailSamplingProcessor, TraceView};
use tracewire_testing::bench::{Bench, CountingAlloc, Target};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[derive(Debug, Clone, Copy)]
struct NoopExporter;

impl SpanExporter for NoopExporter {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

/// Queue capacity of both processors in the per-span groups.
const QUEUE: usize = 1 << 17;

fn batch_processor() -> BatchSpanProcessor {
    BatchSpanProcessor::builder(NoopExporter)
        .with_batch_config(
            opentelemetry_sdk::trace::BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .build(),
        )
        .build()
}

fn article() -> TailSamplingConfig {
    TailSamplingConfig::article_example()
}

/// Spans like a handler's (a name, a kind and three attributes), eight to a trace: each call
/// ends one span under an incoming (remote) parent that changes every eight calls.
struct Requests {
    tracer: opentelemetry_sdk::trace::SdkTracer,
    n: u64,
    parent: opentelemetry::Context,
}

impl Requests {
    fn new(tracer: opentelemetry_sdk::trace::SdkTracer) -> Self {
        Self {
            tracer,
            n: 0,
            parent: opentelemetry::Context::new(),
        }
    }

    fn end_one(&mut self) {
        use opentelemetry::trace::TraceContextExt as _;
        if self.n.is_multiple_of(8) {
            let trace =
                u128::from(self.n / 8 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
            self.parent = opentelemetry::Context::new().with_remote_span_context(
                opentelemetry::trace::SpanContext::new(
                    TraceId::from(trace),
                    opentelemetry::trace::SpanId::from(7u64),
                    opentelemetry::trace::TraceFlags::SAMPLED,
                    true,
                    Default::default(),
                ),
            );
        }
        self.n += 1;
        request_span(&self.tracer, &self.parent);
    }
}

fn request_span(tracer: &opentelemetry_sdk::trace::SdkTracer, parent: &opentelemetry::Context) {
    let mut span = tracer
        .span_builder("GET /items/{id}")
        .with_kind(SpanKind::Server)
        .start_with_context(tracer, parent);
    span.set_attribute(KeyValue::new("http.request.method", "GET"));
    span.set_attribute(KeyValue::new("http.route", "/items/{id}"));
    span.set_attribute(KeyValue::new("http.response.status_code", 200));
    span.end();
}

fn span_data(
    trace: u128,
    span: u64,
    parent: u64,
    start_ms: u64,
    end_ms: u64,
    error: bool,
) -> SpanData {
    let t0 = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    SpanData {
        span_context: opentelemetry::trace::SpanContext::new(
            TraceId::from(trace),
            opentelemetry::trace::SpanId::from(span),
            opentelemetry::trace::TraceFlags::SAMPLED,
            false,
            Default::default(),
        ),
        parent_span_id: opentelemetry::trace::SpanId::from(parent),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "db query".into(),
        start_time: t0 + Duration::from_millis(start_ms),
        end_time: t0 + Duration::from_millis(end_ms),
        attributes: vec![
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.operation.name", "SELECT"),
            KeyValue::new("db.collection.name", "items"),
        ],
        dropped_attributes_count: 0,
        events: Default::default(),
        links: Default::default(),
        status: if error {
            Status::error("timeout")
        } else {
            Status::Unset
        },
        instrumentation_scope: InstrumentationScope::builder("bench").build(),
    }
}

/// A decision case: its own policies, a new trace id each time.
fn decision(config: &TailSamplingConfig, spans: Vec<SpanData>) -> impl FnMut() -> bool + use<> {
    let mut policies = PolicySet::new(config).expect("config");
    let now = Instant::now();
    let mut id = 0u128;
    move || {
        id = id.wrapping_add(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        let view = TraceView {
            trace_id: TraceId::from(id),
            spans: &spans,
            resource: None,
            size_bytes: 0,
        };
        policies.decide_at(&view, now, |_, _| {}).is_sampled()
    }
}

fn main() {
    let mut bench = Bench::new("tail_sampling");

    // === per-span cost on the thread that ends the span ===
    //
    // Both queues hold a whole sample (10 ms of spans), so that what is measured is the cost on
    // the thread that ends spans, not the cheaper path of a span dropped at a full queue: a
    // tight loop on this 2-core machine outruns either processor's background thread.
    let batch = SdkTracerProvider::builder()
        .with_span_processor(batch_processor())
        .build();
    let tail_processor = TailSamplingProcessor::builder(NoopExporter, article())
        .with_max_queue_size(QUEUE)
        .build()
        .expect("config");
    let tail_stats = tail_processor.stats_handle();
    let tail = SdkTracerProvider::builder()
        .with_span_processor(tail_processor)
        .build();
    let mut batch_requests = Requests::new(batch.tracer("bench"));
    let mut tail_requests = Requests::new(tail.tracer("bench"));
    bench.group(
        "span end (start + 3 attributes + end, 8 spans a trace)",
        |g| {
            g.case("BatchSpanProcessor", || batch_requests.end_one());
            g.case("TailSamplingProcessor", || tail_requests.end_one());
            g.target("TailSamplingProcessor", Target::ratio(1.0));
        },
    );
    let s = tail_stats.stats();
    println!(
        "  (tail sampling: {} of {} spans dropped at the full queue)",
        s.spans_dropped_queue_full, tail_requests.n
    );

    // The processor call alone, with a pre-built span (its clone is the same in both cases).
    let batch_alone = batch_processor();
    let tail_alone = TailSamplingProcessor::builder(NoopExporter, article())
        .with_max_queue_size(QUEUE)
        .build()
        .expect("config");
    let alone_stats = tail_alone.stats_handle();
    let template = span_data(1, 2, 1, 0, 10, false);
    let mut alone_calls = 0u64;
    bench.group("on_end alone", |g| {
        g.case("BatchSpanProcessor", || {
            batch_alone.on_end(template.clone())
        });
        g.case("TailSamplingProcessor", || {
            alone_calls += 1;
            tail_alone.on_end(template.clone())
        });
        g.target("TailSamplingProcessor", Target::ratio(1.0));
    });
    println!(
        "  (tail sampling: {} of {} spans dropped at the full queue)",
        alone_stats.stats().spans_dropped_queue_full,
        alone_calls
    );

    // === decision time per trace ===
    let trace = |error: bool, end_ms: u64| -> Vec<SpanData> {
        (0..4)
            .map(|i| {
                let (parent, end) = if i == 0 { (0, end_ms) } else { (10, i * 5 + 3) };
                span_data(7, 10 + i, parent, i * 5, end, error && i == 2)
            })
            .collect()
    };
    let always = TailSamplingConfig {
        policies: vec![tracewire_sdk::tail::PolicyConfig::always_sample("all")],
        ..TailSamplingConfig::default()
    };
    bench.group("decision per trace (4 spans)", |g| {
        g.case(
            "always_sample (1 policy)",
            decision(&always, trace(false, 40)),
        );
        g.case(
            "article's 3 policies, ordinary trace",
            decision(&article(), trace(false, 40)),
        );
        g.target("article's 3 policies, ordinary trace", Target::allocs(0.0));
    });
    bench.group("decision per trace, error and slow (4 spans)", |g| {
        g.case(
            "article's 3 policies, error trace",
            decision(&article(), trace(true, 40)),
        );
        g.case(
            "article's 3 policies, slow trace",
            decision(&article(), trace(false, 900)),
        );
    });
    let mut results = Vec::new();
    let report = bench.finish();
    for g in report
        .groups
        .iter()
        .filter(|g| g.name.starts_with("decision"))
    {
        for c in g.cases.iter().filter(|c| c.name.starts_with("article")) {
            results.push((c.name.clone(), c.median_ns));
        }
    }
    for (name, ns) in &results {
        println!(
            "decision target (<= 1 µs per trace): {name}: {ns:.1} ns {}",
            if *ns <= 1000.0 { "met" } else { "MISSED" }
        );
    }

    // === bytes retained per buffered span ===
    let buffering = TailSamplingProcessor::builder(NoopExporter, article())
        .with_max_queue_size(8192)
        .build()
        .expect("config");
    let stats = buffering.stats_handle();
    let rss = || -> Option<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        Some(statm.split_whitespace().nth(1)?.parse::<u64>().ok()? * 4096)
    };
    let before = rss();
    let (traces, per_trace) = (5_000u128, 4u64);
    for t in 0..traces {
        for i in 0..per_trace {
            buffering.on_end(span_data(
                t + 1,
                i + 1,
                if i == 0 { 0 } else { 1 },
                0,
                10,
                false,
            ));
        }
        if t % 1000 == 999 {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let want = u64::try_from(traces).unwrap_or(0) * per_trace;
    let start = Instant::now();
    while stats.stats().spans_in_memory < want && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = stats.stats();
    let after = rss();
    println!(
        "\nbytes retained per buffered span (db span, 3 attributes; article config): {:.0} B by the processor's accounting ({} spans, {} traces, {:.2} MiB)",
        s.bytes_in_memory as f64 / s.spans_in_memory.max(1) as f64,
        s.spans_in_memory,
        s.traces_in_memory,
        s.bytes_in_memory as f64 / 1048576.0
    );
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "bytes retained per buffered span, resident memory growth: {:.0} B (/proc/self/statm, includes the queue and allocator overhead)",
            a.saturating_sub(b) as f64 / s.spans_in_memory.max(1) as f64
        );
    }
    let _ = buffering.shutdown();
    let _ = batch.shutdown();
    let _ = tail.shutdown();
}
