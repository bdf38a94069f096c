//! Producer overhead, side by side in one run.
//!
//! - `in-process`: the per-message instrumentation (send span with its attributes, context
//!   injected into the headers, delivery attributes, span end, send metrics) against a raw SDK
//!   span start/end, no broker. Target: at most 2.5x (set on the case with the send metrics to
//!   a no-op meter, and on the case without them: the measure is span and injection).
//!   Reference cases show the floor the
//!   conventions set (an SDK span with the same attributes and a `traceparent` written on the
//!   stack) and what the wrapper costs with nothing to do (no-op tracer, no metrics, no
//!   injection), for a trace the sampler dropped (most sends of a head-sampled service), with
//!   the global tracer and propagator, and with an SDK meter provider.
//! - `broker`: throughput against a local tansu broker (started here, memory storage),
//!   200-byte messages: a plain `FutureProducer` (baseline), the same adding one `traceparent`
//!   header by hand, the least an application could do by hand for the same span (SDK span with
//!   pre-built attributes, header on the stack, span ended when the future resolves), and
//!   tracewire's `TracedProducer`. Every case sends the same way and awaits
//!   every delivery future on the sending thread, so the span ends and metric points of the
//!   traced case are counted where they happen. Two groups: every message of a sample sent
//!   before any is awaited (tens of thousands in flight, as the first version of this bench
//!   did), and at most 5000 in flight (the oldest delivery awaited before the next send: enough
//!   to keep the producer busy with `linger.ms=5`, with a fifth of the memory in flight). Targets: traced throughput at least
//!   0.95x the plain producer's (the target) and at least 0.9x the by-hand header
//!   producer's (DESIGN.md's). A third group does the same with `ThreadedProducer`s, where
//!   tracewire's `TracedProducerContext` ends spans on the producer's own polling thread; each
//!   case waits for its producer's thread to serve every delivery report. The broker groups are
//!   skipped, saying so, when tansu is not installed (`cargo xtask bench` installs it).
//!
//! Times are medians per message; throughput ratios are the inverse of the time ratios.
//!
//! Wall-clock ratios move with the load of a shared machine; instruction counts do not.
//! `PRODUCER_PROFILE=<case>:<n> valgrind --tool=callgrind <bench binary>` runs one case `n` times
//! and nothing else; the instructions per message are the difference between two runs with
//! different `n`, divided by the difference of `n` (in-process cases: `raw`, `hand`, `floor`,
//! `traced`, `nometrics`, `noop`, `unsampled`, `global`, `metered`; broker cases, with `--separate-threads=yes` to see the
//! sending thread apart from librdkafka's: `broker-plain`, `broker-hand`, `broker-floor`,
//! `broker-traced`, `broker-noinject`, `broker-noop`, `broker-unsampled`, each also with a `-window` suffix for the
//! bounded window, and for `ThreadedProducer`: `broker-tplain`, `broker-thand`,
//! `broker-ttraced`).

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::hint::black_box;
use std::sync::{Arc, OnceLock};

use opentelemetry::global::BoxedSpan;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::noop::NoopTracer;
use opentelemetry::trace::{
    Span as _, SpanBuilder, SpanContext, SpanKind, TraceContextExt as _, Tracer,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header, Headers as _, OwnedHeaders};
use rdkafka::producer::future_producer::Delivery;
use rdkafka::producer::{
    BaseRecord, DefaultProducerContext, FutureProducer, FutureRecord, Producer as _,
    ProducerContext, ThreadedProducer,
};
use rdkafka::util::DefaultRuntime;
use rdkafka::{ClientConfig, Timestamp};
use tracewire_core::semconv::attribute;
use tracewire_kafka::{SendScope, TracedProducer, TracedProducerContext, TracedSendExt as _};
use tracewire_propagation::{Propagators, TraceContextPropagator};
use tracewire_testing::CountingProcessor;
use tracewire_testing::bench::{Bench, CountingAlloc, Target, count_allocations};
use tracewire_testing::broker::TansuBroker;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const TOPIC: &str = "bench";
const KEY: &str = "order-42";
const PAYLOAD: [u8; 200] = [b'x'; 200];

type Traced<T = SdkTracer> = TracedProducer<DefaultClientContext, DefaultRuntime, T>;

fn record() -> FutureRecord<'static, str, [u8]> {
    FutureRecord::to(TOPIC).key(KEY).payload(&PAYLOAD[..])
}

