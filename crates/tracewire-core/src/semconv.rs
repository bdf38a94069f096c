//! Attribute, metric and resource keys.
//!
//! The keys come from `opentelemetry-semantic-conventions` (with its `semconv_experimental`
//! feature, since the messaging conventions are still in development); this module re-exports
//! them and adds constants only for what that crate lacks. Instrumentation in tracewire never
//! writes a key as a string literal at the use site.

pub use opentelemetry_semantic_conventions::{SCHEMA_URL, attribute, metric, resource};

/// Name of the span event that records an exception, from the
/// [exception conventions](https://opentelemetry.io/docs/specs/semconv/exceptions/exceptions-spans/).
pub const EXCEPTION_EVENT_NAME: &str = "exception";

/// Prefix of captured HTTP request headers: `http.request.header.<lowercase name>`.
pub const HTTP_REQUEST_HEADER_PREFIX: &str = "http.request.header.";

/// Prefix of captured HTTP response headers: `http.response.header.<lowercase name>`.
pub const HTTP_RESPONSE_HEADER_PREFIX: &str = "http.response.header.";

/// `messaging.system` value for Kafka.
pub const MESSAGING_SYSTEM_KAFKA: &str = "kafka";

/// The value `_OTHER`, used by the HTTP conventions for methods outside the known set and by
/// `error.type` when no better class is known.
pub const OTHER: &str = "_OTHER";

/// Baggage key the article's edge service sets for the user id.
pub const BAGGAGE_USER_ID: &str = "user.id";

/// Baggage key the article's edge service sets for the session's region.
pub const BAGGAGE_SESSION_REGION: &str = "session.region";

/// Baggage key the article's edge service sets for the request's source.
pub const BAGGAGE_REQUEST_SOURCE: &str = "request.source";

/// Header names of the propagation formats tracewire speaks.
pub mod header {
    /// W3C Trace Context `traceparent`.
    pub const TRACEPARENT: &str = "traceparent";
    /// W3C Trace Context `tracestate`.
    pub const TRACESTATE: &str = "tracestate";
    /// W3C Trace Context Level 2 `traceresponse`.
    pub const TRACERESPONSE: &str = "traceresponse";
    /// W3C Baggage.
    pub const BAGGAGE: &str = "baggage";
    /// B3 single header.
    pub const B3: &str = "b3";
    /// B3 multi header: trace id.
    pub const X_B3_TRACE_ID: &str = "x-b3-traceid";
    /// B3 multi header: span id.
    pub const X_B3_SPAN_ID: &str = "x-b3-spanid";
    /// B3 multi header: parent span id.
    pub const X_B3_PARENT_SPAN_ID: &str = "x-b3-parentspanid";
    /// B3 multi header: sampling state.
    pub const X_B3_SAMPLED: &str = "x-b3-sampled";
    /// B3 multi header: debug flag.
    pub const X_B3_FLAGS: &str = "x-b3-flags";
    /// Jaeger trace context.
    pub const UBER_TRACE_ID: &str = "uber-trace-id";
    /// Prefix of Jaeger baggage headers.
    pub const UBERCTX_PREFIX: &str = "uberctx-";
}

/// Field names of the trace context in log formats other than OTLP (JSON lines, text, slog
/// records), from the specification's
/// [Trace Context in non-OTLP Log Formats](https://opentelemetry.io/docs/specs/otel/compatibility/logging_trace_context/).
pub mod log_fields {
    /// The trace id, 32 lowercase hex digits.
    pub const TRACE_ID: &str = "trace_id";
    /// The span id, 16 lowercase hex digits.
    pub const SPAN_ID: &str = "span_id";
    /// The W3C trace flags, 2 lowercase hex digits (`"01"` sampled, `"00"` not).
    pub const TRACE_FLAGS: &str = "trace_flags";
}

/// Label names of an exemplar that links a metric point to a trace, as OpenMetrics and
/// Prometheus expect them (the OpenTelemetry → Prometheus compatibility specification).
pub mod exemplar {
    /// The trace id label of an exemplar.
    pub const TRACE_ID: &str = "trace_id";
    /// The span id label of an exemplar.
    pub const SPAN_ID: &str = "span_id";
}
