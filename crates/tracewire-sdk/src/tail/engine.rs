//! The decision engine: buffers spans per trace, decides traces when their time comes, keeps
//! memory within `num_traces` and the byte budget, and routes late spans through the decision
//! caches. It has no threads and takes the time as an argument, so tests drive it directly; the
//! processor runs it on its worker thread.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use opentelemetry::trace::{SpanContext, SpanId, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;

use super::cache::DecisionCache;
use super::config::TailSamplingConfig;
use super::error::ConfigError;
use super::idhash::IdHashBuilder;
use super::policy::{Decision, PolicySet, TraceDecision, TraceView};
use super::processor::DecisionObserver;
use super::size::{
    resource_wire_bytes, scope_wire_bytes, span_bytes, span_wire_bytes, trace_wire_bytes,
};

/// What happens to the oldest trace when `num_traces` or the byte budget is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OverflowAction {
    /// Decide it now on the spans buffered so far (the default): an error trace is still kept.
    #[default]
    DecideEarly,
    /// Discard it undecided, as the Collector does; its late spans start a new trace.
    Drop,
}

/// Fixed bytes a buffered trace costs besides its spans: its map slot, entry and queue slot.
pub(crate) const TRACE_OVERHEAD_BYTES: u64 = 160;

/// Ages kept for the age histograms between two publications (about a second): beyond this,
/// observations are skipped, so the worker's memory and time stay bounded at any rate. The
/// counters count every trace and span.
pub(crate) const MAX_AGES: usize = 10_000;

fn push_age(ages: &mut Vec<u32>, age: u32) {
    if ages.len() < MAX_AGES {
        ages.push(age);
    }
}

/// How many decisions of a kind are remembered for late spans. A cache of size 0 is off in the
/// Collector, but there a decided trace then stays in its map, with its decision, until
/// `num_traces` newer traces push it out, and its late spans follow the decision meanwhile
/// (`releaseSampledTrace` drops the trace only when the cache holds its id): here a decided trace
/// leaves the buffer, so the decisions are kept for as many traces.
fn retention(cache_size: u64, num_traces: u64) -> u64 {
    if cache_size == 0 {
        num_traces
    } else {
        cache_size
    }
}

/// Why a trace was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// `decision_wait` passed since its first span.
    Wait,
    /// `decision_wait_after_root_received` passed since its local root ended.
    Root,
    /// Evicted because `num_traces` was reached.
    NumTraces,
    /// Evicted because the byte budget was reached.
    Memory,
    /// It reached the per-trace share of the byte budget.
    TraceSize,
    /// `force_flush` or shutdown.
    Flush,
}

#[derive(Debug)]
struct TraceEntry {
    seq: u64,
    arrival: Instant,
    deadline: Instant,
    spans: Vec<SpanData>,
    bytes: u64,
    /// Protobuf bytes of the spans inside their `ScopeSpans`, and of the scope itself (the
    /// first span's): with the resource's, the trace's size as the Collector counts it.
    wire_spans: u64,
    wire_scope: u64,
}

impl TraceEntry {
    /// The trace's protobuf size, as `maximum_trace_size_bytes` and `bytes_limiting` count it.
    fn wire_bytes(&self, resource: u64) -> u64 {
        trace_wire_bytes(resource, self.wire_scope, self.wire_spans)
    }
}

/// Counters since the engine started (monotonic), for stats and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) new_traces: u64,
    pub(crate) traces_sampled: u64,
    pub(crate) traces_not_sampled: u64,
    pub(crate) traces_dropped_by_policy: u64,
    pub(crate) traces_evicted: u64,
    pub(crate) traces_evicted_memory: u64,
    pub(crate) traces_decided_for_size: u64,
    pub(crate) traces_dropped_too_large: u64,
    pub(crate) traces_discarded_undecided: u64,
    pub(crate) late_spans_sampled: u64,
    pub(crate) late_spans_not_sampled: u64,
    pub(crate) spans_sampled: u64,
}

/// Settings of the engine that are not in the Collector's config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_buffered_bytes: u64,
    pub(crate) overflow: OverflowAction,
}

