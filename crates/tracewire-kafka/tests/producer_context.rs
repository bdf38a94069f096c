//! The traced producer context on librdkafka's mock cluster: `ThreadedProducer` and
//! `BaseProducer` sends make the same send spans as `TracedProducer`, ended in the delivery
//! callback off the sending thread; the wrapped context gets its own opaque; enqueue and
//! delivery failures and purged messages end their spans with `error.type`.

mod common;

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use common::{Pipeline, WAIT, attr, attr_str, consumer_config, get, mock_cluster};
use futures_util::StreamExt;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers as _;
use rdkafka::producer::{
    BaseProducer, BaseRecord, DefaultProducerContext, DeliveryResult, Producer, ProducerContext,
    ThreadedProducer,
};
use rdkafka::types::{RDKafkaApiKey, RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientConfig, Message};
use tracewire_kafka::{TracedProducerContext, TracedSendExt};
use tracewire_propagation::TraceContextPropagator;

type Context0 = TracedProducerContext<DefaultProducerContext, opentelemetry_sdk::trace::SdkTracer>;

fn context(config: &ClientConfig, p: &Pipeline) -> Context0 {
    TracedProducerContext::builder(DefaultProducerContext)
        .with_client_config(config)
        .with_tracer(p.tracer())
        .with_propagator(TraceContextPropagator::new())
        .with_meter(p.meter())
        .build()
}

/// Records the thread each span ends on, next to the test pipeline's exporter.
#[derive(Debug, Clone, Default)]
struct EndThreads(Arc<Mutex<Vec<(String, ThreadId)>>>);

impl SpanProcessor for EndThreads {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        self.0
            .lock()
            .expect("lock")
            .push((span.name.into_owned(), std::thread::current().id()));
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[tokio::test]
async fn threaded_sends_make_send_spans_ended_off_the_sending_thread() {
    let (_cluster, config) = mock_cluster(&["orders"]);
    let threads = EndThreads::default();
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(threads.clone())
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "test");
    let context = TracedProducerContext::builder(DefaultProducerContext)
        .with_client_config(&config)
        .with_tracer(tracer.clone())
        .with_propagator(TraceContextPropagator::new())
        .without_metrics()
        .build();
    let producer: ThreadedProducer<_> = config.create_with_context(context).expect("producer");

    let request_cx = Context::current_with_span(tracer.start("request"));
    {
        let _g = request_cx.clone().attach();
        producer
            .send_traced(BaseRecord::to("orders").key("order-42").payload("{}"))
            .map_err(|(e, _)| e)
            .expect("enqueued");
    }
    // Wait for the delivery report without flushing: `flush` serves delivery callbacks on the
    // calling thread, the point here is that the producer's own thread ends the span.
    let deadline = std::time::Instant::now() + WAIT;
    while !threads
        .0
        .lock()
        .expect("lock")
        .iter()
        .any(|(n, _)| n == "send orders")
    {
        assert!(std::time::Instant::now() < deadline, "no delivery report");
        std::thread::sleep(Duration::from_millis(10));
    }
    request_cx.span().end();

    let spans = exporter.get_finished_spans().expect("spans");
    let span = spans
        .iter()
        .find(|s| s.name == "send orders")
        .expect("send span");
    assert_eq!(span.span_kind, SpanKind::Producer);
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        span.parent_span_id,
        request_cx.span().span_context().span_id()
    );
    assert_eq!(
        attr_str(span, "messaging.kafka.message.key").as_deref(),
        Some("order-42")
    );
    assert_eq!(
        attr_str(span, "messaging.client.id").as_deref(),
        Some("test-client")
    );
    assert_eq!(
        attr(span, "messaging.destination.partition.id"),
        Some(&Value::String("0".into()))
    );
    assert_eq!(attr(span, "messaging.kafka.offset"), Some(&Value::I64(0)));

    let ended = threads.0.lock().expect("lock").clone();
    let send_thread = ended
        .iter()
        .find(|(name, _)| name == "send orders")
        .map(|(_, t)| *t)
        .expect("ended");
    assert_ne!(
        send_thread,
        std::thread::current().id(),
        "ended on the producer's polling thread"
    );

    // The message carries the span's context.
    let consumer: StreamConsumer = consumer_config(&config, "reader")
        .create()
        .expect("consumer");
    consumer.subscribe(&["orders"]).expect("subscribe");
    let message = tokio::time::timeout(WAIT, consumer.stream().next())
        .await
        .expect("in time")
        .expect("open")
        .expect("ok")
        .detach();
    let headers = message.headers().expect("headers");
    let traceparent = headers
        .iter()
        .find(|h| h.key == "traceparent")
        .and_then(|h| h.value)
        .expect("traceparent");
    let sc = &span.span_context;
    assert_eq!(
        traceparent,
        format!("00-{}-{}-01", sc.trace_id(), sc.span_id()).as_bytes()
    );
}