/// A `traceparent` value the way an application writes one without a propagator.
fn traceparent(sc: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    )
}

/// A `traceparent` value on the stack, with tracewire-core's hex encoding.
fn traceparent_bytes(sc: &SpanContext) -> [u8; 55] {
    let mut tp = [0u8; 55];
    tp[..3].copy_from_slice(b"00-");
    tracewire_core::hex::encode_into(&sc.trace_id().to_bytes(), &mut tp[3..35]);
    tp[35] = b'-';
    tracewire_core::hex::encode_into(&sc.span_id().to_bytes(), &mut tp[36..52]);
    tp[52] = b'-';
    tracewire_core::hex::encode_into(&[sc.trace_flags().to_u8()], &mut tp[53..55]);
    tp
}

/// The start attributes the conventions ask for, built as cheaply as an application could:
/// static strings, one shared host string, a pre-sized list; the key is copied, as it must be.
fn floor_attrs() -> Vec<KeyValue> {
    static HOST: OnceLock<Arc<str>> = OnceLock::new();
    let host = HOST.get_or_init(|| Arc::from("127.0.0.1"));
    let mut v = Vec::with_capacity(10);
    v.push(KeyValue::new(attribute::MESSAGING_SYSTEM, "kafka"));
    v.push(KeyValue::new(attribute::MESSAGING_OPERATION_TYPE, "send"));
    v.push(KeyValue::new(attribute::MESSAGING_OPERATION_NAME, "send"));
    v.push(KeyValue::new(attribute::MESSAGING_DESTINATION_NAME, TOPIC));
    v.push(KeyValue::new(
        attribute::SERVER_ADDRESS,
        StringValue::from(Arc::clone(host)),
    ));
    v.push(KeyValue::new(attribute::SERVER_PORT, 1_i64));
    v.push(KeyValue::new(attribute::MESSAGING_CLIENT_ID, "bench"));
    v.push(KeyValue::new(
        attribute::MESSAGING_KAFKA_MESSAGE_KEY,
        String::from(KEY),
    ));
    v
}

/// The floor cases' send span and its `traceparent` header, started as cheaply as an
/// application could by hand: [`floor_attrs`], the header value written on the stack.
fn floor_start(tracer: &SdkTracer) -> (opentelemetry_sdk::trace::Span, OwnedHeaders) {
    let span = tracer.build(
        SpanBuilder::from_name("send bench")
            .with_kind(SpanKind::Producer)
            .with_attributes(floor_attrs()),
    );
    let tp = traceparent_bytes(span.span_context());
    let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
        key: "traceparent",
        value: Some(&tp[..]),
    });
    (span, headers)
}

fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "bench");
    config
}

fn traced(config: &ClientConfig, tracer: SdkTracer) -> Traced {
    TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
        .with_client_config(config)
        .with_tracer(tracer)
        .with_propagator(TraceContextPropagator::new())
        .build()
}

/// A tracer whose sampler drops every trace: spans that do not record but still carry a valid
/// context (injected with the sampled flag off), as most sends of a head-sampled service.
fn unsampled_tracer() -> SdkTracer {
    static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            SdkTracerProvider::builder()
                .with_sampler(Sampler::AlwaysOff)
                .build()
        })
        .tracer("bench")
}

fn noop(config: &ClientConfig) -> Traced<NoopTracer> {
    TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
        .with_client_config(config)
        .with_tracer(NoopTracer::new())
        .with_injection(false)
        .without_metrics()
        .build()
}

/// The in-process cases: everything a send costs on the sending thread but the send.
struct InProcess {
    tracer: SdkTracer,
    traced: Traced,
    noop: Traced<NoopTracer>,
    unsampled: Traced,
    no_metrics: Traced,
    global: TracedProducer,
    metered: Traced,
    delivery: Delivery,
}

