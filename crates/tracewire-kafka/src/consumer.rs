//! Consumer telemetry: the `process {topic}` CONSUMER span around the application's handler
//! (one message or a batch), an optional `poll {topic}` CLIENT span, and the consumer metrics.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::TraceContextExt;
//! use opentelemetry::Context;
//! use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};
//! use rdkafka::ClientConfig;
//! use tracewire_kafka::ConsumerTelemetry;
//! use opentelemetry_sdk::propagation::TraceContextPropagator;
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use opentelemetry::trace::TracerProvider as _;
//!
//! let provider = SdkTracerProvider::builder().build();
//! let mut config = ClientConfig::new();
//! config.set("bootstrap.servers", "127.0.0.1:9092").set("group.id", "fulfillment");
//! let telemetry = ConsumerTelemetry::builder()
//!     .with_client_config(&config)
//!     .with_tracer(provider.tracer("fulfillment"))
//!     .with_propagator(TraceContextPropagator::new())
//!     .build();
//!
//! // A message as a producer in another service sent it.
//! let headers = OwnedHeaders::new().insert(Header {
//!     key: "traceparent",
//!     value: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
//! });
//! let message = OwnedMessage::new(
//!     Some(b"{}".to_vec()), Some(b"order-42".to_vec()), "orders".into(),
//!     Timestamp::NotAvailable, 0, 17, Some(headers),
//! );
//!
//! let trace_id = telemetry.process(&message, || {
//!     // The handler runs inside the process span, which continues the producer's trace.
//!     Context::current().span().span_context().trace_id()
//! });
//! assert_eq!(trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! ```
//!
//! # The process span
//!
//! Named `process {topic}`, kind CONSUMER, with `messaging.system` = `kafka`,
//! `messaging.operation.type` = `process`, `messaging.operation.name` = `process`,
//! `messaging.destination.name`, `messaging.destination.partition.id`, `messaging.kafka.offset`,
//! `messaging.kafka.message.key` (UTF-8 keys, see [`ConsumerBuilder::with_key_attribute`]),
//! `messaging.kafka.message.tombstone` for a message without payload,
//! `messaging.consumer.group.name` (`group.id`), `messaging.client.id` (`client.id`) and
//! `server.address`/`server.port`.
//!
//! The producer's context, extracted from the message headers, is always attached as a link;
//! [`ParentMode`] says when it is also the parent (by default: when there is no ambient span, so
//! a consumer loop without a span of its own continues the producer's trace). Baggage carried by
//! the message is put in the handler's context in every mode.
//!
//! The span ends when the handler returns (or its future completes). A handler returning
//! `Err(e)` sets status Error and `error.type` to the type name of `e` (see [`Outcome`]); a
//! handler that panics sets status Error with `error.type` = `panic` before the panic goes on.
//!
//! # Batches
//!
//! [`ConsumerTelemetry::process_batch`] makes one span for a batch:
//! `messaging.batch.message_count`, the topic and partition when all messages share them (the
//! name is then `process {topic}`, else `process`), and one link per message that carries a
//! context, with that message's `messaging.destination.partition.id` and
//! `messaging.kafka.offset` on the link. Its parent is the ambient context.
//!
//! # Poll spans
//!
//! [`ConsumerTelemetry::record_poll`] records a `poll {topic}` span of kind CLIENT
//! (`messaging.operation.type` = `receive`, `messaging.operation.name` = `poll`) after messages
//! arrived, from the moment the poll began, with one link per message. Nothing is recorded for
//! a poll that returned nothing, and no span stays open between polls.
//!
//! # Metrics
//!
//! `messaging.process.duration` per process operation, `messaging.client.operation.duration`
//! per recorded poll, and `messaging.client.consumed.messages` once per message: when it is
//! received once polls are recorded, else when it is processed (as the conventions ask when
//! both operations are instrumented); attributes are the low-cardinality ones only (system,
//! operation, topic, partition, group, broker address, error type).
//!
//! Spec: [OpenTelemetry semantic conventions for Kafka](https://opentelemetry.io/docs/specs/semconv/messaging/kafka/).

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    FutureExt as _, Link, Span as _, SpanBuilder, SpanContext, SpanKind, Status, TraceContextExt,
    Tracer,
};
use opentelemetry::{Context, ContextGuard, KeyValue, StringValue, Value};
use rdkafka::ClientConfig;
use rdkafka::Message;
use tracewire_core::semconv::attribute;

