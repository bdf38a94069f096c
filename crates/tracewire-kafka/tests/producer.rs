//! The traced producer on librdkafka's mock cluster: span name, kind, parent and attributes,
//! delivery attributes, failures, header injection and replacement, metrics, and `Send`.

mod common;

use std::time::Duration;

use common::{Pipeline, WAIT, add_raw_header, attr, attr_str, consumer_config, get, mock_cluster};
use futures_util::StreamExt;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Message};
use tracewire_kafka::carrier::KafkaHeaders;
use tracewire_kafka::{TracedProducer, producer::ProducerBuilder};

/// Attribute names the current conventions deprecated; tracewire never emits them.
const DEPRECATED: &[&str] = &[
    "messaging.kafka.message.offset",
    "messaging.kafka.consumer.group",
    "messaging.kafka.destination.partition",
    "messaging.operation",
    "messaging.client_id",
    "messaging.destination_publish.name",
    "net.peer.name",
];

fn builder(
    config: &ClientConfig,
    p: &Pipeline,
) -> ProducerBuilder<
    rdkafka::client::DefaultClientContext,
    rdkafka::util::DefaultRuntime,
    opentelemetry_sdk::trace::SdkTracer,
> {
    let producer: FutureProducer = config.create().expect("producer");
    TracedProducer::builder(producer)
        .with_client_config(config)
        .with_tracer(p.tracer())
        .with_propagator(TraceContextPropagator::new())
        .with_meter(p.meter())
}

/// Reads the first message of `topic` with a plain consumer.
async fn consume_one(config: &ClientConfig, topic: &str) -> OwnedMessage {
    let consumer: StreamConsumer = consumer_config(config, "reader")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let msg = tokio::time::timeout(WAIT, consumer.stream().next())
        .await
        .expect("a message in time")
        .expect("stream open")
        .expect("no error");
    msg.detach()
}

/// Every header of `message` as raw bytes (through the crate's extractor rules' own reader).
fn raw_headers(message: &OwnedMessage) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let Some(headers) = message.headers() else {
        return Vec::new();
    };
    // Names here are UTF-8 except where a test wrote otherwise; read them via the native list.
    let native = headers.as_native();
    (0..headers.count())
        .map(|i| {
            let h = native_header(native, i);
            (h.0.to_vec(), h.1.map(<[u8]>::to_vec))
        })
        .collect()
}

#[allow(unsafe_code)]
fn native_header(h: &rdkafka::message::BorrowedHeaders, idx: usize) -> (&[u8], Option<&[u8]>) {
    let mut name = std::ptr::null();
    let mut value = std::ptr::null();
    let mut size = 0usize;
    let native = (h as *const rdkafka::message::BorrowedHeaders).cast();
    // SAFETY: `h` is rdkafka's handle to a live native list and `idx` < its count.
    unsafe {
        rdkafka::bindings::rd_kafka_header_get_all(native, idx, &mut name, &mut value, &mut size);
        let name = std::ffi::CStr::from_ptr(name).to_bytes();
        let value =
            (!value.is_null()).then(|| std::slice::from_raw_parts(value.cast::<u8>(), size));
        (name, value)
    }
}

fn traceparent_of(cx: &opentelemetry::trace::SpanContext) -> String {
    format!("00-{}-{}-01", cx.trace_id(), cx.span_id())
}

