//! Exporters: a boxed span exporter, the fan-out of the configured exporters, and the exporters
//! tracewire builds (OTLP over HTTP or gRPC, Zipkin, console).
//!
//! # Example
//!
//! ```
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanExporter};
//! use tracewire_sdk::export::{BoxSpanExporter, SpanExporters};
//!
//! let memory = InMemorySpanExporter::default();
//! let all = SpanExporters::new(vec![BoxSpanExporter::new(memory.clone())]);
//! futures_executor::block_on(all.export(Vec::new())).unwrap();
//! assert!(memory.get_finished_spans().unwrap().is_empty());
//! ```
//!
//! # Where exports run
//!
//! Network exporters never run on the application's threads or runtime. The batch processor
//! ([`BatchProcessor`](crate::BatchProcessor)) exports from its own thread, and the HTTP and gRPC
//! clients run on a small private tokio runtime (one thread, `tracewire-export`) with a hard time
//! limit per request. So a span's end never waits for the network, a dead or hanging endpoint
//! never blocks the application, and shutdown works the same on multi-thread and current-thread
//! runtimes and without any runtime.

pub mod console;
pub(crate) mod http;
pub(crate) mod otlp;
pub(crate) mod runtime;
#[cfg(feature = "zipkin")]
pub(crate) mod zipkin;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The object-safe half of [`SpanExporter`] (whose `export` returns `impl Future`).
trait DynSpanExporter: Send + Sync + fmt::Debug {
    fn export_boxed(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult>;
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult;
    fn force_flush_dyn(&self) -> OTelSdkResult;
    fn set_resource_dyn(&mut self, resource: &Resource);
}

impl<T: SpanExporter + 'static> DynSpanExporter for T {
    fn export_boxed(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult> {
        Box::pin(self.export(batch))
    }
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
    fn force_flush_dyn(&self) -> OTelSdkResult {
        self.force_flush()
    }
    fn set_resource_dyn(&mut self, resource: &Resource) {
        self.set_resource(resource);
    }
}

/// Any [`SpanExporter`], boxed: the type the builder's processor hook receives.
#[derive(Debug)]
pub struct BoxSpanExporter(Box<dyn DynSpanExporter>);

impl BoxSpanExporter {
    /// Boxes `exporter`.
    pub fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        BoxSpanExporter(Box::new(exporter))
    }
}

impl SpanExporter for BoxSpanExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.export_boxed(batch)
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_dyn(timeout)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush_dyn()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource_dyn(resource);
    }
}

/// The configured exporters as one: every batch goes to each of them, after string attribute
/// values are cut to the configured length limit (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`), which is
/// done here, on the export thread, rather than when a span ends.
#[derive(Debug)]
pub struct SpanExporters {
    exporters: Vec<BoxSpanExporter>,
    value_length_limit: Option<usize>,
}

impl SpanExporters {
    /// Fans out to `exporters`, in order.
    pub fn new(exporters: Vec<BoxSpanExporter>) -> Self {
        SpanExporters {
            exporters,
            value_length_limit: None,
        }
    }

    /// Cuts string attribute values (of spans, events and links) to `limit` characters.
    pub fn with_value_length_limit(mut self, limit: Option<usize>) -> Self {
        self.value_length_limit = limit;
        self
    }

    /// How many exporters there are.
    pub fn len(&self) -> usize {
        self.exporters.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.exporters.is_empty()
    }

    /// Boxes the fan-out.
    pub fn boxed(self) -> BoxSpanExporter {
        BoxSpanExporter::new(self)
    }
}

fn combine(results: Vec<OTelSdkResult>) -> OTelSdkResult {
    let errors: Vec<String> = results
        .into_iter()
        .filter_map(Result::err)
        .map(|e| e.to_string())
        .collect();
    match errors.len() {
        0 => Ok(()),
        1 => Err(OTelSdkError::InternalFailure(errors.concat())),
        _ => Err(OTelSdkError::InternalFailure(errors.join("; "))),
    }
}

