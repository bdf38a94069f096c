//! The configuration model and its resolution from `OTEL_*` variables.
//!
//! Every setting has three sources, in this order: a value given in code (through
//! [`TracewireBuilder`](crate::TracewireBuilder)), the environment (read through
//! [`OtelEnv`], so tests pass a map), and the specification's default. Invalid environment values
//! never fail the setup: they warn once (without showing values of variables that may hold
//! secrets) and the default is used.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use tracewire_core::env::OtelEnv;
//! use tracewire_sdk::config::{OtlpCode, OtlpProtocol, Signal, resolve_otlp};
//!
//! let env = OtelEnv::new([
//!     ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
//!     ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"),
//! ]);
//! let traces = resolve_otlp(Signal::Traces, &OtlpCode::default(), &env);
//! assert_eq!(traces.endpoint, "http://collector:4318/v1/traces");
//! assert_eq!(traces.protocol, OtlpProtocol::HttpProtobuf);
//! assert_eq!(traces.timeout, Duration::from_millis(2500));
//! ```
//!
//! The full table of variables is in the crate docs and in `docs/guides/configuration.md`.

use std::time::Duration;

use opentelemetry_sdk::metrics::Temporality;
use tracewire_core::env::{EnvSource, OtelEnv, parse_key_values, warn_once};

/// A telemetry signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metrics.
    Metrics,
    /// Log records.
    Logs,
}

impl Signal {
    /// The upper-case name used in signal-specific variables (`TRACES`, `METRICS`, `LOGS`).
    pub fn env_name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }

    /// The OTLP/HTTP path appended to the generic endpoint (`/v1/traces` ...).
    pub fn otlp_http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    fn exporter_var(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_TRACES_EXPORTER",
            Signal::Metrics => "OTEL_METRICS_EXPORTER",
            Signal::Logs => "OTEL_LOGS_EXPORTER",
        }
    }
}

/// An exporter named in `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER` or `OTEL_LOGS_EXPORTER`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExporterKind {
    /// OTLP, over the protocol `OTEL_EXPORTER_OTLP_PROTOCOL` selects.
    Otlp,
    /// Zipkin JSON v2 (traces only; cargo feature `zipkin`).
    Zipkin,
    /// Human-readable output on stdout, for local development.
    Console,
}

impl ExporterKind {
    /// The name used in the environment variables.
    pub fn as_str(self) -> &'static str {
        match self {
            ExporterKind::Otlp => "otlp",
            ExporterKind::Zipkin => "zipkin",
            ExporterKind::Console => "console",
        }
    }
}

/// The exporters of a signal from its `OTEL_*_EXPORTER` variable: a comma-separated list of
/// `otlp`, `zipkin` (traces only), `console` and `none`. Unset gives `[otlp]`; `none` alone gives
/// an empty list. Unknown names (and `zipkin` for metrics and logs, or without the `zipkin`
/// feature) warn once and are skipped; `logging` is taken as the deprecated name of `console`.
pub fn resolve_exporters<S: EnvSource>(signal: Signal, env: &OtelEnv<S>) -> Vec<ExporterKind> {
    let var = signal.exporter_var();
    let items = env.list(var);
    if items.is_empty() {
        return vec![ExporterKind::Otlp];
    }
    let mut out = Vec::new();
    for item in &items {
        let kind = match item.to_ascii_lowercase().as_str() {
            "none" => continue,
            "otlp" => ExporterKind::Otlp,
            "console" | "logging" => ExporterKind::Console,
            "zipkin" if signal == Signal::Traces && cfg!(feature = "zipkin") => {
                ExporterKind::Zipkin
            }
            "zipkin" if signal == Signal::Traces => {
                warn_once(
                    var,
                    Some(item),
                    "an exporter this build has: `zipkin` needs tracewire-sdk's `zipkin` feature; it is skipped",
                );
                continue;
            }
            _ => {
                warn_once(
                    var,
                    Some(item),
                    "a list of otlp, zipkin (traces), console or none; unknown names are skipped",
                );
                continue;
            }
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    out
}

/// The OTLP transport.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OtlpProtocol {
    /// Protobuf over HTTP (the default, port 4318).
    HttpProtobuf,
    /// JSON over HTTP (port 4318).
    HttpJson,
    /// gRPC (port 4317; cargo feature `grpc`).
    Grpc,
}

impl OtlpProtocol {
    /// The name used in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::HttpJson => "http/json",
            OtlpProtocol::Grpc => "grpc",
        }
    }

    fn default_endpoint(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "http://localhost:4317",
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => "http://localhost:4318",
        }
    }
}