#[tokio::test]
async fn send_span_has_the_conventions_attributes_and_ambient_parent() {
    let (cluster, config) = mock_cluster(&["orders"]);
    let p = Pipeline::new();
    let producer = builder(&config, &p).build();

    let request = p.tracer().start("request");
    let request_cx = Context::current_with_span(request);
    let send = {
        let _g = request_cx.clone().attach();
        producer.send(
            FutureRecord::to("orders").key("order-42").payload("{}"),
            WAIT,
        )
    };
    let delivery = send.await.expect("delivered");
    request_cx.span().end();

    let span = p.span("send orders");
    assert_eq!(span.span_kind, SpanKind::Producer);
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        span.parent_span_id,
        request_cx.span().span_context().span_id()
    );
    assert_eq!(
        span.span_context.trace_id(),
        request_cx.span().span_context().trace_id()
    );
    assert_eq!(
        attr_str(&span, "messaging.system").as_deref(),
        Some("kafka")
    );
    assert_eq!(
        attr_str(&span, "messaging.operation.type").as_deref(),
        Some("send")
    );
    assert_eq!(
        attr_str(&span, "messaging.operation.name").as_deref(),
        Some("send")
    );
    assert_eq!(
        attr_str(&span, "messaging.destination.name").as_deref(),
        Some("orders")
    );
    assert_eq!(
        attr_str(&span, "messaging.client.id").as_deref(),
        Some("test-client")
    );
    assert_eq!(
        attr_str(&span, "messaging.kafka.message.key").as_deref(),
        Some("order-42")
    );
    let bootstrap = cluster.bootstrap_servers();
    let (host, port) = bootstrap.rsplit_once(':').expect("host:port");
    assert_eq!(attr_str(&span, "server.address").as_deref(), Some(host));
    assert_eq!(
        attr(&span, "server.port"),
        Some(&Value::I64(port.parse().expect("port")))
    );
    // Delivery attributes: the partition as a string, the offset as an int.
    assert_eq!(
        attr(&span, "messaging.destination.partition.id"),
        Some(&Value::String(delivery.partition.to_string().into()))
    );
    assert_eq!(
        attr(&span, "messaging.kafka.offset"),
        Some(&Value::I64(delivery.offset))
    );
    assert_eq!(attr(&span, "messaging.kafka.message.tombstone"), None);
    for key in DEPRECATED {
        assert_eq!(attr(&span, key), None, "deprecated {key}");
    }
}

#[tokio::test]
async fn binary_keys_opt_out_and_tombstones() {
    let (_cluster, config) = mock_cluster(&["t"]);
    let p = Pipeline::new();
    let producer = builder(&config, &p).build();
    producer
        .send(
            FutureRecord::<[u8], str>::to("t").key(&[0xff, 0x00][..]),
            WAIT,
        )
        .await
        .expect("delivered");
    let span = p.span("send t");
    assert_eq!(
        attr(&span, "messaging.kafka.message.key"),
        None,
        "binary key left out"
    );
    assert_eq!(
        attr(&span, "messaging.kafka.message.tombstone"),
        Some(&Value::Bool(true))
    );

    let p = Pipeline::new();
    let producer = builder(&config, &p).with_key_attribute(false).build();
    producer
        .send(FutureRecord::to("t").key("secret").payload("x"), WAIT)
        .await
        .expect("delivered");
    let span = p.span("send t");
    assert_eq!(
        attr(&span, "messaging.kafka.message.key"),
        None,
        "opted out"
    );
    assert_eq!(attr(&span, "messaging.kafka.message.tombstone"), None);
}

#[tokio::test]
async fn a_failed_delivery_sets_error_and_error_type() {
    let (cluster, config) = mock_cluster(&["denied"]);
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED],
    );
    let p = Pipeline::new();
    let producer = builder(&config, &p).build();
    let err = producer
        .send(FutureRecord::<str, str>::to("denied").payload("x"), WAIT)
        .await
        .expect_err("authorization fails");
    assert!(err.0.to_string().contains("authoriz"), "{}", err.0);

    let span = p.span("send denied");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert_eq!(
        attr_str(&span, "error.type").as_deref(),
        Some("TOPIC_AUTHORIZATION_FAILED")
    );
    assert_eq!(attr(&span, "messaging.kafka.offset"), None);

    let sent = p.points("messaging.client.sent.messages");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        get(&sent[0].0, "error.type")
            .map(|v| v.as_str().into_owned())
            .as_deref(),
        Some("TOPIC_AUTHORIZATION_FAILED")
    );
}

