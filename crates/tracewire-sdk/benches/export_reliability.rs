//! Span start + end cost with the OTLP endpoint healthy (the baseline), down (nothing
//! listening), refusing (503) and hanging: the application's cost must stay within 1.3× of the
//! healthy case whatever the endpoint does.
//!
//! Each case has its own setup (default batch settings: queue 2048, batch 512, 5 s delay) with
//! OTLP/HTTP to a tracewire-testing receiver on 127.0.0.1, or to a closed port. Run with
//! `cargo bench -p tracewire-sdk --bench export_reliability`.

use std::collections::HashMap;
use std::hint::black_box;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, Tracer as _};
use tracewire_sdk::{Guard, Tracewire};
use tracewire_testing::bench::{Bench, CountingAlloc, Target};
use tracewire_testing::otlp::OtlpServer;
use tracewire_testing::server::Behaviour;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn setup(endpoint: &str) -> Guard {
    let vars: HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_SERVICE_NAME", "bench"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    #[allow(clippy::expect_used)]
    Tracewire::builder().with_env(vars).build().expect("setup")
}

fn server(behaviour: Behaviour) -> OtlpServer {
    #[allow(clippy::expect_used)]
    let s = OtlpServer::start_http().expect("receiver");
    s.set_behaviour(behaviour);
    s
}

fn main() {
    let healthy = server(Behaviour::Accept);
    let refusing = server(Behaviour::Status(503));
    let hanging = server(Behaviour::Hang);
    #[allow(clippy::expect_used)]
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();

    let states = [
        ("healthy", setup(&healthy.endpoint())),
        ("down", setup(&format!("http://127.0.0.1:{closed_port}"))),
        ("refusing", setup(&refusing.endpoint())),
        ("hanging", setup(&hanging.endpoint())),
    ];

    let mut bench = Bench::new("export_reliability");
    bench.group("span start+end (3 attributes) by endpoint state", |g| {
        for (name, guard) in &states {
            let tracer = guard.tracer("bench");
            g.case(name, move || {
                let mut span = tracer
                    .span_builder("work")
                    .with_attributes([
                        KeyValue::new("http.request.method", "GET"),
                        KeyValue::new("http.route", "/orders/{id}"),
                        KeyValue::new("http.response.status_code", 200),
                    ])
                    .start(&tracer);
                span.end();
                black_box(());
            });
        }
        for name in ["down", "refusing", "hanging"] {
            g.target(name, Target::ratio(1.3));
        }
    });
    let report = bench.finish();

    for (name, guard) in &states {
        let d = guard.diagnostics();
        println!(
            "{name:>9}: exported {:>9}  failed {:>9}  dropped (queue full) {:>9}  failed exports {}",
            d.exported_spans(),
            d.failed_spans(),
            d.dropped_spans(),
            d.failed_exports()
        );
    }
    let received = healthy.received().span_count();
    println!("healthy receiver got {received} spans");
    let _ = report;
    for (_, guard) in states {
        // Returns within the limit whatever the endpoint does.
        let _ = guard.shutdown_with_timeout(std::time::Duration::from_secs(1));
    }
}