/// Compression of OTLP requests.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum OtlpCompression {
    /// No compression (the default).
    #[default]
    None,
    /// gzip.
    Gzip,
}

/// OTLP settings given in code; every `None` falls back to the environment, then to the default.
#[derive(Clone, Debug, Default)]
pub struct OtlpCode {
    /// The base endpoint for every signal (`/v1/<signal>` is appended for HTTP).
    pub endpoint: Option<String>,
    /// The endpoint for this signal, used as is.
    pub signal_endpoint: Option<String>,
    /// The protocol.
    pub protocol: Option<OtlpProtocol>,
    /// Headers sent with every request; they override environment headers of the same name.
    pub headers: Vec<(String, String)>,
    /// The time limit of one export (including retries).
    pub timeout: Option<Duration>,
    /// The compression.
    pub compression: Option<OtlpCompression>,
}

/// The resolved OTLP settings of one signal.
#[derive(Clone, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The full URL requests go to (HTTP) or the gRPC endpoint.
    pub endpoint: String,
    /// The protocol.
    pub protocol: OtlpProtocol,
    /// Headers (or gRPC metadata), in order; values may be secrets and are never logged.
    pub headers: Vec<(String, String)>,
    /// The time limit of one export.
    pub timeout: Duration,
    /// The compression.
    pub compression: OtlpCompression,
}

impl std::fmt::Debug for OtlpSettings {
    // Header values are credentials more often than not: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpSettings")
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("header_names", &names)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .finish()
    }
}

/// The default time limit of one export (`OTEL_EXPORTER_OTLP_TIMEOUT`'s default).
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a timeout of `0` means: the specification's Timeout variables (`OTEL_EXPORTER_OTLP_TIMEOUT`,
/// `OTEL_EXPORTER_ZIPKIN_TIMEOUT`, `OTEL_BSP_EXPORT_TIMEOUT`, `OTEL_BLRP_EXPORT_TIMEOUT`,
/// `OTEL_METRIC_EXPORT_TIMEOUT`) read `0` as no limit, and allow a very long time instead: the
/// largest 32-bit number of milliseconds (about 24.8 days).
pub const INDEFINITE_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// A Timeout variable: integer milliseconds, `0` meaning [`INDEFINITE_TIMEOUT`].
fn timeout_ms<S: EnvSource>(env: &OtelEnv<S>, name: &str) -> Option<Duration> {
    env.duration_ms(name)
        .map(|d| if d.is_zero() { INDEFINITE_TIMEOUT } else { d })
}

fn signal_var(signal: Signal, suffix: &str) -> String {
    format!("OTEL_EXPORTER_OTLP_{}_{suffix}", signal.env_name())
}

