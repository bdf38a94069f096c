//! A traced [`FutureProducer`]: one `send {topic}` span of kind PRODUCER per message, from the
//! call to the delivery report, with the span's context injected into the message headers.
//!
//! # Example
//!
//! ```
//! use rdkafka::mocking::MockCluster;
//! use rdkafka::producer::FutureRecord;
//! use rdkafka::ClientConfig;
//! use tracewire_kafka::TracedProducer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cluster = MockCluster::new(1)?; // librdkafka's in-process broker
//! cluster.create_topic("orders", 1, 1)?;
//! let mut config = ClientConfig::new();
//! config.set("bootstrap.servers", cluster.bootstrap_servers());
//!
//! let producer = TracedProducer::from_config(&config)?;
//! let record = FutureRecord::to("orders").key("order-42").payload("{\"total\":12}");
//! let delivery = producer.send(record, std::time::Duration::from_secs(5)).await;
//! let delivered = delivery.map_err(|(e, _)| e)?;
//! assert_eq!(delivered.partition, 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Span attributes
//!
//! At the start (so samplers see them): `messaging.system` = `kafka`,
//! `messaging.operation.type` = `send`, `messaging.operation.name` = `send`,
//! `messaging.destination.name`, `messaging.destination.partition.id` when the record names a
//! partition, `server.address` and `server.port` (the first broker of `bootstrap.servers`),
//! `messaging.client.id` (`client.id`), `messaging.kafka.message.key` for a UTF-8 key (see
//! [`ProducerBuilder::with_key_attribute`]) and `messaging.kafka.message.tombstone` = `true` for
//! a record without payload.
//!
//! # When the span ends
//!
//! At the delivery report: on success with `messaging.destination.partition.id` and
//! `messaging.kafka.offset`; on failure with status Error and `error.type` set to librdkafka's
//! name of the error (`_MSG_TIMED_OUT`, `_QUEUE_FULL`, `KAFKA_STORAGE_ERROR`, `_OTHER` for an
//! error without code). A send future dropped before the report ends the span without status.
//!
//! # Headers
//!
//! The span's context is injected with the propagator (the global one unless
//! [`ProducerBuilder::with_propagator`] sets another) after removing every earlier trace header,
//! so a retried or forwarded record carries exactly one trace context; see
//! [`carrier`](crate::carrier). [`ProducerBuilder::with_injection`] turns injection off (for
//! brokers older than Kafka 0.11, which reject headers). Give tracewire-propagation's W3C
//! propagator to the builder for the cheapest injection (see `with_propagator`).
//!
//! # Cost
//!
//! Measured in `benches/producer.rs` and docs/adr/0034: the send span, its attributes and the
//! injected header cost about three times a bare SDK span start/end, most of it the SDK's own
//! work for a span with the conventions' attributes. A [`ThreadedProducer`] with
//! [`TracedProducerContext`](crate::TracedProducerContext) ends spans on the producer's polling
//! thread instead of the sending one.
//!
//! [`ThreadedProducer`]: rdkafka::producer::ThreadedProducer
//!
//! Spec: [OpenTelemetry semantic conventions for Kafka](https://opentelemetry.io/docs/specs/semconv/messaging/kafka/).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::global::BoxedSpan;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span, SpanContext, Status, Tracer};
use rdkafka::ClientConfig;
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::FromClientConfig;
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::ToBytes;
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::{AsyncRuntime, DefaultRuntime, Timeout};
use tracewire_core::semconv::OTHER;

use crate::metrics::MeterSource;
use crate::otel::GlobalTracer;
use crate::send::{Common, Outgoing, Settings};

pub use crate::send::SendScope;

/// A [`FutureProducer`] that traces every message it sends (see the [module docs](self)).
///
/// Cheap to clone: clones share the producer and its telemetry.
pub struct TracedProducer<C = DefaultClientContext, R = DefaultRuntime, T = GlobalTracer>
where
    C: ClientContext + 'static,
{
    producer: FutureProducer<C, R>,
    tracer: T,
    common: Arc<Common>,
}

impl<C, R, T> Clone for TracedProducer<C, R, T>
where
    C: ClientContext + 'static,
    T: Clone,
{
    fn clone(&self) -> Self {
        Self {
            producer: self.producer.clone(),
            tracer: self.tracer.clone(),
            common: Arc::clone(&self.common),
        }
    }
}

