//! [`OtelLogsDrain`]: a slog drain that exports records as OpenTelemetry log records.

use std::borrow::Cow;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry::{InstrumentationScope, Key, StringValue};
use slog::{BytesKind, Drain, KV, Level, Never, OwnedKVList, Record, Serializer};
use tracewire_core::semconv::attribute;
use tracewire_core::{TraceIds, hex};

use crate::FieldNames;

/// The OpenTelemetry severity of a slog level, by the log data model's
/// [mapping](https://opentelemetry.io/docs/specs/otel/logs/data-model/#appendix-b-severitynumber-example-mappings)
/// (slog's `Critical` is syslog's and Python's `CRITICAL`: `FATAL`).
///
/// # Example
///
/// ```
/// use opentelemetry::logs::Severity;
/// use tracewire_correlate::slog::severity_of;
///
/// assert_eq!(severity_of(slog::Level::Critical), Severity::Fatal);
/// assert_eq!(severity_of(slog::Level::Warning), Severity::Warn);
/// ```
pub const fn severity_of(level: Level) -> Severity {
    match level {
        Level::Critical => Severity::Fatal,
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warn,
        Level::Info => Severity::Info,
        Level::Debug => Severity::Debug,
        Level::Trace => Severity::Trace,
    }
}

/// A slog drain that exports every record as an OpenTelemetry log record through a
/// [`Logger`] of any [`LoggerProvider`] (the SDK's `SdkLoggerProvider`, or a no-op one).
///
/// | slog | OpenTelemetry log record |
/// |---|---|
/// | level | `SeverityNumber` by [`severity_of`], `SeverityText` the slog level's name (`"CRITICAL"`, `"ERROR"`, `"WARNING"`, ...) |
/// | message | `Body` (a string) |
/// | record and logger key-values | `Attributes` (integers, floats, booleans and byte slices keep their type; `None` is left out; everything else is a string) |
/// | module | `target` (exporters may use it as the instrumentation scope name) |
/// | file and line | `code.file.path`, `code.line.number` when [enabled](OtelLogsDrainBuilder::with_code_location) |
/// | time of the call | `Timestamp` and `ObservedTimestamp` (slog records carry no time of their own) |
/// | current span context | `TraceId`, `SpanId`, `TraceFlags` |
///
/// The trace context is the current context's; when the record carries `trace_id`, `span_id`
/// and `trace_flags` key-values (a [`TraceIdsDrain`](crate::slog::TraceIdsDrain) in front of an
/// async drain wrote them on the logging thread), those are used instead and not repeated as
/// attributes. Invalid values there, or a trace id without a span id, are kept as plain
/// attributes.
///
/// The drain never fails: it returns `Result<(), Never>`, so it needs no `.fuse()`.
///
/// # Example
///
/// ```
/// use opentelemetry::logs::Severity;
/// use opentelemetry::trace::{Tracer, TracerProvider as _};
/// use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tracewire_correlate::slog::OtelLogsDrain;
///
/// let exporter = InMemoryLogExporter::default();
/// let provider = SdkLoggerProvider::builder().with_simple_exporter(exporter.clone()).build();
/// let log = slog::Logger::root(OtelLogsDrain::new(&provider), slog::o!("service" => "payments"));
///
/// let tracer = SdkTracerProvider::builder().build().tracer("example");
/// tracer.in_span("charge", |_cx| slog::warn!(log, "card declined"; "attempt" => 2));
///
/// let records = exporter.get_emitted_logs().expect("logs");
/// let record = &records[0].record;
/// assert_eq!(record.severity_number(), Some(Severity::Warn));
/// assert!(record.trace_context().is_some());
/// ```
#[derive(Debug)]
pub struct OtelLogsDrain<L> {
    // slog asks drains to be `RefUnwindSafe`; the SDK's logger is not (its processors are trait
    // objects). The drain keeps no state of its own that a panic could leave half-updated, and
    // the logger's state is the SDK's, which it guards itself.
    logger: AssertUnwindSafe<L>,
    names: FieldNames,
    code_location: bool,
}

impl<L: Logger> OtelLogsDrain<L> {
    /// A drain on a logger of `provider` with the instrumentation scope `tracewire-correlate`.
    pub fn new<P>(provider: &P) -> Self
    where
        P: LoggerProvider<Logger = L>,
    {
        Self::builder(provider).build()
    }

    /// A builder, to set the scope or other options.
    pub fn builder<P>(provider: &P) -> OtelLogsDrainBuilder<'_, P>
    where
        P: LoggerProvider<Logger = L>,
    {
        OtelLogsDrainBuilder {
            provider,
            scope: None,
            names: FieldNames::SPEC,
            code_location: false,
        }
    }

