//! Consumer telemetry: process spans (parent and link by mode, attributes, baggage, errors,
//! panics, async), batches, poll spans, metrics, and the stream adapter on the mock cluster.

mod common;

use std::time::{Duration, SystemTime};

use common::{Pipeline, WAIT, attr, attr_str, consumer_config, get, mock_cluster};
use futures_util::StreamExt;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceContextExt, TraceId, Tracer};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::SdkTracer;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tracewire_kafka::{ConsumerBuilder, ConsumerTelemetry, ParentMode, TracedProducer};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

fn config() -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", "kafka-0.internal:19092")
        .set("group.id", "fulfillment")
        .set("client.id", "worker-1");
    c
}

fn telemetry(p: &Pipeline) -> ConsumerBuilder<SdkTracer> {
    ConsumerTelemetry::builder()
        .with_client_config(&config())
        .with_tracer(p.tracer())
        .with_propagator(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]))
        .with_meter(p.meter())
}

fn message(
    topic: &str,
    partition: i32,
    offset: i64,
    headers: Option<OwnedHeaders>,
) -> OwnedMessage {
    OwnedMessage::new(
        Some(b"{}".to_vec()),
        Some(b"order-42".to_vec()),
        topic.to_owned(),
        Timestamp::NotAvailable,
        partition,
        offset,
        headers,
    )
}

fn traced_headers() -> OwnedHeaders {
    OwnedHeaders::new()
        .insert(Header {
            key: "traceparent",
            value: Some(&format!("00-{TRACE}-{SPAN}-01")),
        })
        .insert(Header {
            key: "baggage",
            value: Some("user.id=u-7,session.region=eu"),
        })
}

#[test]
fn process_span_continues_the_producers_trace_by_default() {
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let msg = message("orders", 3, 17, Some(traced_headers()));
    let (trace_id, user) = t.process(&msg, || {
        let cx = Context::current();
        (
            cx.span().span_context().trace_id(),
            cx.baggage().get("user.id").map(|v| v.as_str().to_owned()),
        )
    });
    assert_eq!(trace_id, TraceId::from_hex(TRACE).expect("hex"));
    assert_eq!(user.as_deref(), Some("u-7"), "baggage set upstream arrives");

    let span = p.span("process orders");
    assert_eq!(span.span_kind, SpanKind::Consumer);
    assert_eq!(span.parent_span_id, SpanId::from_hex(SPAN).expect("hex"));
    assert!(span.parent_span_is_remote);
    assert_eq!(span.links.links.len(), 1, "the producer is linked too");
    assert_eq!(
        span.links.links[0].span_context.span_id(),
        SpanId::from_hex(SPAN).expect("hex")
    );
    for (k, v) in [
        ("messaging.system", "kafka"),
        ("messaging.operation.type", "process"),
        ("messaging.operation.name", "process"),
        ("messaging.destination.name", "orders"),
        ("messaging.destination.partition.id", "3"),
        ("messaging.consumer.group.name", "fulfillment"),
        ("messaging.client.id", "worker-1"),
        ("messaging.kafka.message.key", "order-42"),
        ("server.address", "kafka-0.internal"),
    ] {
        assert_eq!(attr_str(&span, k).as_deref(), Some(v), "{k}");
    }
    assert_eq!(attr(&span, "messaging.kafka.offset"), Some(&Value::I64(17)));
    assert_eq!(attr(&span, "server.port"), Some(&Value::I64(19092)));
    assert_eq!(attr(&span, "messaging.kafka.message.tombstone"), None);
    assert_eq!(
        attr(&span, "messaging.kafka.consumer.group"),
        None,
        "deprecated name"
    );
    assert_eq!(
        attr(&span, "messaging.kafka.message.offset"),
        None,
        "deprecated name"
    );
    assert_eq!(span.status, Status::Unset);
}

#[test]
fn parent_modes() {
    let producer_span = SpanId::from_hex(SPAN).expect("hex");
    for (mode, with_ambient, parent_is_producer) in [
        (ParentMode::ParentWhenNoAmbient, true, false),
        (ParentMode::ParentWhenNoAmbient, false, true),
        (ParentMode::LinkOnly, false, false),
        (ParentMode::LinkOnly, true, false),
        (ParentMode::AlwaysParent, true, true),
        (ParentMode::AlwaysParent, false, true),
    ] {
        let p = Pipeline::new();
        let t = telemetry(&p).with_parent_mode(mode).build();
        let msg = message("orders", 0, 1, Some(traced_headers()));
        let ambient = with_ambient.then(|| Context::current_with_span(p.tracer().start("loop")));
        let user = {
            let _g = ambient.clone().map(Context::attach);
            t.process(&msg, || {
                Context::current()
                    .baggage()
                    .get("user.id")
                    .map(|v| v.as_str().to_owned())
            })
        };
        assert_eq!(
            user.as_deref(),
            Some("u-7"),
            "{mode:?}: baggage in every mode"
        );
        let span = p.span("process orders");
        let case = format!("{mode:?} ambient={with_ambient}");
        assert_eq!(span.links.links.len(), 1, "{case}: always linked");
        if parent_is_producer {
            assert_eq!(span.parent_span_id, producer_span, "{case}");
        } else if let Some(a) = &ambient {
            assert_eq!(
                span.parent_span_id,
                a.span().span_context().span_id(),
                "{case}"
            );
        } else {
            assert_eq!(span.parent_span_id, SpanId::INVALID, "{case}: a new root");
            assert_ne!(
                span.span_context.trace_id(),
                TraceId::from_hex(TRACE).expect("hex")
            );
        }
    }
}

