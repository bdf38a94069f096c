//! `TailSamplingProcessor`: the span processor, its worker thread (buffering and decisions) and
//! its export thread (batches to the wrapped exporter).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{
    Receiver, RecvTimeoutError, SendTimeoutError, Sender, TrySendError, bounded,
};
use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::config::{DEFAULT_MAX_BUFFERED_BYTES, TailSamplingConfig};
use super::engine::{Engine, Limits, OverflowAction};
use super::error::ConfigError;
use super::metrics::{DropCounts, Instruments};
use super::policy::TraceDecision;

/// Default capacity of the queue between the threads that end spans and the worker.
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 4096;
/// Default number of spans per export call.
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
/// How long `force_flush` waits by default.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The worker sleeps at most this long between looks at the queue.
const IDLE_TICK: Duration = Duration::from_millis(100);
/// Metrics and stats are published at most this often (and on flush and shutdown).
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// Batches waiting for the export thread.
const EXPORT_QUEUE_BATCHES: usize = 16;

/// Why the processor could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TailSamplingError {
    /// The config is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A background thread could not be started.
    #[error("could not start the tail sampling {thread} thread: {source}")]
    Spawn {
        /// Which thread.
        thread: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// What the processor holds and has done, from its own accounting (published by the worker each
/// time it wakes: at least every 100 ms, and on `force_flush`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TailSamplingStats {
    /// Traces buffered, waiting for their decision.
    pub traces_in_memory: u64,
    /// Spans buffered.
    pub spans_in_memory: u64,
    /// Bytes the buffered spans and traces hold (see the byte budget).
    pub bytes_in_memory: u64,
    /// The most traces buffered at once.
    pub peak_traces_in_memory: u64,
    /// The most bytes buffered at once.
    pub peak_bytes_in_memory: u64,
    /// Bytes held by the two decision caches.
    pub decision_cache_bytes: u64,
    /// Traces seen.
    pub new_traces: u64,
    /// Traces sampled.
    pub traces_sampled: u64,
    /// Traces not sampled (including those over `maximum_trace_size_bytes`).
    pub traces_not_sampled: u64,
    /// Traces dropped by a `drop` policy.
    pub traces_dropped_by_policy: u64,
    /// Traces that left the buffer early because `num_traces` or the byte budget was reached.
    pub traces_evicted: u64,
    /// Traces decided early because they reached the per-trace share of the byte budget.
    pub traces_decided_for_size: u64,
    /// Traces over `maximum_trace_size_bytes`.
    pub traces_dropped_too_large: u64,
    /// Traces discarded undecided (overflow with [`OverflowAction::Drop`], or
    /// `drop_pending_traces_on_shutdown`).
    pub traces_discarded_undecided: u64,
    /// Late spans exported by the sampled decision cache.
    pub late_spans_sampled: u64,
    /// Late spans discarded by the not-sampled decision cache.
    pub late_spans_not_sampled: u64,
    /// Spans of sampled traces handed to the export thread.
    pub spans_sampled: u64,
    /// Spans dropped because the queue to the worker was full.
    pub spans_dropped_queue_full: u64,
    /// Spans that ended after shutdown.
    pub spans_dropped_after_shutdown: u64,
    /// Sampled spans dropped because the exporter could not keep up.
    pub spans_dropped_export_queue_full: u64,
}

/// Reads a [`TailSamplingProcessor`]'s stats from anywhere (cheap to clone).
#[derive(Debug, Clone)]
pub struct TailSamplingStatsHandle {
    shared: Arc<Shared>,
}

impl TailSamplingStatsHandle {
    /// See [`TailSamplingProcessor::stats`].
    pub fn stats(&self) -> TailSamplingStats {
        let shared = &self.shared;
        let mut s = shared.stats.lock().map(|s| s.clone()).unwrap_or_default();
        s.spans_dropped_queue_full = shared.dropped_queue_full.load(Ordering::Relaxed);
        s.spans_dropped_after_shutdown = shared.dropped_after_shutdown.load(Ordering::Relaxed);
        s.spans_dropped_export_queue_full =
            shared.dropped_export_queue_full.load(Ordering::Relaxed);
        s
    }
}

