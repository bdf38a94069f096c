//! The send span shared by every traced producer: its start (attributes, injection), the scope
//! that ends it at the delivery report, and the send metrics.
//!
//! [`TracedProducer`](crate::TracedProducer) ends the scope when its delivery future resolves;
//! [`TracedProducerContext`](crate::TracedProducerContext) in librdkafka's delivery callback.
//! See docs/adr/0034 for why the hot path is written the way it is.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::global::BoxedSpan;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span, SpanBuilder, SpanContext, SpanKind, Status, Tracer};
use opentelemetry::{Context, KeyValue};
use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::{OwnedHeaders, ToBytes};
use tracewire_core::semconv::attribute;

use crate::attrs::{self, AttrBuf, ClientInfo, Push};
use crate::carrier::Propagation;
use crate::metrics::{self, MeterSource, Metrics, SetKey};
use crate::names::Topic;

/// `messaging.operation.type` and `messaging.operation.name` of a send.
const SEND: &str = "send";

/// Attributes every send span starts with: system, operation type and name, destination.
const START_ATTRS: usize = 4;

/// Attributes the delivery report adds: partition and offset.
const DELIVERY_ATTRS: usize = 2;

/// What a producer builder collects besides the tracer.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) propagation: Propagation,
    pub(crate) inject: bool,
    pub(crate) record_key: bool,
    pub(crate) client: ClientInfo,
    pub(crate) meter: MeterSource,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            propagation: Propagation::Global,
            inject: true,
            record_key: true,
            client: ClientInfo::default(),
            meter: MeterSource::Global,
        }
    }
}

impl Settings {
    pub(crate) fn client_config(&mut self, config: &ClientConfig) {
        let info = ClientInfo::from_config(config);
        self.client = ClientInfo {
            group: None,
            ..info
        };
    }

    pub(crate) fn propagator<P>(&mut self, propagator: P)
    where
        P: TextMapPropagator + Send + Sync + 'static,
    {
        self.propagation = Propagation::of(propagator);
    }

    pub(crate) fn build(self) -> Arc<Common> {
        Arc::new(Common {
            propagation: self.propagation,
            inject: self.inject,
            record_key: self.record_key,
            client: self.client,
            metrics: Metrics::new(self.meter),
        })
    }
}

/// Everything but the tracer, shared by a producer and its sends in flight.
#[derive(Debug)]
pub(crate) struct Common {
    propagation: Propagation,
    inject: bool,
    record_key: bool,
    client: ClientInfo,
    metrics: Metrics,
}

/// The parts of a record the send span is made from.
pub(crate) struct Outgoing<'a> {
    topic: &'a str,
    partition: Option<i32>,
    key: Option<&'a [u8]>,
    tombstone: bool,
}

impl<'a> Outgoing<'a> {
    /// The parts of a record (a `FutureRecord` or a `BaseRecord`): a record without payload is
    /// a tombstone.
    pub(crate) fn new<K, P>(
        topic: &'a str,
        partition: Option<i32>,
        key: Option<&'a K>,
        payload: Option<&P>,
    ) -> Self
    where
        K: ToBytes + ?Sized,
        P: ?Sized,
    {
        Self {
            topic,
            partition,
            key: key.map(ToBytes::to_bytes),
            tombstone: payload.is_none(),
        }
    }
}

impl Common {
    /// Starts the send span of `record` as a child of the current context and injects its
    /// context into `headers`.
    pub(crate) fn start<T>(
        self: &Arc<Self>,
        tracer: &T,
        record: Outgoing<'_>,
        headers: &mut Option<OwnedHeaders>,
    ) -> SendScope<T::Span>
    where
        T: Tracer,
        T::Span: Send + Sync + 'static,
    {
        let topic = Topic::of(record.topic);
        let key = if self.record_key {
            attrs::key(record.key)
        } else {
            None
        };
        // Sized for every attribute, including the two the delivery report adds, so the span's
        // list never grows.
        let count = START_ATTRS
            + usize::from(record.partition.is_some())
            + self.client.count(true)
            + usize::from(key.is_some())
            + usize::from(record.tombstone)
            + DELIVERY_ATTRS;
        let mut attrs = Vec::with_capacity(count);
        attrs::push_operation(
            &mut attrs,
            SEND,
            SEND,
            Some(topic.value()),
            record.partition.map(attrs::partition),
        );
        // Interned strings: building these attributes copies pointers (cloning pre-built
        // `KeyValue`s costs more, matching on every variant).
        self.client.push(&mut attrs, true);
        if let Some(kv) = key {
            attrs.push(kv);
        }
        if record.tombstone {
            attrs.push(KeyValue::new(
                attribute::MESSAGING_KAFKA_MESSAGE_TOMBSTONE,
                true,
            ));
        }
        let mut builder =
            SpanBuilder::from_name(topic.span_name(SEND)).with_kind(SpanKind::Producer);
        // Set, not `with_attributes`, which collects its argument into a new list.
        builder.attributes = Some(attrs);
        // With metrics on, one clock reading is both the span's start time and the start of
        // the duration metric (and one at the end both its end and the duration's): two
        // readings per message instead of four.
        let started = self.metrics.enabled().then(SystemTime::now);
        builder.start_time = started;
        // The span is kept as the tracer's own type, not in a `Context`: that would box it and
        // put it behind a mutex for the two attributes and the end still to come.
        let parent = Context::current();
        let span = tracer.build_with_context(builder, &parent);
        if self.inject {
            *headers = self
                .propagation
                .inject_span(&parent, span.span_context(), headers.take());
        }
        drop(parent);
        SendScope {
            recording: span.is_recording(),
            span,
            started,
            topic,
            partition: record.partition,
            common: Arc::clone(self),
            ended: false,
            enqueued: true,
        }
    }

