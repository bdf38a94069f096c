//! A bounded batching span processor that counts what it loses.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{Tracer, TracerProvider};
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use tracewire_sdk::{BatchProcessor, Diagnostics, config::BatchSettings};
//!
//! let memory = InMemorySpanExporter::default();
//! let diagnostics = Diagnostics::default();
//! let processor = BatchProcessor::builder(memory.clone())
//!     .with_settings(BatchSettings { max_queue_size: 64, ..BatchSettings::SPANS })
//!     .with_diagnostics(diagnostics.clone())
//!     .build();
//! let provider = SdkTracerProvider::builder().with_span_processor(processor).build();
//! provider.tracer("example").in_span("work", |_| {});
//! provider.force_flush().unwrap();
//! assert_eq!(memory.get_finished_spans().unwrap().len(), 1);
//! assert_eq!(diagnostics.exported_spans(), 1);
//! assert_eq!(diagnostics.dropped_spans(), 0);
//! ```
//!
//! # Behaviour
//!
//! - Ending a span only moves it into a bounded queue (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048 by
//!   default): it never waits for the exporter. When the queue is full the span is dropped and
//!   counted in [`Diagnostics::dropped_spans`]; the first drop logs one warning, later ones are
//!   only counted (and summed up at shutdown). Memory is bounded by the queue plus one batch
//!   being exported.
//! - A thread (`tracewire-batch`) exports batches of up to `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`
//!   spans when a batch is full or `OTEL_BSP_SCHEDULE_DELAY` has passed since the last export
//!   (a delay of 0 exports spans as they come; an idle thread sleeps). Spans of failed
//!   exports are counted in [`Diagnostics::failed_spans`]; the first failure logs a warning.
//! - Spans that are recorded but not sampled (a `RecordOnly` head decision) are not exported, as
//!   the specification requires of exporting processors.
//! - `force_flush` and `shutdown_with_timeout` wait at most their time limit and return
//!   `Timeout` rather than hanging when an export does not finish.
//!
//! The SDK's own `BatchSpanProcessor` keeps its drop count private and cannot change its flush
//! time limit; this processor exposes both, which the reliability guarantees need.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use crate::config::BatchSettings;

#[derive(Debug, Default)]
struct Counters {
    dropped: AtomicU64,
    failed: AtomicU64,
    exported: AtomicU64,
    failed_exports: AtomicU64,
    warned_drop: AtomicBool,
    warned_failure: AtomicBool,
}

/// Counters of what the export pipeline did with spans, shared by the processors that feed the
/// same guard. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(Arc<Counters>);

impl Diagnostics {
    /// Spans dropped because a queue was full (or the pipeline was shut down).
    pub fn dropped_spans(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }

    /// Spans whose export failed (endpoint down, refusing, or too slow).
    pub fn failed_spans(&self) -> u64 {
        self.0.failed.load(Ordering::Relaxed)
    }

    /// Spans handed to the exporters successfully.
    pub fn exported_spans(&self) -> u64 {
        self.0.exported.load(Ordering::Relaxed)
    }

    /// Export calls that failed.
    pub fn failed_exports(&self) -> u64 {
        self.0.failed_exports.load(Ordering::Relaxed)
    }

    /// Counts `n` spans dropped by a processor (for processors built outside this crate, such as
    /// a tail sampler whose buffer is full); the first drop logs one warning.
    pub fn record_dropped_spans(&self, n: u64, reason: &'static str) {
        if n == 0 {
            return;
        }
        self.0.dropped.fetch_add(n, Ordering::Relaxed);
        if !self.0.warned_drop.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "tracewire::sdk",
                reason,
                "spans are being dropped ({reason}); further drops are counted, not logged"
            );
        }
    }

    /// Counts an export of `n` spans as exported or failed; the first failure logs a warning.
    pub(crate) fn record_export(&self, n: u64, result: &OTelSdkResult) {
        match result {
            Ok(()) => {
                self.0.exported.fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => {
                self.0.failed.fetch_add(n, Ordering::Relaxed);
                self.0.failed_exports.fetch_add(1, Ordering::Relaxed);
                if !self.0.warned_failure.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        target: "tracewire::sdk",
                        error = %e,
                        "span export failed; further failures are counted, not logged"
                    );
                } else {
                    tracing::debug!(target: "tracewire::sdk", error = %e, "span export failed");
                }
            }
        }
    }
}