enum Control {
    Wake,
    Flush(Sender<OTelSdkResult>, Instant),
    Shutdown(Sender<OTelSdkResult>, Instant),
    SetResource(Resource),
}

enum ExportMsg {
    Batch(Vec<SpanData>),
    Flush(Sender<OTelSdkResult>),
    Shutdown(Sender<OTelSdkResult>, Instant),
    SetResource(Resource),
}

/// Called with a count of dropped spans and why (`queue_full`, `after_shutdown`,
/// `export_queue_full`), to count them somewhere else too (see
/// [`TailSamplingProcessorBuilder::with_drop_observer`]).
pub type DropObserver = Arc<dyn Fn(u64, &'static str) + Send + Sync>;

/// Called with every trace's decision, on the processor's worker thread (see
/// [`TailSamplingProcessorBuilder::with_decision_observer`]). Keep it cheap: the worker decides
/// the next trace when it returns.
pub type DecisionObserver = Arc<dyn Fn(&TraceDecision<'_>) + Send + Sync>;

#[derive(Default)]
struct Shared {
    stats: Mutex<TailSamplingStats>,
    wake_pending: AtomicBool,
    is_shutdown: AtomicBool,
    dropped_queue_full: AtomicU64,
    dropped_after_shutdown: AtomicU64,
    dropped_export_queue_full: AtomicU64,
    drop_observer: Option<DropObserver>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("stats", &self.stats)
            .field("is_shutdown", &self.is_shutdown)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn observe_drop(&self, n: u64, reason: &'static str) {
        if let Some(observer) = &self.drop_observer {
            observer(n, reason);
        }
    }
}

/// In-process tail-based sampling: the OpenTelemetry Collector's `tail_sampling` processor as an
/// `opentelemetry_sdk` span processor wrapping an exporter.
///
/// Ended spans are buffered per trace on a worker thread; a trace is decided `decision_wait`
/// after its first span, or `decision_wait_after_root_received` after its local root span ended
/// when that is sooner; the spans of sampled traces go to the wrapped exporter in batches from an
/// export thread. The thread that ends a span only puts it on a bounded queue. See the
/// [module docs](super) for the rules and an example.
#[derive(Debug)]
pub struct TailSamplingProcessor {
    spans: Sender<SpanData>,
    control: Sender<Control>,
    shared: Arc<Shared>,
    wake_at: usize,
    flush_timeout: Duration,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Builds a [`TailSamplingProcessor`].
pub struct TailSamplingProcessorBuilder<E> {
    exporter: E,
    config: TailSamplingConfig,
    max_buffered_bytes: u64,
    overflow: OverflowAction,
    max_queue_size: usize,
    max_export_batch_size: usize,
    flush_timeout: Duration,
    drop_observer: Option<DropObserver>,
    decision_observer: Option<DecisionObserver>,
}

impl<E: std::fmt::Debug> std::fmt::Debug for TailSamplingProcessorBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailSamplingProcessorBuilder")
            .field("exporter", &self.exporter)
            .field("config", &self.config)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("overflow", &self.overflow)
            .field("max_queue_size", &self.max_queue_size)
            .field("max_export_batch_size", &self.max_export_batch_size)
            .field("flush_timeout", &self.flush_timeout)
            .finish_non_exhaustive()
    }
}

impl<E: SpanExporter + 'static> TailSamplingProcessorBuilder<E> {
    /// Also reports dropped spans to `observer` (for instance a setup's own drop counters), on
    /// the thread that dropped them.
    pub fn with_drop_observer(mut self, observer: DropObserver) -> Self {
        self.drop_observer = Some(observer);
        self
    }

    /// Also tells `observer` about every trace's decision: sampled, not sampled or dropped, and
    /// the policy that sampled or dropped it (what the Collector's `recordpolicy` feature gate
    /// writes into `tailsampling.policy`). It runs on the worker thread, once per decided trace;
    /// late spans that follow a decision and traces discarded undecided are not reported.
    pub fn with_decision_observer(mut self, observer: DecisionObserver) -> Self {
        self.decision_observer = Some(observer);
        self
    }

    /// The byte budget of buffered spans (default 64 MiB). When it is reached the oldest traces
    /// leave the buffer (see [`Self::with_overflow`]), and no single trace may hold more than a
    /// quarter of it: a trace that does is decided at once on what it has.
    pub fn with_max_buffered_bytes(mut self, bytes: u64) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// What happens to the oldest trace when `num_traces` or the byte budget is reached (default:
    /// decided early).
    pub fn with_overflow(mut self, action: OverflowAction) -> Self {
        self.overflow = action;
        self
    }

    /// Capacity of the queue from the threads that end spans to the worker (default 4096); spans
    /// beyond it are dropped and counted.
    pub fn with_max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size.max(1);
        self
    }

    /// Spans per export call (default 512).
    pub fn with_max_export_batch_size(mut self, size: usize) -> Self {
        self.max_export_batch_size = size.max(1);
        self
    }

    /// How long `force_flush` waits (default 5 s).
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Starts the worker and export threads.
    ///
    /// # Errors
    ///
    /// [`TailSamplingError::Config`] for an invalid config, [`TailSamplingError::Spawn`] when a
    /// thread cannot be started.
    pub fn build(self) -> Result<TailSamplingProcessor, TailSamplingError> {
        let mut engine = Engine::new(
            &self.config,
            Limits {
                max_buffered_bytes: self.max_buffered_bytes,
                overflow: self.overflow,
            },
            Instant::now(),
        )?;
        engine.set_decision_observer(self.decision_observer);
        let shared = Arc::new(Shared {
            drop_observer: self.drop_observer,
            ..Shared::default()
        });
        let (span_tx, span_rx) = bounded::<SpanData>(self.max_queue_size);
        let (control_tx, control_rx) = bounded::<Control>(64);
        let (export_tx, export_rx) = bounded::<ExportMsg>(EXPORT_QUEUE_BATCHES);
        let drop_pending = self.config.drop_pending_traces_on_shutdown;

        let exporter = self.exporter;
        let export_thread = std::thread::Builder::new()
            .name("tracewire-tail-export".into())
            .spawn(move || export_loop(exporter, &export_rx))
            .map_err(|source| TailSamplingError::Spawn {
                thread: "export",
                source,
            })?;
        let worker = Worker {
            engine,
            spans: span_rx,
            control: control_rx,
            export: export_tx,
            shared: shared.clone(),
            batch_size: self.max_export_batch_size,
            drop_pending,
            instruments: None,
            last_publish: Instant::now(),
        };
        let worker_thread = std::thread::Builder::new()
            .name("tracewire-tail-sampling".into())
            .spawn(move || worker.run())
            .map_err(|source| TailSamplingError::Spawn {
                thread: "worker",
                source,
            })?;
        Ok(TailSamplingProcessor {
            spans: span_tx,
            control: control_tx,
            shared,
            wake_at: (self.max_queue_size / 8).clamp(1, self.max_export_batch_size),
            flush_timeout: self.flush_timeout,
            threads: Mutex::new(vec![worker_thread, export_thread]),
        })
    }
}