use crate::attrs::{self, AttrBuf, ClientInfo, Push as _};
use crate::carrier::{HeadersExtractor, KafkaHeaders, Propagation};
use crate::metrics::{MeterSource, Metrics};
use crate::names::Topic;
use crate::otel::GlobalTracer;

const PROCESS: &str = "process";
const POLL: &str = "poll";
const RECEIVE: &str = "receive";
/// `error.type` of a handler that panicked.
const PANIC: &str = "panic";

/// When the producer's context (from the message headers) becomes the parent of the process
/// span. It is attached as a link in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ParentMode {
    /// Never: the process span's parent is the ambient context (a new trace when there is
    /// none); the producer's span is only linked.
    LinkOnly,
    /// When there is no ambient span (the default): a bare consumer loop continues the
    /// producer's trace, a loop running inside a span of its own keeps it as parent.
    #[default]
    ParentWhenNoAmbient,
    /// Always when the message carries a valid context, replacing the ambient span.
    AlwaysParent,
}

/// What a handler returned, as far as tracing cares: whether it failed, and how.
///
/// Implemented for `()` (never fails) and `Result<T, E>` with `E: Display` (fails on `Err`,
/// with `error.type` = the type name of `E` and the error's text as status description). The
/// `try_*` methods of [`ConsumerTelemetry`] and [`ProcessScope::finish`] use it.
pub trait Outcome {
    /// `Some((error_type, description))` when the handler failed.
    fn failure(&self) -> Option<(Cow<'static, str>, String)>;
}

impl Outcome for () {
    fn failure(&self) -> Option<(Cow<'static, str>, String)> {
        None
    }
}

impl<T, E: std::fmt::Display> Outcome for Result<T, E> {
    fn failure(&self) -> Option<(Cow<'static, str>, String)> {
        match self {
            Ok(_) => None,
            Err(e) => Some((Cow::Borrowed(std::any::type_name::<E>()), e.to_string())),
        }
    }
}

/// Telemetry for the messages of one consumer (see the [module docs](self)).
///
/// Cheap to clone.
pub struct ConsumerTelemetry<T = GlobalTracer> {
    tracer: T,
    common: Arc<Common>,
}

#[derive(Debug)]
struct Common {
    propagation: Propagation,
    parent_mode: ParentMode,
    record_key: bool,
    client: ClientInfo,
    metrics: Metrics,
    /// Set by the first recorded poll: from then on messages are counted in
    /// `messaging.client.consumed.messages` when received, not again when processed.
    receives_counted: std::sync::atomic::AtomicBool,
}

impl<T: Clone> Clone for ConsumerTelemetry<T> {
    fn clone(&self) -> Self {
        Self {
            tracer: self.tracer.clone(),
            common: Arc::clone(&self.common),
        }
    }
}

impl<T> std::fmt::Debug for ConsumerTelemetry<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerTelemetry")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ConsumerTelemetry`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConsumerBuilder<T = GlobalTracer> {
    tracer: T,
    propagation: Propagation,
    parent_mode: ParentMode,
    record_key: bool,
    client: ClientInfo,
    meter: MeterSource,
}

impl ConsumerTelemetry<GlobalTracer> {
    /// Telemetry with the global tracer and propagator, taking `messaging.consumer.group.name`
    /// from `group.id`, `messaging.client.id` from `client.id` and `server.address`/`server.port`
    /// from `bootstrap.servers` of the consumer's configuration.
    pub fn from_config(config: &ClientConfig) -> Self {
        Self::builder().with_client_config(config).build()
    }

    /// A builder with the global tracer and propagator and no client attributes.
    pub fn builder() -> ConsumerBuilder<GlobalTracer> {
        ConsumerBuilder {
            tracer: crate::otel::global_tracer(),
            propagation: Propagation::Global,
            parent_mode: ParentMode::default(),
            record_key: true,
            client: ClientInfo::default(),
            meter: MeterSource::Global,
        }
    }
}

