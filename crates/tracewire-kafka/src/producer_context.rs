//! A traced [`ProducerContext`] for rdkafka's [`BaseProducer`] and [`ThreadedProducer`]: the
//! send span travels with the message as its delivery opaque and ends in librdkafka's delivery
//! callback, on the thread that polls the producer (a `ThreadedProducer`'s own thread), not on
//! the thread that sends.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use rdkafka::mocking::MockCluster;
//! use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
//! use rdkafka::ClientConfig;
//! use tracewire_kafka::{TracedProducerContext, TracedSendExt};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cluster = MockCluster::new(1)?; // librdkafka's in-process broker
//! cluster.create_topic("orders", 1, 1)?;
//! let mut config = ClientConfig::new();
//! config.set("bootstrap.servers", cluster.bootstrap_servers());
//!
//! let context = TracedProducerContext::builder(DefaultProducerContext)
//!     .with_client_config(&config)
//!     .build();
//! let producer: ThreadedProducer<_> = config.create_with_context(context)?;
//! producer
//!     .send_traced(BaseRecord::to("orders").key("order-42").payload("{\"total\":12}"))
//!     .map_err(|(e, _)| e)?;
//! producer.flush(Duration::from_secs(5))?; // the span ended at the delivery report
//! assert_eq!(producer.in_flight_count(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Span, attributes and headers
//!
//! The same `send {topic}` PRODUCER span as [`TracedProducer`](crate::TracedProducer)'s (see
//! the [`producer`](crate::producer) module): started by
//! [`send_traced`](TracedSendExt::send_traced) (or [`TracedProducerContext::start_send`]) as
//! a child of the current context, with the context injected into the headers.
//!
//! # When the span ends
//!
//! In [`ProducerContext::delivery`], with the delivery report's partition and offset or its
//! error, before the wrapped context's own `delivery` runs with its own opaque. A record that
//! fails to enqueue ends its span at once with the error ([`send_traced`] gives the record back
//! with the wrapped context's opaque). A producer dropped with messages in flight purges them,
//! and librdkafka reports each as failed (`_PURGE_QUEUE`), so every span ends.
//!
//! Why a context and not a wrapper around `FutureProducer`: docs/adr/0035.
//!
//! [`send_traced`]: TracedSendExt::send_traced

use std::error::Error;
use std::sync::Arc;

use opentelemetry::global::BoxedSpan;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span, SpanContext, Tracer};
use rdkafka::client::{ClientContext, OAuthToken};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::ToBytes;
use rdkafka::producer::{
    BaseProducer, BaseRecord, DefaultProducerContext, DeliveryResult, Partitioner, Producer as _,
    ProducerContext, ThreadedProducer,
};
use rdkafka::statistics::Statistics;
use rdkafka::util::IntoOpaque;
use rdkafka::{ClientConfig, Message as _};

use crate::metrics::MeterSource;
use crate::otel::GlobalTracer;
use crate::send::{Common, Outgoing, SendScope, Settings};

/// A [`ProducerContext`] that traces every message sent through it (see the
/// [module docs](self)), wrapping the application's own context `C`.
pub struct TracedProducerContext<C = DefaultProducerContext, T = GlobalTracer> {
    inner: C,
    tracer: T,
    common: Arc<Common>,
}

impl<C, T> std::fmt::Debug for TracedProducerContext<C, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedProducerContext")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TracedProducerContext`] around the application's producer context.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProducerContextBuilder<C = DefaultProducerContext, T = GlobalTracer> {
    inner: C,
    tracer: T,
    settings: Settings,
}

impl<C> TracedProducerContext<C, GlobalTracer> {
    /// A builder wrapping `inner` (`DefaultProducerContext` when the application has none of
    /// its own), with the global tracer and propagator and no client attributes until
    /// [`ProducerContextBuilder::with_client_config`] gives them.
    pub fn builder(inner: C) -> ProducerContextBuilder<C, GlobalTracer> {
        ProducerContextBuilder {
            inner,
            tracer: crate::otel::global_tracer(),
            settings: Settings::default(),
        }
    }
}

impl<C, T> ProducerContextBuilder<C, T> {
    /// Takes `server.address`/`server.port` from `bootstrap.servers` (its first broker) and
    /// `messaging.client.id` from `client.id` of the configuration the producer is made from.
    pub fn with_client_config(mut self, config: &ClientConfig) -> Self {
        self.settings.client_config(config);
        self
    }