impl TailSamplingProcessor {
    /// A builder for a processor that exports the sampled traces with `exporter`.
    pub fn builder<E: SpanExporter + 'static>(
        exporter: E,
        config: TailSamplingConfig,
    ) -> TailSamplingProcessorBuilder<E> {
        TailSamplingProcessorBuilder {
            exporter,
            config,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            overflow: OverflowAction::default(),
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            max_export_batch_size: DEFAULT_MAX_EXPORT_BATCH_SIZE,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
            drop_observer: None,
            decision_observer: None,
        }
    }

    /// A processor with the default limits.
    ///
    /// # Errors
    ///
    /// As [`TailSamplingProcessorBuilder::build`].
    pub fn new<E: SpanExporter + 'static>(
        exporter: E,
        config: TailSamplingConfig,
    ) -> Result<Self, TailSamplingError> {
        Self::builder(exporter, config).build()
    }

    /// The processor's own accounting, as last published by the worker (at least every 100 ms,
    /// and on `force_flush`), with the drop counters of the span-ending threads up to date.
    pub fn stats(&self) -> TailSamplingStats {
        self.stats_handle().stats()
    }

    /// A handle that reads [`TailSamplingProcessor::stats`] after the processor has been moved
    /// into a tracer provider.
    pub fn stats_handle(&self) -> TailSamplingStatsHandle {
        TailSamplingStatsHandle {
            shared: self.shared.clone(),
        }
    }

    /// Sends the control `make` builds from a reply channel and the deadline, and waits for the
    /// reply until the deadline.
    fn request(
        &self,
        make: impl FnOnce(Sender<OTelSdkResult>, Instant) -> Control,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (tx, rx) = bounded(1);
        let deadline = deadline_in(timeout);
        match self.control.send_timeout(make(tx, deadline), timeout) {
            Ok(()) => match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(result) => result,
                Err(RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(timeout)),
                Err(RecvTimeoutError::Disconnected) => Err(OTelSdkError::AlreadyShutdown),
            },
            Err(SendTimeoutError::Timeout(_)) => Err(OTelSdkError::Timeout(timeout)),
            Err(SendTimeoutError::Disconnected(_)) => Err(OTelSdkError::AlreadyShutdown),
        }
    }
}

