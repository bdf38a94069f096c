//! The messaging metrics of the OpenTelemetry conventions: operation and process durations,
//! sent and consumed message counts. Attributes are low-cardinality only (system, operation,
//! topic, partition, consumer group, broker address, error type): never an offset, a key or an id.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::{KeyValue, global};
use tracewire_core::semconv::metric;

use crate::otel::scope;

/// Bucket boundaries the conventions advise for messaging durations, in seconds.
const DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Where the instruments come from.
#[derive(Debug, Clone, Default)]
pub(crate) enum MeterSource {
    /// The global meter provider, resolved when the first value is recorded.
    #[default]
    Global,
    /// A meter given to the builder.
    Given(Meter),
    /// No metrics.
    Off,
}

#[derive(Debug)]
struct Instruments {
    operation_duration: Histogram<f64>,
    sent: Counter<u64>,
    consumed: Counter<u64>,
    process_duration: Histogram<f64>,
}

impl Instruments {
    fn new(meter: &Meter) -> Self {
        Self {
            operation_duration: meter
                .f64_histogram(metric::MESSAGING_CLIENT_OPERATION_DURATION)
                .with_unit("s")
                .with_description(
                    "Duration of messaging operation initiated by a producer or consumer client.",
                )
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build(),
            sent: meter
                .u64_counter(metric::MESSAGING_CLIENT_SENT_MESSAGES)
                .with_unit("{message}")
                .with_description("Number of messages producer attempted to send to the broker.")
                .build(),
            consumed: meter
                .u64_counter(metric::MESSAGING_CLIENT_CONSUMED_MESSAGES)
                .with_unit("{message}")
                .with_description("Number of messages that were delivered to the application.")
                .build(),
            process_duration: meter
                .f64_histogram(metric::MESSAGING_PROCESS_DURATION)
                .with_unit("s")
                .with_description("Duration of processing operation.")
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build(),
        }
    }
}

/// The instruments of one producer or consumer, created on first use.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    source: MeterSource,
    instruments: OnceLock<Option<Instruments>>,
}

impl Metrics {
    pub(crate) fn new(source: MeterSource) -> Self {
        Self {
            source,
            instruments: OnceLock::new(),
        }
    }

    fn get(&self) -> Option<&Instruments> {
        self.instruments
            .get_or_init(|| match &self.source {
                MeterSource::Global => Some(Instruments::new(&global::meter_with_scope(scope()))),
                MeterSource::Given(m) => Some(Instruments::new(m)),
                MeterSource::Off => None,
            })
            .as_ref()
    }

    /// Whether anything is recorded (so attribute lists are worth building).
    pub(crate) fn enabled(&self) -> bool {
        !matches!(self.source, MeterSource::Off)
    }

    /// A finished send: its duration and one sent message.
    pub(crate) fn sent(&self, elapsed: Duration, attrs: &[KeyValue]) {
        if let Some(i) = self.get() {
            i.operation_duration.record(elapsed.as_secs_f64(), attrs);
            i.sent.add(1, attrs);
        }
    }

    /// A finished receive (`poll`): its duration.
    pub(crate) fn received(&self, elapsed: Duration, attrs: &[KeyValue]) {
        if let Some(i) = self.get() {
            i.operation_duration.record(elapsed.as_secs_f64(), attrs);
        }
    }

    /// A finished process operation over `count` messages: its duration and the messages it
    /// delivered to the application.
    pub(crate) fn processed(&self, elapsed: Duration, count: u64, attrs: &[KeyValue]) {
        if let Some(i) = self.get() {
            i.process_duration.record(elapsed.as_secs_f64(), attrs);
            i.consumed.add(count, attrs);
        }
    }
}
