//! Production distributed tracing with OpenTelemetry for Rust services, in one dependency.
//!
//! This crate has no code of its own: it re-exports the tracewire crates, each behind a cargo
//! feature named after it, for services that would rather depend on one crate than pick several.
//! Libraries should depend on the single crates they need (`tracewire-api`, `tracewire-tower`,
//! ...), which use the OpenTelemetry API only; the facade's default features include the SDK.
//!
//! # Example
//!
//! A binary's setup, a span made current around some work, and the trace printed by the
//! console exporter. In a real `main` the setup is `let _guard = tracewire::sdk::init();`,
//! which reads the `OTEL_*` variables and exports OTLP to `http://localhost:4318`.
//!
//! ```
//! use tracewire::api::{SpanExt as _, in_span};
//! use tracewire::opentelemetry::{Context, KeyValue, trace::TraceContextExt as _};
//! use tracewire::sdk::Tracewire;
//! use tracewire::sdk::config::ExporterKind;
//! use tracewire::sdk::export::console::SharedBuffer;
//!
//! let out = SharedBuffer::default();
//! let captured = out.clone();
//! let guard = Tracewire::builder()
//!     .with_service_name("payments")
//!     .with_traces_exporters([ExporterKind::Console])
//!     .with_console_output(move || captured.clone())
//!     .with_metrics_exporters([])
//!     .with_logs_exporters([])
//!     .install()?; // global tracer provider, meter provider and propagator
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("card declined")]
//! struct Declined;
//!
//! let charged: Result<(), Declined> = in_span("process-payment", |cx| {
//!     cx.span().set_attribute(KeyValue::new("payment.order_id", "order-42"));
//!     Err(Declined) // status Error, an `exception` event, `error.type`
//! });
//! assert!(charged.is_err());
//! assert!(!Context::current().has_active_span(), "the span ended and is no longer current");
//!
//! guard.shutdown()?; // flushes within its time limit
//! let printed = out.contents();
//! assert!(printed.contains("process-payment"), "{printed}");
//! assert!(printed.contains("card declined"), "{printed}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | default | re-exports | for |
//! |---|---|---|---|
//! | — | always | [`core`] (`tracewire-core`), [`opentelemetry`] | attribute keys, hex ids, `OTEL_*` parsing; the OpenTelemetry API in the version tracewire uses |
//! | `propagation` | yes | `propagation` (`tracewire-propagation`) | strict W3C Trace Context and Baggage, B3, Jaeger, `OTEL_PROPAGATORS` |
//! | `api` | yes | `api` (`tracewire-api`) | `in_span` for closures and futures, error recording, baggage helpers |
//! | `sdk` | yes | `sdk` (`tracewire-sdk`) | setup from `OTEL_*`, OTLP/console exporters, rule head sampler, in-process tail sampling, flush guard |
//! | `tower` | yes | `tower` (`tracewire-tower`) | SERVER and CLIENT spans and duration metrics for tower/axum services and HTTP clients |
//! | `kafka` | no | `kafka` (`tracewire-kafka`) | traced rdkafka producers and consumers (builds librdkafka from source) |
//! | `correlate` | no | `correlate` (`tracewire-correlate`) | trace ids in slog and tracing log lines, metrics with exemplars |
//! | `grpc` | no | | tracewire-sdk's OTLP over gRPC |
//! | `zipkin` | no | | tracewire-sdk's Zipkin exporter |
//! | `tls` | no | | tracewire-sdk's `https://` endpoints |
//! | `testing` | no | `testing` (`tracewire-testing`) | in-memory pipeline and trace-tree assertions, for tests |
//! | `full` | no | all of the above but `tls` and `testing` | |
//!
//! Each module is the whole crate: `tracewire::tower::ServerLayer` is
//! `tracewire_tower::ServerLayer`, and the crates' documentation applies unchanged.
//!
//! # Guides
//!
//! The guides in `docs/guides/` (spans, HTTP, Kafka, sampling, export to Jaeger and Zipkin,
//! baggage, logs and metrics, production setup, configuration, the demo) are compiled and run as doctests
//! of this crate (`cargo test -p tracewire --all-features --doc`), so every Rust block in them
//! builds against the current API.
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

pub use opentelemetry;
pub use tracewire_core as core;

#[cfg(feature = "api")]
pub use tracewire_api as api;
#[cfg(feature = "correlate")]
pub use tracewire_correlate as correlate;
#[cfg(feature = "kafka")]
pub use tracewire_kafka as kafka;
#[cfg(feature = "propagation")]
pub use tracewire_propagation as propagation;
#[cfg(feature = "sdk")]
pub use tracewire_sdk as sdk;
#[cfg(feature = "testing")]
pub use tracewire_testing as testing;
#[cfg(feature = "tower")]
pub use tracewire_tower as tower;

// The guides, compiled and run as doctests. Each Rust block in them is a test; blocks that need
// a broker, a collector, a server or a file are `no_run`.

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/README.md")]
mod guide_index {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/spans.md")]
mod guide_spans {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/http.md")]
mod guide_http {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/kafka.md")]
mod guide_kafka {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/sampling.md")]
mod guide_sampling {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/tail-sampling.md")]
mod guide_tail_sampling {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/export.md")]
mod guide_export {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/baggage.md")]
mod guide_baggage {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/logs-and-metrics.md")]
mod guide_logs_and_metrics {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/production.md")]
mod guide_production {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/configuration.md")]
mod guide_configuration {}

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guides/demo.md")]
mod guide_demo {}

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
mod readme {}