#[tokio::test]
async fn headers_are_replaced_not_duplicated_and_the_rest_kept_byte_for_byte() {
    let (_cluster, config) = mock_cluster(&["fwd"]);
    let p = Pipeline::new();
    let producer: TracedProducer<_, _, _> = builder(&config, &p)
        .with_propagator(opentelemetry::propagation::TextMapCompositePropagator::new(
            vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ],
        ))
        .build();

    // A forwarded message: stale trace headers between the application's headers, one of
    // which has a null value and one a name that is not UTF-8.
    let mut headers = OwnedHeaders::new()
        .insert(Header {
            key: "content-type",
            value: Some("application/json"),
        })
        .insert(Header {
            key: "traceparent",
            value: Some("00-11111111111111111111111111111111-2222222222222222-01"),
        })
        .insert(Header::<&str> {
            key: "null-value",
            value: None,
        })
        .insert(Header {
            key: "tracestate",
            value: Some("old=1"),
        })
        .insert(Header {
            key: "baggage",
            value: Some("user.id=old"),
        })
        .insert(Header {
            key: "traceparent",
            value: Some("garbage"),
        });
    add_raw_header(&mut headers, b"bin\xff", Some(&[0, 159, 146, 150]));
    headers = headers.insert(Header {
        key: "x-retry",
        value: Some(&[1u8][..]),
    });

    producer
        .send(
            FutureRecord::<str, str>::to("fwd")
                .payload("x")
                .headers(headers),
            WAIT,
        )
        .await
        .expect("delivered");
    let span = p.span("send fwd");
    let message = consume_one(&config, "fwd").await;
    let got = raw_headers(&message);
    let names: Vec<&[u8]> = got.iter().map(|(n, _)| n.as_slice()).collect();
    assert_eq!(
        names,
        [
            &b"content-type"[..],
            b"null-value",
            b"bin\xff",
            b"x-retry",
            b"traceparent",
            b"tracestate"
        ],
        "{got:?}"
    );
    assert_eq!(got[0].1.as_deref(), Some(&b"application/json"[..]));
    assert_eq!(got[1].1, None, "null value kept null");
    assert_eq!(got[2].1.as_deref(), Some(&[0u8, 159, 146, 150][..]));
    assert_eq!(got[3].1.as_deref(), Some(&[1u8][..]));
    assert_eq!(
        got[4].1.as_deref(),
        Some(traceparent_of(&span.span_context).as_bytes()),
        "the new span's context"
    );
}

#[tokio::test]
async fn w3c_direct_injection_replaces_stale_headers_and_keeps_the_rest() {
    let (_cluster, config) = mock_cluster(&["direct"]);
    let p = Pipeline::new();
    let producer = builder(&config, &p)
        .with_propagator(tracewire_propagation::TraceContextPropagator::new())
        .build();
    let mut headers = OwnedHeaders::new()
        .insert(Header {
            key: "content-type",
            value: Some("application/json"),
        })
        .insert(Header {
            key: "traceparent",
            value: Some("00-11111111111111111111111111111111-2222222222222222-01"),
        })
        .insert(Header::<&str> {
            key: "null-value",
            value: None,
        })
        .insert(Header {
            key: "tracestate",
            value: Some("old=1"),
        });
    add_raw_header(&mut headers, b"bin\xff", Some(&[0, 159]));
    producer
        .send(
            FutureRecord::<str, str>::to("direct")
                .payload("x")
                .headers(headers),
            WAIT,
        )
        .await
        .expect("delivered");
    let span = p.span("send direct");
    let got = raw_headers(&consume_one(&config, "direct").await);
    let names: Vec<&[u8]> = got.iter().map(|(n, _)| n.as_slice()).collect();
    // No tracestate: the new span has none to send (the SDK's propagator would write an empty
    // one; tracewire's writes none).
    assert_eq!(
        names,
        [
            &b"content-type"[..],
            b"null-value",
            b"bin\xff",
            b"traceparent"
        ],
        "{got:?}"
    );
    assert_eq!(got[1].1, None, "null value kept null");
    assert_eq!(got[2].1.as_deref(), Some(&[0u8, 159][..]));
    assert_eq!(
        got[3].1.as_deref(),
        Some(traceparent_of(&span.span_context).as_bytes())
    );
}

