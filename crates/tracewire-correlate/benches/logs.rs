//! Log enrichment overhead: the same logger with and without the trace ids, for slog (slog-json)
//! and tracing-subscriber (fmt JSON), both writing to a sink; the OpenTelemetry logs bridge with
//! and without the span-context wrapper; and a counter with and without exemplars.
//!
//! Every case logs inside a sampled span, so the baseline pays for the same span machinery and
//! the difference is what enrichment adds. Run with `cargo bench -p tracewire-correlate`; for
//! load-independent numbers, count instructions of one case with
//! `LOGS_PROFILE=<case>:<n> valgrind --tool=callgrind <bench binary>` for two values of `n`
//! (cases: `slog`, `slog-drain`, `slog-kv`, `slog-fields`, `fmt`, `fmt-format`,
//! `fmt-wrapped`, `fmt-fields`, `noop`, `noop-wrapped`, `bridge`, `logs-layer`).

use std::sync::Mutex;

use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use slog::{Drain as _, o};
use tracewire_correlate::metrics::{ExemplarFilter, Metrics};
use tracewire_correlate::slog::{TraceIdsDrain, TraceIdsKv};
use tracewire_correlate::subscriber::{OtelContextExt as _, TraceIdsFormat, logs_layer};
use tracewire_testing::bench::{Bench, CountingAlloc, Target, count_allocations};
use tracing::Dispatch;
use tracing_subscriber::layer::{Identity, SubscriberExt as _};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// A log processor that drops every record, so the bridge cases measure the bridge.
#[derive(Debug)]
struct Discard;

impl LogProcessor for Discard {
    fn emit(&self, _data: &mut SdkLogRecord, _scope: &InstrumentationScope) {}
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
}

fn slog_json(enrich: Option<&str>) -> slog::Logger {
    let json = Mutex::new(slog_json::Json::default(std::io::sink())).fuse();
    match enrich {
        None => slog::Logger::root(json, o!("service" => "payments")),
        Some("drain") => {
            slog::Logger::root(TraceIdsDrain::new(json).fuse(), o!("service" => "payments"))
        }
        Some(_) => slog::Logger::root(json, o!("service" => "payments", TraceIdsKv::new())),
    }
}

/// A `tracing` dispatch with tracing-opentelemetry and a fmt JSON layer writing to a sink.
fn tracing_json(tracer: opentelemetry_sdk::trace::SdkTracer, enrich: u8) -> Dispatch {
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);
    let registry = tracing_subscriber::registry().with(otel);
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(std::io::sink);
    match enrich {
        0 => Dispatch::new(registry.with(fmt)),
        1 => Dispatch::new(registry.with(fmt.event_format(TraceIdsFormat::default_json()))),
        _ => Dispatch::new(
            registry.with(
                fmt.event_format(TraceIdsFormat::default_json())
                    .with_otel_context(),
            ),
        ),
    }
}

fn tracing_bridge(
    tracer: opentelemetry_sdk::trace::SdkTracer,
    logs: &SdkLoggerProvider,
    wrapped: bool,
) -> Dispatch {
    let registry =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    if wrapped {
        Dispatch::new(registry.with(logs_layer(logs)))
    } else {
        Dispatch::new(registry.with(OpenTelemetryTracingBridge::new(logs)))
    }
}

/// Three string fields as long as the ids, written by hand: what the enrichment is compared to.
const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const S: &str = "00f067aa0ba902b7";

/// A dispatch and a span of it, created once.
struct Stack {
    dispatch: Dispatch,
    span: tracing::Span,
}