/// Resolves the OTLP settings of `signal`: code, then the signal-specific variable, then the
/// generic one, then the default.
///
/// The generic endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or [`OtlpCode::endpoint`]) gets
/// `/v1/<signal>` appended for the HTTP protocols (a trailing `/` is not doubled); the
/// signal-specific endpoint is used as is. gRPC endpoints are used as is. An endpoint that is
/// not an `http://` or `https://` URL warns once and is ignored.
pub fn resolve_otlp<S: EnvSource>(
    signal: Signal,
    code: &OtlpCode,
    env: &OtelEnv<S>,
) -> OtlpSettings {
    let protocols = [
        ("http/protobuf", OtlpProtocol::HttpProtobuf),
        ("http/json", OtlpProtocol::HttpJson),
        ("grpc", OtlpProtocol::Grpc),
    ];
    let mut protocol = code
        .protocol
        .or_else(|| env.enum_of(&signal_var(signal, "PROTOCOL"), &protocols))
        .or_else(|| env.enum_of("OTEL_EXPORTER_OTLP_PROTOCOL", &protocols))
        .unwrap_or(OtlpProtocol::HttpProtobuf);
    if protocol == OtlpProtocol::Grpc && !cfg!(feature = "grpc") && code.protocol.is_none() {
        warn_once(
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            Some("grpc"),
            "a protocol this build has: `grpc` needs tracewire-sdk's `grpc` feature; using http/protobuf",
        );
        protocol = OtlpProtocol::HttpProtobuf;
    }
    let is_http = protocol != OtlpProtocol::Grpc;
    let with_path = |base: &str| -> String {
        if is_http {
            format!("{}{}", base.trim_end_matches('/'), signal.otlp_http_path())
        } else {
            base.to_owned()
        }
    };
    let signal_endpoint_var = signal_var(signal, "ENDPOINT");
    let endpoint = code
        .signal_endpoint
        .clone()
        .or_else(|| code.endpoint.as_deref().map(with_path))
        .or_else(|| valid_url(env, &signal_endpoint_var))
        .or_else(|| valid_url(env, "OTEL_EXPORTER_OTLP_ENDPOINT").map(|e| with_path(&e)))
        .unwrap_or_else(|| with_path(protocol.default_endpoint()));

    let signal_headers_var = signal_var(signal, "HEADERS");
    let headers_var = if env.is_set(&signal_headers_var) {
        signal_headers_var.as_str()
    } else {
        "OTEL_EXPORTER_OTLP_HEADERS"
    };
    let mut headers = env_headers(env, headers_var, protocol);
    for (k, v) in &code.headers {
        headers.retain(|(ek, _)| !ek.eq_ignore_ascii_case(k));
        headers.push((k.clone(), v.clone()));
    }

    let timeout = code
        .timeout
        .or_else(|| timeout_ms(env, &signal_var(signal, "TIMEOUT")))
        .or_else(|| timeout_ms(env, "OTEL_EXPORTER_OTLP_TIMEOUT"))
        .unwrap_or(DEFAULT_EXPORT_TIMEOUT);

    let compressions = [
        ("gzip", OtlpCompression::Gzip),
        ("none", OtlpCompression::None),
    ];
    let compression = code
        .compression
        .or_else(|| env.enum_of(&signal_var(signal, "COMPRESSION"), &compressions))
        .or_else(|| env.enum_of("OTEL_EXPORTER_OTLP_COMPRESSION", &compressions))
        .unwrap_or_default();

    OtlpSettings {
        endpoint,
        protocol,
        headers,
        timeout,
        compression,
    }
}

/// The headers of an `OTEL_EXPORTER_OTLP_*HEADERS` variable: `key=value` pairs, percent-decoded.
/// An entry that is malformed, or that is not a valid HTTP header (or gRPC metadata) name or
/// value once decoded, warns once (never showing values) and is skipped; the other entries are
/// kept, so one bad entry neither drops the credentials next to it nor fails the setup.
fn env_headers<S: EnvSource>(
    env: &OtelEnv<S>,
    name: &str,
    protocol: OtlpProtocol,
) -> Vec<(String, String)> {
    let Some(value) = env.string(name) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in value.split(',') {
        if item.trim().is_empty() {
            continue;
        }
        let valid = parse_key_values(item)
            .and_then(|pairs| pairs.into_iter().next())
            .filter(|(k, v)| {
                http::HeaderName::from_bytes(k.as_bytes()).is_ok()
                    && http::HeaderValue::from_str(v).is_ok()
                    && !(protocol == OtlpProtocol::Grpc && k.to_ascii_lowercase().ends_with("-bin"))
            });
        match valid {
            Some(pair) => out.push(pair),
            None => {
                warn_once(
                    name,
                    None,
                    "comma-separated key=value pairs (percent-encoded) that are valid headers; invalid entries are skipped",
                );
            }
        }
    }
    out
}

fn valid_url<S: EnvSource>(env: &OtelEnv<S>, name: &str) -> Option<String> {
    let value = env.string(name)?;
    if is_http_url(&value) {
        Some(value)
    } else {
        warn_once(
            name,
            Some(&value),
            "an http:// or https:// URL; the variable is ignored",
        );
        None
    }
}

/// Whether `value` is an `http://` or `https://` URL that `http::Uri` accepts.
pub(crate) fn is_http_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && value.parse::<http::Uri>().is_ok()
}

/// The default Zipkin endpoint.
pub const DEFAULT_ZIPKIN_ENDPOINT: &str = "http://localhost:9411/api/v2/spans";