/// An application context with its own opaque, recording what its callback receives.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<(usize, bool)>>>);

impl ClientContext for Recording {}

impl ProducerContext for Recording {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: usize) {
        self.0.lock().expect("lock").push((opaque, result.is_ok()));
    }
}

#[test]
fn the_wrapped_context_gets_its_opaque_and_base_producers_work() {
    let (_cluster, config) = mock_cluster(&["opaque"]);
    let p = Pipeline::new();
    let recording = Recording::default();
    let context = TracedProducerContext::builder(recording.clone())
        .with_client_config(&config)
        .with_tracer(p.tracer())
        .with_meter(p.meter())
        .build();
    let producer: BaseProducer<_> = config.create_with_context(context).expect("producer");
    for i in 0..3usize {
        producer
            .send_traced(BaseRecord::<str, str, usize>::with_opaque_to("opaque", i).payload("x"))
            .map_err(|(e, _)| e)
            .expect("enqueued");
    }
    producer.flush(WAIT).expect("flushed");
    let mut got = recording.0.lock().expect("lock").clone();
    got.sort_unstable();
    assert_eq!(got, [(0, true), (1, true), (2, true)]);
    let spans: Vec<_> = p
        .spans()
        .into_iter()
        .filter(|s| s.name == "send opaque")
        .collect();
    assert_eq!(spans.len(), 3);
    let sent = p.points("messaging.client.sent.messages");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1, 3.0);
    assert_eq!(
        get(&sent[0].0, "messaging.destination.partition.id").map(Value::as_str),
        Some("0".into())
    );
}

#[test]
fn enqueue_and_delivery_failures_end_spans_with_error_type() {
    let (cluster, mut config) = mock_cluster(&["denied"]);
    config
        .set("queue.buffering.max.messages", "1")
        .set("linger.ms", "50");
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED],
    );
    let p = Pipeline::new();
    let producer: BaseProducer<_> = config
        .create_with_context(context(&config, &p))
        .expect("producer");
    producer
        .send_traced(BaseRecord::<str, str>::to("denied").payload("1"))
        .map_err(|(e, _)| e)
        .expect("enqueued");
    // A queue of one: the second enqueue fails at once and the record comes back.
    let (err, record) = producer
        .send_traced(BaseRecord::<str, str>::to("denied").payload("2"))
        .expect_err("queue full");
    assert_eq!(err.rdkafka_error_code(), Some(RDKafkaErrorCode::QueueFull));
    assert_eq!(record.payload, Some("2"));
    let _ = producer.flush(WAIT);

    let spans = p.spans();
    let mut types: Vec<String> = spans
        .iter()
        .filter(|s| s.name == "send denied")
        .map(|s| {
            assert!(matches!(s.status, Status::Error { .. }), "{:?}", s.status);
            attr_str(s, "error.type").unwrap_or_default()
        })
        .collect();
    types.sort();
    assert_eq!(types, ["TOPIC_AUTHORIZATION_FAILED", "_QUEUE_FULL"]);
    // Only the record that reached the queue was sent (and failed at the broker).
    let sent = p.points("messaging.client.sent.messages");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1, 1.0);
    assert_eq!(
        get(&sent[0].0, "error.type").map(Value::as_str),
        Some("TOPIC_AUTHORIZATION_FAILED".into())
    );
    let durations = p.points("messaging.client.operation.duration");
    assert_eq!(
        durations.iter().map(|(_, v)| v).sum::<f64>(),
        2.0,
        "{durations:?}"
    );
}

#[test]
fn a_producer_dropped_with_messages_in_flight_ends_their_spans() {
    // Nothing listens there: the message stays queued until the producer is dropped.
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", "127.0.0.1:1")
        .set("message.timeout.ms", "60000");
    let p = Pipeline::new();
    let producer: ThreadedProducer<_> = config
        .create_with_context(context(&config, &p))
        .expect("producer");
    producer
        .send_traced(BaseRecord::<str, str>::to("nowhere").payload("x"))
        .map_err(|(e, _)| e)
        .expect("enqueued");
    drop(producer);
    let span = p.span("send nowhere");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert_eq!(
        attr_str(&span, "error.type").as_deref(),
        Some("_PURGE_QUEUE")
    );
}