impl InProcess {
    fn new(provider: &SdkTracerProvider) -> Self {
        // Producers that never connect: only the instrumentation runs.
        let config = client_config("127.0.0.1:1");
        let tracer = provider.tracer("bench");
        // The global setup a service gets from tracewire-sdk: the SDK provider, and the
        // `tracecontext,baggage` composite of `OTEL_PROPAGATORS`' default.
        opentelemetry::global::set_tracer_provider(provider.clone());
        Propagators::default().install();
        // An SDK meter provider whose reader exports (to memory) once a minute, on its own
        // thread: the cost of recording, not of exporting.
        let meters = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(InMemoryMetricExporter::default()).build())
            .build();
        let metered = TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
            .with_client_config(&config)
            .with_tracer(tracer.clone())
            .with_propagator(TraceContextPropagator::new())
            .with_meter(meters.meter("bench"))
            .build();
        Self {
            traced: traced(&config, tracer.clone()),
            noop: noop(&config),
            unsampled: traced(&config, unsampled_tracer()),
            no_metrics: TracedProducer::builder(
                config.create::<FutureProducer>().expect("producer"),
            )
            .with_client_config(&config)
            .with_tracer(tracer.clone())
            .with_propagator(TraceContextPropagator::new())
            .without_metrics()
            .build(),
            global: TracedProducer::from_config(&config).expect("producer"),
            metered,
            tracer,
            delivery: Delivery {
                partition: 0,
                offset: 42,
                timestamp: Timestamp::NotAvailable,
            },
        }
    }

    fn raw(&self) {
        let mut span = self.tracer.start("send bench");
        span.end();
    }

    fn hand(&self) -> usize {
        let mut span = self.tracer.start("send bench");
        let value = traceparent(span.span_context());
        let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
            key: "traceparent",
            value: Some(value.as_str()),
        });
        span.end();
        black_box(headers).count()
    }

    fn floor(&self) -> usize {
        let (mut span, headers) = floor_start(&self.tracer);
        span.set_attribute(KeyValue::new(
            attribute::MESSAGING_DESTINATION_PARTITION_ID,
            "0",
        ));
        span.set_attribute(KeyValue::new(attribute::MESSAGING_KAFKA_OFFSET, 42));
        span.end();
        black_box(headers).count()
    }

    fn send<T>(&self, producer: &Traced<T>) -> usize
    where
        T: Tracer,
        T::Span: Send + Sync + 'static,
    {
        let (record, scope): (_, SendScope<T::Span>) = producer.start_send(record());
        scope.delivered(&self.delivery);
        black_box(record.headers).map_or(0, |h| h.count())
    }

    fn traced(&self) -> usize {
        self.send(&self.traced)
    }

    fn noop(&self) -> usize {
        self.send(&self.noop)
    }

    fn unsampled(&self) -> usize {
        self.send(&self.unsampled)
    }

    fn no_metrics(&self) -> usize {
        self.send(&self.no_metrics)
    }

    fn global(&self) -> usize {
        let (record, scope): (_, SendScope<BoxedSpan>) = self.global.start_send(record());
        scope.delivered(&self.delivery);
        black_box(record.headers).map_or(0, |h| h.count())
    }

    fn metered(&self) -> usize {
        self.send(&self.metered)
    }
}

const RAW: &str = "raw SDK span start/end";
const HAND: &str = "raw SDK span + traceparent header by hand";
const FLOOR: &str = "floor: SDK span with the same attributes + header on the stack";
const TRACED: &str = "tracewire send span + injection + delivery";
const TRACED_NO_METRICS: &str = "tracewire send span + injection + delivery, no metrics";

fn in_process(bench: &mut Bench, cases: &InProcess) {
    bench.group(
        "in-process: instrumentation per message vs a raw SDK span",
        |g| {
            g.case(RAW, || cases.raw());
            g.case(HAND, || cases.hand());
            g.case(FLOOR, || cases.floor());
            g.case(TRACED, || cases.traced());
            g.target(TRACED, Target::ratio(2.5));
            // The measure: span and injection, without the metric points.
            g.case(TRACED_NO_METRICS, || cases.no_metrics());
            g.target(TRACED_NO_METRICS, Target::ratio(2.5));
            g.case("tracewire, no-op tracer, no metrics, no injection", || {
                cases.noop()
            });
            g.case("tracewire, trace not sampled", || cases.unsampled());
            g.case("tracewire, global tracer and propagator", || cases.global());
            g.case("tracewire, SDK meter provider", || cases.metered());
            g.case_iter("tracewire, 2000 sends in flight", |n| {
                let mut left = n;
                let mut scopes = Vec::with_capacity(2000);
                while left > 0 {
                    let chunk = left.min(2000);
                    for _ in 0..chunk {
                        let (record, scope) = cases.traced.start_send(record());
                        scopes.push((record.headers, scope));
                    }
                    for (_headers, scope) in scopes.drain(..) {
                        scope.delivered(&cases.delivery);
                    }
                    left -= chunk;
                }
            });
        },
    );
}

