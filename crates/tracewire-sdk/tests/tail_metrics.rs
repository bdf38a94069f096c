//! The processor's metrics through the global meter provider, under the Collector's names (this
//! test binary owns the global meter provider).

mod tail_support;

use std::collections::HashMap;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SpanProcessor;
use tail_support::{KeepingExporter, S};
use tracewire_sdk::tail::metrics::names;
use tracewire_sdk::tail::{TailSamplingConfig, TailSamplingProcessor};

/// Sums (and last gauge values) by metric name and sorted attributes.
fn collect(exporter: &InMemoryMetricExporter) -> HashMap<(String, Vec<String>), i128> {
    let mut out = HashMap::new();
    for rm in exporter.get_finished_metrics().unwrap_or_default() {
        for sm in rm.scope_metrics() {
            for m in sm.metrics() {
                let mut put = |attrs: Vec<&KeyValue>, v: i128| {
                    let mut a: Vec<String> = attrs
                        .iter()
                        .map(|kv| format!("{}={}", kv.key, kv.value))
                        .collect();
                    a.sort();
                    out.insert((m.name().to_owned(), a), v);
                };
                match m.data() {
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        for p in s.data_points() {
                            put(p.attributes().collect(), i128::from(p.value()));
                        }
                    }
                    AggregatedMetrics::I64(MetricData::Gauge(g)) => {
                        for p in g.data_points() {
                            put(p.attributes().collect(), i128::from(p.value()));
                        }
                    }
                    AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            put(p.attributes().collect(), i128::from(p.count()));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[test]
fn metrics_use_the_collectors_names() -> anyhow::Result<()> {
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(meter_provider.clone());

    let config = TailSamplingConfig::from_yaml_str(
        "num_traces: 3\npolicies:\n  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n  - {name: nothing, type: probabilistic, probabilistic: {sampling_percentage: 0}}\n",
    )?;
    let p = TailSamplingProcessor::new(KeepingExporter::default(), config)?;
    p.on_end(S::new(1, 1).error().build());
    for t in 2..=6u128 {
        p.on_end(S::new(t, 1).build());
    }
    p.force_flush()?;
    // A late span of the sampled trace.
    p.on_end(S::new(1, 2).parent(1).build());
    p.force_flush()?;
    meter_provider.force_flush()?;
    let m = collect(&metrics);
    let get = |name: &str, attrs: &[&str]| {
        let mut a: Vec<String> = attrs.iter().map(|s| (*s).to_owned()).collect();
        a.sort();
        m.get(&(name.to_owned(), a)).copied()
    };
    assert_eq!(get(names::NEW_TRACE_ID_RECEIVED, &[]), Some(6), "{m:#?}");
    assert_eq!(
        get(
            names::COUNT_TRACES_SAMPLED,
            &["policy=errors", "sampled=true", "decision=sampled"]
        ),
        Some(1),
        "{m:#?}"
    );
    assert_eq!(
        get(
            names::COUNT_TRACES_SAMPLED,
            &["policy=errors", "sampled=false", "decision=not_sampled"]
        ),
        Some(5)
    );
    assert_eq!(
        get(
            names::GLOBAL_COUNT_TRACES_SAMPLED,
            &["sampled=true", "decision=sampled"]
        ),
        Some(1)
    );
    assert_eq!(
        get(
            names::GLOBAL_COUNT_TRACES_SAMPLED,
            &["sampled=false", "decision=not_sampled"]
        ),
        Some(5)
    );
    // num_traces is 3: three traces left the buffer early.
    assert_eq!(get(names::TRACE_DROPPED_TOO_EARLY, &[]), Some(3));
    assert_eq!(
        get(names::EARLY_RELEASES_FROM_CACHE_DECISION, &["sampled=true"]),
        Some(1)
    );
    assert_eq!(get(names::TRACES_ON_MEMORY, &[]), Some(0));
    assert_eq!(get(names::TRACE_REMOVAL_AGE, &[]), Some(6));
    assert!(get(names::LATE_SPAN_AGE, &[]).is_some());
    assert_eq!(
        get(names::TRACES_DECIDED_EARLY, &["reason=num_traces"]),
        Some(3)
    );
    p.shutdown()?;
    Ok(())
}