/// Resolved Zipkin settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipkinSettings {
    /// The URL spans are posted to.
    pub endpoint: String,
    /// The time limit of one export.
    pub timeout: Duration,
}

/// Resolves the Zipkin endpoint and timeout: code, then `OTEL_EXPORTER_ZIPKIN_ENDPOINT` /
/// `OTEL_EXPORTER_ZIPKIN_TIMEOUT`, then `http://localhost:9411/api/v2/spans` and 10 s.
pub fn resolve_zipkin<S: EnvSource>(
    endpoint: Option<&str>,
    timeout: Option<Duration>,
    env: &OtelEnv<S>,
) -> ZipkinSettings {
    ZipkinSettings {
        endpoint: endpoint
            .map(str::to_owned)
            .or_else(|| valid_url(env, "OTEL_EXPORTER_ZIPKIN_ENDPOINT"))
            .unwrap_or_else(|| DEFAULT_ZIPKIN_ENDPOINT.to_owned()),
        timeout: timeout
            .or_else(|| timeout_ms(env, "OTEL_EXPORTER_ZIPKIN_TIMEOUT"))
            .unwrap_or(DEFAULT_EXPORT_TIMEOUT),
    }
}

/// Settings of a batching processor (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchSettings {
    /// The longest time between two exports.
    pub schedule_delay: Duration,
    /// The time limit of one export.
    pub export_timeout: Duration,
    /// The queue's capacity; items that do not fit are dropped and counted.
    pub max_queue_size: usize,
    /// The largest batch handed to the exporter (at most `max_queue_size`).
    pub max_export_batch_size: usize,
}

impl BatchSettings {
    /// The specification's defaults for spans: 5000 ms, 30000 ms, 2048, 512.
    pub const SPANS: BatchSettings = BatchSettings {
        schedule_delay: Duration::from_millis(5000),
        export_timeout: Duration::from_millis(30000),
        max_queue_size: 2048,
        max_export_batch_size: 512,
    };

    /// The specification's defaults for log records: 1000 ms, 30000 ms, 2048, 512.
    pub const LOGS: BatchSettings = BatchSettings {
        schedule_delay: Duration::from_millis(1000),
        export_timeout: Duration::from_millis(30000),
        max_queue_size: 2048,
        max_export_batch_size: 512,
    };

    /// The largest queue (and batch) size taken from the environment: the queue is allocated
    /// up front, so a larger number (up to `usize::MAX`, which parses) would abort the process
    /// instead of configuring it. 1,048,576 is 512 times the default.
    pub const MAX_ENV_QUEUE_SIZE: usize = 1 << 20;

    /// Reads the four variables with `prefix` (`OTEL_BSP` or `OTEL_BLRP`) over `defaults`.
    /// A zero queue or batch size warns and is ignored; a size above
    /// [`MAX_ENV_QUEUE_SIZE`](Self::MAX_ENV_QUEUE_SIZE) warns and is lowered to it; a batch size
    /// above the queue size is lowered to it (with a warning), as the specification requires.
    pub fn from_env<S: EnvSource>(prefix: &str, defaults: BatchSettings, env: &OtelEnv<S>) -> Self {
        let mut s = defaults;
        if let Some(d) = env.duration_ms(&format!("{prefix}_SCHEDULE_DELAY")) {
            s.schedule_delay = d;
        }
        if let Some(d) = timeout_ms(env, &format!("{prefix}_EXPORT_TIMEOUT")) {
            s.export_timeout = d;
        }
        let positive = |name: String| -> Option<usize> {
            match env.usize(&name) {
                Some(0) => {
                    warn_once(
                        &name,
                        Some("0"),
                        "a positive integer; the variable is ignored",
                    );
                    None
                }
                Some(n) if n > Self::MAX_ENV_QUEUE_SIZE => {
                    warn_once(
                        &name,
                        None,
                        "at most 1048576 (the queue is allocated up front); 1048576 is used",
                    );
                    Some(Self::MAX_ENV_QUEUE_SIZE)
                }
                other => other,
            }
        };
        if let Some(n) = positive(format!("{prefix}_MAX_QUEUE_SIZE")) {
            s.max_queue_size = n;
        }
        if let Some(n) = positive(format!("{prefix}_MAX_EXPORT_BATCH_SIZE")) {
            s.max_export_batch_size = n;
        }
        if s.max_export_batch_size > s.max_queue_size {
            warn_once(
                &format!("{prefix}_MAX_EXPORT_BATCH_SIZE"),
                None,
                "a batch size no larger than the queue size; the queue size is used",
            );
            s.max_export_batch_size = s.max_queue_size;
        }
        s
    }
}