#[derive(Debug)]
pub(crate) struct Engine {
    decision_wait: Duration,
    root_wait: Duration,
    num_traces: usize,
    explicit_max_trace_bytes: u64,
    /// Whether anything reads a trace's protobuf size (`maximum_trace_size_bytes` or a
    /// `bytes_limiting` policy); when nothing does, it is not computed for every span.
    measures_wire: bool,
    implicit_max_trace_bytes: u64,
    limits: Limits,
    policies: PolicySet,
    resource: Option<Resource>,
    /// Protobuf bytes of the resource in a `ResourceSpans`.
    resource_wire: u64,
    traces: HashMap<TraceId, TraceEntry, IdHashBuilder>,
    /// Live and stale `(id, seq)` in arrival order; `decision_wait` is constant, so this is also
    /// the order of the `decision_wait` deadlines and of eviction.
    arrivals: VecDeque<(TraceId, u64)>,
    /// `(deadline, id, seq)` for traces whose local root ended, in deadline order.
    roots: VecDeque<(Instant, TraceId, u64)>,
    next_seq: u64,
    buffered_bytes: u64,
    buffered_spans: u64,
    sampled_cache: DecisionCache,
    non_sampled_cache: DecisionCache,
    started: Instant,
    /// Spans of sampled traces, waiting to be exported.
    pub(crate) out: Vec<SpanData>,
    pub(crate) counters: Counters,
    /// `[policy][decision]` counts since the last [`Engine::take_policy_counts`].
    policy_counts: Vec<[u64; 5]>,
    /// Global `[sampled, not_sampled, dropped]` counts since the last take.
    global_counts: [u64; 3],
    /// Ages in seconds, since the last take: late spans, removals (at most [`MAX_AGES`] each).
    late_span_ages: Vec<u32>,
    removal_ages: Vec<u32>,
    pub(crate) peak_traces: u64,
    pub(crate) peak_bytes: u64,
    /// Told about every decision.
    observer: ObserverSlot,
}

/// The decision observer, if any (a closure has no `Debug`).
#[derive(Default)]
struct ObserverSlot(Option<DecisionObserver>);

impl std::fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

impl Engine {
    pub(crate) fn new(
        config: &TailSamplingConfig,
        limits: Limits,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        let policies = PolicySet::new(config)?;
        let num_traces = usize::try_from(config.num_traces).unwrap_or(usize::MAX);
        // `expected_new_traces_per_sec` sizes the buffer up front, as in the Collector.
        let expected = config
            .expected_new_traces_per_sec
            .saturating_mul(config.decision_wait.as_secs().max(1));
        let initial = usize::try_from(expected)
            .unwrap_or(usize::MAX)
            .min(num_traces);
        let max_buffered_bytes = limits.max_buffered_bytes.max(1);
        Ok(Self {
            decision_wait: config.decision_wait,
            root_wait: config.decision_wait_after_root_received,
            num_traces,
            explicit_max_trace_bytes: config.maximum_trace_size_bytes,
            measures_wire: config.maximum_trace_size_bytes > 0
                || config.policies.iter().any(|p| p.policy.reads_trace_size()),
            implicit_max_trace_bytes: (max_buffered_bytes / 4).max(1),
            limits: Limits {
                max_buffered_bytes,
                ..limits
            },
            policy_counts: vec![[0; 5]; policies.len()],
            policies,
            resource: None,
            resource_wire: resource_wire_bytes(None),
            traces: HashMap::with_capacity_and_hasher(initial, IdHashBuilder::default()),
            arrivals: VecDeque::with_capacity(initial),
            roots: VecDeque::new(),
            next_seq: 0,
            buffered_bytes: 0,
            buffered_spans: 0,
            sampled_cache: DecisionCache::new(retention(
                config.decision_cache.sampled_cache_size(config.num_traces),
                config.num_traces,
            )),
            non_sampled_cache: DecisionCache::new(retention(
                config
                    .decision_cache
                    .non_sampled_cache_size(config.num_traces),
                config.num_traces,
            )),
            started: now,
            out: Vec::new(),
            counters: Counters::default(),
            global_counts: [0; 3],
            late_span_ages: Vec::new(),
            removal_ages: Vec::new(),
            peak_traces: 0,
            peak_bytes: 0,
            observer: ObserverSlot::default(),
        })
    }

