//! Against a real Kafka-compatible broker (tansu on 127.0.0.1, started and stopped by pid):
//! one trace from producer to consumer group (`TracedProducer`, and a `ThreadedProducer` with
//! `TracedProducerContext` and tracewire's own W3C propagator), forwarded messages with exactly
//! one traceparent, foreign messages, and the broker stopped mid-run.
//!
//! Run with `cargo xtask it` (installs tansu if missing) or
//! `cargo test -p tracewire-kafka --features broker-tests --test broker` with tansu installed.
//! Without tansu every test fails, saying how to install it: a claim that something works with
//! Kafka is never skipped.

mod common;

use std::time::Duration;

use common::{Pipeline, add_raw_header, attr, attr_str};
use futures_util::StreamExt;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{Extractor, TextMapCompositePropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::SdkTracer;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message};
use tracewire_kafka::{
    ConsumerTelemetry, HeadersExtractor, TracedProducer, TracedProducerContext, TracedSendExt,
};
use tracewire_testing::broker::TansuBroker;

const WAIT: Duration = Duration::from_secs(30);

fn start(topics: &[(&str, u32)]) -> TansuBroker {
    let broker =
        TansuBroker::start().unwrap_or_else(|e| panic!("the broker tests need tansu: {e}"));
    for (name, partitions) in topics {
        broker
            .create_topic(name, *partitions)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    broker
}

fn base_config(broker: &TansuBroker) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", broker.bootstrap_servers())
        .set("client.id", "it-client")
        .set("message.timeout.ms", "20000");
    c
}

fn consumer_config(base: &ClientConfig, group: &str) -> ClientConfig {
    let mut c = base.clone();
    c.set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "6000");
    c
}

fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

fn producer(
    config: &ClientConfig,
    p: &Pipeline,
) -> TracedProducer<rdkafka::client::DefaultClientContext, rdkafka::util::DefaultRuntime, SdkTracer>
{
    TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
        .with_client_config(config)
        .with_tracer(p.tracer())
        .with_propagator(propagator())
        .with_meter(p.meter())
        .build()
}

fn telemetry(config: &ClientConfig, p: &Pipeline) -> ConsumerTelemetry<SdkTracer> {
    ConsumerTelemetry::builder()
        .with_client_config(config)
        .with_tracer(p.tracer())
        .with_propagator(propagator())
        .with_meter(p.meter())
        .build()
}

