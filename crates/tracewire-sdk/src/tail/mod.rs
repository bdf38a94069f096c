//! In-process tail-based sampling: the OpenTelemetry Collector's `tail_sampling` processor as an
//! `opentelemetry_sdk` span processor, configured with the Collector's own YAML.
//!
//! # Example
//!
//! The article's config, pasted from a Collector config file: every error trace, half of the
//! traces slower than 500 ms, 5% of the rest.
//!
//! ```
//! use opentelemetry::trace::{Span as _, Status, Tracer as _, TracerProvider as _};
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use tracewire_sdk::tail::{TailSamplingConfig, TailSamplingProcessor, recording_head_sampler};
//!
//! let config = TailSamplingConfig::from_yaml_str(
//!     r#"
//! processors:
//!   tail_sampling:
//!     decision_wait: 30s
//!     num_traces: 10000
//!     expected_new_traces_per_sec: 100
//!     policies:
//!       - name: error-sampling
//!         type: status_code
//!         config:
//!           status_code: ERROR
//!           sampling_percentage: 100
//!       - name: latency-sampling
//!         type: latency
//!         config:
//!           threshold_ms: 500
//!           sampling_percentage: 50
//!       - name: probabilistic
//!         type: probabilistic
//!         config:
//!           sampling_percentage: 5
//! "#,
//! )?;
//! assert_eq!(config, TailSamplingConfig::article_example());
//!
//! let exporter = InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder()
//!     .with_sampler(recording_head_sampler())
//!     .with_span_processor(TailSamplingProcessor::new(exporter.clone(), config)?)
//!     .build();
//! let tracer = provider.tracer("checkout");
//! let mut span = tracer.start("charge card");
//! span.set_status(Status::error("card declined"));
//! span.end();
//!
//! // force_flush decides the buffered traces now instead of after decision_wait.
//! provider.force_flush()?;
//! let exported = exporter.get_finished_spans()?;
//! assert_eq!(exported.len(), 1, "error traces are always kept");
//! assert!(exported[0].span_context.is_sampled());
//! # provider.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In tracewire's own setup, [`TracewireBuilder::with_tail_sampling`](crate::TracewireBuilder::with_tail_sampling)
//! puts the configured exporters behind this processor. The guide is
//! `docs/guides/tail-sampling.md`; the design decisions are in `docs/adr/0010` to `0012`.
//!
//! # The config
//!
//! [`TailSamplingConfig`] takes the Collector's `tail_sampling` section verbatim, as the bare
//! processor body, under a top-level `tail_sampling:` key, or from a whole Collector config
//! (`processors: tail_sampling:`; other sections are skipped). Durations use Go's syntax
//! (`"30s"`, `"1m30s"`). Defaults are the Collector's (`decision_wait` 30s, `num_traces` 50 000),
//! except the decision caches, which default to 10 × `num_traces` each instead of off.
//!
//! Two spellings of the article are accepted as documented extensions: a policy's settings under
//! `config:` instead of under its type's key, with `status_code: ERROR` for `status_codes:
//! [ERROR]`; and `sampling_percentage` under `status_code` and `latency`, which keeps that share of
//! the matching traces, chosen by the trace id's hash as the `probabilistic` policy chooses, but
//! with its own salt ([`SAMPLING_PERCENTAGE_SALT`]): the draw is independent of a `probabilistic`
//! policy's, so the policies combine as the Collector's do (50% of the slow traces, or 5% of all
//! traces: 52.5% of the slow ones are kept).
//! Every other unknown key is an error, and so are keys that cannot work in-process
//! (`ottl_condition`, `tail_storage`, `block_on_overflow: true`). A [`ConfigError`] names the
//! file, line and field.
//!
//! # Decisions
//!
//! As the Collector's processor decides: `drop` policies are evaluated first; a `drop` decision
//! wins; then an inverted not-sampled decision (`invert_match`); then a sampled one; then an
//! inverted sampled one when no policy said not sampled; otherwise the trace is not sampled.
//! `sample_on_first_match` stops at the first policy that samples. The `probabilistic` policy
//! hashes like the Collector (FNV-1a 64 over the salt, then the trace id's bytes), so a service
//! and a Collector tier with the same salt keep the same traces.
//!
//! # When a trace is decided
//!
//! `decision_wait` after its first span reached the processor, or `decision_wait_after_root_received`
//! after its local root span ended (a span without a parent, or with a remote parent) when that
//! is sooner. Spans that end after the decision follow it through the decision caches.
//! `force_flush` decides every buffered trace at once; shutdown does the same (or discards them
//! with `drop_pending_traces_on_shutdown`) within its timeout.
//!
//! # Memory
//!
//! At most `num_traces` traces and a byte budget of spans (64 MiB by default, see
//! [`TailSamplingProcessorBuilder::with_max_buffered_bytes`]) are buffered. When either is
//! reached, the oldest trace is decided early on the spans it has (or discarded, with
//! [`OverflowAction::Drop`]) and counted in
//! `otelcol_processor_tail_sampling_sampling_trace_dropped_too_early`. A trace may hold at most a
//! quarter of the budget, so one huge trace cannot starve the rest; `maximum_trace_size_bytes`
//! works as in the Collector (the trace is not sampled and its buffer freed).
//!
//! # With a head sampler
//!
//! Only recording spans reach a span processor. Use [`recording_head_sampler`] (or
//! `Sampler::AlwaysOn`) in front of the tail sampler; `docs/guides/tail-sampling.md` explains how
//! the two compose, and why each service decides only on its own part of a trace.
//!
//! # Metrics
//!
//! Through the global meter provider (set it before building the processor), under the
//! Collector's names where one applies; see [`metrics::names`]. To know why each trace was kept
//! or not (which policy decided), give the builder a decision observer
//! ([`TailSamplingProcessorBuilder::with_decision_observer`]).