    pub(crate) fn set_decision_observer(&mut self, observer: Option<DecisionObserver>) {
        self.observer = ObserverSlot(observer);
    }

    fn observe(&self, trace_id: TraceId, decision: Decision, policy: Option<usize>, spans: usize) {
        if let Some(observer) = &self.observer.0 {
            observer(&TraceDecision {
                trace_id,
                decision,
                policy: policy.map(|i| self.policies.policy_name(i)),
                spans,
            });
        }
    }

    pub(crate) fn set_resource(&mut self, resource: Resource) {
        self.resource_wire = resource_wire_bytes(Some(&resource));
        self.resource = Some(resource);
    }

    pub(crate) fn policies(&self) -> &PolicySet {
        &self.policies
    }

    pub(crate) fn traces_in_memory(&self) -> u64 {
        self.traces.len() as u64
    }

    pub(crate) fn buffered_bytes(&self) -> u64 {
        self.buffered_bytes
    }

    pub(crate) fn buffered_spans(&self) -> u64 {
        self.buffered_spans
    }

    pub(crate) fn cache_bytes(&self) -> u64 {
        self.sampled_cache.bytes() + self.non_sampled_cache.bytes()
    }

    fn second(&self, now: Instant) -> u32 {
        u32::try_from(now.saturating_duration_since(self.started).as_secs()).unwrap_or(u32::MAX)
    }

