//! tracewire's SDK setup: telemetry for a binary's `main` from `OTEL_*` variables, with OTLP
//! (HTTP or gRPC), Zipkin and console exporters, a rule head sampler, and a guard that flushes
//! within a time limit.
//!
//! This is the only tracewire crate on `opentelemetry_sdk` and the exporters: depend on it from
//! the binary that sets telemetry up; libraries and middleware depend on the instrumentation
//! crates (`tracewire-api`, `tracewire-tower`, ...) only.
//!
//! # Example
//!
//! A complete setup. In a real `main` it is `let _guard = tracewire_sdk::init();`, which reads
//! the process environment (OTLP/HTTP to `http://localhost:4318` unless `OTEL_*` says
//! otherwise) and installs the providers and propagator globally. Here the environment is a map
//! and spans go to memory:
//!
//! ```
//! use opentelemetry::trace::Tracer as _;
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//! use tracewire_sdk::Tracewire;
//! use tracewire_sdk::sampler::{Rule, RuleSampler};
//!
//! let spans = InMemorySpanExporter::default();
//! let guard = Tracewire::builder()
//!     .with_env([("OTEL_SERVICE_NAME", "checkout"), ("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none")])
//!     .with_sampler(
//!         RuleSampler::builder()
//!             .rule(Rule::span_name_prefix("payment.").always())
//!             .rule(Rule::span_name("health-check").never())
//!             .default_ratio(0.1)
//!             .build(),
//!     )
//!     .with_span_exporter(spans.clone())
//!     .build()?; // `.install()` also sets the global providers and propagator
//!
//! let tracer = guard.tracer("shop");
//! tracer.in_span("payment.charge", |_| {});
//! tracer.in_span("health-check", |_| {});
//!
//! guard.force_flush()?;
//! let names: Vec<_> = spans.get_finished_spans()?.iter().map(|s| s.name.to_string()).collect();
//! assert_eq!(names, ["payment.charge"]);
//! guard.shutdown()?; // flushes within the time limit (also done on drop)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is set up
//!
//! - a tracer provider with the [`resource`], the head sampler
//!   ([`sampler`]: `OTEL_TRACES_SAMPLER`, or a [`RuleSampler`](sampler::RuleSampler) in code or
//!   from YAML), span limits, and the exporters of `OTEL_TRACES_EXPORTER` behind a bounded
//!   [`BatchProcessor`] (console output prints each trace as a tree as soon as it ends);
//! - a meter provider (`OTEL_METRICS_EXPORTER`, every `OTEL_METRIC_EXPORT_INTERVAL`) and a
//!   logger provider (`OTEL_LOGS_EXPORTER`), from the same resource; [`Guard::logger_provider`]
//!   is what a log bridge (`opentelemetry-appender-tracing`) needs;
//! - with `install()`/`init()`, the global tracer provider, meter provider (so
//!   `opentelemetry::global::meter(..)` works) and text-map propagator (`OTEL_PROPAGATORS`,
//!   through `tracewire-propagation`).
//!
//! Values given in code win over the environment; invalid environment values warn once (never
//! showing header values) and fall back to defaults, so they never fail startup. Startup logs
//! one `info` line saying what was set up, with header names but never their values.
//!
//! # Reliability
//!
//! Ending a span only moves it into a bounded queue. Exports run on their own thread and a
//! private one-thread runtime with a hard time limit, so an endpoint that is down, refusing or
//! hanging costs the application nothing but the spans that do not fit in the queue; those are
//! counted ([`Guard::diagnostics`]) and warned about once. Shutdown returns within its time
//! limit on multi-thread and current-thread tokio runtimes and without one. The bench
//! `benches/export_reliability.rs` measures span cost in each endpoint state.
//!
//! # Composing with tail sampling
//!
//! [`TracewireBuilder::with_exporter_processor`] hands the configured exporters to a processor
//! of your choice: the in-process tail sampler plugs in there. See [`sampler`] for how head
//! decisions (`RecordOnly`, parent-based) compose with it.
//!
//! # Environment variables
//!
//! | variable | default | |
//! |---|---|---|
//! | `OTEL_SDK_DISABLED` | `false` | `true`: record and export nothing (propagation still works) |
//! | `OTEL_SERVICE_NAME` | `unknown_service:<exe>` | `service.name` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | | `k=v,...`, percent-decoded; malformed: ignored whole |
//! | `OTEL_TRACES_EXPORTER` | `otlp` | list of `otlp`, `zipkin`, `console`, `none` |
//! | `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER` | `otlp` | list of `otlp`, `console`, `none` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | `http://localhost:4318` (gRPC: `:4317`) | `/v1/<signal>` appended for HTTP |
//! | `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT` | | used as is |
//! | `OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL` | `http/protobuf` | `http/json`, `grpc` (feature) |
//! | `OTEL_EXPORTER_OTLP[_<SIGNAL>]_HEADERS` | | `k=v,...`, percent-decoded; an invalid entry is skipped; never logged |
//! | `OTEL_EXPORTER_OTLP[_<SIGNAL>]_TIMEOUT` | `10000` ms | per export, retries included; `0`: no limit ([`config::INDEFINITE_TIMEOUT`]) |
//! | `OTEL_EXPORTER_OTLP[_<SIGNAL>]_COMPRESSION` | `none` | `gzip` |
//! | `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` | `cumulative` | `delta`, `lowmemory` |
//! | `OTEL_EXPORTER_ZIPKIN_ENDPOINT`, `..._TIMEOUT` | `http://localhost:9411/api/v2/spans`, `10000` | |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `parentbased_always_on` | the standard values but the remote ones (`jaeger_remote`, `parentbased_jaeger_remote`, `xray`: warn, default), and `tracewire_rules` + a YAML path |
//! | `OTEL_PROPAGATORS` | `tracecontext,baggage` | also `b3`, `b3multi`, `jaeger`, `none` |
//! | `OTEL_BSP_SCHEDULE_DELAY`, `..._EXPORT_TIMEOUT`, `..._MAX_QUEUE_SIZE`, `..._MAX_EXPORT_BATCH_SIZE` | `5000`, `30000`, `2048`, `512` | span batching |
//! | `OTEL_BLRP_*` (same four) | `1000`, `30000`, `2048`, `512` | log batching |
//! | `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT` | `60000`, `30000` | |
//! | `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, `OTEL_ATTRIBUTE_COUNT_LIMIT` | `128` | |
//! | `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` | none | applied at export |
//! | `K8S_POD_NAME`, `K8S_NAMESPACE_NAME`, `K8S_NODE_NAME`, ... | | see [`resource`] |
//!
//! `docs/guides/configuration.md` explains each in more detail.
//!
//! # Feature flags
//!
//! - `grpc`: OTLP over gRPC (tonic), for `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`.
//! - `zipkin`: the Zipkin JSON v2 exporter (opentelemetry-zipkin), for
//!   `OTEL_TRACES_EXPORTER=zipkin`.
//! - `tls`: `https://` endpoints for OTLP/HTTP and Zipkin (rustls with webpki roots).
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

pub mod batch;
mod builder;
pub mod config;
mod error;
pub mod export;
mod guard;
mod propagators;
pub mod resource;
pub mod sampler;
pub mod tail;

pub use batch::{BatchProcessor, BatchProcessorBuilder, Diagnostics};
pub use builder::{
    DEFAULT_SHUTDOWN_TIMEOUT, ProcessorContext, Tracewire, TracewireBuilder, init, try_init,
};
pub use error::{InitError, ShutdownError};
pub use guard::Guard;
pub use tail::{TailSamplingConfig, TailSamplingProcessor};