/// The broker cases: one producer each, against one tansu broker.
struct Broker {
    _broker: TansuBroker,
    rt: tokio::runtime::Runtime,
    tracer: SdkTracer,
    plain: FutureProducer,
    by_hand: FutureProducer,
    floor: FutureProducer,
    traced: Traced,
    no_inject: Traced,
    noop: Traced<NoopTracer>,
    unsampled: Traced,
    threaded_plain: ThreadedProducer<DefaultProducerContext>,
    threaded_by_hand: ThreadedProducer<DefaultProducerContext>,
    threaded_traced: ThreadedProducer<TracedProducerContext<DefaultProducerContext, SdkTracer>>,
    /// How many sends the future-producer cases keep in flight.
    window: Cell<usize>,
}

/// A fixed `traceparent` value for the by-hand producer.
const HEADER_VALUE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

impl Broker {
    fn start(provider: &SdkTracerProvider) -> Option<Self> {
        let broker = match TansuBroker::start() {
            Ok(b) => b,
            Err(e) => {
                println!("\nproducer / broker: SKIPPED: {e}");
                return None;
            }
        };
        broker.create_topic(TOPIC, 1).expect("topic");
        let mut config = client_config(&broker.bootstrap_servers());
        config
            .set("linger.ms", "5")
            .set("queue.buffering.max.messages", "2000000")
            .set("queue.buffering.max.kbytes", "2097151")
            .set("message.timeout.ms", "60000");
        let no_inject =
            TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
                .with_client_config(&config)
                .with_tracer(provider.tracer("bench"))
                .with_injection(false)
                .build();
        Some(Self {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            tracer: provider.tracer("bench"),
            plain: config.create().expect("producer"),
            by_hand: config.create().expect("producer"),
            floor: config.create().expect("producer"),
            traced: traced(&config, provider.tracer("bench")),
            no_inject,
            noop: noop(&config),
            unsampled: traced(&config, unsampled_tracer()),
            threaded_plain: config.create().expect("producer"),
            threaded_by_hand: config.create().expect("producer"),
            threaded_traced: config
                .create_with_context(
                    TracedProducerContext::builder(DefaultProducerContext)
                        .with_client_config(&config)
                        .with_tracer(provider.tracer("bench"))
                        .with_propagator(TraceContextPropagator::new())
                        .build(),
                )
                .expect("producer"),
            window: Cell::new(usize::MAX),
            _broker: broker,
        })
    }

    /// Sends `n` records, keeping at most `self.window` of them in flight (all of them when the
    /// window is unbounded): when the window is full, the oldest delivery is awaited before the
    /// next send; at the end every remaining delivery is awaited.
    fn send_all<F, Fut>(&self, n: u64, mut send_one: F)
    where
        F: FnMut() -> Option<Fut>,
        Fut: Future,
    {
        let window = self.window.get();
        self.rt.block_on(async {
            let mut pending = VecDeque::with_capacity(window.min(n as usize));
            for _ in 0..n {
                if pending.len() >= window
                    && let Some(f) = pending.pop_front()
                {
                    let _ = black_box(f.await);
                }
                if let Some(f) = send_one() {
                    pending.push_back(f);
                }
            }
            while let Some(f) = pending.pop_front() {
                let _ = black_box(f.await);
            }
        });
    }

    fn plain(&self, n: u64) {
        self.send_all(n, || self.plain.send_result(record()).ok());
    }