    /// Traces with `tracer` instead of the global tracer.
    pub fn with_tracer<T2: Tracer>(self, tracer: T2) -> ProducerContextBuilder<C, T2> {
        ProducerContextBuilder {
            inner: self.inner,
            tracer,
            settings: self.settings,
        }
    }

    /// Injects with `propagator` instead of the globally installed one (see
    /// [`ProducerBuilder::with_propagator`](crate::ProducerBuilder::with_propagator) for the
    /// propagators injected directly).
    pub fn with_propagator<P>(mut self, propagator: P) -> Self
    where
        P: TextMapPropagator + Send + Sync + 'static,
    {
        self.settings.propagator(propagator);
        self
    }

    /// Whether to inject the span's context into the message headers (default `true`).
    pub fn with_injection(mut self, inject: bool) -> Self {
        self.settings.inject = inject;
        self
    }

    /// Whether to record UTF-8 message keys as `messaging.kafka.message.key` (default `true`).
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

    /// The traced context, to create a producer with (`ClientConfig::create_with_context`).
    pub fn build(self) -> TracedProducerContext<C, T> {
        TracedProducerContext {
            inner: self.inner,
            tracer: self.tracer,
            common: self.settings.build(),
        }
    }
}

impl<C, T> TracedProducerContext<C, T>
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    /// The application's own context.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Starts the send span of `record` and injects its context into its headers; the
    /// returned record carries the span and the record's own opaque to the delivery callback.
    /// [`TracedSendExt::send_traced`] does this and sends.
    pub fn start_send<'a, K, P, D>(
        &self,
        mut record: BaseRecord<'a, K, P, D>,
    ) -> BaseRecord<'a, K, P, Box<TracedDelivery<T::Span, D>>>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
        D: IntoOpaque,
    {
        let outgoing = Outgoing::new(record.topic, record.partition, record.key, record.payload);
        let scope = self
            .common
            .start(&self.tracer, outgoing, &mut record.headers);
        BaseRecord {
            topic: record.topic,
            partition: record.partition,
            payload: record.payload,
            key: record.key,
            timestamp: record.timestamp,
            headers: record.headers,
            delivery_opaque: Box::new(TracedDelivery {
                scope,
                opaque: record.delivery_opaque,
            }),
        }
    }

    /// Ends the span of a record that could not be enqueued with `err`, and gives the record
    /// back with its own opaque (and this attempt's trace headers, which a retry replaces).
    pub fn send_failed<'a, K, P, D>(
        &self,
        err: &KafkaError,
        record: BaseRecord<'a, K, P, Box<TracedDelivery<T::Span, D>>>,
    ) -> BaseRecord<'a, K, P, D>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
        D: IntoOpaque,
    {
        let TracedDelivery { mut scope, opaque } = *record.delivery_opaque;
        scope.on_not_enqueued(err);
        BaseRecord {
            topic: record.topic,
            partition: record.partition,
            payload: record.payload,
            key: record.key,
            timestamp: record.timestamp,
            headers: record.headers,
            delivery_opaque: opaque,
        }
    }
}

/// The delivery opaque of a traced send: the send span, and the opaque of the wrapped context.
pub struct TracedDelivery<S: Span = BoxedSpan, D = ()> {
    scope: SendScope<S>,
    opaque: D,
}

impl<S: Span, D> std::fmt::Debug for TracedDelivery<S, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedDelivery")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<S: Span, D> TracedDelivery<S, D> {
    /// The span context of the send span.
    pub fn span_context(&self) -> &SpanContext {
        self.scope.span_context()
    }

    /// The wrapped context's opaque.
    pub fn opaque(&self) -> &D {
        &self.opaque
    }

    /// The wrapped context's opaque; the span ends now, without status.
    pub fn into_opaque(self) -> D {
        self.opaque
    }
}

// === impl ClientContext, ProducerContext ===

impl<C: ClientContext, T: Send + Sync> ClientContext for TracedProducerContext<C, T> {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = C::ENABLE_REFRESH_OAUTH_TOKEN;

    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.inner.log(level, fac, log_message);
    }

    fn stats(&self, statistics: Statistics) {
        self.inner.stats(statistics);
    }

    fn stats_raw(&self, statistics: &[u8]) {
        self.inner.stats_raw(statistics);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.inner.error(error, reason);
    }

    fn generate_oauth_token(
        &self,
        oauthbearer_config: Option<&str>,
    ) -> Result<OAuthToken, Box<dyn Error>> {
        self.inner.generate_oauth_token(oauthbearer_config)
    }
}