// Spans move through the queue by value: boxing them would cost an allocation per span.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Span(SpanData),
    Wake,
}

enum Control {
    Flush(SyncSender<OTelSdkResult>),
    Shutdown(SyncSender<OTelSdkResult>, Duration),
    Resource(Resource),
}

#[derive(Default)]
struct Pending {
    controls: Mutex<Vec<Control>>,
    flag: AtomicBool,
}

/// A bounded batching span processor; see the [module docs](self).
pub struct BatchProcessor {
    tx: SyncSender<Msg>,
    pending: Arc<Pending>,
    diagnostics: Diagnostics,
    flush_timeout: Duration,
    is_shutdown: AtomicBool,
    handle: Mutex<Option<JoinHandle<()>>>,
    max_queue_size: usize,
}

impl std::fmt::Debug for BatchProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchProcessor")
            .field("max_queue_size", &self.max_queue_size)
            .field("flush_timeout", &self.flush_timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`BatchProcessor`].
#[derive(Debug)]
pub struct BatchProcessorBuilder<E> {
    exporter: E,
    settings: BatchSettings,
    diagnostics: Diagnostics,
    flush_timeout: Option<Duration>,
}

impl BatchProcessor {
    /// A builder exporting to `exporter`, with the specification's default settings.
    pub fn builder<E: SpanExporter + 'static>(exporter: E) -> BatchProcessorBuilder<E> {
        BatchProcessorBuilder {
            exporter,
            settings: BatchSettings::SPANS,
            diagnostics: Diagnostics::default(),
            flush_timeout: None,
        }
    }

    /// The counters this processor updates.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    fn send_control(&self, control: Control) {
        match self.pending.controls.lock() {
            Ok(mut c) => c.push(control),
            Err(poisoned) => poisoned.into_inner().push(control),
        }
        self.pending.flag.store(true, Ordering::Release);
        // If the queue is full the worker is busy and will see the flag after its next span.
        let _ = self.tx.try_send(Msg::Wake);
    }
}

impl<E: SpanExporter + 'static> BatchProcessorBuilder<E> {
    /// Sets the queue, batch, delay and export time limit.
    pub fn with_settings(mut self, settings: BatchSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Counts into `diagnostics` (shared with other processors and the guard).
    pub fn with_diagnostics(mut self, diagnostics: Diagnostics) -> Self {
        self.diagnostics = diagnostics;
        self
    }

    /// The longest `force_flush` waits (default: the export time limit).
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = Some(timeout);
        self
    }

    /// Starts the export thread and returns the processor.
    ///
    /// # Panics
    ///
    /// When the operating system refuses to start a thread; use [`try_build`](Self::try_build)
    /// to get the error instead.
    #[allow(clippy::expect_used)]
    pub fn build(self) -> BatchProcessor {
        self.try_build()
            .expect("tracewire: cannot start the span export thread")
    }

    /// Starts the export thread and returns the processor.
    ///
    /// # Errors
    ///
    /// When the export thread cannot be started.
    pub fn try_build(self) -> std::io::Result<BatchProcessor> {
        let settings = BatchSettings {
            max_queue_size: self.settings.max_queue_size.max(1),
            max_export_batch_size: self
                .settings
                .max_export_batch_size
                .clamp(1, self.settings.max_queue_size.max(1)),
            ..self.settings
        };
        let (tx, rx) = sync_channel(settings.max_queue_size);
        let pending = Arc::new(Pending::default());
        let worker = Worker {
            rx,
            pending: Arc::clone(&pending),
            exporter: self.exporter,
            diagnostics: self.diagnostics.clone(),
            settings,
        };
        let handle = std::thread::Builder::new()
            .name("tracewire-batch".into())
            .spawn(move || worker.run())?;
        Ok(BatchProcessor {
            tx,
            pending,
            diagnostics: self.diagnostics,
            flush_timeout: self.flush_timeout.unwrap_or(settings.export_timeout),
            is_shutdown: AtomicBool::new(false),
            handle: Mutex::new(Some(handle)),
            max_queue_size: settings.max_queue_size,
        })
    }
}

