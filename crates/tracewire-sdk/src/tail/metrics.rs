//! The processor's metrics, through the global meter, under the Collector's names where one
//! applies (`otelcol_processor_tail_sampling_*`, from its `documentation.md`) and tracewire's
//! (`tracewire_tail_sampling_*`) for what only the in-process processor has.
//!
//! The worker thread counts locally and records about once a second, so nothing is recorded on
//! the thread that ends a span.

use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use opentelemetry::{InstrumentationScope, KeyValue};

use super::engine::Counters;

/// Instrument names, public so that dashboards and tests can refer to them.
pub mod names {
    /// Traces sampled or not, per policy (`policy`, `sampled`, `decision` attributes).
    pub const COUNT_TRACES_SAMPLED: &str = "otelcol_processor_tail_sampling_count_traces_sampled";
    /// Traces sampled or not by the processor (`sampled`, `decision` attributes).
    pub const GLOBAL_COUNT_TRACES_SAMPLED: &str =
        "otelcol_processor_tail_sampling_global_count_traces_sampled";
    /// Traces in memory (gauge).
    pub const TRACES_ON_MEMORY: &str = "otelcol_processor_tail_sampling_sampling_traces_on_memory";
    /// Traces that left the buffer before `decision_wait` because it was full (`num_traces` or
    /// the byte budget). tracewire decides them early (the default) or discards them.
    pub const TRACE_DROPPED_TOO_EARLY: &str =
        "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early";
    /// Traces over `maximum_trace_size_bytes`, not sampled.
    pub const TRACES_DROPPED_TOO_LARGE: &str =
        "otelcol_processor_tail_sampling_traces_dropped_too_large";
    /// Late spans that followed a cached decision (`sampled` attribute).
    pub const EARLY_RELEASES_FROM_CACHE_DECISION: &str =
        "otelcol_processor_tail_sampling_early_releases_from_cache_decision";
    /// New traces.
    pub const NEW_TRACE_ID_RECEIVED: &str = "otelcol_processor_tail_sampling_new_trace_id_received";
    /// Seconds from a trace's decision to the arrival of one of its late spans.
    pub const LATE_SPAN_AGE: &str = "otelcol_processor_tail_sampling_sampling_late_span_age";
    /// Seconds from a trace's first span to its removal from memory.
    pub const TRACE_REMOVAL_AGE: &str =
        "otelcol_processor_tail_sampling_sampling_trace_removal_age";
    /// Bytes of spans buffered (gauge).
    pub const BUFFERED_BYTES: &str = "tracewire_tail_sampling_buffered_bytes";
    /// Spans the processor could not take or export (`reason`: `queue_full`, `after_shutdown`,
    /// `export_queue_full`).
    pub const SPANS_DROPPED: &str = "tracewire_tail_sampling_spans_dropped";
    /// Traces decided before their time (`reason`: `num_traces`, `memory`, `trace_size`).
    pub const TRACES_DECIDED_EARLY: &str = "tracewire_tail_sampling_traces_decided_early";
}

#[derive(Debug)]
pub(crate) struct Instruments {
    count_traces_sampled: Counter<u64>,
    global_count_traces_sampled: Counter<u64>,
    traces_on_memory: Gauge<i64>,
    dropped_too_early: Counter<u64>,
    dropped_too_large: Counter<u64>,
    early_releases: Counter<u64>,
    new_traces: Counter<u64>,
    late_span_age: Histogram<u64>,
    removal_age: Histogram<u64>,
    buffered_bytes: Gauge<i64>,
    spans_dropped: Counter<u64>,
    decided_early: Counter<u64>,
    policy_attrs: Vec<[Vec<KeyValue>; 5]>,
    last: Counters,
    last_drops: [u64; 3],
}

const DECISION_ATTRS: [(&str, &str); 5] = [
    ("true", "sampled"),
    ("false", "not_sampled"),
    ("false", "dropped"),
    ("true", "sampled"),
    ("false", "not_sampled"),
];

/// Monotonic counts the processor keeps outside the engine: spans dropped on the span-ending
/// thread or before export.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DropCounts {
    pub(crate) queue_full: u64,
    pub(crate) after_shutdown: u64,
    pub(crate) export_queue_full: u64,
}

