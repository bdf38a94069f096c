//! Traced [rdkafka](https://docs.rs/rdkafka) producers and consumers, by the OpenTelemetry
//! [messaging semantic conventions](https://opentelemetry.io/docs/specs/semconv/messaging/kafka/)
//! (the version `opentelemetry-semantic-conventions` 0.33 carries, schema 1.42).
//!
//! Depend on this crate in services that send or consume Kafka messages with rdkafka 0.39 and
//! want one trace from the producer's request to the consumer's processing. It uses the
//! OpenTelemetry API only: install any SDK (tracewire-sdk or your own) and a propagator.
//!
//! - [`TracedProducer`]: a `FutureProducer` whose sends make `send {topic}` PRODUCER spans,
//!   ended at the delivery report, with the context injected into the message headers;
//! - [`TracedProducerContext`]: the same spans for `BaseProducer` and `ThreadedProducer`, ended
//!   in librdkafka's delivery callback, off the sending thread;
//! - [`ConsumerTelemetry`]: `process {topic}` CONSUMER spans around handlers (one message,
//!   sync or async, or a batch with one link per message), `poll {topic}` CLIENT spans, and a
//!   [`StreamConsumer`](rdkafka::consumer::StreamConsumer) adapter ([`TracedStream`]);
//! - [`carrier`]: the header injector and extractor underneath, usable on their own;
//! - the messaging metrics: `messaging.client.operation.duration`,
//!   `messaging.client.sent.messages`, `messaging.client.consumed.messages`,
//!   `messaging.process.duration`.
//!
//! Message headers from other producers are untrusted input: no header list, however odd
//! (duplicates, null or non-UTF-8 values, non-UTF-8 names, huge values), makes this crate
//! panic or fail a message; see [`carrier`].
//!
//! # Example
//!
//! A producer and a consumer in one trace, on librdkafka's in-process mock cluster:
//!
//! ```
//! use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
//! use opentelemetry::Context;
//! use opentelemetry_sdk::propagation::TraceContextPropagator;
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use rdkafka::consumer::{Consumer, StreamConsumer};
//! use rdkafka::mocking::MockCluster;
//! use rdkafka::producer::{FutureProducer, FutureRecord};
//! use rdkafka::ClientConfig;
//! use std::time::Duration;
//! use tracewire_kafka::{ConsumerTelemetry, TracedProducer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = SdkTracerProvider::builder().build();
//! let cluster = MockCluster::new(1)?;
//! cluster.create_topic("orders", 1, 1)?;
//! let mut config = ClientConfig::new();
//! config.set("bootstrap.servers", cluster.bootstrap_servers());
//!
//! let producer = TracedProducer::builder(config.create::<FutureProducer>()?)
//!     .with_client_config(&config)
//!     .with_tracer(provider.tracer("checkout"))
//!     .with_propagator(TraceContextPropagator::new())
//!     .build();
//! producer
//!     .send(FutureRecord::to("orders").key("order-42").payload("{}"), Duration::from_secs(5))
//!     .await
//!     .map_err(|(e, _)| e)?;
//!
//! config.set("group.id", "fulfillment").set("auto.offset.reset", "earliest");
//! let consumer: StreamConsumer = config.create()?;
//! consumer.subscribe(&["orders"])?;
//! let telemetry = ConsumerTelemetry::builder()
//!     .with_client_config(&config)
//!     .with_tracer(provider.tracer("fulfillment"))
//!     .with_propagator(TraceContextPropagator::new())
//!     .build();
//!
//! let message = consumer.recv().await?;
//! let trace_id = telemetry
//!     .process_async(&message, async { Context::current().span().span_context().trace_id() })
//!     .await;
//! let sent = telemetry.extract(&message).span().span_context().trace_id();
//! assert_eq!(trace_id, sent); // one trace from the send span to the process span
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `broker-tests`: builds the integration tests against a real Kafka-compatible broker
//!   (`cargo xtask it`); no effect on the library.
//!
//! rdkafka is used with `default-features = false` and `tokio`: librdkafka is built from source
//! with only a C compiler and `make`, without compression codecs or TLS. Enable rdkafka's own
//! features (`ssl`, `libz`, `zstd`, ...) in your crate when you need them; Cargo unifies them.
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

mod attrs;
pub mod carrier;
pub mod consumer;
mod ffi;
mod metrics;
mod names;
mod otel;
pub mod producer;
pub mod producer_context;
mod send;
pub mod stream;

pub use carrier::{HeadersExtractor, HeadersInjector, KafkaHeaders};
pub use consumer::{ConsumerBuilder, ConsumerTelemetry, Outcome, ParentMode, ProcessScope};
pub use otel::GlobalTracer;
pub use producer::{ProducerBuilder, SendScope, TracedDeliveryFuture, TracedProducer};
pub use producer_context::{
    ProducerContextBuilder, TracedDelivery, TracedProducerContext, TracedSendExt,
};
pub use stream::{TracedMessage, TracedStream};
