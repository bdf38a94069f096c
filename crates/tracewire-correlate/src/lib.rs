//! Trace ids in every log line (slog and tracing-subscriber) and metrics linked to traces
//! through exemplars.
//!
//! Depend on this crate in a service that logs with [`slog`](https://docs.rs/slog) or
//! [`tracing`](https://docs.rs/tracing) (or both) and wants every line written inside a request
//! to carry that request's trace, and metrics that point at example traces. It uses the
//! OpenTelemetry API only: the SDK setup (exporters, providers) lives in your `main` or in
//! `tracewire-sdk`.
//!
//! # Logs
//!
//! Every record made while an OpenTelemetry span is current gets the three fields of the
//! specification's [Trace Context in non-OTLP Log
//! Formats](https://opentelemetry.io/docs/specs/otel/compatibility/logging_trace_context/):
//! `trace_id` (32 lowercase hex digits), `span_id` (16) and `trace_flags` (`"01"` sampled,
//! `"00"` not), as top-level fields. They are left out when there is no valid span context, and
//! their names can be changed ([`FieldNames`]). The ids are read when the record is made, never
//! when the logger is built, without heap allocation.
//!
//! - [`slog`](mod@crate::slog): [`TraceIdsDrain`](crate::slog::TraceIdsDrain) adds the fields
//!   to every record; [`OtelLogsDrain`](crate::slog::OtelLogsDrain) exports records as
//!   OpenTelemetry log records.
//! - [`subscriber`]: [`TraceIdsFormat`](crate::subscriber::TraceIdsFormat) adds the fields to
//!   tracing-subscriber's JSON and text lines; [`logs_layer`](crate::subscriber::logs_layer)
//!   exports events as OpenTelemetry log records carrying the span context of the event's
//!   `tracing` span.
//!
//! # Metrics
//!
//! [`metrics`] records counters and histograms to an OpenMetrics registry with exemplars
//! (`trace_id`, `span_id`, value, time), served by a tower service on `/metrics`, and to an
//! OpenTelemetry meter for OTLP export. A trace id is never a label of a series: it lives on the
//! exemplar only.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
//! use opentelemetry::Context;
//! use slog::{info, o, Drain};
//! use std::sync::{Arc, Mutex};
//! use tracewire_correlate::slog::TraceIdsDrain;
//!
//! // A slog-json logger, built once.
//! #[derive(Clone, Default)]
//! struct Buf(Arc<Mutex<Vec<u8>>>);
//! impl std::io::Write for Buf {
//!     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
//!     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! }
//! let out = Buf::default();
//! let json = slog_json::Json::new(out.clone()).build().fuse();
//! let log = slog::Logger::root(TraceIdsDrain::new(Mutex::new(json)).fuse(), o!());
//!
//! // A request's span context becomes current...
//! let sc = SpanContext::new(
//!     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
//!     SpanId::from_hex("00f067aa0ba902b7").unwrap(),
//!     TraceFlags::SAMPLED,
//!     false,
//!     TraceState::NONE,
//! );
//! let _guard = Context::new().with_remote_span_context(sc).attach();
//! info!(log, "charging card");
//!
//! let line: serde_json::Value = serde_json::from_slice(&out.0.lock().unwrap()).unwrap();
//! assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(line["span_id"], "00f067aa0ba902b7");
//! assert_eq!(line["trace_flags"], "01");
//! ```
//!
//! # Feature flags
//!
//! All on by default:
//!
//! - `slog`: the [`slog`](mod@crate::slog) module.
//! - `tracing`: the [`subscriber`] module (tracing-subscriber, tracing-opentelemetry,
//!   opentelemetry-appender-tracing).
//! - `metrics`: the [`metrics`] module (prometheus-client, http, tower-service).
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

mod fields;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "slog")]
pub mod slog;
#[cfg(feature = "tracing")]
pub mod subscriber;

pub use fields::FieldNames;
pub use tracewire_core::TraceIds;