impl SpanExporter for SpanExporters {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(limit) = self.value_length_limit {
            for span in &mut batch {
                truncate_span(span, limit);
            }
        }
        match self.exporters.as_slice() {
            [] => Ok(()),
            [one] => one.export(batch).await,
            many => {
                let mut results = Vec::with_capacity(many.len());
                let (last, rest) = many
                    .split_last()
                    .map_or((None, &[][..]), |(l, r)| (Some(l), r));
                for e in rest {
                    results.push(e.export(batch.clone()).await);
                }
                if let Some(last) = last {
                    results.push(last.export(batch).await);
                }
                combine(results)
            }
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        combine(
            self.exporters
                .iter()
                .map(|e| e.shutdown_with_timeout(timeout))
                .collect(),
        )
    }

    fn force_flush(&self) -> OTelSdkResult {
        combine(
            self.exporters
                .iter()
                .map(SpanExporter::force_flush)
                .collect(),
        )
    }

    fn set_resource(&mut self, resource: &Resource) {
        for e in &mut self.exporters {
            e.set_resource(resource);
        }
    }
}

fn truncate_str(s: &str, limit: usize) -> Option<String> {
    s.char_indices().nth(limit).map(|(i, _)| s[..i].to_owned())
}

fn truncate_value(value: &mut Value, limit: usize) {
    match value {
        Value::String(s) => {
            if let Some(cut) = truncate_str(s.as_str(), limit) {
                *value = Value::from(cut);
            }
        }
        Value::Array(opentelemetry::Array::String(items)) => {
            for item in items.iter_mut() {
                if let Some(cut) = truncate_str(item.as_str(), limit) {
                    *item = cut.into();
                }
            }
        }
        _ => {}
    }
}

fn truncate_all(attrs: &mut [KeyValue], limit: usize) {
    for kv in attrs {
        truncate_value(&mut kv.value, limit);
    }
}

/// Cuts every string attribute value of `span` (its attributes, events' and links') to `limit`
/// characters, as `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` asks.
pub fn truncate_span(span: &mut SpanData, limit: usize) {
    truncate_all(&mut span.attributes, limit);
    for event in span.events.events.iter_mut() {
        truncate_all(&mut event.attributes, limit);
    }
    for link in span.links.links.iter_mut() {
        truncate_all(&mut link.attributes, limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{
        SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanEvents, SpanLinks};
    use std::time::SystemTime;

    pub(crate) fn span(name: &'static str, attrs: Vec<KeyValue>) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from_bytes([1; 16]),
                SpanId::from_bytes([2; 8]),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.into(),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: attrs,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    #[test]
    fn fan_out_reaches_every_exporter_and_truncates() {
        let a = InMemorySpanExporter::default();
        let b = InMemorySpanExporter::default();
        let all = SpanExporters::new(vec![
            BoxSpanExporter::new(a.clone()),
            BoxSpanExporter::new(b.clone()),
        ])
        .with_value_length_limit(Some(3));
        let attrs = vec![
            KeyValue::new("s", "héllo"),
            KeyValue::new("short", "ab"),
            KeyValue::new("n", 123456),
            KeyValue::new(
                "arr",
                Value::Array(vec![opentelemetry::StringValue::from("abcdef"), "x".into()].into()),
            ),
        ];
        futures_executor::block_on(all.export(vec![span("x", attrs)])).unwrap();
        for e in [a, b] {
            let got = e.get_finished_spans().unwrap();
            assert_eq!(got.len(), 1);
            let a = &got[0].attributes;
            assert_eq!(a[0].value.as_str(), "hél");
            assert_eq!(a[1].value.as_str(), "ab");
            assert_eq!(a[2].value, Value::I64(123456));
            assert_eq!(
                a[3].value,
                Value::Array(vec![opentelemetry::StringValue::from("abc"), "x".into()].into())
            );
        }
        assert_eq!(all.len(), 2);
        all.shutdown_with_timeout(Duration::from_secs(1)).unwrap();
    }
}
