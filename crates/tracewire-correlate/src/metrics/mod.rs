//! Metrics linked to traces through exemplars, served in OpenMetrics text on `/metrics`.
//!
//! A trace id as a metric attribute makes one series per request; an exemplar instead attaches
//! one example measurement (its value, time, `trace_id` and `span_id`) to a series, so a
//! dashboard can jump from a latency spike to a trace. opentelemetry_sdk 0.33 has no exemplars,
//! so [`Metrics`] records each measurement twice:
//!
//! - into a [prometheus-client](https://docs.rs/prometheus-client) registry of
//!   exemplar-capable counters and histograms, served in the OpenMetrics text format by
//!   [`MetricsService`] (a tower service, usable as an axum route);
//! - into an OpenTelemetry [`Meter`](opentelemetry::metrics::Meter), when one is given, for
//!   OTLP export without exemplars.
//!
//! Which measurements become exemplars follows `OTEL_METRICS_EXEMPLAR_FILTER`
//! ([`ExemplarFilter`]): `trace_based` by default (only inside a sampled span, so the exemplar
//! points at a trace that was kept), `always_on` or `always_off`.
//!
//! # Example
//!
//! Serving `/metrics` with axum:
//!
//! ```
//! use opentelemetry::KeyValue;
//! use tracewire_correlate::metrics::Metrics;
//!
//! let metrics = Metrics::new();
//! let latency = metrics
//!     .f64_histogram("http.server.request.duration")
//!     .with_unit("s")
//!     .with_boundaries(vec![0.005, 0.01, 0.05, 0.1, 0.5, 1.0])
//!     .build();
//! latency.record(0.042, &[KeyValue::new("http.request.method", "GET")]);
//!
//! let app: axum::Router = axum::Router::new().route_service("/metrics", metrics.service());
//! # drop(app);
//! assert!(metrics.encode().contains(
//!     "http_server_request_duration_seconds_bucket{le=\"0.05\",http_request_method=\"GET\"} 1"
//! ));
//! ```

mod filter;
mod instruments;
mod service;

pub use filter::{ExemplarFilter, ExemplarLabels, OTEL_METRICS_EXEMPLAR_FILTER};
pub use instruments::{
    CounterBuilder, DEFAULT_BOUNDARIES, ExemplarCounter, ExemplarHistogram, HistogramBuilder,
    Metrics, MetricsBuilder,
};
pub use service::{MetricsService, OPENMETRICS_CONTENT_TYPE};