impl SpanProcessor for TailSamplingProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    /// Puts the span on the worker's queue; never blocks. Spans reach `on_end` only when they
    /// are recording, sampled or not: the tail decides.
    fn on_end(&self, span: SpanData) {
        match self.spans.try_send(span) {
            Ok(()) => {
                if self.spans.len() >= self.wake_at
                    && !self.shared.wake_pending.load(Ordering::Relaxed)
                    && !self.shared.wake_pending.swap(true, Ordering::Relaxed)
                {
                    let _ = self.control.try_send(Control::Wake);
                }
            }
            Err(TrySendError::Full(_)) => {
                self.shared.observe_drop(1, "queue_full");
                if self
                    .shared
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed)
                    == 0
                {
                    tracing::warn!(
                        "tail sampling: the span queue is full, dropping spans (counted in tracewire_tail_sampling_spans_dropped; warned once)"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.shared.observe_drop(1, "after_shutdown");
                self.shared
                    .dropped_after_shutdown
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Decides every trace buffered when it is called (as if its `decision_wait` had passed),
    /// exports the sampled ones and flushes the exporter, waiting up to the flush timeout. Spans
    /// of those traces that end later follow the decisions through the decision caches.
    fn force_flush(&self) -> OTelSdkResult {
        if self.shared.is_shutdown.load(Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        self.request(Control::Flush, self.flush_timeout)
    }

    /// Decides (or, with `drop_pending_traces_on_shutdown`, discards) the buffered traces,
    /// exports, shuts the exporter down, and stops the threads, within `timeout`.
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if self.shared.is_shutdown.swap(true, Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let result = self.request(Control::Shutdown, timeout);
        if result.is_ok()
            && let Ok(mut threads) = self.threads.lock()
        {
            for t in threads.drain(..) {
                let _ = t.join();
            }
        }
        let dropped = self.shared.dropped_queue_full.load(Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "tail sampling: spans were dropped because the span queue was full"
            );
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        let _ = self
            .control
            .try_send(Control::SetResource(resource.clone()));
    }
}

/// The instant `timeout` from now; a timeout too long for the clock is a year (no caller waits
/// that long, and `Instant + Duration` would panic).
fn deadline_in(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

// === worker ===

struct Worker {
    engine: Engine,
    spans: Receiver<SpanData>,
    control: Receiver<Control>,
    export: Sender<ExportMsg>,
    shared: Arc<Shared>,
    batch_size: usize,
    drop_pending: bool,
    instruments: Option<Instruments>,
    last_publish: Instant,
}

impl Worker {
    fn run(mut self) {
        let names: Vec<String> = (0..self.engine.policies().len())
            .map(|i| self.engine.policies().policy_name(i).to_owned())
            .collect();
        self.instruments = Some(Instruments::new(&names));
        loop {
            let now = Instant::now();
            let timeout = self.engine.next_deadline().map_or(IDLE_TICK, |d| {
                d.saturating_duration_since(now).min(IDLE_TICK)
            });
            let msg = match self.control.recv_timeout(timeout) {
                Ok(msg) => Some(msg),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    // The processor was dropped without a shutdown: finish as a shutdown would.
                    self.finish(None, deadline_in(DEFAULT_FLUSH_TIMEOUT));
                    return;
                }
            };
            self.shared.wake_pending.store(false, Ordering::Relaxed);
            match msg {
                Some(Control::Shutdown(reply, deadline)) => {
                    self.finish(Some(reply), deadline);
                    return;
                }
                Some(Control::Flush(reply, deadline)) => {
                    self.drain();
                    self.engine.decide_all(Instant::now());
                    self.send_out();
                    self.publish(true);
                    // Behind an export that hangs the queue stays full: give up at the
                    // deadline rather than stop deciding.
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self
                        .export
                        .send_timeout(ExportMsg::Flush(reply.clone()), left)
                    {
                        Ok(()) => {}
                        Err(SendTimeoutError::Timeout(_)) => {
                            let _ = reply.send(Err(OTelSdkError::Timeout(left)));
                        }
                        Err(SendTimeoutError::Disconnected(_)) => {
                            let _ = reply.send(Err(OTelSdkError::AlreadyShutdown));
                        }
                    }
                    continue;
                }
                Some(Control::SetResource(resource)) => {
                    let _ = self.export.send(ExportMsg::SetResource(resource.clone()));
                    self.engine.set_resource(resource);
                }
                Some(Control::Wake) | None => {}
            }
            self.drain();
            self.engine.tick(Instant::now());
            self.send_out();
            self.publish(false);
        }
    }

    fn drain(&mut self) {
        // Bounded by the queue's capacity, so a flood cannot keep the worker from deciding.
        let mut left = self.spans.capacity().unwrap_or(usize::MAX);
        let now = Instant::now();
        while left > 0 {
            match self.spans.try_recv() {
                Ok(span) => self.engine.ingest(span, now),
                Err(_) => break,
            }
            left -= 1;
        }
    }

    fn send_out(&mut self) {
        while !self.engine.out.is_empty() {
            let n = self.engine.out.len().min(self.batch_size);
            let batch: Vec<SpanData> = self.engine.out.drain(..n).collect();
            let len = batch.len() as u64;
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
                self.export.try_send(ExportMsg::Batch(batch))
            {
                self.shared.observe_drop(len, "export_queue_full");
                self.shared
                    .dropped_export_queue_full
                    .fetch_add(len, Ordering::Relaxed);
            }
        }
        if self.engine.out.capacity() > 4 * self.batch_size {
            self.engine.out.shrink_to(self.batch_size);
        }
    }

    fn finish(&mut self, reply: Option<Sender<OTelSdkResult>>, deadline: Instant) {
        self.drain();
        if self.drop_pending {
            self.engine.discard_all();
        } else {
            self.engine.decide_all(Instant::now());
        }
        // At shutdown, wait for room in the export queue rather than drop sampled spans.
        while !self.engine.out.is_empty() {
            let n = self.engine.out.len().min(self.batch_size);
            let batch: Vec<SpanData> = self.engine.out.drain(..n).collect();
            let left = deadline.saturating_duration_since(Instant::now());
            if self
                .export
                .send_timeout(ExportMsg::Batch(batch), left)
                .is_err()
            {
                break;
            }
        }
        self.publish(true);
        let (tx, rx) = bounded(1);
        let left = deadline.saturating_duration_since(Instant::now());
        let result = match self
            .export
            .send_timeout(ExportMsg::Shutdown(tx, deadline), left)
        {
            Ok(()) => rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or(Err(OTelSdkError::Timeout(left))),
            Err(_) => Err(OTelSdkError::Timeout(left)),
        };
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }

    /// Updates the stats every time round (a short lock), and records metrics about once a
    /// second (or when `force`d).
    fn publish(&mut self, force: bool) {
        let e = &mut self.engine;
        let c = &e.counters;
        if let Ok(mut s) = self.shared.stats.lock() {
            *s = TailSamplingStats {
                traces_in_memory: e.traces_in_memory(),
                spans_in_memory: e.buffered_spans(),
                bytes_in_memory: e.buffered_bytes(),
                peak_traces_in_memory: e.peak_traces,
                peak_bytes_in_memory: e.peak_bytes,
                decision_cache_bytes: e.cache_bytes(),
                new_traces: c.new_traces,
                traces_sampled: c.traces_sampled,
                traces_not_sampled: c.traces_not_sampled,
                traces_dropped_by_policy: c.traces_dropped_by_policy,
                traces_evicted: c.traces_evicted,
                traces_decided_for_size: c.traces_decided_for_size,
                traces_dropped_too_large: c.traces_dropped_too_large,
                traces_discarded_undecided: c.traces_discarded_undecided,
                late_spans_sampled: c.late_spans_sampled,
                late_spans_not_sampled: c.late_spans_not_sampled,
                spans_sampled: c.spans_sampled,
                ..TailSamplingStats::default()
            };
        }
        let now = Instant::now();
        if !force && now.duration_since(self.last_publish) < PUBLISH_EVERY {
            return;
        }
        self.last_publish = now;
        let c = e.counters.clone();
        let drops = DropCounts {
            queue_full: self.shared.dropped_queue_full.load(Ordering::Relaxed),
            after_shutdown: self.shared.dropped_after_shutdown.load(Ordering::Relaxed),
            export_queue_full: self
                .shared
                .dropped_export_queue_full
                .load(Ordering::Relaxed),
        };
        let policy_counts = e.take_policy_counts();
        let global = e.take_global_counts();
        let ages = e.take_ages();
        let (traces, bytes) = (e.traces_in_memory(), e.buffered_bytes());
        if let Some(i) = &mut self.instruments {
            i.record(&c, drops, &policy_counts, global, ages, traces, bytes);
        }
    }
}

// === export thread ===

fn export_loop<E: SpanExporter>(mut exporter: E, rx: &Receiver<ExportMsg>) {
    let _suppress = Context::enter_telemetry_suppressed_scope();
    while let Ok(msg) = rx.recv() {
        match msg {
            ExportMsg::Batch(batch) => {
                if let Err(err) = futures_executor::block_on(exporter.export(batch)) {
                    tracing::debug!(%err, "tail sampling: export failed");
                }
            }
            ExportMsg::Flush(reply) => {
                let _ = reply.send(exporter.force_flush());
            }
            ExportMsg::SetResource(resource) => exporter.set_resource(&resource),
            ExportMsg::Shutdown(reply, deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let _ = reply.send(exporter.shutdown_with_timeout(left));
                return;
            }
        }
    }
}
