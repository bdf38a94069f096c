//! Strict W3C Trace Context and Baggage, B3 and Jaeger propagators for OpenTelemetry, with
//! carriers for `http::HeaderMap`.
//!
//! Depend on this crate in a service that crosses process boundaries and wants the W3C rules by
//! the letter (exactly one `traceparent`, combined `tracestate` lines, the Level 2 random flag,
//! spec-valid `tracestate` keys that opentelemetry's `TraceState` rejects), at a fraction of the
//! cost of opentelemetry_sdk's propagators. It uses the opentelemetry API only.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::{Context, global};
//! use opentelemetry::trace::TraceContextExt;
//! use tracewire_propagation::{HeaderExtractor, TraceContextPropagator};
//!
//! global::set_text_map_propagator(TraceContextPropagator::new());
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("traceparent", HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
//! let cx = global::get_text_map_propagator(|p| p.extract_with_context(&Context::new(), &HeaderExtractor(&headers)));
//! assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! ```
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

pub mod b3;
pub mod baggage;
pub mod carrier;
pub mod composite;
pub mod debug;
pub mod jaeger;
mod report;
mod swar;
pub mod trace_context;
pub mod traceparent;
pub mod tracestate;

pub use b3::{B3Encoding, B3Propagator};
pub use baggage::BaggagePropagator;
pub use carrier::{HeaderExtractor, HeaderInjector, MapExtractor, MapInjector};
pub use composite::{Format, Propagators, install, propagator_from_env};
pub use jaeger::JaegerPropagator;
pub use trace_context::TraceContextPropagator;
pub use traceparent::{TraceParent, TraceParentError};
pub use tracestate::{TraceStateError, TraceStateList};
