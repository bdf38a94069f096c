//! Helpers shared by the integration tests: a shared in-memory writer and SDK pipelines.

#![allow(dead_code, unreachable_pub)]

use std::io;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SdkTracer, SdkTracerProvider, SpanData,
};

/// An `io::Write` into a shared buffer, cloned into loggers.
#[derive(Clone, Default)]
pub struct Buf(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8")
    }

    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// A tracer provider exporting to memory, sampling everything or nothing.
pub struct Traces {
    pub provider: SdkTracerProvider,
    pub exporter: InMemorySpanExporter,
}

impl Traces {
    pub fn new(sampled: bool) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(if sampled {
                Sampler::AlwaysOn
            } else {
                Sampler::AlwaysOff
            })
            .with_simple_exporter(exporter.clone())
            .build();
        Self { provider, exporter }
    }

    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer("test")
    }

    pub fn spans(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().expect("spans")
    }

    pub fn span(&self, name: &str) -> SpanData {
        self.spans()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no span named {name}"))
    }
}

/// A logger provider exporting to memory.
pub struct Logs {
    pub provider: SdkLoggerProvider,
    pub exporter: InMemoryLogExporter,
}

impl Logs {
    pub fn new() -> Self {
        let exporter = InMemoryLogExporter::default();
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        Self { provider, exporter }
    }

    pub fn records(&self) -> Vec<SdkLogRecord> {
        self.exporter
            .get_emitted_logs()
            .expect("logs")
            .into_iter()
            .map(|l| l.record)
            .collect()
    }
}

/// Hex forms of a span's ids, as logged.
pub fn hex_ids(span: &SpanData) -> (String, String, String) {
    let sc = &span.span_context;
    (
        sc.trace_id().to_string(),
        sc.span_id().to_string(),
        format!("{:02x}", sc.trace_flags().to_u8()),
    )
}