    /// A drain on `logger` as it is.
    pub fn from_logger(logger: L) -> Self {
        Self {
            logger: AssertUnwindSafe(logger),
            names: FieldNames::SPEC,
            code_location: false,
        }
    }
}

impl<L: Clone> Clone for OtelLogsDrain<L> {
    fn clone(&self) -> Self {
        Self {
            logger: AssertUnwindSafe(self.logger.0.clone()),
            names: self.names,
            code_location: self.code_location,
        }
    }
}

/// Builds an [`OtelLogsDrain`].
#[derive(Debug)]
pub struct OtelLogsDrainBuilder<'a, P> {
    provider: &'a P,
    scope: Option<InstrumentationScope>,
    names: FieldNames,
    code_location: bool,
}

impl<P: LoggerProvider> OtelLogsDrainBuilder<'_, P> {
    /// Uses `scope` as the logger's instrumentation scope (default: `tracewire-correlate` with
    /// this crate's version).
    pub fn with_scope(mut self, scope: InstrumentationScope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// The names of the trace context key-values to lift into the record's trace context
    /// (default: the specification's).
    pub fn with_names(mut self, names: FieldNames) -> Self {
        self.names = names;
        self
    }

    /// Adds `code.file.path` and `code.line.number` attributes from the record's location
    /// (default: off).
    pub fn with_code_location(mut self, enabled: bool) -> Self {
        self.code_location = enabled;
        self
    }

    /// Builds the drain.
    pub fn build(self) -> OtelLogsDrain<P::Logger> {
        let scope = self.scope.unwrap_or_else(|| {
            InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
                .with_version(env!("CARGO_PKG_VERSION"))
                .build()
        });
        OtelLogsDrain {
            logger: AssertUnwindSafe(self.provider.logger_with_scope(scope)),
            names: self.names,
            code_location: self.code_location,
        }
    }
}

impl<L: Logger> Drain for OtelLogsDrain<L> {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), Never> {
        let severity = severity_of(record.level());
        if !self.logger.event_enabled(severity, record.module(), None) {
            return Ok(());
        }
        let mut log = self.logger.create_log_record();
        let now = SystemTime::now();
        log.set_timestamp(now);
        log.set_observed_timestamp(now);
        log.set_severity_number(severity);
        log.set_severity_text(record.level().as_str());
        log.set_target(record.module());
        let body: StringValue = match record.msg().as_str() {
            Some(s) => s.into(),
            None => record.msg().to_string().into(),
        };
        log.set_body(AnyValue::String(body));
        if self.code_location {
            log.add_attribute(attribute::CODE_FILE_PATH, record.file());
            log.add_attribute(attribute::CODE_LINE_NUMBER, i64::from(record.line()));
        }

        let mut attrs = Attributes {
            log: &mut log,
            names: &self.names,
            lifted: LiftedIds::default(),
        };
        // Serialization into attributes cannot fail; a failing `KV` impl of the user's only loses
        // its own attributes.
        let _ = record.kv().serialize(record, &mut attrs);
        let _ = values.serialize(record, &mut attrs);
        let lifted = attrs.lifted;

        // Fields that make no trace context of their own go back as the attributes they were.
        let ids = match lifted.ids() {
            Some(ids) => Some(ids),
            None => {
                lifted.restore(&mut log, &self.names);
                TraceIds::current()
            }
        };
        if let Some(ids) = ids {
            log.set_trace_context(ids.trace_id, ids.span_id, Some(ids.trace_flags));
        }
        self.logger.emit(log);
        Ok(())
    }
}

/// Trace context key-values found on a record, parsed strictly.
#[derive(Default)]
struct LiftedIds {
    trace_id: Option<(TraceId, String)>,
    span_id: Option<(SpanId, String)>,
    flags: Option<(TraceFlags, String)>,
}

impl LiftedIds {
    fn ids(&self) -> Option<TraceIds> {
        let trace_id = self.trace_id.as_ref()?.0;
        let span_id = self.span_id.as_ref()?.0;
        let trace_flags = self
            .flags
            .as_ref()
            .map_or(TraceFlags::NOT_SAMPLED, |(f, _)| *f);
        Some(TraceIds {
            trace_id,
            span_id,
            trace_flags,
        })
    }

    /// Puts back as attributes what was held aside but does not make a trace context.
    fn restore<R: LogRecord>(self, log: &mut R, names: &FieldNames) {
        if let Some((_, s)) = self.trace_id {
            log.add_attribute(names.trace_id, s);
        }
        if let Some((_, s)) = self.span_id {
            log.add_attribute(names.span_id, s);
        }
        if let Some((_, s)) = self.flags {
            log.add_attribute(names.trace_flags, s);
        }
    }
}

