//! Shared vocabulary of tracewire: attribute keys, trace ids and their hex forms, and `OTEL_*`
//! environment parsing.
//!
//! Every other tracewire crate depends on this one; depend on it yourself when you need the same
//! vocabulary in your own instrumentation (for instance the hex form of the current trace id for a
//! log line, without allocating).
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
//! use tracewire_core::TraceIds;
//!
//! let sc = SpanContext::new(
//!     TraceId::from_bytes([0x4b; 16]),
//!     SpanId::from_bytes([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]),
//!     TraceFlags::SAMPLED,
//!     false,
//!     TraceState::NONE,
//! );
//! let ids = TraceIds::from_span_context(&sc).expect("valid");
//! assert_eq!(ids.span_id_hex().as_str(), "00f067aa0ba902b7");
//! assert_eq!(ids.trace_flags_hex().as_str(), "01");
//! ```
//!
//! # Modules
//!
//! - [`semconv`]: attribute keys (re-exported from `opentelemetry-semantic-conventions`, plus the
//!   few keys tracewire needs that it lacks).
//! - [`hex`]: lowercase hex encoding and strict decoding of ids, without heap allocation.
//! - [`env`](mod@env): reading `OTEL_*` variables by the OpenTelemetry specification's rules.
//! - [`TraceIds`]: the current context's ids as a small `Copy` type.
//! - [`otel`]: the global tracer resolved on first use, and instrumentation scopes.
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

pub mod env;
pub mod hex;
mod ids;
pub mod otel;
pub mod semconv;

pub use ids::TraceIds;
