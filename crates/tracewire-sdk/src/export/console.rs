//! Console exporters for local development: a readable tree per trace, log lines and metric
//! values.
//!
//! # Example
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use opentelemetry::trace::{Tracer, TracerProvider};
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use tracewire_sdk::export::console::{ConsoleSpanExporter, ConsoleSpanProcessor, SharedBuffer};
//!
//! let out = SharedBuffer::default();
//! let exporter = ConsoleSpanExporter::with_writer(out.clone());
//! let provider = SdkTracerProvider::builder()
//!     .with_span_processor(ConsoleSpanProcessor::new(exporter))
//!     .build();
//! let tracer = provider.tracer("example");
//! tracer.in_span("checkout", |_| tracer.in_span("payment.charge", |_| {}));
//! let text = out.contents();
//! assert!(text.contains("└─ checkout"), "{text}");
//! assert!(text.contains("   └─ payment.charge"), "{text}");
//! ```
//!
//! # When a trace is printed
//!
//! Spans are held per trace until the trace's *local root* ends (a span without a parent, or
//! whose parent is in another process); then the trace prints as a tree of spans ordered by
//! start time, each with its kind, duration, status and first attributes. `force_flush` and
//! shutdown print what is still held (partial traces, marked as such). At most 10 000 spans are
//! held; past that the held traces print early.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::Context;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Key, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

const MAX_HELD_SPANS: usize = 10_000;
const MAX_ATTRIBUTES_SHOWN: usize = 6;
const MAX_VALUE_CHARS: usize = 48;

/// A cloneable in-memory writer, for tests and for capturing console output.
#[derive(Clone, Debug, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written so far, as text.
    pub fn contents(&self) -> String {
        match self.0.lock() {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(p) => String::from_utf8_lossy(&p.into_inner()).into_owned(),
        }
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut b) => b.extend_from_slice(buf),
            Err(p) => p.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Writer = Arc<Mutex<Box<dyn Write + Send>>>;

fn stdout_writer() -> Writer {
    Arc::new(Mutex::new(Box::new(std::io::stdout())))
}

fn write_out(writer: &Writer, text: &str) {
    let mut w = match writer.lock() {
        Ok(w) => w,
        Err(p) => p.into_inner(),
    };
    // Console output is best effort: a closed stdout must not fail the pipeline.
    let _ = w.write_all(text.as_bytes());
    let _ = w.flush();
}

#[derive(Default)]
struct Held {
    traces: HashMap<TraceId, Vec<SpanData>>,
    count: usize,
}

/// Prints each trace as a tree when its local root ends; see the [module docs](self).
pub struct ConsoleSpanExporter {
    writer: Writer,
    held: Mutex<Held>,
    service: String,
}

impl std::fmt::Debug for ConsoleSpanExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSpanExporter")
            .finish_non_exhaustive()
    }
}

impl Default for ConsoleSpanExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleSpanExporter {
    /// Prints to stdout.
    pub fn new() -> Self {
        ConsoleSpanExporter {
            writer: stdout_writer(),
            held: Mutex::new(Held::default()),
            service: String::new(),
        }
    }

    /// Prints to `writer`.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        ConsoleSpanExporter {
            writer: Arc::new(Mutex::new(Box::new(writer))),
            ..Self::new()
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        match self.held.lock() {
            Ok(h) => h,
            Err(p) => p.into_inner(),
        }
    }

    fn print_all(&self, partial: bool) {
        let traces: Vec<Vec<SpanData>> = {
            let mut held = self.held();
            held.count = 0;
            held.traces.drain().map(|(_, v)| v).collect()
        };
        let mut text = String::new();
        for spans in traces {
            render_trace(&mut text, &self.service, spans, partial);
        }
        if !text.is_empty() {
            write_out(&self.writer, &text);
        }
    }
}

fn is_local_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

impl ConsoleSpanExporter {
    /// Takes ended spans; prints the traces whose local root is among them.
    fn take(&self, batch: Vec<SpanData>) {
        let mut complete = Vec::new();
        let overflow = {
            let mut held = self.held();
            for span in batch {
                let id = span.span_context.trace_id();
                let root = is_local_root(&span);
                held.count += 1;
                held.traces.entry(id).or_default().push(span);
                if root && let Some(spans) = held.traces.remove(&id) {
                    held.count -= spans.len();
                    complete.push(spans);
                }
            }
            held.count > MAX_HELD_SPANS
        };
        let mut text = String::new();
        for spans in complete {
            render_trace(&mut text, &self.service, spans, false);
        }
        if !text.is_empty() {
            write_out(&self.writer, &text);
        }
        if overflow {
            self.print_all(true);
        }
    }
}

impl SpanExporter for ConsoleSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.take(batch);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.print_all(true);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.print_all(true);
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.service = crate::resource::service_name(resource);
    }
}

/// Feeds a [`ConsoleSpanExporter`] on the thread that ends each span, so a trace prints as soon
/// as its local root ends; `force_flush` prints partial traces.
#[derive(Debug)]
pub struct ConsoleSpanProcessor {
    exporter: ConsoleSpanExporter,
}

