//! Producer overhead, side by side in one run.
//!
//! - `in-process`: the per-message instrumentation (send span with its attributes, context
//!   injected into the headers, delivery attributes, span end) against a raw SDK span start/end,
//!   no broker. Target: at most 2.5x.
//! - `broker`: throughput against a local tansu broker (started here, memory storage) with many
//!   sends in flight, 200-byte messages: a plain `FutureProducer` (baseline), the same adding one
//!   `traceparent` header by hand, and tracewire's `TracedProducer`. Targets: traced throughput
//!   at least 0.95x the plain producer's (the target) and at least 0.9x the by-hand
//!   header producer's (DESIGN.md's). The broker group is skipped, saying so, when tansu is not
//!   installed (`cargo xtask bench` installs it).
//!
//! Times are medians per message; throughput ratios are the inverse of the time ratios.

use std::hint::black_box;

use opentelemetry::Context;
use opentelemetry::trace::{
    Span as _, SpanContext, TraceContextExt as _, Tracer, TracerProvider as _,
};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::future_producer::Delivery;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Timestamp};
use tracewire_kafka::TracedProducer;
use tracewire_propagation::TraceContextPropagator;
use tracewire_testing::CountingProcessor;
use tracewire_testing::bench::{Bench, CountingAlloc, Target};
use tracewire_testing::broker::TansuBroker;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const TOPIC: &str = "bench";
const PAYLOAD: [u8; 200] = [b'x'; 200];

fn traced(
    producer: FutureProducer,
    config: &ClientConfig,
    tracer: SdkTracer,
) -> TracedProducer<rdkafka::client::DefaultClientContext, rdkafka::util::DefaultRuntime, SdkTracer>
{
    TracedProducer::builder(producer)
        .with_client_config(config)
        .with_tracer(tracer)
        .with_propagator(TraceContextPropagator::new())
        .build()
}

fn traceparent(sc: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    )
}

fn in_process(bench: &mut Bench, provider: &SdkTracerProvider) {
    let tracer = provider.tracer("bench");
    // A producer that never connects: only the instrumentation runs.
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", "127.0.0.1:1")
        .set("client.id", "bench");
    let producer: FutureProducer = config.create().expect("producer");
    let traced = traced(producer, &config, tracer.clone());
    let delivery = Delivery {
        partition: 0,
        offset: 42,
        timestamp: Timestamp::NotAvailable,
    };
    let parent = Context::current_with_span(tracer.start("request"));
    let _guard = parent.clone().attach();

    bench.group(
        "in-process: instrumentation per message vs a raw SDK span",
        |g| {
            g.case("raw SDK span start/end", || {
                let mut span = tracer.start("send bench");
                span.end();
            });
            g.case("raw SDK span + traceparent header by hand", || {
                let mut span = tracer.start("send bench");
                let value = traceparent(span.span_context());
                let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
                    key: "traceparent",
                    value: Some(value.as_str()),
                });
                span.end();
                headers
            });
            g.case("tracewire send span + injection + delivery", || {
                let record = FutureRecord::<str, [u8]>::to(TOPIC)
                    .key("order-42")
                    .payload(&PAYLOAD[..]);
                let (record, scope) = traced.start_send(record);
                scope.delivered(&delivery);
                record.headers
            });
            g.target(
                "tracewire send span + injection + delivery",
                Target::ratio(2.5),
            );
            g.case_iter("tracewire, 2000 sends in flight", |n| {
                let mut left = n;
                let mut scopes = Vec::with_capacity(2000);
                while left > 0 {
                    let chunk = left.min(2000);
                    for _ in 0..chunk {
                        let record = FutureRecord::<str, [u8]>::to(TOPIC)
                            .key("order-42")
                            .payload(&PAYLOAD[..]);
                        let (record, scope) = traced.start_send(record);
                        scopes.push((record.headers, scope));
                    }
                    for (_headers, scope) in scopes.drain(..) {
                        scope.delivered(&delivery);
                    }
                    left -= chunk;
                }
            });
        },
    );
}

/// Sends `n` records with all of them in flight at once, then waits for every report.
fn send_all<F>(rt: &tokio::runtime::Runtime, n: u64, mut send_one: F)
where
    F: FnMut() -> Option<DeliveryFuture>,
{
    rt.block_on(async {
        let mut pending = Vec::with_capacity(n as usize);
        for _ in 0..n {
            if let Some(f) = send_one() {
                pending.push(f);
            }
        }
        for f in pending {
            let _ = black_box(f.await);
        }
    });
}