impl SpanProcessor for BatchProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        match self.tx.try_send(Msg::Span(span)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self
                .diagnostics
                .record_dropped_spans(1, "the span export queue is full"),
            Err(TrySendError::Disconnected(_)) => self
                .diagnostics
                .record_dropped_spans(1, "the span pipeline was shut down"),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        if self.is_shutdown.load(Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let (reply, rx) = sync_channel(1);
        self.send_control(Control::Flush(reply));
        match rx.recv_timeout(self.flush_timeout) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(self.flush_timeout)),
            Err(RecvTimeoutError::Disconnected) => Err(OTelSdkError::AlreadyShutdown),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if self.is_shutdown.swap(true, Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let (reply, rx) = sync_channel(1);
        self.send_control(Control::Shutdown(reply, timeout));
        let result = match rx.recv_timeout(timeout) {
            Ok(result) => {
                let handle = match self.handle.lock() {
                    Ok(mut h) => h.take(),
                    Err(poisoned) => poisoned.into_inner().take(),
                };
                if let Some(h) = handle {
                    let _ = h.join();
                }
                result
            }
            // The worker is stuck in an export: it is left to finish (or time out) on its own.
            Err(RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(timeout)),
            Err(RecvTimeoutError::Disconnected) => Err(OTelSdkError::InternalFailure(
                "the span export thread has stopped".into(),
            )),
        };
        let dropped = self.diagnostics.dropped_spans();
        let failed = self.diagnostics.failed_spans();
        if dropped > 0 || failed > 0 {
            tracing::warn!(
                target: "tracewire::sdk",
                dropped_spans = dropped,
                failed_spans = failed,
                max_queue_size = self.max_queue_size,
                "spans were lost: {dropped} dropped (queue full), {failed} in failed exports"
            );
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.send_control(Control::Resource(resource.clone()));
    }
}

struct Worker<E> {
    rx: Receiver<Msg>,
    pending: Arc<Pending>,
    exporter: E,
    diagnostics: Diagnostics,
    settings: BatchSettings,
}

impl<E: SpanExporter> Worker<E> {
    fn export(&self, batch: &mut Vec<SpanData>) -> OTelSdkResult {
        if batch.is_empty() {
            return Ok(());
        }
        let n = batch.len() as u64;
        let spans = std::mem::replace(
            batch,
            Vec::with_capacity(self.settings.max_export_batch_size),
        );
        let result = futures_executor::block_on(self.exporter.export(spans));
        self.diagnostics.record_export(n, &result);
        result
    }

    /// Exports everything queued now (at most one queue's worth, so constant load cannot keep
    /// a flush going forever).
    fn drain(&self, batch: &mut Vec<SpanData>) -> OTelSdkResult {
        let mut result = Ok(());
        let mut budget = self.settings.max_queue_size;
        while budget > 0 {
            match self.rx.try_recv() {
                Ok(Msg::Span(s)) => {
                    batch.push(s);
                    budget -= 1;
                    if batch.len() >= self.settings.max_export_batch_size
                        && let Err(e) = self.export(batch)
                    {
                        result = Err(e);
                    }
                }
                Ok(Msg::Wake) => {}
                Err(_) => break,
            }
        }
        if let Err(e) = self.export(batch) {
            result = Err(e);
        }
        result
    }

    fn run(mut self) {
        let _suppress = Context::enter_telemetry_suppressed_scope();
        let mut batch: Vec<SpanData> = Vec::with_capacity(self.settings.max_export_batch_size);
        let mut last_export = Instant::now();
        loop {
            // With nothing to export the thread sleeps until a span or a control arrives: a
            // timer here would spin when the schedule delay is 0 (a valid `OTEL_BSP_SCHEDULE_DELAY`)
            // and wake for nothing otherwise. A delay too large for the clock means "no timer".
            let due = last_export.checked_add(self.settings.schedule_delay);
            let msg = match due {
                Some(due) if !batch.is_empty() => self
                    .rx
                    .recv_timeout(due.saturating_duration_since(Instant::now())),
                _ => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(Msg::Span(s)) => {
                    batch.push(s);
                    if batch.len() >= self.settings.max_export_batch_size {
                        let _ = self.export(&mut batch);
                        last_export = Instant::now();
                    }
                }
                Ok(Msg::Wake) => {}
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.export(&mut batch);
                    last_export = Instant::now();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.export(&mut batch);
                    let _ = self.exporter.shutdown();
                    return;
                }
            }
            if self.pending.flag.swap(false, Ordering::Acquire) {
                let controls = match self.pending.controls.lock() {
                    Ok(mut c) => std::mem::take(&mut *c),
                    Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
                };
                for control in controls {
                    match control {
                        Control::Flush(reply) => {
                            let mut result = self.drain(&mut batch);
                            if let Err(e) = self.exporter.force_flush() {
                                result = Err(e);
                            }
                            let _ = reply.send(result);
                        }
                        Control::Shutdown(reply, timeout) => {
                            let result = self.drain(&mut batch);
                            let _ = self.exporter.shutdown_with_timeout(timeout);
                            let _ = reply.send(result);
                            return;
                        }
                        Control::Resource(resource) => self.exporter.set_resource(&resource),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Tracer, TracerProvider};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use std::sync::mpsc;

    /// An exporter that blocks until released, or fails.
    #[derive(Debug, Clone)]
    struct Stuck {
        release: Arc<(Mutex<bool>, std::sync::Condvar)>,
        fail: bool,
    }

    impl Stuck {
        fn new(fail: bool) -> Self {
            Stuck {
                release: Arc::new((Mutex::new(false), std::sync::Condvar::new())),
                fail,
            }
        }
        fn release(&self) {
            let (m, c) = &*self.release;
            *m.lock().unwrap() = true;
            c.notify_all();
        }
    }

    impl SpanExporter for Stuck {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            if self.fail {
                return Err(OTelSdkError::InternalFailure("refused".into()));
            }
            let (m, c) = &*self.release;
            let mut released = m.lock().unwrap();
            while !*released {
                released = c.wait(released).unwrap();
            }
            Ok(())
        }
    }

    fn settings(queue: usize, batch: usize) -> BatchSettings {
        BatchSettings {
            schedule_delay: Duration::from_millis(20),
            export_timeout: Duration::from_millis(200),
            max_queue_size: queue,
            max_export_batch_size: batch,
        }
    }

    #[test]
    fn exports_in_batches_and_on_flush() {
        let memory = InMemorySpanExporter::default();
        let p = BatchProcessor::builder(memory.clone())
            .with_settings(settings(100, 10))
            .build();
        let d = p.diagnostics().clone();
        let provider = SdkTracerProvider::builder().with_span_processor(p).build();
        let tracer = provider.tracer("t");
        for _ in 0..25 {
            tracer.in_span("s", |_| {});
        }
        provider.force_flush().unwrap();
        assert_eq!(memory.get_finished_spans().unwrap().len(), 25);
        assert_eq!(d.exported_spans(), 25);
        assert_eq!(d.dropped_spans(), 0);
        provider.shutdown().unwrap();
    }

    #[test]
    fn a_stuck_exporter_bounds_memory_counts_drops_and_times_out() {
        let stuck = Stuck::new(false);
        let p = BatchProcessor::builder(stuck.clone())
            .with_settings(settings(8, 2))
            .build();
        let d = p.diagnostics().clone();
        let provider = SdkTracerProvider::builder().with_span_processor(p).build();
        let tracer = provider.tracer("t");
        for _ in 0..100 {
            tracer.in_span("s", |_| {});
        }
        // At most one batch is with the exporter and the queue holds 8: the rest are dropped.
        assert!(
            d.dropped_spans() >= 100 - 8 - 2,
            "dropped {}",
            d.dropped_spans()
        );
        let flushed = provider.force_flush();
        assert!(flushed.is_err());
        let shut = provider.shutdown_with_timeout(Duration::from_millis(50));
        assert!(shut.is_err());
        stuck.release();
    }

    #[test]
    fn a_zero_schedule_delay_exports_without_a_flush() {
        // The export thread must neither spin on a zero delay nor wait for a flush.
        #[derive(Debug)]
        struct Signal(Mutex<mpsc::Sender<usize>>);
        impl SpanExporter for Signal {
            async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
                let _ = self.0.lock().unwrap().send(batch.len());
                Ok(())
            }
        }
        let (tx, rx) = mpsc::channel();
        let p = BatchProcessor::builder(Signal(Mutex::new(tx)))
            .with_settings(BatchSettings {
                schedule_delay: Duration::ZERO,
                ..settings(100, 50)
            })
            .build();
        let provider = SdkTracerProvider::builder().with_span_processor(p).build();
        provider.tracer("t").in_span("s", |_| {});
        // A liveness bound, not a timing: the span is exported long before it.
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(1));
        provider.shutdown().unwrap();
    }

    #[test]
    fn a_delay_too_large_for_the_clock_exports_on_flush() {
        let memory = InMemorySpanExporter::default();
        let p = BatchProcessor::builder(memory.clone())
            .with_settings(BatchSettings {
                schedule_delay: Duration::MAX,
                ..settings(100, 50)
            })
            .build();
        let provider = SdkTracerProvider::builder().with_span_processor(p).build();
        provider.tracer("t").in_span("s", |_| {});
        provider.force_flush().unwrap();
        assert_eq!(memory.get_finished_spans().unwrap().len(), 1);
        provider.shutdown().unwrap();
    }

    #[test]
    fn failed_exports_are_counted() {
        let p = BatchProcessor::builder(Stuck::new(true))
            .with_settings(settings(100, 5))
            .build();
        let d = p.diagnostics().clone();
        let provider = SdkTracerProvider::builder().with_span_processor(p).build();
        let tracer = provider.tracer("t");
        for _ in 0..12 {
            tracer.in_span("s", |_| {});
        }
        assert!(provider.force_flush().is_err());
        assert_eq!(d.failed_spans(), 12);
        assert!(d.failed_exports() >= 3);
        assert_eq!(d.exported_spans(), 0);
        let _ = provider.shutdown();
        // After shutdown, ended spans are counted as dropped.
        tracer.in_span("late", |_| {});
    }

    #[test]
    fn unsampled_spans_are_not_exported() {
        use crate::sampler::{Decision, RuleSampler};
        let memory = InMemorySpanExporter::default();
        let p = BatchProcessor::builder(memory.clone())
            .with_settings(settings(10, 5))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_sampler(
                RuleSampler::builder()
                    .default_decision(Decision::RecordOnly)
                    .build(),
            )
            .with_span_processor(p)
            .build();
        provider.tracer("t").in_span("s", |_| {});
        provider.force_flush().unwrap();
        assert!(memory.get_finished_spans().unwrap().is_empty());
    }
}