/// Span limits (`OTEL_SPAN_*_LIMIT`, `OTEL_ATTRIBUTE_*_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`,
/// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLimitSettings {
    /// Attributes per span (default 128).
    pub attribute_count: u32,
    /// Events per span (default 128).
    pub event_count: u32,
    /// Links per span (default 128).
    pub link_count: u32,
    /// Attributes per event (default 128).
    pub event_attribute_count: u32,
    /// Attributes per link (default 128).
    pub link_attribute_count: u32,
    /// The longest string attribute value, in characters (default: no limit). Applied when spans
    /// are exported, off the thread that ends the span.
    pub attribute_value_length: Option<usize>,
}

impl Default for SpanLimitSettings {
    fn default() -> Self {
        SpanLimitSettings {
            attribute_count: 128,
            event_count: 128,
            link_count: 128,
            event_attribute_count: 128,
            link_attribute_count: 128,
            attribute_value_length: None,
        }
    }
}

impl SpanLimitSettings {
    /// Reads the limits: the span-specific variables win over the general
    /// `OTEL_ATTRIBUTE_COUNT_LIMIT` / `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    pub fn from_env<S: EnvSource>(env: &OtelEnv<S>) -> Self {
        let d = SpanLimitSettings::default();
        let u32_of = |name: &str| -> Option<u32> {
            let n = env.u64(name)?;
            match u32::try_from(n) {
                Ok(n) => Some(n),
                Err(_) => {
                    warn_once(name, None, "a smaller integer; the variable is ignored");
                    None
                }
            }
        };
        let general_count = u32_of("OTEL_ATTRIBUTE_COUNT_LIMIT");
        SpanLimitSettings {
            attribute_count: u32_of("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT")
                .or(general_count)
                .unwrap_or(d.attribute_count),
            event_count: u32_of("OTEL_SPAN_EVENT_COUNT_LIMIT").unwrap_or(d.event_count),
            link_count: u32_of("OTEL_SPAN_LINK_COUNT_LIMIT").unwrap_or(d.link_count),
            event_attribute_count: u32_of("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT")
                .or(general_count)
                .unwrap_or(d.event_attribute_count),
            link_attribute_count: u32_of("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT")
                .or(general_count)
                .unwrap_or(d.link_attribute_count),
            attribute_value_length: env
                .usize("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")
                .or_else(|| env.usize("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")),
        }
    }

    pub(crate) fn to_sdk(self) -> opentelemetry_sdk::trace::SpanLimits {
        opentelemetry_sdk::trace::SpanLimits {
            max_attributes_per_span: self.attribute_count,
            max_events_per_span: self.event_count,
            max_links_per_span: self.link_count,
            max_attributes_per_event: self.event_attribute_count,
            max_attributes_per_link: self.link_attribute_count,
        }
    }
}

/// Metric export settings (`OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricSettings {
    /// The time between two collections (default 60 s).
    pub interval: Duration,
    /// The time limit of one export (default 30 s).
    pub timeout: Duration,
    /// The OTLP exporter's temporality (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`:
    /// `cumulative`, the default, `delta` or `lowmemory`).
    pub temporality: opentelemetry_sdk::metrics::Temporality,
}