#[test]
fn messages_without_context_get_a_root_span_without_links() {
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let tombstone = OwnedMessage::new(None, None, "t".into(), Timestamp::NotAvailable, 0, 0, None);
    t.process(&tombstone, || ());
    let span = p.span("process t");
    assert_eq!(span.parent_span_id, SpanId::INVALID);
    assert!(span.links.links.is_empty());
    assert_eq!(
        attr(&span, "messaging.kafka.message.tombstone"),
        Some(&Value::Bool(true))
    );
    assert_eq!(attr(&span, "messaging.kafka.message.key"), None);
}

#[derive(Debug)]
struct PaymentDeclined;

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment declined")
    }
}

#[test]
fn failing_and_panicking_handlers() {
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let msg = message("pay", 0, 1, None);
    let r: Result<(), PaymentDeclined> = t.try_process(&msg, || Err(PaymentDeclined));
    assert!(r.is_err(), "the handler's error is returned unchanged");
    let span = p.span("process pay");
    assert_eq!(span.status, Status::error("payment declined"));
    assert_eq!(
        attr_str(&span, "error.type").as_deref(),
        Some("consumer::PaymentDeclined")
    );

    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.process(&msg, || panic!("handler bug"));
    }));
    assert!(caught.is_err(), "the panic goes on");
    let span = p.span("process pay");
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(attr_str(&span, "error.type").as_deref(), Some("panic"));

    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let ok: Result<u8, PaymentDeclined> = t.try_process(&msg, || Ok(1));
    assert!(ok.is_ok());
    assert_eq!(p.span("process pay").status, Status::Unset);
}

#[tokio::test]
async fn async_handlers_run_inside_the_span_across_awaits() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let msg = message("orders", 0, 5, Some(traced_headers()));
    let fut = assert_send(t.try_process_async(&msg, async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let cx = Context::current();
        if cx.span().span_context().trace_id() == TraceId::from_hex(TRACE).expect("hex") {
            Ok(cx
                .baggage()
                .get("session.region")
                .map(|v| v.as_str().to_owned()))
        } else {
            Err(PaymentDeclined)
        }
    }));
    drop(msg); // the future does not borrow the message
    let region = fut.await.expect("inside the producer's trace");
    assert_eq!(region.as_deref(), Some("eu"));
    assert_eq!(p.span("process orders").status, Status::Unset);
}

#[test]
fn a_batch_has_one_span_with_a_link_per_message() {
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let batch = vec![
        message("orders", 2, 10, Some(traced_headers())),
        message("orders", 2, 11, None),
        message(
            "orders",
            2,
            12,
            Some(OwnedHeaders::new().insert(Header {
                key: "traceparent",
                value: Some(other),
            })),
        ),
    ];
    let n = t.process_batch(&batch, || 3);
    assert_eq!(n, 3);
    let span = p.span("process orders");
    assert_eq!(span.span_kind, SpanKind::Consumer);
    assert_eq!(
        attr(&span, "messaging.batch.message_count"),
        Some(&Value::I64(3))
    );
    assert_eq!(
        attr_str(&span, "messaging.destination.partition.id").as_deref(),
        Some("2")
    );
    assert_eq!(
        attr(&span, "messaging.kafka.offset"),
        None,
        "no single offset for a batch"
    );
    assert_eq!(
        span.parent_span_id,
        SpanId::INVALID,
        "the ambient context is the parent"
    );
    let links = &span.links.links;
    assert_eq!(links.len(), 2, "one per message with a context");
    assert_eq!(
        links[0].span_context.span_id(),
        SpanId::from_hex(SPAN).expect("hex")
    );
    assert_eq!(
        get(&links[0].attributes, "messaging.kafka.offset"),
        Some(&Value::I64(10))
    );
    assert_eq!(
        get(&links[1].attributes, "messaging.destination.partition.id"),
        Some(&Value::String("2".into()))
    );
    assert_eq!(
        get(&links[1].attributes, "messaging.kafka.offset"),
        Some(&Value::I64(12))
    );

    // Messages of several topics: the span is named for the operation alone.
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let mixed = vec![message("a", 0, 1, None), message("b", 0, 1, None)];
    t.process_batch(&mixed, || ());
    let span = p.span("process");
    assert_eq!(attr(&span, "messaging.destination.name"), None);
    assert_eq!(
        attr(&span, "messaging.batch.message_count"),
        Some(&Value::I64(2))
    );
}

