//! tracing-subscriber: trace ids in every fmt line, and `tracing` events as OpenTelemetry log
//! records.
//!
//! - [`TraceIdsFormat`]: an event formatter wrapping tracing-subscriber's JSON or text format;
//!   lines written inside a span get `trace_id`, `span_id` and `trace_flags` (top-level JSON keys,
//!   or `key=value` pairs at the end of a text line). Existing crates nest the ids under the span
//!   or leave `trace_flags` out; this follows the specification for non-OTLP log formats.
//! - [`WithOtelContext`] (and [`OtelContextExt::with_otel_context`]): runs a layer's `on_event`
//!   inside the OpenTelemetry context of the event's `tracing` span, found through
//!   tracing-opentelemetry, so that the ids are the event's span's even when that span is not
//!   the entered one.
//! - [`logs_layer`]: opentelemetry-appender-tracing's bridge, wrapped in [`WithOtelContext`], so
//!   exported log records carry the event's span context.
//!
//! # Example
//!
//! The ids in a JSON line are those of the span the event is in:
//!
//! ```
//! use opentelemetry::trace::TracerProvider as _;
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use std::sync::{Arc, Mutex};
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracewire_correlate::subscriber::{OtelContextExt, TraceIdsFormat};
//!
//! #[derive(Clone, Default)]
//! struct Buf(Arc<Mutex<Vec<u8>>>);
//! impl std::io::Write for Buf {
//!     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
//!         self.0.lock().expect("lock").write(b)
//!     }
//!     fn flush(&mut self) -> std::io::Result<()> {
//!         Ok(())
//!     }
//! }
//!
//! let spans = InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
//! let out = Buf::default();
//! let writer = out.clone();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("example")))
//!     .with(
//!         tracing_subscriber::fmt::layer()
//!             .json()
//!             .event_format(TraceIdsFormat::default_json())
//!             .with_writer(move || writer.clone())
//!             .with_otel_context(),
//!     );
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info_span!("payment").in_scope(|| tracing::info!(amount = 42, "charged"));
//! });
//!
//! let line: serde_json::Value =
//!     serde_json::from_slice(&out.0.lock().expect("lock")).expect("one JSON line");
//! let span = &spans.get_finished_spans().expect("spans")[0];
//! assert_eq!(line["trace_id"], span.span_context.trace_id().to_string());
//! assert_eq!(line["span_id"], span.span_context.span_id().to_string());
//! assert_eq!(line["trace_flags"], "01");
//! ```

mod context;
mod format;
mod logs;

pub use context::{OtelContextExt, WithOtelContext};
pub use format::TraceIdsFormat;
pub use logs::{LogsLayer, logs_layer};