impl ConsoleSpanProcessor {
    /// Wraps `exporter`.
    pub fn new(exporter: ConsoleSpanExporter) -> Self {
        ConsoleSpanProcessor { exporter }
    }
}

impl SpanProcessor for ConsoleSpanProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.exporter.take(vec![span]);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.exporter.print_all(true);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.exporter.print_all(true);
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(&mut self.exporter, resource);
    }
}

fn duration(start: SystemTime, end: SystemTime) -> String {
    let d = end.duration_since(start).unwrap_or_default();
    let micros = d.as_micros();
    if micros < 1_000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.1} ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn kind(k: &SpanKind) -> &'static str {
    match k {
        SpanKind::Internal => "",
        SpanKind::Server => " [server]",
        SpanKind::Client => " [client]",
        SpanKind::Producer => " [producer]",
        SpanKind::Consumer => " [consumer]",
    }
}

fn short(value: &str) -> String {
    let mut s: String = value.chars().take(MAX_VALUE_CHARS).collect();
    if s.len() < value.len() {
        s.push('…');
    }
    s
}

fn attrs(out: &mut String, attributes: &[KeyValue]) {
    if attributes.is_empty() {
        return;
    }
    out.push_str("  {");
    for (i, kv) in attributes.iter().take(MAX_ATTRIBUTES_SHOWN).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}={}", kv.key, short(&kv.value.as_str()));
    }
    if attributes.len() > MAX_ATTRIBUTES_SHOWN {
        let _ = write!(out, ", +{}", attributes.len() - MAX_ATTRIBUTES_SHOWN);
    }
    out.push('}');
}

fn render_trace(out: &mut String, service: &str, mut spans: Vec<SpanData>, partial: bool) {
    spans.sort_by_key(|s| s.start_time);
    let Some(first) = spans.first() else {
        return;
    };
    let trace_id = first.span_context.trace_id();
    let start = spans
        .iter()
        .map(|s| s.start_time)
        .min()
        .unwrap_or(first.start_time);
    let end = spans
        .iter()
        .map(|s| s.end_time)
        .max()
        .unwrap_or(first.end_time);
    let _ = write!(out, "trace {trace_id}");
    if !service.is_empty() {
        let _ = write!(out, " ({service})");
    }
    let _ = write!(out, " {}", duration(start, end));
    if partial {
        out.push_str(" (partial)");
    }
    out.push('\n');
    let ids: std::collections::HashSet<SpanId> =
        spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        if ids.contains(&s.parent_span_id) && s.parent_span_id != s.span_context.span_id() {
            children.entry(s.parent_span_id).or_default().push(i);
        } else {
            roots.push(i);
        }
    }
    let count = roots.len();
    for (n, i) in roots.into_iter().enumerate() {
        render_span(out, &spans, &children, i, "", n + 1 == count);
    }
}

fn render_span(
    out: &mut String,
    spans: &[SpanData],
    children: &HashMap<SpanId, Vec<usize>>,
    i: usize,
    prefix: &str,
    last: bool,
) {
    let s = &spans[i];
    let _ = write!(
        out,
        "{prefix}{}{}{} {}",
        if last { "└─ " } else { "├─ " },
        s.name,
        kind(&s.span_kind),
        duration(s.start_time, s.end_time)
    );
    match &s.status {
        Status::Error { description } if description.is_empty() => out.push_str("  ERROR"),
        Status::Error { description } => {
            let _ = write!(out, "  ERROR: {}", short(description));
        }
        Status::Ok => out.push_str("  OK"),
        Status::Unset => {}
    }
    attrs(out, &s.attributes);
    out.push('\n');
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    if let Some(kids) = children.get(&s.span_context.span_id()) {
        for (n, k) in kids.iter().enumerate() {
            render_span(out, spans, children, *k, &child_prefix, n + 1 == kids.len());
        }
    }
}

/// Prints one line per log record: time, severity, body, trace and span ids, attributes.
pub struct ConsoleLogExporter {
    writer: Writer,
}

impl std::fmt::Debug for ConsoleLogExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleLogExporter").finish_non_exhaustive()
    }
}

impl Default for ConsoleLogExporter {
    fn default() -> Self {
        ConsoleLogExporter {
            writer: stdout_writer(),
        }
    }
}

impl ConsoleLogExporter {
    /// Prints to `writer`.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        ConsoleLogExporter {
            writer: Arc::new(Mutex::new(Box::new(writer))),
        }
    }
}

fn since_epoch(t: Option<SystemTime>) -> String {
    t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| format!("{}.{:06}", d.as_secs(), d.subsec_micros()))
        .unwrap_or_else(|| "-".to_owned())
}

impl LogExporter for ConsoleLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let mut text = String::new();
        for (record, _scope) in batch.iter() {
            let _ = write!(
                text,
                "{} {:<5}",
                since_epoch(record.timestamp().or(record.observed_timestamp())),
                record.severity_text().unwrap_or("-")
            );
            if let Some(body) = record.body() {
                let _ = write!(text, " {}", short(&format!("{body:?}")));
            }
            if let Some(tc) = record.trace_context() {
                let _ = write!(text, "  trace_id={} span_id={}", tc.trace_id, tc.span_id);
            }
            let attributes: Vec<KeyValue> = record
                .attributes_iter()
                .map(|(k, v): &(Key, opentelemetry::logs::AnyValue)| {
                    KeyValue::new(k.clone(), format!("{v:?}"))
                })
                .collect();
            attrs(&mut text, &attributes);
            text.push('\n');
        }
        if !text.is_empty() {
            write_out(&self.writer, &text);
        }
        Ok(())
    }
}

