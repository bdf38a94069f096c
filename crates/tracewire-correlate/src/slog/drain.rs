//! [`TraceIdsDrain`] and [`TraceIdsKv`]: the current trace ids as slog key-values.

use slog::{BorrowedKV, Drain, KV, Level, OwnedKVList, Record, RecordStatic, Serializer};
use tracewire_core::TraceIds;

use crate::FieldNames;

/// A drain that adds `trace_id`, `span_id` and `trace_flags` to every record made while a
/// valid span context is current, then hands the record to the inner drain.
///
/// The ids are read from the current OpenTelemetry context when the record is logged, so a
/// logger built once logs each request's own ids. Records made outside any span pass through
/// unchanged. No heap allocation: the hex forms live on the stack and reach the inner drain's
/// serializer through `emit_str`.
///
/// See the [module docs](crate::slog) for an example and for where to put it relative to an
/// async drain.
#[derive(Debug, Clone)]
pub struct TraceIdsDrain<D> {
    drain: D,
    names: FieldNames,
}

impl<D> TraceIdsDrain<D> {
    /// Wraps `drain`, with the specification's field names.
    pub fn new(drain: D) -> Self {
        Self {
            drain,
            names: FieldNames::SPEC,
        }
    }

    /// Uses other field names.
    pub fn with_names(mut self, names: FieldNames) -> Self {
        self.names = names;
        self
    }

    /// The inner drain.
    pub fn get_ref(&self) -> &D {
        &self.drain
    }

    /// Unwraps the inner drain.
    pub fn into_inner(self) -> D {
        self.drain
    }
}

impl<D: Drain> Drain for TraceIdsDrain<D> {
    type Ok = D::Ok;
    type Err = D::Err;

    #[inline]
    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<D::Ok, D::Err> {
        let Some(ids) = TraceIds::current() else {
            return self.drain.log(record, values);
        };
        let ids = IdsKv {
            ids,
            names: self.names,
        };
        let kv = (record.kv(), ids);
        let rstatic = RecordStatic {
            location: record.location(),
            tag: record.tag(),
            level: record.level(),
        };
        let record = Record::new(&rstatic, record.msg(), BorrowedKV(&kv));
        self.drain.log(&record, values)
    }

    #[inline]
    fn is_enabled(&self, level: Level) -> bool {
        self.drain.is_enabled(level)
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.drain.flush()
    }
}

/// Fixed ids as key-values.
struct IdsKv {
    ids: TraceIds,
    names: FieldNames,
}

impl KV for IdsKv {
    #[inline]
    fn serialize(&self, _record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        emit_ids(&self.ids, &self.names, serializer)
    }
}

#[inline]
fn emit_ids(ids: &TraceIds, names: &FieldNames, serializer: &mut dyn Serializer) -> slog::Result {
    serializer.emit_str(names.trace_id, ids.trace_id_hex().as_str())?;
    serializer.emit_str(names.span_id, ids.span_id_hex().as_str())?;
    serializer.emit_str(names.trace_flags, ids.trace_flags_hex().as_str())
}

/// A key-value source that serializes the ids of the span context current *where it is
/// serialized*, or nothing outside any span.
///
/// Put it in a logger's values (`slog::Logger::root(drain, o!(TraceIdsKv::new()))`) when the
/// drain serializes on the logging thread (slog-json or slog-term behind a `Mutex`). With
/// `slog_async`, values are serialized on the async thread, where no span is current: use
/// [`TraceIdsDrain`] in front of the async drain instead.
///
/// # Example
///
/// ```
/// use slog::{o, Drain};
/// use tracewire_correlate::slog::TraceIdsKv;
///
/// let log = slog::Logger::root(slog::Discard, o!("service" => "payments", TraceIdsKv::new()));
/// slog::info!(log, "ready");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceIdsKv {
    names: FieldNames,
}

impl TraceIdsKv {
    /// With the specification's field names.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses other field names.
    pub fn with_names(mut self, names: FieldNames) -> Self {
        self.names = names;
        self
    }
}

impl KV for TraceIdsKv {
    #[inline]
    fn serialize(&self, _record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        match TraceIds::current() {
            Some(ids) => emit_ids(&ids, &self.names, serializer),
            None => Ok(()),
        }
    }
}
