//! A [`StreamConsumer`](rdkafka::consumer::StreamConsumer) adapter: every message the stream
//! yields comes with its `process {topic}` span, which ends when the message is dropped or
//! finished.
//!
//! # Example
//!
//! ```
//! use futures_util::StreamExt;
//! use opentelemetry::trace::TraceContextExt;
//! use rdkafka::consumer::{Consumer, StreamConsumer};
//! use rdkafka::mocking::MockCluster;
//! use rdkafka::producer::FutureRecord;
//! use rdkafka::ClientConfig;
//! use tracewire_kafka::{ConsumerTelemetry, TracedProducer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cluster = MockCluster::new(1)?;
//! cluster.create_topic("orders", 1, 1)?;
//! let mut config = ClientConfig::new();
//! config.set("bootstrap.servers", cluster.bootstrap_servers());
//! let producer = TracedProducer::from_config(&config)?;
//! producer.send(FutureRecord::<str, str>::to("orders").payload("{}"), std::time::Duration::from_secs(5))
//!     .await
//!     .map_err(|(e, _)| e)?;
//!
//! config.set("group.id", "fulfillment").set("auto.offset.reset", "earliest");
//! let consumer: StreamConsumer = config.create()?;
//! consumer.subscribe(&["orders"])?;
//! let telemetry = ConsumerTelemetry::from_config(&config);
//!
//! let mut stream = telemetry.stream(consumer.stream());
//! while let Some(message) = stream.next().await {
//!     let message = message?;
//!     {
//!         let _guard = message.attach(); // synchronous work sees the process span
//!         assert!(opentelemetry::Context::current().has_active_span());
//!     }
//!     message.finish(&());
//!     break;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Attach the message's context around synchronous work ([`TracedMessage::attach`]) and wrap
//! futures with `opentelemetry::trace::FutureExt::with_context(fut, message.context().clone())`;
//! the loop body's own future stays `Send` since no guard is held across an await unless the
//! body does so itself.

use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::SystemTime;

use futures_util::Stream;
use opentelemetry::trace::Tracer;
use opentelemetry::{Context, ContextGuard};
use rdkafka::error::KafkaResult;
use rdkafka::message::BorrowedMessage;

use crate::consumer::{ConsumerTelemetry, Outcome, ProcessScope};

impl<T> ConsumerTelemetry<T>
where
    T: Tracer + Clone,
    T::Span: Send + Sync + 'static,
{
    /// Wraps a message stream (`StreamConsumer::stream()` or a partition queue's stream) so that
    /// every message comes with its process span.
    pub fn stream<S>(&self, stream: S) -> TracedStream<S, T> {
        TracedStream {
            inner: stream,
            telemetry: self.clone(),
            poll_spans: false,
            poll_started: None,
        }
    }
}

/// A message stream whose messages come with their process span (see the
/// [module docs](self)).
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct TracedStream<S, T> {
    inner: S,
    telemetry: ConsumerTelemetry<T>,
    poll_spans: bool,
    poll_started: Option<SystemTime>,
}

impl<S, T> TracedStream<S, T> {
    /// Also records a `poll {topic}` CLIENT span for every message, from the moment the stream
    /// was first polled for it to its arrival (default: off).
    pub fn with_poll_spans(mut self, record: bool) -> Self {
        self.poll_spans = record;
        self
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<'a, S, T> Stream for TracedStream<S, T>
where
    S: Stream<Item = KafkaResult<BorrowedMessage<'a>>> + Unpin,
    T: Tracer + Unpin,
    T::Span: Send + Sync + 'static,
{
    type Item = KafkaResult<TracedMessage<'a>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.poll_spans && this.poll_started.is_none() {
            this.poll_started = Some(SystemTime::now());
        }
        let item = std::task::ready!(Pin::new(&mut this.inner).poll_next(cx));
        let started = this.poll_started.take();
        Poll::Ready(item.map(|result| {
            result.map(|message| {
                if let Some(started) = started {
                    this.telemetry
                        .record_poll(started, std::slice::from_ref(&message));
                }
                let scope = this.telemetry.start_process(&message);
                TracedMessage { message, scope }
            })
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// A consumed message and its process span, which ends when this is dropped or finished.
/// Dereferences to the message.
#[derive(Debug)]
pub struct TracedMessage<'a> {
    message: BorrowedMessage<'a>,
    scope: ProcessScope,
}

impl<'a> TracedMessage<'a> {
    /// The context of the process span, for `FutureExt::with_context` or to read baggage.
    pub fn context(&self) -> &Context {
        self.scope.context()
    }

    /// Makes the process span's context current until the guard drops.
    pub fn attach(&self) -> ContextGuard {
        self.scope.attach()
    }

    /// Ends the process span with the handler's outcome and gives the message back (for
    /// committing its offset, for instance).
    pub fn finish<O: Outcome + ?Sized>(self, outcome: &O) -> BorrowedMessage<'a> {
        self.scope.finish(outcome);
        self.message
    }

    /// The message and its process scope, apart.
    pub fn into_parts(self) -> (BorrowedMessage<'a>, ProcessScope) {
        (self.message, self.scope)
    }
}

impl<'a> Deref for TracedMessage<'a> {
    type Target = BorrowedMessage<'a>;

    fn deref(&self) -> &BorrowedMessage<'a> {
        &self.message
    }
}
