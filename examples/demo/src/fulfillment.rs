//! fulfillment: consumes `orders` (tracewire-kafka's `TracedStream`: a `process orders` span per
//! message, continuing the producer's trace), runs `process-order` inside it, reads `user.id`
//! from the baggage that came with the message, and logs with slog and with `tracing`, both
//! lines carrying the trace ids.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracer;
use rdkafka::ClientConfig;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use tokio::sync::{Notify, watch};
use tracewire_api::SpanOptions;
use tracewire_api::baggage::baggage_value;
use tracewire_core::semconv::BAGGAGE_USER_ID;
use tracewire_kafka::ConsumerTelemetry;
use tracewire_sdk::tail::fnv1a64;

use crate::gateway::{splitmix, unit};
use crate::model::{ORDERS_TOPIC, PaidOrder, attr};
use crate::telemetry::{Telemetry, propagator};

/// Why an order could not be fulfilled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FulfillmentError {
    /// The message is not a paid order.
    #[error("the message is not a paid order: {0}")]
    BadMessage(#[from] serde_json::Error),
    /// The message has no payload.
    #[error("the message has no payload")]
    Empty,
}

/// The orders fulfilled so far, for whoever waits for them.
#[derive(Debug, Default)]
pub(crate) struct Fulfilled {
    ids: Mutex<HashSet<String>>,
    changed: Notify,
    assigned: watch::Sender<bool>,
}

impl Fulfilled {
    /// Waits until the consumer has partitions (the group's first rebalance takes a few
    /// seconds), or `timeout` passes; returns whether it has.
    pub(crate) async fn wait_assigned(&self, timeout: Duration) -> bool {
        let mut assigned = self.assigned.subscribe();
        tokio::time::timeout(timeout, assigned.wait_for(|a| *a))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    fn mark(&self, order_id: &str) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert(order_id.to_owned());
        }
        self.changed.notify_waiters();
    }

    /// How many of `ids` are fulfilled.
    pub(crate) fn count_of<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        self.ids
            .lock()
            .map(|done| ids.into_iter().filter(|id| done.contains(*id)).count())
            .unwrap_or(0)
    }

    /// Waits until every one of `ids` is fulfilled, or `timeout` passes; returns how many are.
    pub(crate) async fn wait_for(&self, ids: &[String], timeout: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            let done = self.count_of(ids.iter().map(String::as_str));
            if done == ids.len() {
                return done;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.count_of(ids.iter().map(String::as_str));
            }
        }
    }
}

/// Consumes `orders` until `stop` turns true.
pub(crate) async fn run(
    telemetry: &Telemetry,
    config: ClientConfig,
    log: slog::Logger,
    fulfilled: Arc<Fulfilled>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let consumer: StreamConsumer = config.create()?;
    consumer.subscribe(&[ORDERS_TOPIC])?;
    let kafka = ConsumerTelemetry::builder()
        .with_client_config(&config)
        .with_tracer(telemetry.tracer.clone())
        .with_propagator(propagator())
        .with_meter(telemetry.meter())
        .build();
    let tracer = telemetry.tracer.clone();
    let mut messages = kafka.stream(consumer.stream());
    let mut assignment = tokio::time::interval(Duration::from_millis(50));
    loop {
        let message = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            _ = assignment.tick(), if !*fulfilled.assigned.borrow() => {
                if consumer.assignment().is_ok_and(|a| a.count() > 0) {
                    fulfilled.assigned.send_replace(true);
                }
                continue;
            }
            next = messages.next() => next,
        };
        match message {
            None => break,
            Some(Err(e)) => {
                slog::warn!(log, "consumer error"; "error" => %e);
            }
            Some(Ok(message)) => {
                let parent = message.context().clone();
                let order = match message.payload() {
                    Some(bytes) => {
                        serde_json::from_slice::<PaidOrder>(bytes).map_err(FulfillmentError::from)
                    }
                    None => Err(FulfillmentError::Empty),
                };
                let outcome = process_order(&tracer, &log, parent, order).await;
                if let Ok(id) = &outcome {
                    fulfilled.mark(id);
                }
                message.finish(&outcome);
            }
        }
    }
    Ok(())
}

/// The article's consumer: a `process-order` span inside the message's context (the producer's
/// trace, and the baggage that came with it).
async fn process_order(
    tracer: &SdkTracer,
    log: &slog::Logger,
    parent: opentelemetry::Context,
    order: Result<PaidOrder, FulfillmentError>,
) -> Result<String, FulfillmentError> {
    let mut span = SpanOptions::new("process-order")
        .with_tracer(tracer)
        .with_parent_context(parent);
    if let Ok(order) = &order {
        span = span.with_attributes([
            KeyValue::new(attr::ORDER_ID, order.order_id.clone()),
            KeyValue::new(attr::ORDER_ITEMS, i64::from(order.items)),
        ]);
    }
    span.in_span_future(async move {
        let order = order?;
        // Downstream of checkout, without any change to the message's contract.
        let user = baggage_value(BAGGAGE_USER_ID).unwrap_or_else(|| "unknown".to_owned());
        slog::info!(log, "fulfilling order";
            "order_id" => &order.order_id, "user_id" => &user, "items" => order.items);
        // Picking and packing.
        let mut state = fnv1a64(order.order_id.as_bytes());
        let ms = 1.0 + 4.0 * unit(splitmix(&mut state));
        tokio::time::sleep(Duration::from_micros((ms * 1000.0) as u64)).await;
        tracing::info!(target: "fulfillment", order_id = %order.order_id, user_id = %user, "order shipped");
        Ok(order.order_id)
    })
    .await
}