fn subscribe(config: &ClientConfig, topic: &str) -> StreamConsumer {
    let consumer: StreamConsumer = config.create().expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    consumer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_from_the_send_span_to_the_process_span_through_a_consumer_group() {
    let broker = start(&[("orders", 2)]);
    let config = base_config(&broker);
    let p = Pipeline::new();
    let producer = producer(&config, &p);

    // The edge: a request span with the article's baggage.
    let request =
        Context::current_with_span(p.tracer().start("POST /checkout")).with_baggage(vec![
            KeyValue::new("user.id", "u-7"),
            KeyValue::new("session.region", "eu"),
        ]);
    let send = {
        let _g = request.clone().attach();
        producer.send(
            FutureRecord::to("orders")
                .key("order-42")
                .payload("{\"total\":12}"),
            WAIT,
        )
    };
    let delivery = send.await.expect("delivered");
    request.span().end();

    let cconfig = consumer_config(&config, "fulfillment");
    let consumer = subscribe(&cconfig, "orders");
    let t = telemetry(&cconfig, &p);
    let mut stream = t.stream(consumer.stream()).with_poll_spans(true);
    let message = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("a message in time")
        .expect("open")
        .expect("no error");
    let user = {
        let _g = message.attach();
        Context::current()
            .baggage()
            .get("user.id")
            .map(|v| v.as_str().to_owned())
    };
    assert_eq!(
        user.as_deref(),
        Some("u-7"),
        "baggage set at the edge arrives in the consumer"
    );
    assert_eq!(
        (message.partition(), message.offset()),
        (delivery.partition, delivery.offset)
    );
    drop(message.finish(&()));

    let send = p.span("send orders");
    let process = p.span("process orders");
    let poll = p.span("poll orders");
    let request_sc = request.span().span_context().clone();
    assert_eq!(send.parent_span_id, request_sc.span_id());
    assert_eq!(send.span_kind, SpanKind::Producer);
    assert_eq!(process.span_kind, SpanKind::Consumer);
    assert_eq!(poll.span_kind, SpanKind::Client);
    // One trace: request -> send -> process; the send span is also the link of process and poll.
    assert_eq!(process.span_context.trace_id(), request_sc.trace_id());
    assert_eq!(process.parent_span_id, send.span_context.span_id());
    assert_eq!(process.links.links.len(), 1);
    assert_eq!(
        process.links.links[0].span_context.span_id(),
        send.span_context.span_id()
    );
    assert_eq!(
        poll.links.links[0].span_context.span_id(),
        send.span_context.span_id()
    );

    let partition = delivery.partition.to_string();
    for span in [&send, &process] {
        assert_eq!(attr_str(span, "messaging.system").as_deref(), Some("kafka"));
        assert_eq!(
            attr_str(span, "messaging.destination.name").as_deref(),
            Some("orders")
        );
        assert_eq!(
            attr_str(span, "messaging.destination.partition.id").as_deref(),
            Some(partition.as_str())
        );
        assert_eq!(
            attr(span, "messaging.kafka.offset"),
            Some(&Value::I64(delivery.offset))
        );
        assert_eq!(
            attr_str(span, "messaging.kafka.message.key").as_deref(),
            Some("order-42")
        );
        assert_eq!(
            attr_str(span, "server.address").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            attr(span, "server.port"),
            Some(&Value::I64(i64::from(broker.addr().port())))
        );
        assert_eq!(span.status, Status::Unset);
    }
    assert_eq!(
        attr_str(&process, "messaging.consumer.group.name").as_deref(),
        Some("fulfillment")
    );
    assert_eq!(
        attr_str(&process, "messaging.operation.type").as_deref(),
        Some("process")
    );
    assert_eq!(
        attr_str(&send, "messaging.operation.type").as_deref(),
        Some("send")
    );
    // The consumer leaves its group before the broker stops (locals drop in reverse order):
    // closing a group consumer without its coordinator blocks in librdkafka.
    drop(stream);
    drop(consumer);
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_or_retried_message_carries_exactly_one_traceparent() {
    let broker = start(&[("in", 1), ("out", 1)]);
    let config = base_config(&broker);
    let p = Pipeline::new();
    let producer = producer(&config, &p);
    producer
        .send(FutureRecord::<str, str>::to("in").payload("1"), WAIT)
        .await
        .expect("delivered");

    // The consumer forwards the message with its headers (a common relay pattern), inside
    // its process span: the traced producer replaces the old trace headers.
    let cconfig = consumer_config(&config, "relay");
    let consumer = subscribe(&cconfig, "in");
    let t = telemetry(&cconfig, &p);
    let message = tokio::time::timeout(WAIT, consumer.recv())
        .await
        .expect("in time")
        .expect("ok");
    let headers = message.headers().map(|h| h.detach());
    let headers = headers.map(|h| {
        h.insert(Header {
            key: "x-hop",
            value: Some("1"),
        })
    });
    let forward = t.process(&message, || {
        producer.send(
            FutureRecord::<str, str>::to("out")
                .payload("1")
                .headers(headers.unwrap_or_default()),
            WAIT,
        )
    });
    forward.await.expect("forwarded");

    // And a plain retry of a record that failed to enqueue keeps one traceparent too: send the
    // same headers again through the traced producer.
    let consumer2 = subscribe(&consumer_config(&config, "check"), "out");
    let out = tokio::time::timeout(WAIT, consumer2.recv())
        .await
        .expect("in time")
        .expect("ok");
    let e = HeadersExtractor::new(&out);
    let keys = e.keys();
    assert_eq!(keys.iter().filter(|k| **k == "traceparent").count(), 1);
    let raw_count = out
        .headers()
        .map(|h| (0..rdkafka::message::Headers::count(h)).count())
        .unwrap_or(0);
    assert_eq!(raw_count, keys.len(), "no repeated header names: {keys:?}");
    assert_eq!(e.get("x-hop"), Some("1"));

    let sends: Vec<_> = p
        .spans()
        .into_iter()
        .filter(|s| s.name == "send out")
        .collect();
    assert_eq!(sends.len(), 1);
    let tp = e.get("traceparent").expect("traceparent");
    assert!(
        tp.contains(&sends[0].span_context.span_id().to_string()),
        "{tp}"
    );
    // The forward is a child of the relay's process span, in the original trace.
    let process = p.span("process in");
    assert_eq!(sends[0].parent_span_id, process.span_context.span_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_messages_never_panic_and_never_fail_consumption() {
    let broker = start(&[("foreign", 1)]);
    let mut config = base_config(&broker);
    config.set("message.max.bytes", "4000000");
    // A plain producer, as another team's service would use.
    let plain: FutureProducer = config.create().expect("producer");
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let tp2 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let mut odd = OwnedHeaders::new();
    add_raw_header(&mut odd, b"\xff\xfe\x00name", Some(b"v"));
    add_raw_header(&mut odd, b"traceparent", Some(b"\xff\xff"));
    add_raw_header(&mut odd, b"baggage", Some(b"\xc3\x28=1"));
    add_raw_header(&mut odd, b"tracestate", None);
    let big = vec![b'a'; 1024 * 1024];
    type Case<'a> = (&'a str, Option<OwnedHeaders>, Option<&'a [u8]>);
    let cases: Vec<Case<'_>> = vec![
        ("no headers", None, Some(b"1")),
        (
            "duplicated",
            Some(
                OwnedHeaders::new()
                    .insert(Header {
                        key: "traceparent",
                        value: Some(tp),
                    })
                    .insert(Header {
                        key: "traceparent",
                        value: Some(tp2),
                    }),
            ),
            Some(b"2"),
        ),
        ("non-UTF-8 names and values", Some(odd), Some(b"3")),
        (
            "tombstone",
            Some(OwnedHeaders::new().insert(Header {
                key: "traceparent",
                value: Some(tp),
            })),
            None,
        ),
        (
            "1 MiB header",
            Some(OwnedHeaders::new().insert(Header {
                key: "traceparent",
                value: Some(&big[..]),
            })),
            Some(b"5"),
        ),
    ];
    for (name, headers, payload) in &cases {
        let mut record = FutureRecord::<str, [u8]>::to("foreign");
        record.payload = *payload;
        record.headers = headers.clone();
        plain
            .send(record, WAIT)
            .await
            .unwrap_or_else(|(e, _)| panic!("{name}: {e}"));
    }

    let p = Pipeline::new();
    let mut cconfig = consumer_config(&config, "foreign-readers");
    cconfig
        .set("fetch.max.bytes", "8000000")
        .set("max.partition.fetch.bytes", "8000000");
    let consumer = subscribe(&cconfig, "foreign");
    let t = telemetry(&cconfig, &p);
    let mut stream = t.stream(consumer.stream()).with_poll_spans(true);
    let mut trace_ids = Vec::new();
    for (name, _, _) in &cases {
        let message = tokio::time::timeout(WAIT, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{name}: consumption stalled"))
            .expect("open")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let cx = message.context().clone();
        trace_ids.push(cx.span().span_context().trace_id().to_string());
        let _ = message.finish(&());
    }
    assert_ne!(
        trace_ids[0], "4bf92f3577b34da6a3ce929d0e0e4736",
        "no headers: a new trace"
    );
    assert_eq!(
        trace_ids[1], "0af7651916cd43dd8448eb211c80319c",
        "duplicates: the last wins"
    );
    assert_ne!(
        trace_ids[2], "4bf92f3577b34da6a3ce929d0e0e4736",
        "unreadable: a new trace"
    );
    assert_eq!(
        trace_ids[3], "4bf92f3577b34da6a3ce929d0e0e4736",
        "tombstone still joins"
    );
    assert_ne!(
        trace_ids[4], "4bf92f3577b34da6a3ce929d0e0e4736",
        "1 MiB garbage: a new trace"
    );
    let processes: Vec<_> = p
        .spans()
        .into_iter()
        .filter(|s| s.name == "process foreign")
        .collect();
    assert_eq!(processes.len(), cases.len());
    assert!(processes.iter().all(|s| s.status == Status::Unset));
    assert!(
        processes
            .iter()
            .any(|s| attr(s, "messaging.kafka.message.tombstone") == Some(&Value::Bool(true)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_stopped_mid_run_surfaces_only_rdkafkas_errors() {
    let mut broker = start(&[("down", 1)]);
    let mut config = base_config(&broker);
    config
        .set("message.timeout.ms", "3000")
        .set("reconnect.backoff.max.ms", "200");
    let p = Pipeline::new();
    let producer = producer(&config, &p);
    producer
        .send(FutureRecord::<str, str>::to("down").payload("before"), WAIT)
        .await
        .expect("delivered while the broker runs");

    let cconfig = consumer_config(&config, "down-readers");
    let consumer = subscribe(&cconfig, "down");
    let t = telemetry(&cconfig, &p);
    let mut stream = t.stream(consumer.stream());
    let first = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("in time")
        .expect("open");
    drop(first.expect("consumed before the stop").finish(&()));

    broker.stop();
    assert!(!broker.is_running());

    let (err, _message) = producer
        .send(FutureRecord::<str, str>::to("down").payload("after"), WAIT)
        .await
        .expect_err("no broker");
    assert!(
        matches!(err, KafkaError::MessageProduction(_)),
        "rdkafka's own error, unchanged: {err:?}"
    );
    let failed: Vec<_> = p
        .spans()
        .into_iter()
        .filter(|s| s.name == "send down" && matches!(s.status, Status::Error { .. }))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        attr_str(&failed[0], "error.type").as_deref(),
        rdkafka_error_name(&err).as_deref(),
        "error.type names rdkafka's error"
    );

    // The consumer keeps going: whatever the stream yields now is rdkafka's (errors or
    // nothing), never a panic from the instrumentation.
    let next = tokio::time::timeout(Duration::from_secs(3), stream.next()).await;
    if let Ok(Some(item)) = next {
        assert!(item.is_err(), "no message can arrive from a stopped broker");
    }
    // Closing a group consumer waits for its coordinator, which is gone: leak it rather than
    // block the test binary (the process ends with the tests).
    drop(stream);
    std::mem::forget(consumer);
}

fn rdkafka_error_name(err: &KafkaError) -> Option<String> {
    let code = err.rdkafka_error_code()?;
    Some(match code {
        rdkafka::types::RDKafkaErrorCode::MessageTimedOut => "_MSG_TIMED_OUT".to_owned(),
        rdkafka::types::RDKafkaErrorCode::BrokerTransportFailure => "_TRANSPORT".to_owned(),
        rdkafka::types::RDKafkaErrorCode::AllBrokersDown => "_ALL_BROKERS_DOWN".to_owned(),
        other => format!("{other:?}"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threaded_producer_context_with_the_w3c_propagator_joins_the_consumers_trace() {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

    let broker = start(&[("threaded", 1)]);
    let config = base_config(&broker);
    let p = Pipeline::new();
    let context = TracedProducerContext::builder(DefaultProducerContext)
        .with_client_config(&config)
        .with_tracer(p.tracer())
        .with_propagator(tracewire_propagation::TraceContextPropagator::new())
        .with_meter(p.meter())
        .build();
    let producer: ThreadedProducer<_> = config.create_with_context(context).expect("producer");
    let request = Context::current_with_span(p.tracer().start("POST /checkout"));
    {
        let _g = request.clone().attach();
        producer
            .send_traced(BaseRecord::to("threaded").key("order-7").payload("{}"))
            .map_err(|(e, _)| e)
            .expect("enqueued");
    }
    producer.flush(WAIT).expect("delivered");
    request.span().end();

    let cconfig = consumer_config(&config, "threaded-readers");
    let consumer = subscribe(&cconfig, "threaded");
    let t = telemetry(&cconfig, &p);
    let message = tokio::time::timeout(WAIT, consumer.recv())
        .await
        .expect("a message in time")
        .expect("no error");
    t.process(&message, || ());

    let send = p.span("send threaded");
    let process = p.span("process threaded");
    assert_eq!(send.span_kind, SpanKind::Producer);
    assert_eq!(send.parent_span_id, request.span().span_context().span_id());
    assert_eq!(
        attr(&send, "messaging.kafka.offset"),
        Some(&Value::I64(message.offset()))
    );
    assert_eq!(
        process.span_context.trace_id(),
        request.span().span_context().trace_id()
    );
    assert_eq!(process.parent_span_id, send.span_context.span_id());
    let e = HeadersExtractor::new(&message);
    assert_eq!(
        e.keys(),
        ["traceparent"],
        "tracewire's W3C propagator, no empty tracestate"
    );
}
