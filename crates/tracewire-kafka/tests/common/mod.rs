//! Shared helpers of the integration tests: an in-memory trace and metric pipeline, a mock
//! cluster, and raw header writing (names that are not UTF-8, which rdkafka's safe API cannot
//! write).

#![allow(dead_code, unsafe_code, unreachable_pub)]

use std::time::Duration;

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer, SdkTracerProvider, SpanData};
use rdkafka::ClientConfig;
use rdkafka::message::OwnedHeaders;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

/// Spans and metrics recorded in memory.
pub struct Pipeline {
    pub provider: SdkTracerProvider,
    pub exporter: InMemorySpanExporter,
    pub meter_provider: SdkMeterProvider,
    pub metric_exporter: InMemoryMetricExporter,
}

impl Pipeline {
    pub fn new() -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let metric_exporter = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metric_exporter.clone()).build())
            .build();
        Self {
            provider,
            exporter,
            meter_provider,
            metric_exporter,
        }
    }

    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer("test")
    }

    pub fn meter(&self) -> Meter {
        self.meter_provider.meter("test")
    }

    /// Every finished span so far.
    pub fn spans(&self) -> Vec<SpanData> {
        let _ = self.provider.force_flush();
        self.exporter.get_finished_spans().expect("spans")
    }

    /// The only finished span named `name`.
    pub fn span(&self, name: &str) -> SpanData {
        let spans: Vec<_> = self
            .spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(spans.len(), 1, "spans named {name:?}: {spans:#?}");
        spans.into_iter().next().expect("one span")
    }

    /// The data points of the metric `name`: attributes and value (a sum's value or a
    /// histogram's count).
    pub fn points(&self, name: &str) -> Vec<(Vec<KeyValue>, f64)> {
        self.meter_provider.force_flush().expect("flush metrics");
        let mut out = Vec::new();
        // Cumulative temporality: the last export holds the totals.
        let exports = self
            .metric_exporter
            .get_finished_metrics()
            .expect("metrics");
        if let Some(rm) = exports.last() {
            for sm in rm.scope_metrics() {
                for m in sm.metrics().filter(|m| m.name() == name) {
                    match m.data() {
                        AggregatedMetrics::U64(MetricData::Sum(s)) => {
                            for p in s.data_points() {
                                out.push((p.attributes().cloned().collect(), p.value() as f64));
                            }
                        }
                        AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                            for p in h.data_points() {
                                out.push((p.attributes().cloned().collect(), p.count() as f64));
                            }
                        }
                        other => panic!("unexpected data for {name}: {other:?}"),
                    }
                }
            }
        }
        out
    }
}

impl Pipeline {
    /// The sum of every data point of the histogram `name`.
    pub fn histogram_sum(&self, name: &str) -> f64 {
        self.meter_provider.force_flush().expect("flush metrics");
        let exports = self
            .metric_exporter
            .get_finished_metrics()
            .expect("metrics");
        let mut sum = 0.0;
        if let Some(rm) = exports.last() {
            for sm in rm.scope_metrics() {
                for m in sm.metrics().filter(|m| m.name() == name) {
                    if let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() {
                        sum += h.data_points().map(|p| p.sum()).sum::<f64>();
                    }
                }
            }
        }
        sum
    }
}

/// The value of attribute `key` in `attrs`.
pub fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The value of attribute `key` of `span`.
pub fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    get(&span.attributes, key)
}

/// A string attribute's value.
pub fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

/// Appends a header with any name and value bytes, as a foreign producer could send it.
pub fn add_raw_header(headers: &mut OwnedHeaders, name: &[u8], value: Option<&[u8]>) {
    let hdrs = (headers.as_borrowed() as *const rdkafka::message::BorrowedHeaders)
        .cast::<rdkafka::bindings::rd_kafka_headers_t>()
        .cast_mut();
    let (ptr, len) = match value {
        Some(v) => (v.as_ptr().cast(), v.len() as isize),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: `&BorrowedHeaders` is rdkafka's handle to the native list owned by `headers`,
    // held exclusively here; librdkafka copies the bytes it is given.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_header_add(
            hdrs,
            name.as_ptr().cast(),
            name.len() as isize,
            ptr,
            len,
        )
    };
    assert_eq!(
        err,
        rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
    );
}

/// A one-broker mock cluster with `topics` (one partition each) and a configuration pointing
/// at it.
pub fn mock_cluster(
    topics: &[&str],
) -> (MockCluster<'static, DefaultProducerContext>, ClientConfig) {
    let cluster = MockCluster::new(1).expect("mock cluster");
    for t in topics {
        cluster.create_topic(t, 1, 1).expect("topic");
    }
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("client.id", "test-client")
        .set("message.timeout.ms", "10000");
    (cluster, config)
}

/// A consumer configuration for `group` reading from the earliest offset.
pub fn consumer_config(base: &ClientConfig, group: &str) -> ClientConfig {
    let mut config = base.clone();
    config
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "6000");
    config
}

/// How long tests wait for a message before failing.
pub const WAIT: Duration = Duration::from_secs(20);
