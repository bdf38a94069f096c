//! A checkout service sends an order to Kafka inside its request span; a fulfillment consumer
//! processes it inside a `process orders` span of the same trace, with the baggage set at the
//! edge. Prints the trace as a tree.
//!
//! ```sh
//! cargo run -p kafka-orders                              # librdkafka's in-process mock cluster
//! KAFKA_BROKERS=127.0.0.1:19092 cargo run -p kafka-orders # a real broker (`cargo xtask broker`: tansu on 19092)
//! ```

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use futures_util::StreamExt;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::{FutureExt as _, SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_sdk::propagation::BaggagePropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;
use tracewire_kafka::{ConsumerTelemetry, TracedProducer};

const TOPIC: &str = "orders";

#[tokio::main]
async fn main() -> Result<()> {
    // The SDK side a service's main sets up (tracewire-sdk does this from OTEL_* variables);
    // here spans are kept in memory to print them.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(tracewire_propagation::TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));

    // A broker from KAFKA_BROKERS, or the in-process mock cluster.
    let mock;
    let mut config = ClientConfig::new();
    config.set("message.timeout.ms", "10000");
    match std::env::var("KAFKA_BROKERS")
        .ok()
        .filter(|b| !b.is_empty())
    {
        Some(brokers) => {
            println!("broker: {brokers} (KAFKA_BROKERS)");
            config.set("bootstrap.servers", brokers);
            create_topic(&config).await?;
        }
        None => {
            mock = MockCluster::new(1).context("starting the mock cluster")?;
            mock.create_topic(TOPIC, 1, 1)?;
            println!(
                "broker: {} (librdkafka's mock cluster)",
                mock.bootstrap_servers()
            );
            config.set("bootstrap.servers", mock.bootstrap_servers());
        }
    }

    // checkout: the request span at the edge, with the article's baggage, sends the order.
    let producer = TracedProducer::from_config(config.clone().set("client.id", "checkout"))?;
    let tracer = global::tracer("checkout");
    let request = tracer
        .span_builder("POST /checkout")
        .with_kind(SpanKind::Server)
        .start(&tracer);
    let cx = Context::current_with_span(request).with_baggage(vec![
        KeyValue::new("user.id", "u-1042"),
        KeyValue::new("session.region", "eu-west"),
        KeyValue::new("request.source", "web"),
    ]);
    let send = {
        let _guard = cx.clone().attach();
        producer.send(
            FutureRecord::to(TOPIC)
                .key("order-42")
                .payload(r#"{"order":"order-42","total":12.5}"#),
            Duration::from_secs(10),
        )
    };
    let delivery = send
        .await
        .map_err(|(e, _)| e)
        .context("sending the order")?;
    cx.span().end();
    println!(
        "sent order-42 to partition {} at offset {}",
        delivery.partition, delivery.offset
    );

    // fulfillment: a consumer group; every message comes with its process span.
    let mut consumer_config = config.clone();
    consumer_config
        .set("group.id", "fulfillment")
        .set("client.id", "fulfillment-1")
        .set("auto.offset.reset", "earliest");
    let consumer: StreamConsumer = consumer_config.create()?;
    consumer.subscribe(&[TOPIC])?;
    let telemetry = ConsumerTelemetry::from_config(&consumer_config);
    let mut stream = telemetry.stream(consumer.stream());
    let message = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .context("no message within 30 s")?
        .context("stream closed")??;
    let work = async {
        let cx = Context::current();
        let user = cx.baggage().get("user.id").map(|v| v.to_string());
        println!(
            "fulfillment: processing for user.id={}",
            user.unwrap_or_default()
        );
        global::tracer("fulfillment").in_span("reserve stock", |_| ())
    };
    work.with_context(message.context().clone()).await;
    let _ = message.finish(&());
    drop(stream);
    drop(consumer);

    provider.force_flush()?;
    let spans = exporter.get_finished_spans()?;
    print_tree(&spans);
    let traces: std::collections::HashSet<_> =
        spans.iter().map(|s| s.span_context.trace_id()).collect();
    if traces.len() != 1 {
        bail!("expected one trace, got {}", traces.len());
    }
    Ok(())
}

/// Creates the topic on a real broker (an existing one is fine).
async fn create_topic(config: &ClientConfig) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let results = admin
        .create_topics(
            &[NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => bail!("creating topic {topic}: {code}"),
        }
    }
    Ok(())
}

/// Prints spans as a tree by parent id, with kind and the messaging attributes.
fn print_tree(spans: &[SpanData]) {
    fn children(spans: &[SpanData], parent: opentelemetry::trace::SpanId, depth: usize) {
        for s in spans.iter().filter(|s| s.parent_span_id == parent) {
            let attrs: Vec<String> = s
                .attributes
                .iter()
                .filter(|kv| {
                    kv.key.as_str().starts_with("messaging.") || kv.key.as_str() == "server.address"
                })
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            let links = if s.links.links.is_empty() {
                String::new()
            } else {
                format!(" links={}", s.links.links.len())
            };
            println!(
                "{}{} [{:?}] span={}{links}{}",
                "  ".repeat(depth),
                s.name,
                s.span_kind,
                s.span_context.span_id(),
                if attrs.is_empty() {
                    String::new()
                } else {
                    format!("\n{}  {}", "  ".repeat(depth), attrs.join(" "))
                }
            );
            children(spans, s.span_context.span_id(), depth + 1);
        }
    }
    let roots: std::collections::HashSet<_> = spans
        .iter()
        .filter(|s| {
            !spans
                .iter()
                .any(|p| p.span_context.span_id() == s.parent_span_id)
        })
        .map(|s| s.parent_span_id)
        .collect();
    if let Some(first) = spans.first() {
        println!("\ntrace {}", first.span_context.trace_id());
    }
    for root in roots {
        children(spans, root, 0);
    }
}