    fn by_hand(&self, n: u64) {
        self.send_all(n, || {
            let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
                key: "traceparent",
                value: Some(HEADER_VALUE),
            });
            self.by_hand.send_result(record().headers(headers)).ok()
        });
    }

    /// The least an application can do by hand for the same span: pre-built attributes, the
    /// header written on the stack, the delivery attributes and the end when the future
    /// resolves; no metrics.
    fn floor(&self, n: u64) {
        self.send_all(n, || {
            let (mut span, headers) = floor_start(&self.tracer);
            let delivery = self.floor.send_result(record().headers(headers)).ok()?;
            Some(async move {
                let result = delivery.await;
                if let Ok(Ok(d)) = &result {
                    span.set_attribute(KeyValue::new(
                        attribute::MESSAGING_DESTINATION_PARTITION_ID,
                        "0",
                    ));
                    span.set_attribute(KeyValue::new(attribute::MESSAGING_KAFKA_OFFSET, d.offset));
                }
                span.end();
                result
            })
        });
    }

    fn traced(&self, n: u64) {
        self.send_all(n, || self.traced.send_result(record()).ok());
    }

    fn no_inject(&self, n: u64) {
        self.send_all(n, || self.no_inject.send_result(record()).ok());
    }

    fn noop(&self, n: u64) {
        self.send_all(n, || self.noop.send_result(record()).ok());
    }

    fn unsampled(&self, n: u64) {
        self.send_all(n, || self.unsampled.send_result(record()).ok());
    }

    /// Sends `n` records through a `ThreadedProducer`, then waits until its own thread has
    /// served every delivery report (`flush` would serve them on this thread).
    fn threaded<C, F>(producer: &ThreadedProducer<C>, n: u64, mut send_one: F)
    where
        C: ProducerContext + 'static,
        F: FnMut() -> bool,
    {
        for _ in 0..n {
            black_box(send_one());
        }
        while producer.in_flight_count() > 0 {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }

    fn threaded_plain(&self, n: u64) {
        Self::threaded(&self.threaded_plain, n, || {
            self.threaded_plain.send(base_record()).is_ok()
        });
    }

    fn threaded_by_hand(&self, n: u64) {
        Self::threaded(&self.threaded_by_hand, n, || {
            let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
                key: "traceparent",
                value: Some(HEADER_VALUE),
            });
            self.threaded_by_hand
                .send(base_record().headers(headers))
                .is_ok()
        });
    }

    fn threaded_traced(&self, n: u64) {
        Self::threaded(&self.threaded_traced, n, || {
            self.threaded_traced.send_traced(base_record()).is_ok()
        });
    }
}

fn base_record() -> BaseRecord<'static, str, [u8]> {
    BaseRecord::to(TOPIC).key(KEY).payload(&PAYLOAD[..])
}

const PLAIN: &str = "plain FutureProducer";
const BY_HAND: &str = "traceparent header by hand";
const TRACED_BROKER: &str = "tracewire TracedProducer";
const FLOOR_BROKER: &str = "floor: SDK span + attributes + header, by hand";

fn broker(bench: &mut Bench, cases: &Broker) {
    for (window, name) in [
        (
            usize::MAX,
            "broker: 200-byte messages, all sent before any is awaited (time per message)",
        ),
        (
            WINDOW,
            "broker: 200-byte messages, at most 5000 in flight (time per message)",
        ),
    ] {
        cases.window.set(window);
        future_group(bench, cases, name);
    }
    cases.window.set(usize::MAX);
    let name = "broker: ThreadedProducer, spans ended on its polling thread (time per message)";
    bench.group(name, |g| {
        g.case_iter(THREADED_PLAIN, |n| cases.threaded_plain(n));
        g.case_iter(THREADED_BY_HAND, |n| cases.threaded_by_hand(n));
        g.case_iter(THREADED_TRACED, |n| cases.threaded_traced(n));
        g.target(THREADED_TRACED, Target::ratio(1.0 / 0.95));
    });
}

/// The bounded window of the second future-producer group: above what `linger.ms=5` needs to
/// keep the producer busy at this machine's rate (a window of 1000 leaves it waiting for
/// batches, and every case then measures the linger instead of its own cost).
const WINDOW: usize = 5000;

fn future_group(bench: &mut Bench, cases: &Broker, name: &str) {
    bench.group(name, |g| {
        g.case_iter(PLAIN, |n| cases.plain(n));
        g.case_iter(BY_HAND, |n| cases.by_hand(n));
        g.case_iter(FLOOR_BROKER, |n| cases.floor(n));
        g.case_iter(TRACED_BROKER, |n| cases.traced(n));
        g.case_iter("TracedProducer, injection off", |n| cases.no_inject(n));
        g.case_iter("noop tracer, no metrics, no injection", |n| cases.noop(n));
        g.case_iter("TracedProducer, trace not sampled", |n| cases.unsampled(n));
        // Throughput >= 0.95x the plain producer's is time <= 1/0.95 of it.
        g.target(TRACED_BROKER, Target::ratio(1.0 / 0.95));
    });
}