impl Stack {
    fn new(dispatch: Dispatch) -> Self {
        let span = tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("request"));
        let stack = Self { dispatch, span };
        stack.run(10);
        stack
    }

    /// Runs `iters` events inside the entered span.
    fn run(&self, iters: u64) {
        tracing::dispatcher::with_default(&self.dispatch, || {
            let _entered = self.span.enter();
            for i in 0..iters {
                tracing::info!(order = i, "order placed");
            }
        });
    }

    /// Runs `iters` events that carry three hand-written fields as long as the ids.
    fn run_with_fields(&self, iters: u64) {
        tracing::dispatcher::with_default(&self.dispatch, || {
            let _entered = self.span.enter();
            for i in 0..iters {
                tracing::info!(order = i, a = T, b = S, c = "01", "order placed");
            }
        });
    }

    /// Allocations per event, without the per-run setup.
    fn allocs_per_event(&self) -> f64 {
        let (_, a) = count_allocations(|| self.run(1000));
        let (_, b) = count_allocations(|| self.run(0));
        (a - b) as f64 / 1000.0
    }
}

/// `LOGS_PROFILE=<case>:<n>` runs one case `n` times and nothing else, for an instruction
/// counter (`valgrind --tool=callgrind`), which load from other processes does not change: the
/// instructions a record costs are the difference between two runs with different `n`.
fn profile(spec: &str, tracer: &opentelemetry_sdk::trace::SdkTracer) {
    let (name, n) = spec.split_once(':').unwrap_or((spec, "10000"));
    let n: u64 = n.parse().unwrap_or(10_000);
    let slog_case = |enrich: Option<&str>| {
        let log = slog_json(enrich);
        tracer.in_span("request", |_| {
            for i in 0..n {
                slog::info!(log, "order placed"; "order" => i);
            }
        });
    };
    let logs = SdkLoggerProvider::builder()
        .with_log_processor(Discard)
        .build();
    let registry = || {
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer.clone()))
    };
    match name {
        "slog" => slog_case(None),
        "slog-drain" => slog_case(Some("drain")),
        "slog-kv" => slog_case(Some("kv")),
        "slog-fields" => {
            let log = slog_json(None);
            for i in 0..n {
                slog::info!(log, "order placed"; "order" => i, "a" => T, "b" => S, "c" => "01");
            }
        }
        "fmt-fields" => Stack::new(tracing_json(tracer.clone(), 0)).run_with_fields(n),
        "fmt" => Stack::new(tracing_json(tracer.clone(), 0)).run(n),
        "fmt-format" => Stack::new(tracing_json(tracer.clone(), 1)).run(n),
        "fmt-wrapped" => Stack::new(tracing_json(tracer.clone(), 2)).run(n),
        "noop" => Stack::new(Dispatch::new(registry().with(Identity::new()))).run(n),
        "noop-wrapped" => Stack::new(Dispatch::new(
            registry().with(Identity::new().with_otel_context()),
        ))
        .run(n),
        "bridge" => Stack::new(tracing_bridge(tracer.clone(), &logs, false)).run(n),
        "logs-layer" => Stack::new(tracing_bridge(tracer.clone(), &logs, true)).run(n),
        other => {
            eprintln!("LOGS_PROFILE: unknown case {other:?}");
            std::process::exit(2);
        }
    }
}