    /// Takes one ended span.
    pub(crate) fn ingest(&mut self, span: SpanData, now: Instant) {
        let id = span.span_context.trace_id();
        if !self.traces.contains_key(&id) {
            // A late span of a decided trace follows the decision.
            if let Some(at) = self.sampled_cache.get(id) {
                self.counters.late_spans_sampled += 1;
                let age = self.second(now).saturating_sub(at);
                push_age(&mut self.late_span_ages, age);
                self.push_sampled(span);
                return;
            }
            if let Some(at) = self.non_sampled_cache.get(id) {
                self.counters.late_spans_not_sampled += 1;
                let age = self.second(now).saturating_sub(at);
                push_age(&mut self.late_span_ages, age);
                return;
            }
            while self.traces.len() >= self.num_traces {
                if !self.evict_oldest(Reason::NumTraces, now) {
                    break;
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.traces.insert(
                id,
                TraceEntry {
                    seq,
                    arrival: now,
                    deadline: now + self.decision_wait,
                    // Most traces have a few spans: avoid the first reallocations.
                    spans: Vec::with_capacity(4),
                    bytes: TRACE_OVERHEAD_BYTES,
                    wire_spans: 0,
                    wire_scope: if self.measures_wire {
                        scope_wire_bytes(&span.instrumentation_scope)
                    } else {
                        0
                    },
                },
            );
            self.arrivals.push_back((id, seq));
            self.buffered_bytes += TRACE_OVERHEAD_BYTES;
            self.counters.new_traces += 1;
            self.compact_queues();
        }
        let bytes = span_bytes(&span);
        let wire = if self.measures_wire {
            span_wire_bytes(&span)
        } else {
            0
        };
        // The local root: no parent, or a parent in another process.
        let is_local_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
        let root_wait = self.root_wait;
        let Some(entry) = self.traces.get_mut(&id) else {
            return;
        };
        entry.spans.push(span);
        entry.bytes += bytes;
        entry.wire_spans += wire;
        let (trace_bytes, seq) = (entry.bytes, entry.seq);
        let wire_bytes = entry.wire_bytes(self.resource_wire);
        if is_local_root && !root_wait.is_zero() {
            let deadline = now + root_wait;
            if deadline < entry.deadline {
                entry.deadline = deadline;
                self.roots.push_back((deadline, id, seq));
            }
        }
        self.buffered_bytes += bytes;
        self.buffered_spans += 1;
        if self.explicit_max_trace_bytes > 0 && wire_bytes > self.explicit_max_trace_bytes {
            // The Collector's rule: not sampled, buffer freed, late spans follow.
            self.counters.traces_dropped_too_large += 1;
            if let Some(entry) = self.take(id) {
                self.record_not_sampled(id, &entry, now);
            }
        } else if trace_bytes > self.implicit_max_trace_bytes {
            self.counters.traces_decided_for_size += 1;
            self.decide(id, Reason::TraceSize, now);
        }
        while self.buffered_bytes > self.limits.max_buffered_bytes {
            if !self.evict_oldest(Reason::Memory, now) {
                break;
            }
        }
        self.peak_traces = self.peak_traces.max(self.traces.len() as u64);
        self.peak_bytes = self.peak_bytes.max(self.buffered_bytes);
    }

    /// Decides every trace whose deadline has passed.
    pub(crate) fn tick(&mut self, now: Instant) {
        while let Some(&(deadline, id, seq)) = self.roots.front() {
            if deadline > now {
                break;
            }
            self.roots.pop_front();
            if self.traces.get(&id).is_some_and(|e| e.seq == seq) {
                self.decide(id, Reason::Root, now);
            }
        }
        while let Some(&(id, seq)) = self.arrivals.front() {
            match self.traces.get(&id) {
                Some(e) if e.seq == seq => {
                    if e.arrival + self.decision_wait > now {
                        break;
                    }
                    self.arrivals.pop_front();
                    self.decide(id, Reason::Wait, now);
                }
                _ => {
                    self.arrivals.pop_front();
                }
            }
        }
    }

    /// When the next decision is due, if any trace is buffered.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let root = self.roots.front().map(|r| r.0);
        let wait = self.arrivals.iter().find_map(|(id, seq)| {
            self.traces
                .get(id)
                .filter(|e| e.seq == *seq)
                .map(|e| e.arrival + self.decision_wait)
        });
        match (root, wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Decides every buffered trace now (`force_flush`, shutdown).
    pub(crate) fn decide_all(&mut self, now: Instant) {
        while let Some((id, seq)) = self.arrivals.pop_front() {
            if self.traces.get(&id).is_some_and(|e| e.seq == seq) {
                self.decide(id, Reason::Flush, now);
            }
        }
        self.roots.clear();
    }

    /// Discards every buffered trace undecided (`drop_pending_traces_on_shutdown`).
    pub(crate) fn discard_all(&mut self) {
        self.counters.traces_discarded_undecided += self.traces.len() as u64;
        self.traces.clear();
        self.arrivals.clear();
        self.roots.clear();
        self.buffered_bytes = 0;
        self.buffered_spans = 0;
    }

    /// Removes the oldest buffered trace, deciding or discarding it; false when none is left.
    fn evict_oldest(&mut self, reason: Reason, now: Instant) -> bool {
        while let Some((id, seq)) = self.arrivals.pop_front() {
            if self.traces.get(&id).is_none_or(|e| e.seq != seq) {
                continue;
            }
            self.counters.traces_evicted += 1;
            if reason == Reason::Memory {
                self.counters.traces_evicted_memory += 1;
            }
            match self.limits.overflow {
                OverflowAction::DecideEarly => self.decide(id, reason, now),
                OverflowAction::Drop => {
                    if let Some(entry) = self.take(id) {
                        self.counters.traces_discarded_undecided += 1;
                        let age = self.age(&entry, now);
                        push_age(&mut self.removal_ages, age);
                    }
                }
            }
            return true;
        }
        false
    }

    fn age(&self, entry: &TraceEntry, now: Instant) -> u32 {
        u32::try_from(now.saturating_duration_since(entry.arrival).as_secs()).unwrap_or(u32::MAX)
    }

    fn take(&mut self, id: TraceId) -> Option<TraceEntry> {
        let entry = self.traces.remove(&id)?;
        self.buffered_bytes = self.buffered_bytes.saturating_sub(entry.bytes);
        self.buffered_spans = self.buffered_spans.saturating_sub(entry.spans.len() as u64);
        Some(entry)
    }

    fn decide(&mut self, id: TraceId, _reason: Reason, now: Instant) {
        let Some(entry) = self.take(id) else {
            return;
        };
        let view = TraceView {
            trace_id: id,
            spans: &entry.spans,
            resource: self.resource.as_ref(),
            size_bytes: entry.wire_bytes(self.resource_wire),
        };
        let counts = &mut self.policy_counts;
        let verdict = self.policies.decide_at(&view, now, |i, d| {
            if let Some(c) = counts.get_mut(i) {
                c[decision_slot(d)] += 1;
            }
        });
        let age = self.age(&entry, now);
        push_age(&mut self.removal_ages, age);
        self.observe(id, verdict.decision, verdict.policy, entry.spans.len());
        match verdict.decision {
            Decision::Sampled => {
                self.counters.traces_sampled += 1;
                self.global_counts[0] += 1;
                self.sampled_cache.insert(id, self.second(now));
                for span in entry.spans {
                    self.push_sampled(span);
                }
            }
            Decision::Dropped => {
                self.counters.traces_dropped_by_policy += 1;
                self.global_counts[2] += 1;
                self.non_sampled_cache.insert(id, self.second(now));
            }
            _ => {
                self.counters.traces_not_sampled += 1;
                self.global_counts[1] += 1;
                self.non_sampled_cache.insert(id, self.second(now));
            }
        }
    }

    fn record_not_sampled(&mut self, id: TraceId, entry: &TraceEntry, now: Instant) {
        self.observe(id, Decision::NotSampled, None, entry.spans.len());
        self.counters.traces_not_sampled += 1;
        self.global_counts[1] += 1;
        let age = self.age(entry, now);
        push_age(&mut self.removal_ages, age);
        self.non_sampled_cache.insert(id, self.second(now));
    }

    /// Queues a span of a sampled trace for export, flagged sampled: the tail sampler decided.
    fn push_sampled(&mut self, mut span: SpanData) {
        if !span.span_context.is_sampled() {
            let sc = &span.span_context;
            span.span_context = SpanContext::new(
                sc.trace_id(),
                sc.span_id(),
                sc.trace_flags().with_sampled(true),
                sc.is_remote(),
                sc.trace_state().clone(),
            );
        }
        self.counters.spans_sampled += 1;
        self.out.push(span);
    }

    /// Drops stale queue entries when they outnumber the live traces, so the queues stay
    /// proportional to `num_traces` whatever the rate of early decisions.
    fn compact_queues(&mut self) {
        let live = self.traces.len();
        if self.arrivals.len() > 2 * live + 1024 {
            let traces = &self.traces;
            self.arrivals
                .retain(|(id, seq)| traces.get(id).is_some_and(|e| e.seq == *seq));
        }
        if self.roots.len() > 2 * live + 1024 {
            let traces = &self.traces;
            self.roots
                .retain(|(_, id, seq)| traces.get(id).is_some_and(|e| e.seq == *seq));
        }
    }

    /// Per-policy `[sampled, not_sampled, dropped]` counts since the last call.
    pub(crate) fn take_policy_counts(&mut self) -> Vec<[u64; 5]> {
        let n = self.policy_counts.len();
        std::mem::replace(&mut self.policy_counts, vec![[0; 5]; n])
    }

    /// Global `[sampled, not_sampled, dropped]` counts since the last call.
    pub(crate) fn take_global_counts(&mut self) -> [u64; 3] {
        std::mem::take(&mut self.global_counts)
    }

    pub(crate) fn take_ages(&mut self) -> (Vec<u32>, Vec<u32>) {
        (
            std::mem::take(&mut self.late_span_ages),
            std::mem::take(&mut self.removal_ages),
        )
    }
}

/// Slot of a decision in the per-policy counts: `[sampled, not_sampled, dropped, invert_sampled,
/// invert_not_sampled]`.
pub(crate) fn decision_slot(d: Decision) -> usize {
    match d {
        Decision::Sampled => 0,
        Decision::NotSampled => 1,
        Decision::Dropped => 2,
        Decision::InvertSampled => 3,
        Decision::InvertNotSampled => 4,
    }
}