/// Prints the current value of every metric stream at each collection.
pub struct ConsoleMetricExporter {
    writer: Writer,
}

impl std::fmt::Debug for ConsoleMetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleMetricExporter")
            .finish_non_exhaustive()
    }
}

impl Default for ConsoleMetricExporter {
    fn default() -> Self {
        ConsoleMetricExporter {
            writer: stdout_writer(),
        }
    }
}

impl ConsoleMetricExporter {
    /// Prints to `writer`.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        ConsoleMetricExporter {
            writer: Arc::new(Mutex::new(Box::new(writer))),
        }
    }
}

fn points<T: std::fmt::Display + Copy>(out: &mut String, name: &str, data: &MetricData<T>) {
    let mut line = |attributes: Vec<KeyValue>, value: String| {
        let _ = write!(out, "{name} {value}");
        attrs(out, &attributes);
        out.push('\n');
    };
    match data {
        MetricData::Gauge(g) => {
            for p in g.data_points() {
                line(p.attributes().cloned().collect(), p.value().to_string());
            }
        }
        MetricData::Sum(s) => {
            for p in s.data_points() {
                line(p.attributes().cloned().collect(), p.value().to_string());
            }
        }
        MetricData::Histogram(h) => {
            for p in h.data_points() {
                line(
                    p.attributes().cloned().collect(),
                    format!("count={} sum={}", p.count(), p.sum()),
                );
            }
        }
        MetricData::ExponentialHistogram(h) => {
            for p in h.data_points() {
                line(
                    p.attributes().cloned().collect(),
                    format!("count={} sum={}", p.count(), p.sum()),
                );
            }
        }
    }
}

impl PushMetricExporter for ConsoleMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut text = String::new();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                match metric.data() {
                    AggregatedMetrics::F64(d) => points(&mut text, metric.name(), d),
                    AggregatedMetrics::U64(d) => points(&mut text, metric.name(), d),
                    AggregatedMetrics::I64(d) => points(&mut text, metric.name(), d),
                }
            }
        }
        if !text.is_empty() {
            write_out(&self.writer, &text);
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer, TracerProvider};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    #[test]
    fn prints_a_tree_when_the_local_root_ends() {
        let out = SharedBuffer::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(ConsoleSpanProcessor::new(ConsoleSpanExporter::with_writer(
                out.clone(),
            )))
            .with_resource(
                Resource::builder_empty()
                    .with_service_name("checkout")
                    .build(),
            )
            .build();
        let tracer = provider.tracer("t");
        tracer.in_span("POST /checkout", |cx| {
            tracer.in_span("validate", |_| {});
            assert!(out.contents().is_empty(), "printed before the root ended");
            let mut span = tracer
                .span_builder("payment.charge")
                .with_kind(SpanKind::Client)
                .with_attributes([KeyValue::new("payment.amount", 42)])
                .start_with_context(&tracer, &cx);
            span.set_status(Status::error("declined"));
            span.end();
            let _ = Context::current().span();
        });
        let text = out.contents();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("trace ") && lines[0].contains("(checkout)"),
            "{text}"
        );
        assert!(lines[1].starts_with("└─ POST /checkout "), "{text}");
        assert!(lines[2].starts_with("   ├─ validate "), "{text}");
        assert!(
            lines[3].starts_with("   └─ payment.charge [client] "),
            "{text}"
        );
        assert!(lines[3].contains("ERROR: declined"), "{text}");
        assert!(lines[3].contains("{payment.amount=42}"), "{text}");
        assert_eq!(lines.len(), 4, "{text}");
    }

    #[test]
    fn flush_prints_partial_traces() {
        let out = SharedBuffer::default();
        let exporter = ConsoleSpanExporter::with_writer(out.clone());
        let provider = SdkTracerProvider::builder()
            .with_span_processor(ConsoleSpanProcessor::new(exporter))
            .build();
        let tracer = provider.tracer("t");
        let root = tracer.start("root");
        let cx = Context::current_with_span(root);
        tracer.start_with_context("child", &cx).end();
        assert!(out.contents().is_empty());
        provider.force_flush().unwrap();
        let text = out.contents();
        assert!(
            text.contains("(partial)") && text.contains("└─ child"),
            "{text}"
        );
    }

    #[test]
    fn durations_read_well() {
        let t0 = SystemTime::UNIX_EPOCH;
        assert_eq!(duration(t0, t0 + Duration::from_micros(250)), "250 µs");
        assert_eq!(duration(t0, t0 + Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(duration(t0, t0 + Duration::from_millis(2_500)), "2.50 s");
        assert_eq!(duration(t0 + Duration::from_secs(1), t0), "0 µs");
    }
}
