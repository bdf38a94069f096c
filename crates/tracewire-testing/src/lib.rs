//! Test kit for tracewire and its users: an in-memory pipeline with trace-tree assertions, real
//! OTLP and Zipkin endpoints on loopback, a bench harness and a fuzzer.
//!
//! Depend on it as a **dev-dependency** (every tracewire crate does; so can your service's
//! tests). It depends only on tracewire-core and external crates, so the span types it returns
//! are the ones your code under test sees.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
//! use tracewire_testing::InMemoryPipeline;
//!
//! let pipeline = InMemoryPipeline::new();
//! let tracer = pipeline.tracer("orders");
//! tracer.in_span("GET /orders", |_cx| {
//!     tracer.in_span("SELECT orders", |_cx| {});
//! });
//!
//! let tree = pipeline.tree();
//! tree.assert_len(2).assert_single_trace();
//! let get = tree.span("GET /orders").assert_root().assert_kind(SpanKind::Internal);
//! tree.span("SELECT orders").assert_child_of(get);
//! ```
//!
//! # Modules
//!
//! - [`pipeline`]: [`InMemoryPipeline`] (an SDK provider exporting synchronously to an
//!   [`InMemoryExporter`]) with an explicit [`install_global`](InMemoryPipeline::install_global).
//! - [`tree`]: [`SpanTree`] and [`SpanView`]: find spans, assert kind, parent, attributes,
//!   status, events, links; failures print the whole tree.
//! - [`counting`]: [`CountingProcessor`], which records and drops spans, for benches.
//! - `subscriber` (feature `tracing`): a `tracing` subscriber writing to a pipeline's tracer.
//! - `otlp` and `zipkin` (feature `servers`): receivers on 127.0.0.1 that decode what
//!   exporters send (OTLP/HTTP protobuf and JSON, gzip; OTLP gRPC with feature `grpc`; Zipkin v2
//!   JSON), keep it, and can fail on purpose (a status, a hang).
//! - [`broker`]: [`TansuBroker`](broker::TansuBroker), a real Kafka-compatible broker on a free
//!   port of 127.0.0.1, stopped by its pid.
//! - [`bench`](mod@bench): side-by-side bench harness with allocation counts.
//! - [`fuzz`]: mutation fuzzer on the stable toolchain.
//!
//! # Features
//!
//! - `tracing` (default): the `tracing` subscriber helper.
//! - `servers` (default): the OTLP/HTTP and Zipkin receivers (tokio, axum, opentelemetry-proto).
//! - `grpc`: the OTLP gRPC receiver (tonic).
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

pub mod bench;
pub mod broker;
pub mod counting;
pub mod fuzz;
#[cfg(feature = "grpc")]
mod grpc;
#[cfg(feature = "servers")]
pub mod otlp;
pub mod pipeline;
#[cfg(feature = "servers")]
pub mod server;
#[cfg(feature = "tracing")]
pub mod subscriber;
pub mod tree;
#[cfg(feature = "servers")]
pub mod zipkin;

pub use counting::CountingProcessor;
pub use pipeline::{GlobalGuard, InMemoryExporter, InMemoryPipeline, InMemoryPipelineBuilder};
#[cfg(feature = "tracing")]
pub use subscriber::{TestSubscriber, subscriber};
pub use tree::{EventView, ExpectedValue, SpanTree, SpanView};

/// opentelemetry-proto's types, as the OTLP receiver returns them (feature `servers`).
#[cfg(feature = "servers")]
pub use opentelemetry_proto as proto;