impl Instruments {
    pub(crate) fn new(policy_names: &[String]) -> Self {
        let meter: Meter = opentelemetry::global::meter_with_scope(
            InstrumentationScope::builder("tracewire-sdk")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        let policy_attrs = policy_names
            .iter()
            .map(|name| {
                DECISION_ATTRS.map(|(sampled, decision)| {
                    vec![
                        KeyValue::new("policy", name.clone()),
                        KeyValue::new("sampled", sampled),
                        KeyValue::new("decision", decision),
                    ]
                })
            })
            .collect();
        Self {
            count_traces_sampled: meter
                .u64_counter(names::COUNT_TRACES_SAMPLED)
                .with_description("Count of traces that were sampled or not per sampling policy")
                .with_unit("{traces}")
                .build(),
            global_count_traces_sampled: meter
                .u64_counter(names::GLOBAL_COUNT_TRACES_SAMPLED)
                .with_description(
                    "Global count of traces that were sampled or not by at least one policy",
                )
                .with_unit("{traces}")
                .build(),
            traces_on_memory: meter
                .i64_gauge(names::TRACES_ON_MEMORY)
                .with_description("Tracks the number of traces current on memory")
                .with_unit("{traces}")
                .build(),
            dropped_too_early: meter
                .u64_counter(names::TRACE_DROPPED_TOO_EARLY)
                .with_description(
                    "Count of traces that needed to be removed before the configured wait time",
                )
                .with_unit("{traces}")
                .build(),
            dropped_too_large: meter
                .u64_counter(names::TRACES_DROPPED_TOO_LARGE)
                .with_description("Count of traces not sampled for exceeding maximum_trace_size_bytes")
                .with_unit("{traces}")
                .build(),
            early_releases: meter
                .u64_counter(names::EARLY_RELEASES_FROM_CACHE_DECISION)
                .with_description(
                    "Number of spans that were able to be immediately released due to a decision cache hit.",
                )
                .with_unit("{spans}")
                .build(),
            new_traces: meter
                .u64_counter(names::NEW_TRACE_ID_RECEIVED)
                .with_description("Counts the arrival of new traces")
                .with_unit("{traces}")
                .build(),
            late_span_age: meter
                .u64_histogram(names::LATE_SPAN_AGE)
                .with_description(
                    "Time (in seconds) from the sampling decision was taken and the arrival of a late span",
                )
                .with_unit("s")
                .build(),
            removal_age: meter
                .u64_histogram(names::TRACE_REMOVAL_AGE)
                .with_description(
                    "Time (in seconds) from arrival of a new trace until its removal from memory",
                )
                .with_unit("s")
                .build(),
            buffered_bytes: meter
                .i64_gauge(names::BUFFERED_BYTES)
                .with_description("Bytes of spans buffered while their traces wait for a decision")
                .with_unit("By")
                .build(),
            spans_dropped: meter
                .u64_counter(names::SPANS_DROPPED)
                .with_description("Spans the tail sampling processor could not take or export")
                .with_unit("{spans}")
                .build(),
            decided_early: meter
                .u64_counter(names::TRACES_DECIDED_EARLY)
                .with_description("Traces decided before their decision_wait to bound memory")
                .with_unit("{traces}")
                .build(),
            policy_attrs,
            last: Counters::default(),
            last_drops: [0; 3],
        }
    }

    /// Records what changed since the last call.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        &mut self,
        counters: &Counters,
        drops: DropCounts,
        policy_counts: &[[u64; 5]],
        global_counts: [u64; 3],
        ages: (Vec<u32>, Vec<u32>),
        traces_in_memory: u64,
        buffered_bytes: u64,
    ) {
        for (attrs, counts) in self.policy_attrs.iter().zip(policy_counts) {
            for (slot, n) in counts.iter().enumerate() {
                if *n > 0 {
                    self.count_traces_sampled.add(*n, &attrs[slot]);
                }
            }
        }
        let global = [
            (global_counts[0], "true", "sampled"),
            (global_counts[1], "false", "not_sampled"),
            (global_counts[2], "false", "dropped"),
        ];
        for (n, sampled, decision) in global {
            if n > 0 {
                self.global_count_traces_sampled.add(
                    n,
                    &[
                        KeyValue::new("sampled", sampled),
                        KeyValue::new("decision", decision),
                    ],
                );
            }
        }
        let last = &self.last;
        let delta = |now: u64, before: u64| now.saturating_sub(before);
        let add = |c: &Counter<u64>, n: u64, attrs: &[KeyValue]| {
            if n > 0 {
                c.add(n, attrs);
            }
        };
        add(
            &self.new_traces,
            delta(counters.new_traces, last.new_traces),
            &[],
        );
        add(
            &self.dropped_too_early,
            delta(counters.traces_evicted, last.traces_evicted),
            &[],
        );
        add(
            &self.dropped_too_large,
            delta(
                counters.traces_dropped_too_large,
                last.traces_dropped_too_large,
            ),
            &[],
        );
        add(
            &self.early_releases,
            delta(counters.late_spans_sampled, last.late_spans_sampled),
            &[KeyValue::new("sampled", "true")],
        );
        add(
            &self.early_releases,
            delta(counters.late_spans_not_sampled, last.late_spans_not_sampled),
            &[KeyValue::new("sampled", "false")],
        );
        let evicted_num_traces = delta(
            counters.traces_evicted - counters.traces_evicted_memory,
            last.traces_evicted - last.traces_evicted_memory,
        );
        add(
            &self.decided_early,
            evicted_num_traces,
            &[KeyValue::new("reason", "num_traces")],
        );
        add(
            &self.decided_early,
            delta(counters.traces_evicted_memory, last.traces_evicted_memory),
            &[KeyValue::new("reason", "memory")],
        );
        add(
            &self.decided_early,
            delta(
                counters.traces_decided_for_size,
                last.traces_decided_for_size,
            ),
            &[KeyValue::new("reason", "trace_size")],
        );
        let drop_now = [
            drops.queue_full,
            drops.after_shutdown,
            drops.export_queue_full,
        ];
        for (i, reason) in ["queue_full", "after_shutdown", "export_queue_full"]
            .iter()
            .enumerate()
        {
            add(
                &self.spans_dropped,
                delta(drop_now[i], self.last_drops[i]),
                &[KeyValue::new("reason", *reason)],
            );
        }
        self.last_drops = drop_now;
        let (late, removal) = ages;
        for age in late {
            self.late_span_age.record(u64::from(age), &[]);
        }
        for age in removal {
            self.removal_age.record(u64::from(age), &[]);
        }
        self.traces_on_memory
            .record(i64::try_from(traces_in_memory).unwrap_or(i64::MAX), &[]);
        self.buffered_bytes
            .record(i64::try_from(buffered_bytes).unwrap_or(i64::MAX), &[]);
        self.last = counters.clone();
    }
}
