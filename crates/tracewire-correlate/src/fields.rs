//! The names of the trace context fields written into log records.

use tracewire_core::semconv::log_fields;

/// The names of the three trace context fields written into log records.
///
/// The default ([`FieldNames::SPEC`]) is the OpenTelemetry specification's `trace_id`,
/// `span_id` and `trace_flags`; change them when a log pipeline expects other names (for
/// instance `dd.trace_id` or `logging.googleapis.com/trace`).
///
/// # Example
///
/// ```
/// use tracewire_correlate::FieldNames;
///
/// let names = FieldNames::SPEC.with_trace_id("traceId").with_span_id("spanId");
/// assert_eq!(names.trace_id, "traceId");
/// assert_eq!(names.trace_flags, "trace_flags");
/// assert_eq!(FieldNames::default(), FieldNames::SPEC);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldNames {
    /// The name of the trace id field.
    pub trace_id: &'static str,
    /// The name of the span id field.
    pub span_id: &'static str,
    /// The name of the trace flags field.
    pub trace_flags: &'static str,
}

impl FieldNames {
    /// The specification's names: `trace_id`, `span_id`, `trace_flags`.
    pub const SPEC: Self = Self {
        trace_id: log_fields::TRACE_ID,
        span_id: log_fields::SPAN_ID,
        trace_flags: log_fields::TRACE_FLAGS,
    };

    /// Sets the name of the trace id field.
    pub const fn with_trace_id(mut self, name: &'static str) -> Self {
        self.trace_id = name;
        self
    }

    /// Sets the name of the span id field.
    pub const fn with_span_id(mut self, name: &'static str) -> Self {
        self.span_id = name;
        self
    }

    /// Sets the name of the trace flags field.
    pub const fn with_trace_flags(mut self, name: &'static str) -> Self {
        self.trace_flags = name;
        self
    }
}

impl Default for FieldNames {
    fn default() -> Self {
        Self::SPEC
    }
}