#[test]
fn poll_spans_only_when_messages_arrive() {
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let started = SystemTime::now() - Duration::from_millis(30);
    t.record_poll::<OwnedMessage>(started, &[]);
    assert!(p.spans().is_empty(), "an empty poll records nothing");

    t.record_poll(started, &[message("orders", 1, 9, Some(traced_headers()))]);
    let span = p.span("poll orders");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.start_time, started);
    assert_eq!(
        attr_str(&span, "messaging.operation.type").as_deref(),
        Some("receive")
    );
    assert_eq!(
        attr_str(&span, "messaging.operation.name").as_deref(),
        Some("poll")
    );
    assert_eq!(attr(&span, "messaging.kafka.offset"), Some(&Value::I64(9)));
    assert_eq!(span.links.links.len(), 1);
    let durations = p.points("messaging.client.operation.duration");
    assert_eq!(durations.len(), 1);
    assert_eq!(
        get(&durations[0].0, "messaging.operation.name"),
        Some(&Value::from("poll"))
    );
}

#[test]
fn a_message_is_counted_once_when_both_receive_and_process_are_recorded() {
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let messages = [
        message("orders", 1, 9, Some(traced_headers())),
        message("orders", 1, 10, None),
    ];
    t.record_poll(SystemTime::now(), &messages);
    for m in &messages {
        t.process(m, || ());
    }
    let consumed = p.points("messaging.client.consumed.messages");
    assert_eq!(consumed.len(), 1, "{consumed:?}");
    assert_eq!(consumed[0].1, 2.0);
    assert_eq!(
        get(&consumed[0].0, "messaging.operation.type"),
        Some(&Value::from("receive"))
    );
    // Processing is still measured.
    let durations = p.points("messaging.process.duration");
    assert_eq!(durations.iter().map(|(_, c)| c).sum::<f64>(), 2.0);
}

#[test]
fn process_metrics() {
    let p = Pipeline::new();
    let t = telemetry(&p).build();
    let msg = message("orders", 0, 1, None);
    t.process(&msg, || ());
    let _: Result<(), PaymentDeclined> = t.try_process(&msg, || Err(PaymentDeclined));
    t.process_batch(
        &[message("orders", 0, 2, None), message("orders", 0, 3, None)],
        || (),
    );
    let consumed = p.points("messaging.client.consumed.messages");
    let total: f64 = consumed.iter().map(|(_, v)| v).sum();
    assert_eq!(total, 4.0, "{consumed:?}");
    let failed = consumed
        .iter()
        .find(|(a, _)| get(a, "error.type").is_some())
        .expect("a failed series");
    assert_eq!(failed.1, 1.0);
    for (attrs, _) in &consumed {
        assert_eq!(
            get(attrs, "messaging.consumer.group.name"),
            Some(&Value::from("fulfillment"))
        );
        assert_eq!(get(attrs, "messaging.kafka.offset"), None);
        assert_eq!(get(attrs, "messaging.kafka.message.key"), None);
    }
    let durations = p.points("messaging.process.duration");
    assert_eq!(
        durations.iter().map(|(_, c)| c).sum::<f64>(),
        3.0,
        "three process operations"
    );
}

#[tokio::test]
async fn stream_adapter_gives_every_message_its_process_span() {
    let (_cluster, config) = mock_cluster(&["orders"]);
    let p = Pipeline::new();
    let producer = TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
        .with_client_config(&config)
        .with_tracer(p.tracer())
        .with_propagator(TraceContextPropagator::new())
        .build();
    for i in 0..2 {
        producer
            .send(
                FutureRecord::to("orders")
                    .key(&format!("k{i}"))
                    .payload("{}"),
                WAIT,
            )
            .await
            .expect("delivered");
    }
    let config = consumer_config(&config, "fulfillment");
    let consumer: StreamConsumer = config.create().expect("consumer");
    consumer.subscribe(&["orders"]).expect("subscribe");
    let t = ConsumerTelemetry::builder()
        .with_client_config(&config)
        .with_tracer(p.tracer())
        .with_propagator(TraceContextPropagator::new())
        .build();

    let mut stream = t.stream(consumer.stream()).with_poll_spans(true);
    let mut seen = 0;
    while let Some(message) = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("in time")
    {
        let message = message.expect("no error");
        {
            let _g = message.attach();
            assert!(Context::current().has_active_span());
        }
        let _ = message.finish(&());
        seen += 1;
        if seen == 2 {
            break;
        }
    }
    let spans = p.spans();
    let sends: Vec<_> = spans.iter().filter(|s| s.name == "send orders").collect();
    let processes: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "process orders")
        .collect();
    let polls: Vec<_> = spans.iter().filter(|s| s.name == "poll orders").collect();
    assert_eq!((sends.len(), processes.len(), polls.len()), (2, 2, 2));
    for process in processes {
        let send = sends
            .iter()
            .find(|s| s.span_context.span_id() == process.parent_span_id)
            .expect("the process span's parent is a send span");
        assert_eq!(
            send.span_context.trace_id(),
            process.span_context.trace_id()
        );
        assert_eq!(
            attr_str(process, "messaging.consumer.group.name").as_deref(),
            Some("fulfillment")
        );
    }
}