impl<C, R, T> std::fmt::Debug for TracedProducer<C, R, T>
where
    C: ClientContext + 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedProducer")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TracedProducer`] around an existing [`FutureProducer`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProducerBuilder<C = DefaultClientContext, R = DefaultRuntime, T = GlobalTracer>
where
    C: ClientContext + 'static,
{
    producer: FutureProducer<C, R>,
    tracer: T,
    settings: Settings,
}

impl TracedProducer<DefaultClientContext, DefaultRuntime, GlobalTracer> {
    /// Creates the [`FutureProducer`] from `config` and traces it with the global tracer and
    /// propagator, taking `server.address`/`server.port` from `bootstrap.servers` and
    /// `messaging.client.id` from `client.id`.
    ///
    /// # Errors
    ///
    /// What [`FutureProducer::from_config`] returns for an invalid configuration.
    pub fn from_config(config: &ClientConfig) -> KafkaResult<Self> {
        let producer = FutureProducer::<DefaultClientContext, DefaultRuntime>::from_config(config)?;
        Ok(Self::builder(producer).with_client_config(config).build())
    }
}

impl<C: ClientContext + 'static, R> TracedProducer<C, R, GlobalTracer> {
    /// A builder tracing `producer`, with the global tracer and propagator and no client
    /// attributes until [`ProducerBuilder::with_client_config`] gives them.
    pub fn builder(producer: FutureProducer<C, R>) -> ProducerBuilder<C, R, GlobalTracer> {
        ProducerBuilder {
            producer,
            tracer: crate::otel::global_tracer(),
            settings: Settings::default(),
        }
    }
}

impl<C: ClientContext + 'static, R, T> ProducerBuilder<C, R, T> {
    /// Takes `server.address`/`server.port` from `bootstrap.servers` (its first broker) and
    /// `messaging.client.id` from `client.id` of the configuration the producer was made from.
    pub fn with_client_config(mut self, config: &ClientConfig) -> Self {
        self.settings.client_config(config);
        self
    }

    /// Traces with `tracer` instead of the global tracer (a concrete tracer also saves the
    /// allocation of a boxed span per message).
    pub fn with_tracer<T2>(self, tracer: T2) -> ProducerBuilder<C, R, T2>
    where
        T2: Tracer,
    {
        ProducerBuilder {
            producer: self.producer,
            tracer,
            settings: self.settings,
        }
    }

    /// Injects with `propagator` instead of the globally installed one.
    ///
    /// tracewire-propagation's
    /// [`TraceContextPropagator`](tracewire_propagation::TraceContextPropagator), and its
    /// [`Propagators`](tracewire_propagation::Propagators) for `tracecontext` or
    /// `tracecontext,baggage`, are recognised: `traceparent` is then written straight into the
    /// headers from the span, without a `Context` or a `String` per message (the same headers as
    /// through the propagator's `inject_context`; docs/adr/0034).
    pub fn with_propagator<P>(mut self, propagator: P) -> Self
    where
        P: TextMapPropagator + Send + Sync + 'static,
    {
        self.settings.propagator(propagator);
        self
    }

    /// Whether to inject the span's context into the message headers (default `true`). Turn it
    /// off for brokers older than Kafka 0.11, which reject records with headers; earlier trace
    /// headers of the record are then left as they are.
    pub fn with_injection(mut self, inject: bool) -> Self {
        self.settings.inject = inject;
        self
    }

    /// Whether to record UTF-8 message keys as `messaging.kafka.message.key` (default `true`).
    /// Turn it off when keys carry data that must not reach the tracing backend.
    pub fn with_key_attribute(mut self, record: bool) -> Self {
        self.settings.record_key = record;
        self
    }

    /// Records metrics with `meter` instead of the global meter provider's.
    pub fn with_meter(mut self, meter: opentelemetry::metrics::Meter) -> Self {
        self.settings.meter = MeterSource::Given(meter);
        self
    }

    /// Records no metrics.
    pub fn without_metrics(mut self) -> Self {
        self.settings.meter = MeterSource::Off;
        self
    }

    /// The traced producer.
    pub fn build(self) -> TracedProducer<C, R, T> {
        TracedProducer {
            producer: self.producer,
            tracer: self.tracer,
            common: self.settings.build(),
        }
    }
}