/// The direct W3C path (tracewire's `TraceContextPropagator`, alone or first in its
/// `tracecontext,baggage` composite) writes what the generic propagator path writes for the
/// same parent: a tracestate with members opentelemetry's `TraceState` cannot hold, and the
/// parent's baggage.
#[tokio::test]
async fn w3c_direct_injection_matches_the_propagator_path() {
    use opentelemetry::KeyValue;
    use opentelemetry::baggage::BaggageExt as _;
    use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator as _};
    use tracewire_propagation::{
        BaggagePropagator as Bag, Propagators, TraceContextPropagator as W3c,
    };

    let (_cluster, config) = mock_cluster(&["same"]);
    let p = Pipeline::new();
    let build = |producer: ProducerBuilder<_, _, _>| producer.build();
    let direct = build(builder(&config, &p).with_propagator(W3c::new()));
    let direct_both = build(builder(&config, &p).with_propagator(Propagators::default()));
    // The same propagators inside opentelemetry's composite: not recognised, so injected
    // through the `TextMapPropagator` interface with a context holding the span.
    let generic = build(
        builder(&config, &p)
            .with_propagator(TextMapCompositePropagator::new(vec![Box::new(W3c::new())])),
    );
    let generic_both = build(builder(&config, &p).with_propagator(
        TextMapCompositePropagator::new(vec![Box::new(W3c::new()), Box::new(Bag::new())]),
    ));
    for (producer, want) in [
        (&direct, "TraceContext"),
        (&direct_both, "TraceContext+Baggage"),
        (&generic, "Custom"),
        (&generic_both, "Custom"),
    ] {
        assert!(format!("{producer:?}").contains(want), "{producer:?}");
    }
    let incoming = OwnedHeaders::new()
        .insert(Header {
            key: "traceparent",
            value: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        })
        .insert(Header {
            key: "tracestate",
            value: Some("congo=t61rcWkgMzE,t@x@y=1"),
        });
    let extracted = W3c::new().extract(&tracewire_kafka::HeadersExtractor::from_headers(&incoming));
    assert!(extracted.span().span_context().is_valid());
    let with_baggage = extracted.with_baggage(vec![KeyValue::new("user.id", "u-7")]);

    type Sent = (Vec<String>, Option<String>, Option<String>);
    let send = |producer: &TracedProducer<_, _, _>, parent: &Context| -> Sent {
        let _g = parent.clone().attach();
        let (record, scope) =
            producer.start_send(FutureRecord::<str, str>::to("same").payload("x"));
        let headers = record.headers.expect("headers written");
        let e = tracewire_kafka::HeadersExtractor::from_headers(&headers);
        let read =
            |name: &str| opentelemetry::propagation::Extractor::get(&e, name).map(str::to_owned);
        assert_eq!(
            read("traceparent"),
            Some(traceparent_of(scope.span_context()))
        );
        let names = opentelemetry::propagation::Extractor::keys(&e)
            .into_iter()
            .map(str::to_owned)
            .collect();
        (names, read("tracestate"), read("baggage"))
    };
    for parent in [&extracted, &with_baggage] {
        let one = send(&direct, parent);
        assert_eq!(
            one,
            send(&generic, parent),
            "W3C alone: direct and generic agree"
        );
        assert_eq!(one.0, ["traceparent", "tracestate"]);
        assert_eq!(one.1.as_deref(), Some("congo=t61rcWkgMzE,t@x@y=1"));
        let both = send(&direct_both, parent);
        assert_eq!(
            both,
            send(&generic_both, parent),
            "with baggage: direct and generic agree"
        );
    }
    let both = send(&direct_both, &with_baggage);
    assert_eq!(both.0, ["traceparent", "tracestate", "baggage"]);
    assert_eq!(both.2.as_deref(), Some("user.id=u-7"));
    assert_eq!(
        send(&direct_both, &extracted).0,
        ["traceparent", "tracestate"]
    );
}