impl<T> ConsumerBuilder<T> {
    /// Takes the group, client id and first broker from the consumer's configuration.
    pub fn with_client_config(mut self, config: &ClientConfig) -> Self {
        self.client = ClientInfo::from_config(config);
        self
    }

    /// Traces with `tracer` instead of the global tracer.
    pub fn with_tracer<T2: Tracer>(self, tracer: T2) -> ConsumerBuilder<T2> {
        ConsumerBuilder {
            tracer,
            propagation: self.propagation,
            parent_mode: self.parent_mode,
            record_key: self.record_key,
            client: self.client,
            meter: self.meter,
        }
    }

    /// Extracts with `propagator` instead of the globally installed one.
    pub fn with_propagator<P>(mut self, propagator: P) -> Self
    where
        P: TextMapPropagator + Send + Sync + 'static,
    {
        self.propagation = Propagation::of(propagator);
        self
    }

    /// When the producer's context becomes the process span's parent (default
    /// [`ParentMode::ParentWhenNoAmbient`]).
    pub fn with_parent_mode(mut self, mode: ParentMode) -> Self {
        self.parent_mode = mode;
        self
    }

    /// Whether to record UTF-8 message keys as `messaging.kafka.message.key` (default `true`).
    pub fn with_key_attribute(mut self, record: bool) -> Self {
        self.record_key = record;
        self
    }

    /// Records metrics with `meter` instead of the global meter provider's.
    pub fn with_meter(mut self, meter: opentelemetry::metrics::Meter) -> Self {
        self.meter = MeterSource::Given(meter);
        self
    }

    /// Records no metrics.
    pub fn without_metrics(mut self) -> Self {
        self.meter = MeterSource::Off;
        self
    }