fn broker(bench: &mut Bench, provider: &SdkTracerProvider) {
    let broker = match TansuBroker::start() {
        Ok(b) => b,
        Err(e) => {
            println!("\nproducer / broker: SKIPPED: {e}");
            return;
        }
    };
    broker.create_topic(TOPIC, 1).expect("topic");
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", broker.bootstrap_servers())
        .set("client.id", "bench")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "2000000")
        .set("queue.buffering.max.kbytes", "2097151")
        .set("message.timeout.ms", "60000");
    let plain: FutureProducer = config.create().expect("producer");
    let by_hand: FutureProducer = config.create().expect("producer");
    let traced = traced(
        config.create().expect("producer"),
        &config,
        provider.tracer("bench"),
    );
    let no_inject = TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
        .with_client_config(&config)
        .with_tracer(provider.tracer("bench"))
        .with_injection(false)
        .build();
    let noop = TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
        .with_client_config(&config)
        .with_tracer(opentelemetry::trace::noop::NoopTracer::new())
        .with_injection(false)
        .without_metrics()
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let header_value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let tracer = provider.tracer("bench");
    let parent = Context::current_with_span(tracer.start("request"));
    let _guard = parent.clone().attach();

    let name = "broker: 200-byte messages, many in flight (time per message)";
    bench.group(name, |g| {
        g.case_iter("plain FutureProducer", |n| {
            send_all(&rt, n, || {
                let record = FutureRecord::<str, [u8]>::to(TOPIC)
                    .key("order-42")
                    .payload(&PAYLOAD[..]);
                plain.send_result(record).ok()
            });
        });
        g.case_iter("traceparent header by hand", |n| {
            send_all(&rt, n, || {
                let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
                    key: "traceparent",
                    value: Some(header_value),
                });
                let record = FutureRecord::<str, [u8]>::to(TOPIC)
                    .key("order-42")
                    .payload(&PAYLOAD[..])
                    .headers(headers);
                by_hand.send_result(record).ok()
            });
        });
        g.case_iter("tracewire TracedProducer", |n| {
            rt.block_on(async {
                let mut pending = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let record = FutureRecord::<str, [u8]>::to(TOPIC)
                        .key("order-42")
                        .payload(&PAYLOAD[..]);
                    if let Ok(f) = traced.send_result(record) {
                        pending.push(f);
                    }
                }
                for f in pending {
                    let _ = black_box(f.await);
                }
            });
        });
        g.case_iter("TracedProducer, injection off", |n| {
            rt.block_on(async {
                let mut pending = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let record = FutureRecord::<str, [u8]>::to(TOPIC)
                        .key("order-42")
                        .payload(&PAYLOAD[..]);
                    if let Ok(f) = no_inject.send_result(record) {
                        pending.push(f);
                    }
                }
                for f in pending {
                    let _ = black_box(f.await);
                }
            });
        });
        g.case_iter("noop tracer, no metrics, no injection", |n| {
            rt.block_on(async {
                let mut pending = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let record = FutureRecord::<str, [u8]>::to(TOPIC)
                        .key("order-42")
                        .payload(&PAYLOAD[..]);
                    if let Ok(f) = noop.send_result(record) {
                        pending.push(f);
                    }
                }
                for f in pending {
                    let _ = black_box(f.await);
                }
            });
        });
        // Throughput >= 0.95x the plain producer's is time <= 1/0.95 of it.
        g.target("tracewire TracedProducer", Target::ratio(1.0 / 0.95));
    });
    drop(broker);
}

fn main() {
    // Recording, sampled spans, dropped at their end by a processor that only counts them: the
    // cost of the spans themselves, as with an exporter that keeps up. tracewire's W3C
    // propagator injects (as a service using tracewire installs it).
    let (provider, _counting) = CountingProcessor::provider();
    let mut bench = Bench::new("producer");
    in_process(&mut bench, &provider);
    let mut broker_bench = Bench::new("producer")
        .with_samples(11)
        .with_sample_time_ms(100);
    broker(&mut broker_bench, &provider);
    let report = broker_bench.finish();
    if let Some(group) = report.groups.first() {
        let median = |name: &str| {
            group
                .cases
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.median_ns)
        };
        if let (Some(plain), Some(hand), Some(traced)) = (
            median("plain FutureProducer"),
            median("traceparent header by hand"),
            median("tracewire TracedProducer"),
        ) {
            let vs_plain = plain / traced;
            let vs_hand = hand / traced;
            println!("throughput: by-hand header / plain = {:.3}x", plain / hand);
            println!(
                "throughput: traced / plain = {vs_plain:.3}x (target >= 0.95: {})",
                if vs_plain >= 0.95 { "met" } else { "MISSED" }
            );
            println!(
                "throughput: traced / by-hand header = {vs_hand:.3}x (target >= 0.9: {})",
                if vs_hand >= 0.9 { "met" } else { "MISSED" }
            );
        }
    }
    let _ = bench.finish();
}