#[test]
fn nothing_to_inject_leaves_a_record_without_headers() {
    let (_cluster, config) = mock_cluster(&["none"]);
    // A no-op tracer and no ambient span: the span context is invalid, nothing is injected.
    let producer = TracedProducer::builder(config.create::<FutureProducer>().expect("producer"))
        .with_tracer(opentelemetry::trace::noop::NoopTracer::new())
        .with_propagator(tracewire_propagation::TraceContextPropagator::new())
        .without_metrics()
        .build();
    let (record, scope) = producer.start_send(FutureRecord::<str, str>::to("none").payload("x"));
    assert!(!scope.span_context().is_valid());
    assert!(record.headers.is_none());
}

#[tokio::test]
async fn injection_can_be_turned_off() {
    let (_cluster, config) = mock_cluster(&["old"]);
    let p = Pipeline::new();
    let producer = builder(&config, &p).with_injection(false).build();
    producer
        .send(FutureRecord::<str, str>::to("old").payload("x"), WAIT)
        .await
        .expect("delivered");
    let _ = p.span("send old");
    let message = consume_one(&config, "old").await;
    assert!(message.headers().is_none(), "no headers written");
}

#[tokio::test]
async fn a_retried_record_carries_exactly_one_traceparent() {
    retried_record_carries_one_traceparent(false).await;
}

#[tokio::test]
async fn a_retried_record_carries_exactly_one_traceparent_w3c_direct() {
    retried_record_carries_one_traceparent(true).await;
}

/// `direct`: with tracewire's own W3C propagator, which injects without a context (ADR 0034).
async fn retried_record_carries_one_traceparent(direct: bool) {
    let (_cluster, mut config) = mock_cluster(&["retry"]);
    // A queue of one message: the second enqueue fails at once with _QUEUE_FULL.
    config
        .set("queue.buffering.max.messages", "1")
        .set("linger.ms", "50");
    let p = Pipeline::new();
    let producer = if direct {
        builder(&config, &p)
            .with_propagator(tracewire_propagation::TraceContextPropagator::new())
            .build()
    } else {
        builder(&config, &p).build()
    };

    let first = producer
        .send_result(FutureRecord::<str, str>::to("retry").payload("1"))
        .expect("enqueued");
    let (err, record) = producer
        .send_result(FutureRecord::<str, str>::to("retry").payload("2"))
        .expect_err("queue full");
    assert_eq!(
        err.rdkafka_error_code(),
        Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
    );
    first.await.expect("not canceled").expect("first delivered");
    // The record came back with the failed attempt's headers; the retry replaces them.
    producer.send(record, WAIT).await.expect("retry delivered");

    let spans: Vec<_> = p
        .spans()
        .into_iter()
        .filter(|s| s.name == "send retry")
        .collect();
    assert_eq!(spans.len(), 3);
    let failed: Vec<_> = spans
        .iter()
        .filter(|s| attr_str(s, "error.type").as_deref() == Some("_QUEUE_FULL"))
        .collect();
    assert_eq!(failed.len(), 1);
    // The record that never reached the queue is an operation that failed, not a sent message.
    let has_error =
        |attrs: &[opentelemetry::KeyValue]| attrs.iter().any(|kv| kv.key.as_str() == "error.type");
    let sent = p.points("messaging.client.sent.messages");
    assert_eq!(sent.iter().map(|(_, v)| v).sum::<f64>(), 2.0, "{sent:?}");
    assert!(sent.iter().all(|(a, _)| !has_error(a)), "{sent:?}");
    let durations = p.points("messaging.client.operation.duration");
    assert_eq!(
        durations.iter().map(|(_, v)| v).sum::<f64>(),
        3.0,
        "{durations:?}"
    );
    assert_eq!(
        durations
            .iter()
            .filter(|(a, _)| has_error(a))
            .map(|(_, v)| v)
            .sum::<f64>(),
        1.0,
        "{durations:?}"
    );

    let consumer: StreamConsumer = consumer_config(&config, "retry-reader")
        .create()
        .expect("consumer");
    consumer.subscribe(&["retry"]).expect("subscribe");
    let mut stream = consumer.stream();
    for _ in 0..2 {
        let m = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("ok")
            .detach();
        let traceparents: Vec<_> = raw_headers(&m)
            .into_iter()
            .filter(|(n, _)| n == b"traceparent")
            .collect();
        assert_eq!(traceparents.len(), 1, "payload {:?}", m.payload());
        let value = String::from_utf8(traceparents[0].1.clone().expect("value")).expect("utf8");
        let span = spans
            .iter()
            .find(|s| traceparent_of(&s.span_context) == value)
            .expect("a send span's context");
        assert_eq!(span.status, Status::Unset, "the delivered attempt's span");
    }
}