impl<C, T, Part> ProducerContext<Part> for TracedProducerContext<C, T>
where
    C: ProducerContext<Part>,
    Part: Partitioner,
    T: Tracer + Send + Sync,
    T::Span: Send + Sync + 'static,
{
    type DeliveryOpaque = Box<TracedDelivery<T::Span, C::DeliveryOpaque>>;

    fn delivery(
        &self,
        delivery_result: &DeliveryResult<'_>,
        delivery_opaque: Self::DeliveryOpaque,
    ) {
        let TracedDelivery { mut scope, opaque } = *delivery_opaque;
        match delivery_result {
            Ok(message) => scope.on_delivered(message.partition(), message.offset()),
            Err((err, _)) => scope.on_failed(err),
        }
        drop(scope);
        self.inner.delivery(delivery_result, opaque);
    }

    fn get_custom_partitioner(&self) -> Option<&Part> {
        self.inner.get_custom_partitioner()
    }
}

// === impl TracedSendExt ===

mod sealed {
    pub trait Sealed {}
}

/// Sends through a producer made with a [`TracedProducerContext`]. Sealed: implemented for
/// [`BaseProducer`] and [`ThreadedProducer`].
pub trait TracedSendExt: sealed::Sealed {
    /// The delivery opaque of the wrapped context (`()` for `DefaultProducerContext`).
    type Opaque: IntoOpaque;

    /// Like `send`, traced: starts the send span, injects its context and enqueues the record;
    /// the span ends at the delivery report.
    ///
    /// # Errors
    ///
    /// What `send` returns when the record cannot be enqueued (`_QUEUE_FULL`, ...): the error
    /// and the record with its own opaque. Its span has ended with the error.
    #[allow(clippy::result_large_err, clippy::type_complexity)]
    fn send_traced<'a, K, P>(
        &self,
        record: BaseRecord<'a, K, P, Self::Opaque>,
    ) -> Result<(), (KafkaError, BaseRecord<'a, K, P, Self::Opaque>)>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized;
}

impl<C, T, Part> sealed::Sealed for BaseProducer<TracedProducerContext<C, T>, Part>
where
    C: ProducerContext<Part>,
    Part: Partitioner,
    T: Tracer + Send + Sync,
    T::Span: Send + Sync + 'static,
{
}

impl<C, T, Part> TracedSendExt for BaseProducer<TracedProducerContext<C, T>, Part>
where
    C: ProducerContext<Part>,
    Part: Partitioner,
    T: Tracer + Send + Sync,
    T::Span: Send + Sync + 'static,
{
    type Opaque = C::DeliveryOpaque;

    fn send_traced<'a, K, P>(
        &self,
        record: BaseRecord<'a, K, P, Self::Opaque>,
    ) -> Result<(), (KafkaError, BaseRecord<'a, K, P, Self::Opaque>)>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
    {
        let context = self.context();
        self.send(context.start_send(record))
            .map_err(|(err, record)| {
                let record = context.send_failed(&err, record);
                (err, record)
            })
    }
}

impl<C, T, Part> sealed::Sealed for ThreadedProducer<TracedProducerContext<C, T>, Part>
where
    C: ProducerContext<Part> + 'static,
    Part: Partitioner,
    T: Tracer + Send + Sync + 'static,
    T::Span: Send + Sync + 'static,
{
}

impl<C, T, Part> TracedSendExt for ThreadedProducer<TracedProducerContext<C, T>, Part>
where
    C: ProducerContext<Part> + 'static,
    Part: Partitioner,
    T: Tracer + Send + Sync + 'static,
    T::Span: Send + Sync + 'static,
{
    type Opaque = C::DeliveryOpaque;

    fn send_traced<'a, K, P>(
        &self,
        record: BaseRecord<'a, K, P, Self::Opaque>,
    ) -> Result<(), (KafkaError, BaseRecord<'a, K, P, Self::Opaque>)>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
    {
        let context = self.context();
        self.send(context.start_send(record))
            .map_err(|(err, record)| {
                let record = context.send_failed(&err, record);
                (err, record)
            })
    }
}