    /// Records a finished send: its duration and, when the record was enqueued, one sent
    /// message.
    fn record_sent(
        &self,
        elapsed: Duration,
        topic: &Topic,
        partition: Option<i32>,
        error_type: Option<&'static str>,
        enqueued: bool,
    ) {
        let build = |attrs: &mut dyn Push| {
            attrs::push_operation(
                attrs,
                SEND,
                SEND,
                Some(topic.value()),
                partition.map(attrs::partition),
            );
            self.client.push(attrs, false);
            if let Some(e) = error_type {
                attrs.push(KeyValue::new(attribute::ERROR_TYPE, e));
            }
        };
        match topic {
            Topic::Interned(names) => {
                let key = SetKey {
                    owner: self.metrics.id(),
                    topic: std::ptr::from_ref(*names).addr(),
                    partition,
                    error: error_type,
                };
                metrics::with_set(
                    key,
                    |attrs| build(attrs),
                    |attrs| self.metrics.sent(elapsed, attrs, enqueued),
                );
            }
            Topic::Owned(_) => {
                let mut attrs = AttrBuf::new();
                build(&mut attrs);
                self.metrics.sent(elapsed, attrs.as_slice(), enqueued);
            }
        }
    }
}

/// One traced send in flight (see [`TracedProducer::start_send`]); ends its span exactly once.
///
/// `S` is the span type of the producer's tracer (a boxed span for the global tracer).
///
/// [`TracedProducer::start_send`]: crate::TracedProducer::start_send
#[must_use = "the send span ends when this is ended or dropped"]
pub struct SendScope<S: Span = BoxedSpan> {
    span: S,
    recording: bool,
    /// When the send span started, for the duration metric (`None` when metrics are off).
    started: Option<SystemTime>,
    topic: Topic,
    partition: Option<i32>,
    common: Arc<Common>,
    ended: bool,
    /// Whether the record reached the client's queue (a record that did not was never
    /// attempted, so `messaging.client.sent.messages` does not count it).
    enqueued: bool,
}

impl<S: Span> std::fmt::Debug for SendScope<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendScope")
            .field("span_context", self.span.span_context())
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<S: Span> SendScope<S> {
    /// The span context of the send span (to link other work to it, or to parent it with
    /// `Context::current().with_remote_span_context(..)`).
    pub fn span_context(&self) -> &SpanContext {
        self.span.span_context()
    }

    /// The send span, to add events or attributes before it ends.
    pub fn span_mut(&mut self) -> &mut S {
        &mut self.span
    }

    /// Ends the span with a successful delivery report.
    pub fn delivered(mut self, delivery: &rdkafka::producer::future_producer::Delivery) {
        self.on_delivered(delivery.partition, delivery.offset);
    }

    /// Ends the span with a failure.
    pub fn failed(mut self, err: &KafkaError) {
        self.on_failed(err);
    }

    /// Ends the span with a failure to enqueue the record (`_QUEUE_FULL`, say): like
    /// [`failed`](Self::failed), but the record, never handed to the client, is not counted in
    /// `messaging.client.sent.messages` (the operation still is, in
    /// `messaging.client.operation.duration` with its `error.type`).
    pub fn not_enqueued(mut self, err: &KafkaError) {
        self.on_not_enqueued(err);
    }

    pub(crate) fn on_not_enqueued(&mut self, err: &KafkaError) {
        self.enqueued = false;
        self.on_failed(err);
    }

    pub(crate) fn on_delivered(&mut self, partition: i32, offset: i64) {
        if self.recording {
            // A record that named its partition has the attribute already.
            if self.partition != Some(partition) {
                self.span.set_attribute(KeyValue::new(
                    attribute::MESSAGING_DESTINATION_PARTITION_ID,
                    attrs::partition(partition),
                ));
            }
            self.span
                .set_attribute(KeyValue::new(attribute::MESSAGING_KAFKA_OFFSET, offset));
        }
        self.partition = Some(partition);
        self.end(None);
    }

    pub(crate) fn on_failed(&mut self, err: &KafkaError) {
        let error_type = attrs::error_type(err);
        self.fail(error_type, Status::error(err.to_string()));
    }

    pub(crate) fn fail(&mut self, error_type: &'static str, status: Status) {
        self.span
            .set_attribute(KeyValue::new(attribute::ERROR_TYPE, error_type));
        self.span.set_status(status);
        self.end(Some(error_type));
    }

    fn end(&mut self, error_type: Option<&'static str>) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let Some(started) = self.started else {
            self.span.end();
            return;
        };
        let now = SystemTime::now();
        self.span.end_with_timestamp(now);
        // The span's own duration; a wall clock stepped back in between gives zero.
        let elapsed = now.duration_since(started).unwrap_or_default();
        self.common.record_sent(
            elapsed,
            &self.topic,
            self.partition,
            error_type,
            self.enqueued,
        );
    }
}

impl<S: Span> Drop for SendScope<S> {
    fn drop(&mut self) {
        // A send dropped before its delivery report: end the span (no status, since the outcome
        // is unknown), but record no metric for a send that may still succeed.
        if !self.ended {
            self.ended = true;
            self.span.end();
        }
    }
}