#[tokio::test]
async fn send_metrics_have_low_cardinality_attributes() {
    let (_cluster, config) = mock_cluster(&["m"]);
    let p = Pipeline::new();
    let producer = builder(&config, &p).build();
    for i in 0..3 {
        producer
            .send(
                FutureRecord::to("m").key(&format!("k{i}")).payload("x"),
                WAIT,
            )
            .await
            .expect("delivered");
    }
    let sent = p.points("messaging.client.sent.messages");
    assert_eq!(sent.len(), 1, "one series: {sent:?}");
    assert_eq!(sent[0].1, 3.0);
    let attrs = &sent[0].0;
    let keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
    for k in [
        "messaging.system",
        "messaging.operation.name",
        "messaging.operation.type",
        "messaging.destination.name",
        "messaging.destination.partition.id",
        "server.address",
        "server.port",
    ] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    for k in [
        "messaging.kafka.offset",
        "messaging.kafka.message.key",
        "messaging.client.id",
    ] {
        assert!(!keys.contains(&k), "{k} must not be a metric attribute");
    }
    let durations = p.points("messaging.client.operation.duration");
    assert_eq!(durations.len(), 1);
    assert_eq!(durations[0].1, 3.0, "three recorded durations");
}

#[tokio::test]
async fn each_partition_and_error_gets_its_own_metric_series() {
    let (cluster, config) = mock_cluster(&[]);
    cluster.create_topic("two", 2, 1).expect("topic");
    let p = Pipeline::new();
    let producer = builder(&config, &p).build();
    for partition in [0, 1, 0, 1, 1] {
        producer
            .send(
                FutureRecord::<str, str>::to("two")
                    .payload("x")
                    .partition(partition),
                WAIT,
            )
            .await
            .expect("delivered");
    }
    // A record that named its partition carries the attribute once, not again at delivery.
    for span in p.spans() {
        let n = span
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str() == "messaging.destination.partition.id")
            .count();
        assert_eq!(n, 1, "{:?}", span.attributes);
    }
    let mut series: Vec<(String, f64)> = p
        .points("messaging.client.sent.messages")
        .into_iter()
        .map(|(attrs, count)| {
            let partition = get(&attrs, "messaging.destination.partition.id")
                .map(|v| v.as_str().into_owned())
                .unwrap_or_default();
            (partition, count)
        })
        .collect();
    series.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(series, [("0".to_owned(), 2.0), ("1".to_owned(), 3.0)]);
}

#[tokio::test]
async fn the_duration_metric_is_the_send_spans_duration() {
    let (_cluster, config) = mock_cluster(&["d"]);
    let p = Pipeline::new();
    let producer = builder(&config, &p).build();
    producer
        .send(FutureRecord::<str, str>::to("d").payload("x"), WAIT)
        .await
        .expect("delivered");
    let span = p.span("send d");
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .expect("ends after it starts");
    assert_eq!(
        p.histogram_sum("messaging.client.operation.duration"),
        duration.as_secs_f64()
    );
}

/// Compile-time check: the send future is `Send`, so it can be spawned on a multi-threaded
/// runtime (it holds the span's context, never a context guard).
#[test]
fn send_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (_cluster, config) = mock_cluster(&["s"]);
    let producer = TracedProducer::from_config(&config).expect("producer");
    let payload = String::from("x");
    let fut = producer.send(
        FutureRecord::<str, str>::to("s").payload(&payload),
        Duration::ZERO,
    );
    assert_send(&fut);
    let result = producer.send_result(FutureRecord::<str, str>::to("s").payload(&payload));
    if let Ok(delivery) = &result {
        assert_send(delivery);
    }
}