impl<C, R, T> TracedProducer<C, R, T>
where
    C: ClientContext + 'static,
    R: AsyncRuntime,
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    /// The producer being traced (for flushing, transactions, metadata: anything but sending).
    pub fn inner(&self) -> &FutureProducer<C, R> {
        &self.producer
    }

    /// Like [`FutureProducer::send`], traced: the span starts now, as a child of the current
    /// context, and ends at the delivery report.
    ///
    /// The returned future is `Send` whenever the record's key and payload types are `Sync`:
    /// it holds the span, never a context guard.
    pub fn send<'a, K, P, Tm>(
        &'a self,
        record: FutureRecord<'a, K, P>,
        queue_timeout: Tm,
    ) -> impl Future<Output = OwnedDeliveryResult> + 'a
    where
        K: ToBytes + ?Sized + 'a,
        P: ToBytes + ?Sized + 'a,
        Tm: Into<Timeout> + 'a,
    {
        let (record, mut op) = self.start_send(record);
        let send = self.producer.send(record, queue_timeout);
        async move {
            let result = send.await;
            match &result {
                Ok(delivery) => op.on_delivered(delivery.partition, delivery.offset),
                // The queue stayed full for the whole `queue_timeout`: never enqueued (a
                // delivery report never says _QUEUE_FULL).
                Err((err, _)) if err.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                    op.on_not_enqueued(err);
                }
                Err((err, _)) => op.on_failed(err),
            }
            result
        }
    }

    /// Like [`FutureProducer::send_result`], traced: when enqueueing fails the span ends at
    /// once with the error, and the record comes back with this attempt's trace headers (a
    /// retry replaces them).
    ///
    /// # Errors
    ///
    /// What [`FutureProducer::send_result`] returns: the enqueue error and the record.
    #[allow(clippy::result_large_err, clippy::type_complexity)]
    pub fn send_result<'a, K, P>(
        &self,
        record: FutureRecord<'a, K, P>,
    ) -> Result<TracedDeliveryFuture<T::Span>, (KafkaError, FutureRecord<'a, K, P>)>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
    {
        let (record, op) = self.start_send(record);
        match self.producer.send_result(record) {
            Ok(inner) => Ok(TracedDeliveryFuture { inner, op }),
            Err((err, record)) => {
                op.not_enqueued(&err);
                Err((err, record))
            }
        }
    }

    /// Starts the send span of `record` and injects its context, for sending the record some
    /// other way (a custom retry loop, a transaction): send the returned record, then end the
    /// scope with [`SendScope::delivered`] or [`SendScope::failed`] (dropping it ends the span
    /// without status). [`Self::send`] and [`Self::send_result`] do exactly this.
    pub fn start_send<'a, K, P>(
        &self,
        mut record: FutureRecord<'a, K, P>,
    ) -> (FutureRecord<'a, K, P>, SendScope<T::Span>)
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
    {
        let outgoing = Outgoing::new(record.topic, record.partition, record.key, record.payload);
        let op = self
            .common
            .start(&self.tracer, outgoing, &mut record.headers);
        (record, op)
    }
}

/// The [`DeliveryFuture`] of a traced send: resolves like it and ends the send span with the
/// delivery report.
#[must_use = "futures do nothing unless polled; the span ends at the delivery report"]
pub struct TracedDeliveryFuture<S: Span = BoxedSpan> {
    inner: DeliveryFuture,
    op: SendScope<S>,
}

impl<S: Span> std::fmt::Debug for TracedDeliveryFuture<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedDeliveryFuture")
            .field("op", &self.op)
            .finish_non_exhaustive()
    }
}

impl<S: Span> TracedDeliveryFuture<S> {
    /// The span context of the send span (for instance to link other work to it).
    pub fn span_context(&self) -> &SpanContext {
        self.op.span_context()
    }
}

impl<S: Span + Unpin> Future for TracedDeliveryFuture<S> {
    type Output = <DeliveryFuture as Future>::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let out = std::task::ready!(Pin::new(&mut this.inner).poll(cx));
        match &out {
            Ok(Ok(delivery)) => this.op.on_delivered(delivery.partition, delivery.offset),
            Ok(Err((err, _))) => this.op.on_failed(err),
            Err(_canceled) => this.op.fail(
                OTHER,
                Status::error("delivery report canceled: the producer was dropped"),
            ),
        }
        Poll::Ready(out)
    }
}
