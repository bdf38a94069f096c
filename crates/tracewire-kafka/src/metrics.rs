//! The messaging metrics of the OpenTelemetry conventions: operation and process durations,
//! sent and consumed message counts. Attributes are low-cardinality only (system, operation,
//! topic, partition, consumer group, broker address, error type): never an offset, a key or an id.
//!
//! Since they are low-cardinality, a client sees the same few attribute sets again and again: the
//! producer keeps them built, per thread ([`with_set`]), instead of assembling and dropping a
//! list of attributes for every message.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
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
#[derive(Debug)]
pub(crate) struct Metrics {
    source: MeterSource,
    instruments: OnceLock<Option<Instruments>>,
    id: u64,
}

impl Metrics {
    pub(crate) fn new(source: MeterSource) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            source,
            instruments: OnceLock::new(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A process-unique id of this client's metrics, for [`SetKey::owner`].
    pub(crate) fn id(&self) -> u64 {
        self.id
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

    /// A finished send: its duration and, when the record reached the client's queue, one
    /// sent message.
    pub(crate) fn sent(&self, elapsed: Duration, attrs: &[KeyValue], enqueued: bool) {
        if let Some(i) = self.get() {
            i.operation_duration.record(elapsed.as_secs_f64(), attrs);
            if enqueued {
                i.sent.add(1, attrs);
            }
        }
    }

    /// A finished receive (`poll`) of `count` messages: its duration and the messages.
    pub(crate) fn received(&self, elapsed: Duration, count: u64, attrs: &[KeyValue]) {
        if let Some(i) = self.get() {
            i.operation_duration.record(elapsed.as_secs_f64(), attrs);
            i.consumed.add(count, attrs);
        }
    }

    /// A finished process operation over messages: its duration and `count` messages
    /// delivered to the application (0 when they were counted at receive).
    pub(crate) fn processed(&self, elapsed: Duration, count: u64, attrs: &[KeyValue]) {
        if let Some(i) = self.get() {
            i.process_duration.record(elapsed.as_secs_f64(), attrs);
            if count > 0 {
                i.consumed.add(count, attrs);
            }
        }
    }
}

/// What one metric attribute set is made of, as far as it varies between the points of one
/// client: everything else in the set (system, operation, broker address) is fixed per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SetKey {
    /// The client ([`Metrics::id`]): ids are never reused, so a set cannot outlive its client's
    /// attributes under the same key.
    pub(crate) owner: u64,
    /// The address of the topic's interned names (see `names`): one per topic.
    pub(crate) topic: usize,
    /// The partition, when the set has one.
    pub(crate) partition: Option<i32>,
    /// `error.type`, when the set has one.
    pub(crate) error: Option<&'static str>,
}

impl SetKey {
    fn slot(&self) -> usize {
        let partition = u64::from(self.partition.map_or(u32::MAX, i32::cast_unsigned));
        let error = self.error.map_or(0, |e| e.as_ptr() as u64);
        let h = self.owner.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (self.topic as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            ^ partition.wrapping_mul(0x1656_67b1_9e37_79f9)
            ^ error.wrapping_mul(0x27d4_eb2f_1656_67c5);
        // The top bits of a multiplicative hash are the well-mixed ones.
        (h >> (64 - SLOT_BITS)) as usize
    }
}

/// log2 of the number of attribute sets each thread keeps.
const SLOT_BITS: u32 = 6;

type CachedSets = [Option<(SetKey, Rc<[KeyValue]>)>; 1 << SLOT_BITS];

thread_local! {
    /// Recently used metric attribute sets, direct-mapped by [`SetKey::slot`]: bounded (a
    /// collision replaces the older set), and per thread, so a lookup takes no lock and shares
    /// no cache line with other threads.
    static SETS: RefCell<CachedSets> = const { RefCell::new([const { None }; 1 << SLOT_BITS]) };
}

/// Runs `record` with the attribute set `key` stands for, built by `build` only when this thread
/// does not hold it yet.
pub(crate) fn with_set<R>(
    key: SetKey,
    build: impl FnOnce(&mut Vec<KeyValue>),
    record: impl FnOnce(&[KeyValue]) -> R,
) -> R {
    let mut build = Some(build);
    let cached = SETS
        .try_with(|sets| {
            // A metric recorded from inside a meter's own code on this thread (never in
            // practice) finds the cache borrowed and builds its set on the side.
            let mut sets = sets.try_borrow_mut().ok()?;
            let entry = sets.get_mut(key.slot())?;
            if let Some((k, set)) = entry
                && *k == key
            {
                return Some(Rc::clone(set));
            }
            let mut attrs = Vec::new();
            (build.take()?)(&mut attrs);
            let set: Rc<[KeyValue]> = attrs.into();
            *entry = Some((key, Rc::clone(&set)));
            Some(set)
        })
        .ok()
        .flatten();
    match cached {
        Some(set) => record(&set),
        None => {
            let mut attrs = Vec::new();
            if let Some(build) = build {
                build(&mut attrs);
            }
            record(&attrs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(owner: u64, partition: i32, error: Option<&'static str>) -> SetKey {
        SetKey {
            owner,
            topic: 0x1000,
            partition: Some(partition),
            error,
        }
    }

    #[test]
    fn sets_are_built_once_per_key_and_thread() {
        // Keys without an error type hash only integers, so their slots are the same on every
        // run; a key with an error type hashes the `&'static str`'s address, which moves from
        // run to run, so it is checked on its own (it cannot collide with itself).
        let keys = [(0, None), (1, None), (2, None)];
        let slots: std::collections::HashSet<usize> = keys
            .iter()
            .map(|&(p, e)| key(u64::MAX - 7, p, e).slot())
            .collect();
        assert_eq!(slots.len(), 3, "the three integer keys land in three slots");
        for set in [&keys[..], &[(0, Some("_MSG_TIMED_OUT"))][..]] {
            let mut builds = 0;
            for _ in 0..3 {
                for &(p, e) in set {
                    let got = with_set(
                        key(u64::MAX - 7, p, e),
                        |attrs| {
                            builds += 1;
                            attrs.push(KeyValue::new("p", i64::from(p)));
                            attrs.extend(e.map(|e| KeyValue::new("e", e)));
                        },
                        |attrs| attrs.to_vec(),
                    );
                    let mut want = vec![KeyValue::new("p", i64::from(p))];
                    want.extend(e.map(|e| KeyValue::new("e", e)));
                    assert_eq!(got, want);
                }
            }
            // Each set built once, then found.
            assert_eq!(builds, set.len());
        }
    }

    #[test]
    fn distinct_owners_never_share_a_set() {
        let a = with_set(
            key(1 << 40, 0, None),
            |v| v.push(KeyValue::new("o", "a")),
            |s| s.to_vec(),
        );
        let b = with_set(
            key(2 << 40, 0, None),
            |v| v.push(KeyValue::new("o", "b")),
            |s| s.to_vec(),
        );
        assert_eq!(a, [KeyValue::new("o", "a")]);
        assert_eq!(b, [KeyValue::new("o", "b")]);
    }
}
