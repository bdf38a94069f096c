//! Span helpers for people who instrument code, on the OpenTelemetry API only.
//!
//! - [`in_span`] / [`SpanOptions::in_span`]: run a closure in a new span that is current while
//!   it runs and always ends; its status comes from the result (`Err` → `Error` with an
//!   `exception` event, `Ok` → `Unset` unless [`with_ok_status`](SpanOptions::with_ok_status),
//!   a panic → `Error`, then the panic goes on).
//! - [`in_span_future`] / [`SpanOptions::in_span_future`]: the same for a future, which stays
//!   `Send`.
//! - [`SpanExt`]: `set_error` and `record_exception` on `Context::current().span()`, with the
//!   error's `source()` chain.
//! - [`baggage`]: set baggage entries for a closure or future; read one downstream.
//!
//! Depend on this crate in libraries and services that create spans. It depends on the
//! `opentelemetry` API and `tracewire-core` only, never on an SDK: the binary's `main` chooses
//! the SDK (for instance with `tracewire-sdk`). Without an installed SDK, spans are no-ops and
//! the helpers cost next to nothing.
//!
//! # Example
//!
//! ```
//! use opentelemetry::KeyValue;
//! use opentelemetry::trace::SpanKind;
//! use tracewire_api::{SpanExt as _, SpanOptions};
//! use tracewire_testing::InMemoryPipeline;
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("inventory unavailable")]
//! struct Unavailable(#[source] std::io::Error);
//!
//! fn reserve(tracer: &opentelemetry_sdk::trace::SdkTracer) -> Result<(), Unavailable> {
//!     SpanOptions::new("reserve stock")
//!         .with_tracer(tracer)
//!         .with_attributes([KeyValue::new("order.items", 3_i64)])
//!         .in_span(|_cx| {
//!             Err(Unavailable(std::io::Error::new(
//!                 std::io::ErrorKind::TimedOut,
//!                 "warehouse timed out",
//!             )))
//!         })
//! }
//!
//! let pipeline = InMemoryPipeline::new();
//! let tracer = pipeline.tracer("shop");
//! let placed = SpanOptions::new("place order")
//!     .with_tracer(&tracer)
//!     .with_kind(SpanKind::Server)
//!     .with_ok_status()
//!     .in_span(|_cx| reserve(&tracer).is_ok().then_some(()).ok_or(std::fmt::Error));
//! assert!(placed.is_err());
//!
//! let tree = pipeline.tree();
//! let order = tree.span("place order").assert_root().assert_error();
//! tree.span("reserve stock")
//!     .assert_child_of(order)
//!     .assert_status_error("inventory unavailable")
//!     .assert_event("exception")
//!     .assert_attribute("exception.message", "inventory unavailable")
//!     .assert_attribute(
//!         "exception.stacktrace",
//!         "inventory unavailable\n\nCaused by:\n    0: warehouse timed out",
//!     );
//! ```
//!
//! # With `tracing`
//!
//! With tracing-opentelemetry's layer installed (context activation on, its default), a span
//! made by `in_span` inside a `tracing` span is its child, and a `tracing` span opened inside
//! `in_span` is the `in_span` span's child: the OpenTelemetry context is the one source of
//! truth.
//!
//! # Cost
//!
//! A span through [`SpanOptions::in_span`] costs what opentelemetry's own way of making a span
//! current costs (`Context::current_with_span` + `attach`, as in `Tracer::in_span`): the same
//! three allocations and, measured, the same time (`benches/in_span.rs`). Against a raw SDK
//! span that is never made current it is about 1.4× and two allocations more: the
//! opentelemetry `Context` stores a current span boxed (`Box<dyn ObjectSafeSpan>`) inside an
//! `Arc`, which no helper that makes the span current can avoid.
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

pub mod baggage;
pub mod error;
pub mod outcome;
pub mod span;

pub use error::SpanExt;
pub use outcome::{DynError, Failure, Outcome};
pub use span::{
    DEFAULT_SCOPE, GlobalTracer, InSpan, SpanOptions, TracerChoice, in_span, in_span_future,
};
