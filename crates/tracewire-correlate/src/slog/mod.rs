//! slog: trace ids on every record, and a bridge to OpenTelemetry logs.
//!
//! - [`TraceIdsDrain`] wraps any drain and adds `trace_id`, `span_id` and `trace_flags` to every
//!   record made while a valid span context is current, without heap allocation.
//! - [`TraceIdsKv`] is the same as a key-value source for `o!(...)`, for loggers whose drain runs
//!   on the logging thread.
//! - [`OtelLogsDrain`] exports records as OpenTelemetry log records through any
//!   [`LoggerProvider`](opentelemetry::logs::LoggerProvider): severity mapped, message as body,
//!   key-values as attributes, trace context set.
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
//! let out = Buf::default();
//! let json = slog_json::Json::new(out.clone()).build().fuse();
//! let log = slog::Logger::root(TraceIdsDrain::new(Mutex::new(json)).fuse(), o!());
//!
//! // Outside any span: no trace fields at all.
//! info!(log, "starting");
//! // Inside an unsampled span: ids, with flags "00".
//! let sc = SpanContext::new(
//!     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
//!     SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
//!     TraceFlags::NOT_SAMPLED,
//!     false,
//!     TraceState::NONE,
//! );
//! let guard = Context::new().with_remote_span_context(sc).attach();
//! info!(log, "in a request"; "user" => "u-42");
//! drop(guard);
//!
//! let text = String::from_utf8(out.0.lock().expect("lock").clone()).expect("utf-8");
//! let lines: Vec<serde_json::Value> =
//!     text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
//! assert!(lines[0].get("trace_id").is_none());
//! assert_eq!(lines[1]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(lines[1]["span_id"], "00f067aa0ba902b7");
//! assert_eq!(lines[1]["trace_flags"], "00");
//! assert_eq!(lines[1]["user"], "u-42");
//! ```
//!
//! # Where to put the drain
//!
//! The ids are read from the OpenTelemetry [`Context`](opentelemetry::Context) of the thread
//! that logs. Put [`TraceIdsDrain`] *in front of* `slog_async::Async` (or any drain that hands
//! records to another thread): it adds the ids to the record's own key-values, which an async
//! drain copies on the logging thread. A [`TraceIdsKv`] in the logger's `o!(...)` values is
//! evaluated wherever the values are serialized, so it is only right for drains that serialize on
//! the logging thread.
//!
//! [`OtelLogsDrain`] takes the trace context from the current context, or, when the record
//! carries the three fields (written by a [`TraceIdsDrain`] in front of an async drain), from
//! them: `TraceIdsDrain::new(Async::new(OtelLogsDrain::new(&provider)))` exports each record
//! with the context of the thread that logged it.

mod drain;
mod otel;

pub use drain::{TraceIdsDrain, TraceIdsKv};
pub use otel::{OtelLogsDrain, OtelLogsDrainBuilder, severity_of};
