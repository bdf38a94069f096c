//! Strict W3C Trace Context and Baggage, B3 and Jaeger propagators for OpenTelemetry, with
//! carriers for `http::HeaderMap`.
//!
//! Depend on this crate in a service that crosses process boundaries (HTTP, messaging) and wants
//! the W3C rules by the letter: exactly one `traceparent`, every `tracestate` and `baggage` line
//! combined, the Level 2 random flag, spec-valid `tracestate` keys that opentelemetry's
//! `TraceState` rejects, baggage limits applied entry by entry. It costs a fraction of
//! opentelemetry_sdk's propagators used through opentelemetry-http (see
//! `benches/propagation.rs`). It uses the opentelemetry API only; tracewire-tower, tracewire-kafka
//! and tracewire-sdk build on it.
//!
//! # Example
//!
//! Install the propagators `OTEL_PROPAGATORS` names (here from a map; [`install`] reads the
//! process environment), then extract from a request's headers and inject into an outgoing
//! request's, as middleware does through the global propagator:
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::trace::TraceContextExt;
//! use opentelemetry::{Context, global};
//! use tracewire_core::env::OtelEnv;
//! use tracewire_propagation::{HeaderExtractor, HeaderInjector, Propagators};
//!
//! let env = OtelEnv::new([("OTEL_PROPAGATORS", "tracecontext,baggage")]);
//! Propagators::from_env(&env).install();
//!
//! let mut incoming = HeaderMap::new();
//! incoming.insert("traceparent", HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
//! incoming.insert("tracestate", HeaderValue::from_static("congo=t61rcWkgMzE"));
//! incoming.insert("baggage", HeaderValue::from_static("user.id=alice"));
//!
//! let cx = global::get_text_map_propagator(|p| {
//!     p.extract_with_context(&Context::new(), &HeaderExtractor(&incoming))
//! });
//! assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(cx.baggage().get("user.id").map(|v| v.as_str()), Some("alice"));
//!
//! let mut outgoing = HeaderMap::new();
//! global::get_text_map_propagator(|p| p.inject_context(&cx, &mut HeaderInjector(&mut outgoing)));
//! assert_eq!(outgoing["tracestate"], "congo=t61rcWkgMzE");
//! assert_eq!(outgoing["baggage"], "user.id=alice");
//! ```
//!
//! # What is here
//!
//! - [`TraceContextPropagator`] ([`traceparent`], [`tracestate`], [`trace_context`]): W3C Trace
//!   Context Level 1 and 2.
//! - [`BaggagePropagator`] ([`baggage`]): W3C Baggage.
//! - [`B3Propagator`] ([`b3`]) and [`JaegerPropagator`] ([`jaeger`]), as the OpenTelemetry
//!   propagator specification defines them; [`debug`] keeps their debug flag.
//! - [`Propagators`] ([`composite`]): the composite `OTEL_PROPAGATORS` configures;
//!   [`propagator_from_env`] and [`install`].
//! - [`HeaderExtractor`], [`HeaderInjector`], [`MapExtractor`], [`MapInjector`] ([`carrier`]).
//!
//! Every propagator implements opentelemetry's `TextMapPropagator` and also has
//! `extract_from_headers` / `inject_into_headers` methods that work on an `http::HeaderMap`
//! directly, with the same results.
//!
//! Untrusted input never panics and never fails the caller: a malformed header leaves the
//! caller's context unchanged (a new trace starts) or drops only the malformed part, and each
//! kind of problem is reported once per process through `tracing::warn!` (target
//! `tracewire::propagation`), never with the header's value.
//!
//! # Specifications
//!
//! [Trace Context](https://www.w3.org/TR/trace-context/),
//! [Trace Context Level 2](https://www.w3.org/TR/trace-context-2/),
//! [Baggage](https://www.w3.org/TR/baggage/),
//! [OpenTelemetry propagators](https://opentelemetry.io/docs/specs/otel/context/api-propagators/),
//! [`OTEL_PROPAGATORS`](https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration),
//! [B3](https://github.com/openzipkin/b3-propagation),
//! [Jaeger](https://www.jaegertracing.io/docs/latest/client-libraries/#propagation-format).
//!
//! # Feature flags
//!
//! None: every propagator is always built (they have no dependencies beyond the crate's own).
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