fn main() {
    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer("bench");
    if let Ok(spec) = std::env::var("LOGS_PROFILE") {
        profile(&spec, &tracer);
        return;
    }
    let mut bench = Bench::new("logs");

    // slog: the records are made inside a span context attached for the whole run.
    let plain = slog_json(None);
    let drain = slog_json(Some("drain"));
    let kv = slog_json(Some("kv"));
    tracer.in_span("request", |cx| {
        assert!(cx.span().span_context().is_sampled());
        for _ in 0..10 {
            slog::info!(plain, "order placed"; "order" => 7);
        }
        let (_, base_allocs) = count_allocations(|| {
            for _ in 0..1000 {
                slog::info!(plain, "order placed"; "order" => 7);
            }
        });
        let base_allocs = base_allocs as f64 / 1000.0;
        bench.group("slog-json to a sink", |g| {
            g.case(
                "slog-json (baseline)",
                || slog::info!(plain, "order placed"; "order" => 7),
            );
            g.case(
                "+ TraceIdsDrain",
                || slog::info!(drain, "order placed"; "order" => 7),
            );
            g.case(
                "+ TraceIdsKv in o!()",
                || slog::info!(kv, "order placed"; "order" => 7),
            );
            g.case("reference: 3 such fields by hand", || {
                slog::info!(plain, "order placed"; "order" => 7, "a" => T, "b" => S, "c" => "01")
            });
            g.target("+ TraceIdsDrain", Target::allocs(base_allocs));
            g.target("+ TraceIdsKv in o!()", Target::allocs(base_allocs));
        });
    });

    // tracing-subscriber fmt JSON, with tracing-opentelemetry in every stack.
    let plain = Stack::new(tracing_json(tracer.clone(), 0));
    let format = Stack::new(tracing_json(tracer.clone(), 1));
    let wrapped = Stack::new(tracing_json(tracer.clone(), 2));
    let base_allocs = plain.allocs_per_event();
    println!(
        "\nallocations per event, setup excluded: fmt JSON {:.2}, + TraceIdsFormat {:.2}, + with_otel_context {:.2}",
        base_allocs,
        format.allocs_per_event(),
        wrapped.allocs_per_event()
    );
    bench.group("tracing-subscriber fmt JSON to a sink", |g| {
        g.case_iter("fmt JSON (baseline)", |n| plain.run(n));
        g.case_iter("+ TraceIdsFormat", |n| format.run(n));
        g.case_iter("+ TraceIdsFormat + with_otel_context", |n| wrapped.run(n));
        g.case_iter("reference: 3 such fields by hand", |n| {
            plain.run_with_fields(n)
        });
    });

    // The wrapper alone, around a layer that does nothing.
    let registry = || {
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer.clone()))
    };
    let noop = Stack::new(Dispatch::new(registry().with(Identity::new())));
    let noop_wrapped = Stack::new(Dispatch::new(
        registry().with(Identity::new().with_otel_context()),
    ));
    bench.group("with_otel_context around a no-op layer", |g| {
        g.case_iter("tracing-opentelemetry only (baseline)", |n| noop.run(n));
        g.case_iter("+ Identity.with_otel_context()", |n| noop_wrapped.run(n));
    });

    // The OpenTelemetry logs bridge, records dropped by the processor.
    let logs = SdkLoggerProvider::builder()
        .with_log_processor(Discard)
        .build();
    let bridge = Stack::new(tracing_bridge(tracer.clone(), &logs, false));
    let ours = Stack::new(tracing_bridge(tracer.clone(), &logs, true));
    println!(
        "\nallocations per event, setup excluded: OpenTelemetryTracingBridge {:.2}, logs_layer {:.2}",
        bridge.allocs_per_event(),
        ours.allocs_per_event()
    );
    bench.group("opentelemetry-appender-tracing bridge", |g| {
        g.case_iter("OpenTelemetryTracingBridge (baseline)", |n| bridge.run(n));
        g.case_iter("logs_layer (bridge + with_otel_context)", |n| ours.run(n));
    });

    // Counters: prometheus-client by hand versus an exemplar counter in a sampled span.
    let family: Family<Vec<(String, String)>, Counter> = Family::default();
    let metrics = Metrics::builder()
        .with_exemplar_filter(ExemplarFilter::TraceBased)
        .build();
    let requests = metrics.u64_counter("payment.requests").build();
    let attrs = [KeyValue::new("status", "ok")];
    tracer.in_span("request", |_| {
        bench.group("counter add with a status attribute", |g| {
            g.case("prometheus-client Family<Counter> (baseline)", || {
                family
                    .get_or_create(&vec![("status".to_owned(), "ok".to_owned())])
                    .inc();
            });
            g.case("ExemplarCounter::add (exemplar each time)", || {
                requests.add(1, &attrs)
            });
        });
    });

    bench.finish();
}
