//! Overload: ten times `expected_new_traces_per_sec` for three seconds. Memory stays within the
//! configured caps (the processor's accounting and the process's resident memory, from
//! `/proc/self/statm`), and ending a span keeps returning at once (latencies are printed, not
//! asserted: timings are not a test on a shared machine).

mod tail_support;

use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Status, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue, trace::TraceContextExt as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tail_support::KeepingExporter;
use tracewire_sdk::tail::{TailSamplingConfig, TailSamplingProcessor, recording_head_sampler};

const EXPECTED_PER_SEC: u64 = 1_000;
const NUM_TRACES: u64 = 2_000;
const BUDGET: u64 = 4 << 20;
const SPANS_PER_TRACE: usize = 5;

/// Resident memory in bytes, from `/proc/self/statm` (pages of 4 KiB, as on x86_64 and
/// aarch64 Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn ten_times_the_expected_rate_stays_within_the_caps() -> anyhow::Result<()> {
    let config = TailSamplingConfig::from_yaml_str(&format!(
        r#"
decision_wait: 30s
num_traces: {NUM_TRACES}
expected_new_traces_per_sec: {EXPECTED_PER_SEC}
policies:
  - {{name: errors, type: status_code, status_code: {{status_codes: [ERROR]}}}}
  - {{name: slow, type: latency, latency: {{threshold_ms: 500}}}}
  - {{name: baseline, type: probabilistic, probabilistic: {{sampling_percentage: 5}}}}
"#
    ))?;
    let exporter = KeepingExporter::default();
    let processor = TailSamplingProcessor::builder(exporter.clone(), config)
        .with_max_buffered_bytes(BUDGET)
        .build()?;
    let stats = processor.stats_handle();
    let provider = SdkTracerProvider::builder()
        .with_sampler(recording_head_sampler())
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("overload");

    let rss_before = resident_bytes();
    let mut rss_peak = rss_before.unwrap_or(0);
    let rate = 10 * EXPECTED_PER_SEC;
    let run_for = Duration::from_secs(3);
    let start = Instant::now();
    let mut traces = 0u64;
    let mut end_latencies: Vec<Duration> = Vec::new();
    while start.elapsed() < run_for {
        // Pace to `rate` traces per second, in 10 ms steps.
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while traces < due {
            traces += 1;
            let root = tracer.start("GET /items");
            let cx = Context::current_with_span(root);
            for i in 1..SPANS_PER_TRACE {
                let mut child = tracer.start_with_context("db query", &cx);
                child.set_attribute(KeyValue::new(
                    "db.statement",
                    "SELECT * FROM items WHERE id = ?",
                ));
                if traces.is_multiple_of(50) && i == 1 {
                    child.set_status(Status::error("timeout"));
                }
                let t = Instant::now();
                child.end();
                end_latencies.push(t.elapsed());
            }
            let t = Instant::now();
            cx.span().end();
            end_latencies.push(t.elapsed());
        }
        if let Some(rss) = resident_bytes() {
            rss_peak = rss_peak.max(rss);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // The accounting as the load ends, before force_flush empties the buffer.
    std::thread::sleep(Duration::from_millis(200));
    let s = stats.stats();
    provider.force_flush()?;
    println!(
        "overload: processor peak {} traces (num_traces {NUM_TRACES}), peak {:.2} MiB buffered (budget {:.1} MiB), {} traces evicted early, {} spans dropped at the queue",
        s.peak_traces_in_memory,
        s.peak_bytes_in_memory as f64 / 1048576.0,
        BUDGET as f64 / 1048576.0,
        s.traces_evicted,
        s.spans_dropped_queue_full
    );
    assert!(s.peak_traces_in_memory <= NUM_TRACES, "{s:?}");
    assert!(s.peak_bytes_in_memory <= BUDGET, "{s:?}");
    assert!(s.traces_evicted > 0, "the caps were reached: {s:?}");
    if s.new_traces > 0 {
        println!(
            "overload: {:.0} bytes retained per buffered span at the end of the load",
            s.bytes_in_memory as f64 / s.spans_in_memory.max(1) as f64
        );
    }
    end_latencies.sort_unstable();
    let pct = |p: f64| end_latencies[((end_latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "overload: {traces} traces ({} per s, 10x expected) in {:?}; span.end() p50 {:?} p99 {:?} p99.9 {:?} max {:?}",
        rate,
        start.elapsed(),
        pct(0.5),
        pct(0.99),
        pct(0.999),
        end_latencies.last().copied().unwrap_or_default()
    );
    if let Some(before) = rss_before {
        println!(
            "overload: resident memory before {:.1} MiB, peak {:.1} MiB (growth {:.1} MiB; byte budget {:.1} MiB)",
            before as f64 / 1048576.0,
            rss_peak as f64 / 1048576.0,
            rss_peak.saturating_sub(before) as f64 / 1048576.0,
            BUDGET as f64 / 1048576.0
        );
        // Budget for buffered spans, the span queue (4096 spans), the export queue and the
        // decision caches, with room for the allocator: well under 4 × the byte budget + 32 MiB.
        assert!(
            rss_peak.saturating_sub(before) < 4 * BUDGET + (32 << 20),
            "resident memory grew by {} bytes",
            rss_peak - before
        );
    }
    provider.shutdown()?;
    assert!(exporter.len() > 0);
    Ok(())
}