impl MetricSettings {
    /// Reads both variables over the defaults: a zero interval warns and is ignored, a zero
    /// timeout means no limit ([`INDEFINITE_TIMEOUT`]).
    pub fn from_env<S: EnvSource>(env: &OtelEnv<S>) -> Self {
        let nonzero = |name: &str| match env.duration_ms(name) {
            Some(d) if d.is_zero() => {
                warn_once(
                    name,
                    Some("0"),
                    "a positive number of milliseconds; the variable is ignored",
                );
                None
            }
            other => other,
        };
        MetricSettings {
            interval: nonzero("OTEL_METRIC_EXPORT_INTERVAL").unwrap_or(Duration::from_secs(60)),
            timeout: timeout_ms(env, "OTEL_METRIC_EXPORT_TIMEOUT")
                .unwrap_or(Duration::from_secs(30)),
            temporality: env
                .enum_of(
                    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                    &[
                        ("cumulative", Temporality::Cumulative),
                        ("delta", Temporality::Delta),
                        ("lowmemory", Temporality::LowMemory),
                    ],
                )
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(
        pairs: &'static [(&'static str, &'static str)],
    ) -> OtelEnv<&'static [(&'static str, &'static str)]> {
        OtelEnv::new(pairs)
    }

    #[test]
    fn otlp_defaults() {
        let e = env(&[]);
        let t = resolve_otlp(Signal::Traces, &OtlpCode::default(), &e);
        assert_eq!(t.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(t.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(t.timeout, Duration::from_secs(10));
        assert_eq!(t.compression, OtlpCompression::None);
        assert!(t.headers.is_empty());
        let m = resolve_otlp(Signal::Metrics, &OtlpCode::default(), &e);
        assert_eq!(m.endpoint, "http://localhost:4318/v1/metrics");
        let l = resolve_otlp(Signal::Logs, &OtlpCode::default(), &e);
        assert_eq!(l.endpoint, "http://localhost:4318/v1/logs");
    }

    #[test]
    fn endpoint_table() {
        // (generic, signal-specific, expected traces endpoint)
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")],
                "http://c:4318/v1/traces",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")],
                "http://c:4318/v1/traces",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/base")],
                "http://c:4318/base/v1/traces",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1234/custom")],
                "http://t:1234/custom",
            ),
            (
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1234"),
                ],
                "http://t:1234",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")],
                "http://localhost:4318/v1/traces",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c")],
                "http://localhost:4318/v1/traces",
            ),
        ];
        for (vars, want) in cases {
            let e = OtelEnv::new(*vars);
            let got = resolve_otlp(Signal::Traces, &OtlpCode::default(), &e);
            assert_eq!(got.endpoint, *want, "{vars:?}");
        }
    }