/// Serializes key-values into log record attributes.
struct Attributes<'a, R> {
    log: &'a mut R,
    names: &'a FieldNames,
    lifted: LiftedIds,
}

impl<R: LogRecord> Attributes<'_, R> {
    /// Holds a trace context field aside when it parses; `false` when it is not one (the first
    /// of repeated fields wins).
    fn lift(&mut self, key: &'static str, val: &str) -> bool {
        let lifted = &mut self.lifted;
        if key == self.names.trace_id {
            let Some(id) = hex::parse_trace_id(val.as_bytes()) else {
                return false;
            };
            lifted.trace_id.get_or_insert_with(|| (id, val.to_owned()));
        } else if key == self.names.span_id {
            let Some(id) = hex::parse_span_id(val.as_bytes()) else {
                return false;
            };
            lifted.span_id.get_or_insert_with(|| (id, val.to_owned()));
        } else if key == self.names.trace_flags {
            let Some([flags]) = hex::decode_lower::<1>(val.as_bytes()) else {
                return false;
            };
            lifted
                .flags
                .get_or_insert_with(|| (TraceFlags::new(flags), val.to_owned()));
        } else {
            return false;
        }
        true
    }

    fn add(&mut self, key: &'static str, value: impl Into<AnyValue>) {
        self.log.add_attribute(Key::from_static_str(key), value);
    }
}

impl<R: LogRecord> Serializer for Attributes<'_, R> {
    fn emit_arguments(&mut self, key: slog::Key, val: &fmt::Arguments<'_>) -> slog::Result {
        let s: Cow<'static, str> = match val.as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(val.to_string()),
        };
        if !self.lift(key, &s) {
            self.add(key, StringValue::from(s));
        }
        Ok(())
    }

    fn emit_str(&mut self, key: slog::Key, val: &str) -> slog::Result {
        if !self.lift(key, val) {
            self.add(key, val.to_owned());
        }
        Ok(())
    }

    fn emit_bool(&mut self, key: slog::Key, val: bool) -> slog::Result {
        self.add(key, val);
        Ok(())
    }

    fn emit_i64(&mut self, key: slog::Key, val: i64) -> slog::Result {
        self.add(key, val);
        Ok(())
    }

    fn emit_u64(&mut self, key: slog::Key, val: u64) -> slog::Result {
        match i64::try_from(val) {
            Ok(v) => self.add(key, v),
            Err(_) => self.add(key, val.to_string()),
        }
        Ok(())
    }

    fn emit_i32(&mut self, key: slog::Key, val: i32) -> slog::Result {
        self.emit_i64(key, i64::from(val))
    }

    fn emit_u32(&mut self, key: slog::Key, val: u32) -> slog::Result {
        self.emit_i64(key, i64::from(val))
    }

    fn emit_i16(&mut self, key: slog::Key, val: i16) -> slog::Result {
        self.emit_i64(key, i64::from(val))
    }

    fn emit_u16(&mut self, key: slog::Key, val: u16) -> slog::Result {
        self.emit_i64(key, i64::from(val))
    }

    fn emit_i8(&mut self, key: slog::Key, val: i8) -> slog::Result {
        self.emit_i64(key, i64::from(val))
    }

    fn emit_u8(&mut self, key: slog::Key, val: u8) -> slog::Result {
        self.emit_i64(key, i64::from(val))
    }

    fn emit_isize(&mut self, key: slog::Key, val: isize) -> slog::Result {
        match i64::try_from(val) {
            Ok(v) => self.emit_i64(key, v),
            Err(_) => self.emit_str(key, &val.to_string()),
        }
    }

    fn emit_usize(&mut self, key: slog::Key, val: usize) -> slog::Result {
        match u64::try_from(val) {
            Ok(v) => self.emit_u64(key, v),
            Err(_) => self.emit_str(key, &val.to_string()),
        }
    }

    fn emit_f64(&mut self, key: slog::Key, val: f64) -> slog::Result {
        self.add(key, val);
        Ok(())
    }

    fn emit_f32(&mut self, key: slog::Key, val: f32) -> slog::Result {
        self.emit_f64(key, f64::from(val))
    }

    fn emit_char(&mut self, key: slog::Key, val: char) -> slog::Result {
        self.add(key, val.to_string());
        Ok(())
    }

    fn emit_unit(&mut self, key: slog::Key) -> slog::Result {
        self.add(key, "()");
        Ok(())
    }

    fn emit_bytes(&mut self, key: slog::Key, bytes: &[u8], _kind: BytesKind) -> slog::Result {
        self.add(key, bytes);
        Ok(())
    }

    fn emit_none(&mut self, _key: slog::Key) -> slog::Result {
        // `None` has no value: the attribute is left out, as the data model has no null.
        Ok(())
    }
}