    /// The telemetry.
    pub fn build(self) -> ConsumerTelemetry<T> {
        ConsumerTelemetry {
            tracer: self.tracer,
            common: Arc::new(Common {
                propagation: self.propagation,
                parent_mode: self.parent_mode,
                record_key: self.record_key,
                client: self.client,
                metrics: Metrics::new(self.meter),
                receives_counted: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }
}

impl<T> ConsumerTelemetry<T>
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    /// The context the producer of `message` sent (trace context and baggage), extracted from
    /// its headers with the configured propagator; an empty context when it carries none.
    pub fn extract<M>(&self, message: &M) -> Context
    where
        M: Message,
        M::Headers: KafkaHeaders,
    {
        let extractor = HeadersExtractor::new(message);
        self.common
            .propagation
            .with(|p| p.extract_with_context(&Context::new(), &extractor))
    }

    /// Runs `handler` inside a `process {topic}` span for `message` and returns what it
    /// returned. The span's status stays unset; use [`Self::try_process`] for handlers that can
    /// fail.
    pub fn process<M, F, O>(&self, message: &M, handler: F) -> O
    where
        M: Message,
        M::Headers: KafkaHeaders,
        F: FnOnce() -> O,
    {
        run(self.start_process(message), handler, |_| None)
    }

    /// Like [`Self::process`] for a handler returning a `Result`: an `Err` sets status Error and
    /// `error.type` (see [`Outcome`]).
    pub fn try_process<M, F, V, E>(&self, message: &M, handler: F) -> Result<V, E>
    where
        M: Message,
        M::Headers: KafkaHeaders,
        F: FnOnce() -> Result<V, E>,
        E: std::fmt::Display,
    {
        run(self.start_process(message), handler, Outcome::failure)
    }

    /// Runs `handler` to completion inside a `process {topic}` span for `message`.
    ///
    /// The span starts now (in the current context) and the future runs with the span's context
    /// attached at every poll; the span ends when the future completes. The returned future is
    /// `Send` when `handler` is; it does not borrow `message`.
    pub fn process_async<M, Fut>(
        &self,
        message: &M,
        handler: Fut,
    ) -> impl Future<Output = Fut::Output> + use<M, Fut, T>
    where
        M: Message,
        M::Headers: KafkaHeaders,
        Fut: Future,
    {
        run_async(self.start_process(message), handler, |_| None)
    }

    /// Like [`Self::process_async`] for a future resolving to a `Result`: an `Err` sets status
    /// Error and `error.type`.
    pub fn try_process_async<M, Fut, V, E>(
        &self,
        message: &M,
        handler: Fut,
    ) -> impl Future<Output = Result<V, E>> + use<M, Fut, T, V, E>
    where
        M: Message,
        M::Headers: KafkaHeaders,
        Fut: Future<Output = Result<V, E>>,
        E: std::fmt::Display,
    {
        run_async(self.start_process(message), handler, Outcome::failure)
    }

    /// Starts the process span of `message` by hand: attach its [`ProcessScope::context`] to
    /// the work, then [`ProcessScope::finish`] it (dropping it ends the span too).
    pub fn start_process<M>(&self, message: &M) -> ProcessScope
    where
        M: Message,
        M::Headers: KafkaHeaders,
    {
        let common = &self.common;
        let ambient = Context::current();
        let extracted = self.extract(message);
        let remote = extracted.span().span_context().clone();
        let parent_from_message = remote.is_valid()
            && match common.parent_mode {
                ParentMode::LinkOnly => false,
                ParentMode::ParentWhenNoAmbient => !ambient.has_active_span(),
                ParentMode::AlwaysParent => true,
            };
        let mut parent = if parent_from_message {
            ambient.with_remote_span_context(remote.clone())
        } else {
            ambient
        };
        let message_baggage = extracted.baggage();
        if !message_baggage.is_empty() {
            // `Baggage` is not `Clone`: copy its entries (only for messages that carry any).
            let baggage: Baggage = message_baggage
                .iter()
                .map(|(k, (v, m))| (k.clone(), (v.clone(), m.clone())))
                .collect();
            parent = parent.with_baggage(baggage);
        }

        let names = Topic::of(message.topic());
        let topic = names.value();
        let partition = attrs::partition(message.partition());
        let mut attrs = Vec::with_capacity(14);
        attrs::push_operation(
            &mut attrs,
            PROCESS,
            PROCESS,
            Some(topic.clone()),
            Some(partition.clone()),
        );
        attrs.push(KeyValue::new(
            attribute::MESSAGING_KAFKA_OFFSET,
            message.offset(),
        ));
        common.client.push(&mut attrs, true);
        if common.record_key
            && let Some(kv) = attrs::key(message.key())
        {
            attrs.push(kv);
        }
        if message.payload().is_none() {
            attrs.push(KeyValue::new(
                attribute::MESSAGING_KAFKA_MESSAGE_TOMBSTONE,
                true,
            ));
        }
        let mut builder = SpanBuilder::from_name(names.span_name(PROCESS))
            .with_kind(SpanKind::Consumer)
            .with_attributes(attrs);
        if remote.is_valid() {
            builder = builder.with_links(vec![Link::with_context(remote)]);
        }
        let span = self.tracer.build_with_context(builder, &parent);
        ProcessScope {
            cx: parent.with_span(span),
            started: Instant::now(),
            topic: Some(topic),
            partition: Some(partition),
            count: 1,
            common: Arc::clone(common),
            ended: false,
        }
    }

    /// Runs `handler` inside one `process` span for a batch of messages (see the
    /// [module docs](self#batches)).
    pub fn process_batch<M, F, O>(&self, messages: &[M], handler: F) -> O
    where
        M: Message,
        M::Headers: KafkaHeaders,
        F: FnOnce() -> O,
    {
        run(self.start_batch(messages), handler, |_| None)
    }

    /// Like [`Self::process_batch`] for a handler returning a `Result`.
    pub fn try_process_batch<M, F, V, E>(&self, messages: &[M], handler: F) -> Result<V, E>
    where
        M: Message,
        M::Headers: KafkaHeaders,
        F: FnOnce() -> Result<V, E>,
        E: std::fmt::Display,
    {
        run(self.start_batch(messages), handler, Outcome::failure)
    }

    /// Runs `handler` to completion inside one `process` span for a batch of messages.
    pub fn process_batch_async<M, Fut>(
        &self,
        messages: &[M],
        handler: Fut,
    ) -> impl Future<Output = Fut::Output> + use<M, Fut, T>
    where
        M: Message,
        M::Headers: KafkaHeaders,
        Fut: Future,
    {
        run_async(self.start_batch(messages), handler, |_| None)
    }

    /// Like [`Self::process_batch_async`] for a future resolving to a `Result`.
    pub fn try_process_batch_async<M, Fut, V, E>(
        &self,
        messages: &[M],
        handler: Fut,
    ) -> impl Future<Output = Result<V, E>> + use<M, Fut, T, V, E>
    where
        M: Message,
        M::Headers: KafkaHeaders,
        Fut: Future<Output = Result<V, E>>,
        E: std::fmt::Display,
    {
        run_async(self.start_batch(messages), handler, Outcome::failure)
    }

    /// Starts the process span of a batch by hand.
    pub fn start_batch<M>(&self, messages: &[M]) -> ProcessScope
    where
        M: Message,
        M::Headers: KafkaHeaders,
    {
        let common = &self.common;
        let parent = Context::current();
        let (names, partition) = common_destination(messages);
        let topic = names.as_ref().map(Topic::value);
        let mut attrs = Vec::with_capacity(12);
        attrs::push_operation(
            &mut attrs,
            PROCESS,
            PROCESS,
            topic.clone(),
            partition.clone(),
        );
        attrs.push(KeyValue::new(
            attribute::MESSAGING_BATCH_MESSAGE_COUNT,
            i64::try_from(messages.len()).unwrap_or(i64::MAX),
        ));
        common.client.push(&mut attrs, true);
        let name = span_name(PROCESS, names.as_ref());
        let builder = SpanBuilder::from_name(name)
            .with_kind(SpanKind::Consumer)
            .with_attributes(attrs)
            .with_links(self.message_links(messages));
        let span = self.tracer.build_with_context(builder, &parent);
        ProcessScope {
            cx: parent.with_span(span),
            started: Instant::now(),
            topic,
            partition,
            count: messages.len(),
            common: Arc::clone(common),
            ended: false,
        }
    }

    /// Records a `poll {topic}` CLIENT span for `messages`, received by a poll that began at
    /// `started` and ends now; records nothing when `messages` is empty.
    pub fn record_poll<M>(&self, started: SystemTime, messages: &[M])
    where
        M: Message,
        M::Headers: KafkaHeaders,
    {
        if messages.is_empty() {
            return;
        }
        let common = &self.common;
        let (names, partition) = common_destination(messages);
        let topic = names.as_ref().map(Topic::value);
        let mut attrs = Vec::with_capacity(12);
        attrs::push_operation(&mut attrs, RECEIVE, POLL, topic.clone(), partition.clone());
        if let [message] = messages {
            attrs.push(KeyValue::new(
                attribute::MESSAGING_KAFKA_OFFSET,
                message.offset(),
            ));
        } else {
            attrs.push(KeyValue::new(
                attribute::MESSAGING_BATCH_MESSAGE_COUNT,
                i64::try_from(messages.len()).unwrap_or(i64::MAX),
            ));
        }
        common.client.push(&mut attrs, true);
        let builder = SpanBuilder::from_name(span_name(POLL, names.as_ref()))
            .with_kind(SpanKind::Client)
            .with_start_time(started)
            .with_attributes(attrs)
            .with_links(self.message_links(messages));
        let mut span = self.tracer.build_with_context(builder, &Context::current());
        span.end();
        let elapsed = SystemTime::now()
            .duration_since(started)
            .unwrap_or_default();
        common
            .receives_counted
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if common.metrics.enabled() {
            let mut metric_attrs = AttrBuf::new();
            attrs::push_operation(&mut metric_attrs, RECEIVE, POLL, topic, partition);
            common.client.push(&mut metric_attrs, false);
            common
                .metrics
                .received(elapsed, messages.len() as u64, metric_attrs.as_slice());
        }
    }

    /// One link per message that carries a valid context, with the message's partition and
    /// offset on the link.
    fn message_links<M>(&self, messages: &[M]) -> Vec<Link>
    where
        M: Message,
        M::Headers: KafkaHeaders,
    {
        let mut links = Vec::with_capacity(messages.len());
        for m in messages {
            let sc: SpanContext = self.extract(m).span().span_context().clone();
            if sc.is_valid() {
                links.push(Link::new(
                    sc,
                    vec![
                        KeyValue::new(
                            attribute::MESSAGING_DESTINATION_PARTITION_ID,
                            attrs::partition(m.partition()),
                        ),
                        KeyValue::new(attribute::MESSAGING_KAFKA_OFFSET, m.offset()),
                    ],
                    0,
                ));
            }
        }
        links
    }
}

type Failure = Option<(Cow<'static, str>, String)>;

/// Runs a synchronous handler inside `scope` and ends it with what `classify` makes of the result.
fn run<O>(scope: ProcessScope, handler: impl FnOnce() -> O, classify: fn(&O) -> Failure) -> O {
    let out = {
        let _guard = scope.attach();
        handler()
    };
    scope.end_with(classify(&out));
    out
}

/// Runs a future inside `scope` and ends it with what `classify` makes of the output.
async fn run_async<Fut: Future>(
    scope: ProcessScope,
    handler: Fut,
    classify: fn(&Fut::Output) -> Failure,
) -> Fut::Output {
    let cx = scope.context().clone();
    let out = handler.with_context(cx).await;
    scope.end_with(classify(&out));
    out
}

/// `{operation} {topic}`, or the operation alone when the topic is not one.
fn span_name(operation: &'static str, topic: Option<&Topic>) -> Cow<'static, str> {
    match topic {
        Some(t) => t.span_name(operation),
        None => Cow::Borrowed(operation),
    }
}

/// The topic and partition every message shares (each `None` when they differ or there is no
/// message).
fn common_destination<M: Message>(messages: &[M]) -> (Option<Topic>, Option<Value>) {
    let Some(first) = messages.first() else {
        return (None, None);
    };
    let same_topic = messages.iter().all(|m| m.topic() == first.topic());
    let same_partition = same_topic && messages.iter().all(|m| m.partition() == first.partition());
    (
        same_topic.then(|| Topic::of(first.topic())),
        same_partition.then(|| attrs::partition(first.partition())),
    )
}

/// A process span in progress: attach its context to the work, then finish it. Dropping it
/// ends the span as well (with status Error if the thread is panicking).
#[derive(Debug)]
#[must_use = "the process span ends when this is finished or dropped"]
pub struct ProcessScope {
    cx: Context,
    started: Instant,
    topic: Option<StringValue>,
    partition: Option<Value>,
    count: usize,
    common: Arc<Common>,
    ended: bool,
}

impl ProcessScope {
    /// The context of the process span: the handler's context (with the message's baggage).
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Makes the span's context current until the guard drops (for synchronous code; for
    /// futures use `opentelemetry::trace::FutureExt::with_context` with [`Self::context`]).
    pub fn attach(&self) -> ContextGuard {
        self.cx.clone().attach()
    }

    /// Ends the span with the handler's outcome (`&()` when there is none to report).
    pub fn finish<O: Outcome + ?Sized>(self, outcome: &O) {
        self.end_with(outcome.failure());
    }

    fn end_with(mut self, failure: Failure) {
        self.end(failure);
    }

    fn end(&mut self, failure: Failure) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let span = self.cx.span();
        let error_type = failure.map(|(error_type, description)| {
            span.set_attribute(KeyValue::new(attribute::ERROR_TYPE, error_type.clone()));
            span.set_status(Status::error(description));
            error_type
        });
        span.end();
        let metrics = &self.common.metrics;
        if metrics.enabled() {
            let mut attrs = AttrBuf::new();
            attrs::push_operation(
                &mut attrs,
                PROCESS,
                PROCESS,
                self.topic.clone(),
                self.partition.clone(),
            );
            self.common.client.push(&mut attrs, false);
            if let Some(e) = error_type {
                attrs.push(KeyValue::new(attribute::ERROR_TYPE, e));
            }
            // Counted when received instead, once polls are recorded.
            let count = if self
                .common
                .receives_counted
                .load(std::sync::atomic::Ordering::Relaxed)
            {
                0
            } else {
                u64::try_from(self.count).unwrap_or(u64::MAX)
            };
            metrics.processed(self.started.elapsed(), count, attrs.as_slice());
        }
    }
}

impl Drop for ProcessScope {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let failure = std::thread::panicking().then(|| {
            (
                Cow::Borrowed(PANIC),
                "the message handler panicked".to_owned(),
            )
        });
        self.end(failure);
    }
}