    #[test]
    fn code_wins_over_env() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env:1"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1,b=2"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ]);
        let code = OtlpCode {
            endpoint: Some("http://code:4318".into()),
            timeout: Some(Duration::from_millis(7)),
            headers: vec![("B".into(), "code".into())],
            compression: Some(OtlpCompression::None),
            ..OtlpCode::default()
        };
        let t = resolve_otlp(Signal::Traces, &code, &e);
        assert_eq!(t.endpoint, "http://code:4318/v1/traces");
        assert_eq!(t.timeout, Duration::from_millis(7));
        assert_eq!(
            t.headers,
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("B".to_owned(), "code".to_owned())
            ]
        );
        assert_eq!(t.compression, OtlpCompression::None);
    }

    #[test]
    fn signal_specific_variables_win() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "t=%20x"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "100"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "200"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "GZIP"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ]);
        let t = resolve_otlp(Signal::Traces, &OtlpCode::default(), &e);
        assert_eq!(t.headers, vec![("t".to_owned(), " x".to_owned())]);
        assert_eq!(t.timeout, Duration::from_millis(200));
        assert_eq!(t.compression, OtlpCompression::Gzip);
        assert_eq!(t.protocol, OtlpProtocol::HttpJson);
        let m = resolve_otlp(Signal::Metrics, &OtlpCode::default(), &e);
        assert_eq!(m.headers, vec![("a".to_owned(), "1".to_owned())]);
        assert_eq!(m.timeout, Duration::from_millis(100));
        assert_eq!(m.protocol, OtlpProtocol::HttpProtobuf);
    }

    #[test]
    fn zero_timeouts_mean_no_limit() {
        // The specification's Timeout type: 0 is indefinite (a very long time), not "fail at
        // once"; Duration variables (the schedule delay) keep 0 as 0.
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "250"),
            ("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "0"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "0"),
            ("OTEL_BSP_SCHEDULE_DELAY", "0"),
            ("OTEL_BLRP_EXPORT_TIMEOUT", "0"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "0"),
        ]);
        let code = OtlpCode::default();
        assert_eq!(
            resolve_otlp(Signal::Traces, &code, &e).timeout,
            INDEFINITE_TIMEOUT
        );
        assert_eq!(
            resolve_otlp(Signal::Logs, &code, &e).timeout,
            INDEFINITE_TIMEOUT
        );
        assert_eq!(
            resolve_otlp(Signal::Metrics, &code, &e).timeout,
            Duration::from_millis(250)
        );
        assert_eq!(resolve_zipkin(None, None, &e).timeout, INDEFINITE_TIMEOUT);
        let bsp = BatchSettings::from_env("OTEL_BSP", BatchSettings::SPANS, &e);
        assert_eq!(bsp.export_timeout, INDEFINITE_TIMEOUT);
        assert_eq!(bsp.schedule_delay, Duration::ZERO);
        let blrp = BatchSettings::from_env("OTEL_BLRP", BatchSettings::LOGS, &e);
        assert_eq!(blrp.export_timeout, INDEFINITE_TIMEOUT);
        assert_eq!(MetricSettings::from_env(&e).timeout, INDEFINITE_TIMEOUT);
        assert_eq!(INDEFINITE_TIMEOUT, Duration::from_millis(i32::MAX as u64));
    }

    #[test]
    fn invalid_header_entries_are_skipped_alone() {
        // A malformed entry, or one that is no valid HTTP header once decoded (a space in the
        // name, a line break in the value), is skipped; the valid entries around it are kept.
        let e = env(&[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "good=1,bad,a b=2,nl=x%0Ay,=v,bad-utf8=%ff, authorization = Bearer%20t ",
        )]);
        let t = resolve_otlp(Signal::Traces, &OtlpCode::default(), &e);
        assert_eq!(
            t.headers,
            vec![
                ("good".to_owned(), "1".to_owned()),
                ("authorization".to_owned(), "Bearer t".to_owned()),
            ]
        );
    }

    #[test]
    fn grpc_endpoint_has_no_path() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
        ]);
        let t = resolve_otlp(Signal::Traces, &OtlpCode::default(), &e);
        if cfg!(feature = "grpc") {
            assert_eq!(t.protocol, OtlpProtocol::Grpc);
            assert_eq!(t.endpoint, "http://c:4317");
            let d = resolve_otlp(
                Signal::Traces,
                &OtlpCode::default(),
                &env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]),
            );
            assert_eq!(d.endpoint, "http://localhost:4317");
        } else {
            assert_eq!(t.protocol, OtlpProtocol::HttpProtobuf);
            assert_eq!(t.endpoint, "http://c:4317/v1/traces");
        }
    }

    #[test]
    fn debug_never_shows_header_values() {
        let e = env(&[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20s3cr3t",
        )]);
        let t = resolve_otlp(Signal::Traces, &OtlpCode::default(), &e);
        let shown = format!("{t:?}");
        assert!(shown.contains("authorization"));
        assert!(!shown.contains("s3cr3t"));
    }

    #[test]
    fn exporters_lists() {
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Vars<'_>, &[ExporterKind])] = &[
            (&[], &[ExporterKind::Otlp]),
            (&[("OTEL_TRACES_EXPORTER", "none")], &[]),
            (
                &[("OTEL_TRACES_EXPORTER", "console, otlp,console")],
                &[ExporterKind::Console, ExporterKind::Otlp],
            ),
            (
                &[("OTEL_TRACES_EXPORTER", "LOGGING")],
                &[ExporterKind::Console],
            ),
            (
                &[("OTEL_TRACES_EXPORTER", "jaeger,otlp")],
                &[ExporterKind::Otlp],
            ),
            (
                &[("OTEL_TRACES_EXPORTER", "none,console")],
                &[ExporterKind::Console],
            ),
        ];
        for (vars, want) in cases {
            let got = resolve_exporters(Signal::Traces, &OtelEnv::new(*vars));
            assert_eq!(got, *want, "{vars:?}");
        }
        let zipkin = resolve_exporters(Signal::Traces, &env(&[("OTEL_TRACES_EXPORTER", "zipkin")]));
        if cfg!(feature = "zipkin") {
            assert_eq!(zipkin, [ExporterKind::Zipkin]);
        } else {
            assert!(zipkin.is_empty());
        }
        let metrics = resolve_exporters(
            Signal::Metrics,
            &env(&[("OTEL_METRICS_EXPORTER", "zipkin,console")]),
        );
        assert_eq!(metrics, [ExporterKind::Console]);
    }

    #[test]
    fn zipkin_settings() {
        let d = resolve_zipkin(None, None, &env(&[]));
        assert_eq!(d.endpoint, DEFAULT_ZIPKIN_ENDPOINT);
        assert_eq!(d.timeout, Duration::from_secs(10));
        let e = env(&[
            (
                "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                "http://z:9411/api/v2/spans",
            ),
            ("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "300"),
        ]);
        let s = resolve_zipkin(None, None, &e);
        assert_eq!(s.endpoint, "http://z:9411/api/v2/spans");
        assert_eq!(s.timeout, Duration::from_millis(300));
        let c = resolve_zipkin(Some("http://code/"), Some(Duration::from_millis(1)), &e);
        assert_eq!(c.endpoint, "http://code/");
        assert_eq!(c.timeout, Duration::from_millis(1));
    }

    #[test]
    fn batch_settings() {
        assert_eq!(
            BatchSettings::from_env("OTEL_BSP", BatchSettings::SPANS, &env(&[])),
            BatchSettings::SPANS
        );
        let e = env(&[
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "200"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "128"),
        ]);
        let s = BatchSettings::from_env("OTEL_BSP", BatchSettings::SPANS, &e);
        assert_eq!(s.schedule_delay, Duration::from_millis(100));
        assert_eq!(s.export_timeout, Duration::from_millis(200));
        assert_eq!(s.max_queue_size, 64);
        assert_eq!(s.max_export_batch_size, 64);
        let zero = env(&[
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "x"),
        ]);
        assert_eq!(
            BatchSettings::from_env("OTEL_BLRP", BatchSettings::LOGS, &zero),
            BatchSettings::LOGS
        );
    }

    #[test]
    fn huge_queue_sizes_are_capped() {
        let e = env(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "18446744073709551615"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "99999999999"),
        ]);
        let s = BatchSettings::from_env("OTEL_BSP", BatchSettings::SPANS, &e);
        assert_eq!(s.max_queue_size, BatchSettings::MAX_ENV_QUEUE_SIZE);
        assert_eq!(s.max_export_batch_size, BatchSettings::MAX_ENV_QUEUE_SIZE);
        let at = env(&[("OTEL_BLRP_MAX_QUEUE_SIZE", "1048576")]);
        let l = BatchSettings::from_env("OTEL_BLRP", BatchSettings::LOGS, &at);
        assert_eq!(l.max_queue_size, 1 << 20);
    }

    #[test]
    fn span_limits() {
        assert_eq!(
            SpanLimitSettings::from_env(&env(&[])),
            SpanLimitSettings::default()
        );
        let e = env(&[
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "10"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "20"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "3"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "4"),
            ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "5"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "99"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "16"),
        ]);
        let l = SpanLimitSettings::from_env(&e);
        assert_eq!(l.attribute_count, 20);
        assert_eq!(l.event_count, 3);
        assert_eq!(l.link_count, 4);
        assert_eq!(l.event_attribute_count, 10);
        assert_eq!(l.link_attribute_count, 5);
        assert_eq!(l.attribute_value_length, Some(16));
        let sdk = l.to_sdk();
        assert_eq!(sdk.max_attributes_per_span, 20);
        assert_eq!(sdk.max_attributes_per_link, 5);
    }

    #[test]
    fn metric_settings() {
        let d = MetricSettings::from_env(&env(&[]));
        assert_eq!(d.interval, Duration::from_secs(60));
        assert_eq!(d.timeout, Duration::from_secs(30));
        let s = MetricSettings::from_env(&env(&[
            ("OTEL_METRIC_EXPORT_INTERVAL", "250"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "0"),
        ]));
        assert_eq!(s.interval, Duration::from_millis(250));
        assert_eq!(s.timeout, INDEFINITE_TIMEOUT, "a zero timeout is no limit");
        let zero_interval = MetricSettings::from_env(&env(&[("OTEL_METRIC_EXPORT_INTERVAL", "0")]));
        assert_eq!(zero_interval.interval, Duration::from_secs(60));
        assert_eq!(d.temporality, Temporality::Cumulative);
        let delta = MetricSettings::from_env(&env(&[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "Delta",
        )]));
        assert_eq!(delta.temporality, Temporality::Delta);
    }
}