mod cache;
mod config;
mod duration;
mod engine;
mod error;
mod hash;
mod head;
mod idhash;
pub mod metrics;
mod policy;
mod processor;
mod sdk;
mod size;
mod yaml;

use std::path::Path;

pub use config::{
    BooleanAttributePolicy, BytesLimitingPolicy, CompositePolicy, DEFAULT_DECISION_CACHE_FACTOR,
    DEFAULT_DECISION_WAIT, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_NUM_TRACES, DecisionCacheConfig,
    LatencyPolicy, NumericAttributePolicy, Policy, PolicyConfig, ProbabilisticPolicy,
    RateAllocation, RateLimitingPolicy, SpanCountPolicy, SpanStatusCode, StatusCodePolicy,
    StringAttributePolicy, TailSamplingConfig, TailSamplingConfigBuilder, TraceStatePolicy,
};
pub use duration::{format_go_duration, parse_go_duration};
pub use engine::OverflowAction;
pub use error::ConfigError;
pub use hash::{
    DEFAULT_HASH_SALT, SAMPLING_PERCENTAGE_SALT, fnv1a64, hash_trace_id, threshold_for_ratio,
};
pub use head::{RecordOnlySampler, recording_head_sampler};
pub use policy::{Decision, PolicySet, TraceDecision, TraceView, Verdict};
pub use processor::{
    DEFAULT_FLUSH_TIMEOUT, DEFAULT_MAX_EXPORT_BATCH_SIZE, DEFAULT_MAX_QUEUE_SIZE, DecisionObserver,
    DropObserver, TailSamplingError, TailSamplingProcessor, TailSamplingProcessorBuilder,
    TailSamplingStats, TailSamplingStatsHandle,
};
pub(crate) use sdk::pipeline;

// === impl TailSamplingConfig (YAML) ===

impl TailSamplingConfig {
    /// Reads the `tail_sampling` section from YAML: the bare processor body, a top-level
    /// `tail_sampling:` key, or a whole Collector config with `processors: tail_sampling:`
    /// (when it has several `tail_sampling/<name>` processors, use
    /// [`TailSamplingConfig::from_yaml_str_named`]).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] with the line, column and field of the first problem.
    pub fn from_yaml_str(yaml: &str) -> Result<Self, ConfigError> {
        yaml::from_str(yaml, None)
    }

    /// As [`TailSamplingConfig::from_yaml_str`], picking the processor named `name` (for
    /// instance `tail_sampling/errors`).
    ///
    /// # Errors
    ///
    /// As [`TailSamplingConfig::from_yaml_str`], or when no processor has that name.
    pub fn from_yaml_str_named(yaml: &str, name: &str) -> Result<Self, ConfigError> {
        yaml::from_str(yaml, Some(name))
    }

    /// Reads the `tail_sampling` section from a YAML file (see
    /// [`TailSamplingConfig::from_yaml_str`]).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the file (and the line and field when the file was read).
    pub fn from_yaml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        yaml::from_file(path.as_ref(), None)
    }

    /// As [`TailSamplingConfig::from_yaml_file`], picking the processor named `name`.
    ///
    /// # Errors
    ///
    /// As [`TailSamplingConfig::from_yaml_file`], or when no processor has that name.
    pub fn from_yaml_file_named(path: impl AsRef<Path>, name: &str) -> Result<Self, ConfigError> {
        yaml::from_file(path.as_ref(), Some(name))
    }
}