const THREADED_PLAIN: &str = "plain ThreadedProducer";
const THREADED_BY_HAND: &str = "ThreadedProducer, traceparent header by hand";
const THREADED_TRACED: &str = "ThreadedProducer with TracedProducerContext";

/// `PRODUCER_PROFILE=<case>:<n>`: one case `n` times and nothing else, for an instruction
/// counter (see the module docs).
fn profile(spec: &str, provider: &SdkTracerProvider) {
    let (name, n) = spec.split_once(':').unwrap_or((spec, "10000"));
    let n: u64 = n.parse().unwrap_or(10_000);
    if let Some(case) = name.strip_prefix("broker-") {
        // `broker-<case>-window`: at most `WINDOW` in flight.
        let (case, window) = match case.strip_suffix("-window") {
            Some(c) => (c, WINDOW),
            None => (case, usize::MAX),
        };
        // The case is known before the broker starts: exiting later would leave it running.
        let run: fn(&Broker, u64) = match case {
            "plain" => Broker::plain,
            "hand" => Broker::by_hand,
            "floor" => Broker::floor,
            "traced" => Broker::traced,
            "noinject" => Broker::no_inject,
            "noop" => Broker::noop,
            "unsampled" => Broker::unsampled,
            "tplain" => Broker::threaded_plain,
            "thand" => Broker::threaded_by_hand,
            "ttraced" => Broker::threaded_traced,
            other => {
                eprintln!("PRODUCER_PROFILE: unknown broker case {other:?}");
                std::process::exit(2);
            }
        };
        let Some(cases) = Broker::start(provider) else {
            std::process::exit(2);
        };
        cases.window.set(window);
        // The first sends connect and fetch metadata: not part of the count.
        run(&cases, 100);
        run(&cases, n);
        println!("profiled {name} x{n}");
        return;
    }
    let cases = InProcess::new(provider);
    let run: fn(&InProcess) -> usize = match name {
        "raw" => |c| {
            c.raw();
            0
        },
        "hand" => InProcess::hand,
        "floor" => InProcess::floor,
        "traced" => InProcess::traced,
        "noop" => InProcess::noop,
        "unsampled" => InProcess::unsampled,
        "nometrics" => InProcess::no_metrics,
        "global" => InProcess::global,
        "metered" => InProcess::metered,
        other => {
            eprintln!("PRODUCER_PROFILE: unknown case {other:?}");
            std::process::exit(2);
        }
    };
    for _ in 0..100 {
        run(&cases);
    }
    let (_, allocs) = count_allocations(|| {
        for _ in 0..1000 {
            run(&cases);
        }
    });
    let mut sum = 0;
    for _ in 0..n {
        sum += run(&cases);
    }
    println!(
        "profiled {name} x{n}: {sum} headers, {:.2} allocations per message",
        allocs as f64 / 1000.0
    );
}

fn main() {
    // Recording, sampled spans, dropped at their end by a processor that only counts them: the
    // cost of the spans themselves, as with an exporter that keeps up. tracewire's W3C
    // propagator injects (as a service using tracewire installs it). Every send is a child of
    // an ambient request span.
    let (provider, counting) = CountingProcessor::provider();
    let parent = Context::current_with_span(provider.tracer("bench").start("request"));
    let _guard = parent.attach();
    if let Ok(spec) = std::env::var("PRODUCER_PROFILE") {
        profile(&spec, &provider);
        return;
    }
    let mut bench = Bench::new("producer");
    let cases = InProcess::new(&provider);
    in_process(&mut bench, &cases);

    let mut broker_bench = Bench::new("producer")
        .with_samples(21)
        .with_sample_time_ms(150);
    if let Some(cases) = Broker::start(&provider) {
        broker(&mut broker_bench, &cases);
    }
    let report = broker_bench.finish();
    for group in &report.groups {
        let median = |name: &str| {
            group
                .cases
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.median_ns)
        };
        let (plain_name, hand_name, traced_name) = if group.name.contains("ThreadedProducer") {
            (THREADED_PLAIN, THREADED_BY_HAND, THREADED_TRACED)
        } else {
            (PLAIN, BY_HAND, TRACED_BROKER)
        };
        if let (Some(plain), Some(hand), Some(traced)) =
            (median(plain_name), median(hand_name), median(traced_name))
        {
            println!("{}:", group.name);
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
    // The traced cases made real spans (a filter may have skipped every group).
    println!("spans ended: {}", counting.ended());
}
