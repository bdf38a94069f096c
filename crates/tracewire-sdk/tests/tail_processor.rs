//! The processor's behaviour: when traces are decided, late spans, record-only spans, memory
//! limits, huge traces, force_flush and shutdown.

mod tail_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::trace::{
    Span as _, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SpanData, SpanExporter, SpanProcessor,
};
use tail_support::{KeepingExporter, S};
use tracewire_sdk::tail::{
    OverflowAction, PolicyConfig, SpanStatusCode, TailSamplingConfig, TailSamplingProcessor,
    recording_head_sampler,
};

fn errors_only() -> TailSamplingConfig {
    TailSamplingConfig {
        policies: vec![PolicyConfig::status_code("errors", [SpanStatusCode::Error])],
        ..TailSamplingConfig::default()
    }
}

/// Waits for a condition that the processor's threads make true; fails after 20 s.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn exported_traces(exporter: &InMemorySpanExporter) -> Vec<u128> {
    let mut ids: Vec<u128> = exporter
        .get_finished_spans()
        .unwrap_or_default()
        .iter()
        .map(|s| u128::from_be_bytes(s.span_context.trace_id().to_bytes()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn count(exporter: &InMemorySpanExporter) -> usize {
    exporter.get_finished_spans().map_or(0, |s| s.len())
}

#[test]
fn traces_are_decided_after_decision_wait() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig {
        decision_wait: Duration::from_millis(200),
        ..errors_only()
    };
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    p.on_end(S::new(1, 1).parent(9).error().build());
    p.on_end(S::new(2, 1).parent(9).build());
    eventually("the error trace", || count(&exporter) == 1);
    assert_eq!(exported_traces(&exporter), vec![1]);
    p.shutdown()?;
    Ok(())
}

#[test]
fn nothing_is_exported_before_decision_wait() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig {
        decision_wait: Duration::from_secs(120),
        ..errors_only()
    };
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    p.on_end(S::new(1, 1).parent(9).error().build());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&exporter), 0, "still waiting for its decision");
    p.force_flush()?;
    assert_eq!(p.stats().traces_in_memory, 0);
    assert_eq!(count(&exporter), 1, "force_flush decides buffered traces");
    p.shutdown()?;
    Ok(())
}

#[test]
fn the_local_root_ending_brings_the_decision_forward() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig {
        decision_wait: Duration::from_secs(120),
        decision_wait_after_root_received: Duration::from_millis(100),
        ..errors_only()
    };
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    // A trace whose root is local (no parent) and one whose entry span has a remote parent.
    p.on_end(S::new(1, 2).parent(1).error().build());
    p.on_end(S::new(1, 1).build());
    p.on_end(S::new(2, 2).parent(1).error().build());
    p.on_end(S::new(2, 1).remote_parent(77).build());
    // A trace whose root has not ended waits for decision_wait.
    p.on_end(S::new(3, 2).parent(1).error().build());
    eventually("both rooted traces", || {
        exported_traces(&exporter) == vec![1, 2]
    });
    assert_eq!(count(&exporter), 4);
    eventually("trace 3 alone in memory", || {
        p.stats().traces_in_memory == 1
    });
    assert_eq!(
        exported_traces(&exporter),
        vec![1, 2],
        "trace 3 waits for decision_wait"
    );
    p.shutdown()?;
    Ok(())
}

#[test]
fn without_decision_caches_late_spans_still_follow_the_decision() -> anyhow::Result<()> {
    // With `sampled_cache_size: 0` (the Collector's default) a decided trace stays in the
    // Collector's map with its decision until `num_traces` newer traces push it out: its late
    // spans follow the decision, they do not start a trace of their own.
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig::from_yaml_str(
        "num_traces: 2\ndecision_cache: {sampled_cache_size: 0, non_sampled_cache_size: 0}\npolicies: [{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}]",
    )?;
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    p.on_end(S::new(1, 1).parent(9).error().build());
    p.on_end(S::new(2, 1).parent(9).build());
    p.force_flush()?;
    assert_eq!(exported_traces(&exporter), vec![1]);
    p.on_end(S::new(1, 2).parent(9).build());
    p.on_end(S::new(2, 2).parent(9).error().build());
    p.force_flush()?;
    assert_eq!(
        exported_traces(&exporter),
        vec![1],
        "the late error span of the unsampled trace is not exported"
    );
    assert_eq!(count(&exporter), 2, "the sampled trace's late span is");
    // Two newer sampled traces push it out, as `num_traces: 2` does in the Collector.
    p.on_end(S::new(3, 1).parent(9).error().build());
    p.on_end(S::new(4, 1).parent(9).error().build());
    p.force_flush()?;
    assert_eq!(count(&exporter), 4);
    p.on_end(S::new(1, 3).parent(9).build());
    p.force_flush()?;
    assert_eq!(count(&exporter), 4, "forgotten: a new trace, without error");
    p.shutdown()?;
    Ok(())
}

#[test]
fn late_spans_follow_the_decision() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig {
        decision_wait: Duration::from_secs(120),
        ..errors_only()
    };
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    p.on_end(S::new(1, 1).parent(9).error().build());
    p.on_end(S::new(2, 1).parent(9).build());
    p.force_flush()?;
    assert_eq!(count(&exporter), 1);
    // Late spans of both traces, after their decisions.
    p.on_end(S::new(1, 2).parent(9).build());
    p.on_end(S::new(1, 3).parent(9).build());
    p.on_end(S::new(2, 2).parent(9).error().build());
    p.force_flush()?;
    let spans = exporter.get_finished_spans()?;
    assert_eq!(
        spans.len(),
        3,
        "the sampled trace's late spans are exported"
    );
    assert!(
        spans
            .iter()
            .all(|s| s.span_context.trace_id() == S::new(1, 1).build().span_context.trace_id())
    );
    let stats = p.stats();
    assert_eq!(stats.late_spans_sampled, 2);
    assert_eq!(
        stats.late_spans_not_sampled, 1,
        "the late error span of the unsampled trace follows the decision"
    );
    assert_eq!(stats.traces_in_memory, 0);
    p.shutdown()?;
    Ok(())
}

#[test]
fn record_only_spans_are_sampled_by_the_tail() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(recording_head_sampler())
        .with_span_processor(TailSamplingProcessor::new(exporter.clone(), errors_only())?)
        .build();
    let tracer = provider.tracer("test");
    tracer.in_span("checkout", |cx| {
        assert!(cx.span().is_recording());
        assert!(
            !cx.span().span_context().is_sampled(),
            "the head only records"
        );
        tracer.in_span("charge", |cx| {
            assert!(
                cx.span().is_recording(),
                "children of a record-only span record too"
            );
            cx.span().set_status(Status::error("declined"));
        });
    });
    tracer.in_span("browse", |_| {});
    provider.force_flush()?;
    let spans = exporter.get_finished_spans()?;
    let mut names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["charge", "checkout"]);
    assert!(
        spans.iter().all(|s| s.span_context.is_sampled()),
        "exported spans are flagged sampled"
    );
    provider.shutdown()?;
    Ok(())
}

#[test]
fn shutdown_decides_and_exports_within_its_timeout() -> anyhow::Result<()> {
    let exporter = KeepingExporter::default();
    let p = TailSamplingProcessor::new(exporter.clone(), errors_only())?;
    for t in 1..=50u128 {
        p.on_end(S::new(t, 1).parent(9).error().build());
    }
    p.shutdown_with_timeout(Duration::from_secs(10))?;
    assert_eq!(exporter.len(), 50);
    // Spans after shutdown are counted, not kept.
    p.on_end(S::new(99, 1).error().build());
    assert_eq!(p.stats().spans_dropped_after_shutdown, 1);
    assert!(p.shutdown().is_err(), "a second shutdown is refused");
    Ok(())
}

#[test]
fn pending_traces_can_be_dropped_on_shutdown() -> anyhow::Result<()> {
    let exporter = KeepingExporter::default();
    let config = TailSamplingConfig {
        drop_pending_traces_on_shutdown: true,
        ..errors_only()
    };
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    p.on_end(S::new(1, 1).error().build());
    p.force_flush()?;
    p.on_end(S::new(2, 1).error().build());
    p.shutdown()?;
    assert_eq!(exporter.trace_ids(), vec![1]);
    assert_eq!(p.stats().traces_discarded_undecided, 1);
    Ok(())
}

/// An exporter that blocks every export until released.
#[derive(Debug, Clone, Default)]
struct StuckExporter {
    gate: Arc<Mutex<()>>,
}

impl SpanExporter for StuckExporter {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        let _held = self.gate.lock();
        Ok(())
    }
}

#[test]
fn a_hanging_exporter_blocks_neither_span_ends_nor_shutdown_past_its_timeout() -> anyhow::Result<()>
{
    let exporter = StuckExporter::default();
    let hold = exporter.gate.lock();
    let config = TailSamplingConfig {
        policies: vec![PolicyConfig::always_sample("all")],
        num_traces: 1000,
        ..TailSamplingConfig::default()
    };
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    // Decisions go on while the exporter hangs (num_traces decides the oldest traces early):
    // the export queue overflows, and that is counted.
    let mut t = 0u128;
    eventually("sampled spans dropped before export", || {
        for _ in 0..1000 {
            t += 1;
            p.on_end(S::new(t, 1).build());
        }
        p.stats().spans_dropped_export_queue_full > 0
    });
    let stats = p.stats();
    assert!(stats.peak_traces_in_memory <= 1000, "{stats:?}");
    assert!(
        p.shutdown_with_timeout(Duration::from_millis(300)).is_err(),
        "the exporter never finishes: shutdown reports a timeout"
    );
    drop(hold);
    Ok(())
}

#[test]
fn a_flush_stuck_behind_a_hanging_exporter_does_not_stop_decisions() -> anyhow::Result<()> {
    let exporter = StuckExporter::default();
    let hold = exporter.gate.lock();
    let config = TailSamplingConfig {
        policies: vec![PolicyConfig::always_sample("all")],
        num_traces: 10,
        ..TailSamplingConfig::default()
    };
    let p = TailSamplingProcessor::builder(exporter.clone(), config)
        .with_flush_timeout(Duration::from_millis(200))
        .build()?;
    // Fill the export queue behind the hanging export.
    let mut t = 0u128;
    eventually("a full export queue", || {
        for _ in 0..100 {
            t += 1;
            p.on_end(S::new(t, 1).build());
        }
        p.stats().spans_dropped_export_queue_full > 0
    });
    assert!(p.force_flush().is_err(), "the exporter never flushes");
    // The worker gave up on that flush when its time was up, and goes on deciding.
    let seen = p.stats().new_traces;
    eventually("new traces taken in after the flush", || {
        for _ in 0..20 {
            t += 1;
            p.on_end(S::new(t, 1).build());
        }
        p.stats().new_traces > seen
    });
    assert!(p.shutdown_with_timeout(Duration::from_millis(200)).is_err());
    drop(hold);
    Ok(())
}

#[test]
fn num_traces_evicts_the_oldest_trace_early_and_counts_it() -> anyhow::Result<()> {
    for (overflow, kept) in [
        (OverflowAction::DecideEarly, 30),
        (OverflowAction::Drop, 10),
    ] {
        let exporter = InMemorySpanExporter::default();
        let config = TailSamplingConfig {
            num_traces: 10,
            decision_cache: tracewire_sdk::tail::DecisionCacheConfig::default(),
            ..errors_only()
        };
        let p = TailSamplingProcessor::builder(exporter.clone(), config)
            .with_overflow(overflow)
            .build()?;
        for t in 1..=30u128 {
            p.on_end(S::new(t, 1).parent(9).error().build());
        }
        p.force_flush()?;
        let stats = p.stats();
        assert_eq!(stats.traces_evicted, 20, "{overflow:?}: {stats:?}");
        assert_eq!(stats.peak_traces_in_memory, 10, "{overflow:?}");
        assert_eq!(exported_traces(&exporter).len(), kept, "{overflow:?}");
        p.shutdown()?;
    }
    Ok(())
}

#[test]
fn a_huge_trace_cannot_starve_the_others() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let budget = 1 << 20;
    let p = TailSamplingProcessor::builder(exporter.clone(), errors_only())
        .with_max_buffered_bytes(budget)
        .build()?;
    // 100 small error traces, interleaved with a trace of 4000 spans of 1 KiB (4 MiB).
    let mut small = 1u128..=100;
    for i in 0..4000u64 {
        p.on_end(
            S::new(1_000_000, i + 1)
                .parent(9)
                .big_attribute(1024)
                .build(),
        );
        if i.is_multiple_of(40)
            && let Some(t) = small.next()
        {
            p.on_end(S::new(t, 1).parent(9).error().build());
        }
        if i % 1000 == 999 {
            // Let the worker keep up with this thread.
            p.force_flush()?;
        }
    }
    p.force_flush()?;
    let stats = p.stats();
    assert!(stats.traces_decided_for_size >= 1, "{stats:?}");
    assert_eq!(
        stats.traces_evicted, 0,
        "no small trace was pushed out: {stats:?}"
    );
    assert!(stats.peak_bytes_in_memory <= budget, "{stats:?}");
    let traces = exported_traces(&exporter);
    assert_eq!(traces.len(), 100, "every small error trace is kept");
    assert!(!traces.contains(&1_000_000), "the huge trace has no error");
    p.shutdown()?;
    Ok(())
}

#[test]
fn maximum_trace_size_bytes_drops_the_trace_as_the_collector_does() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig {
        maximum_trace_size_bytes: 8 * 1024,
        ..errors_only()
    };
    let p = TailSamplingProcessor::new(exporter.clone(), config)?;
    for i in 1..=20u64 {
        p.on_end(S::new(1, i).parent(9).error().big_attribute(1024).build());
    }
    p.on_end(S::new(2, 1).parent(9).error().build());
    p.force_flush()?;
    assert_eq!(exported_traces(&exporter), vec![2]);
    let stats = p.stats();
    assert_eq!(stats.traces_dropped_too_large, 1);
    assert!(
        stats.late_spans_not_sampled > 0,
        "its later spans follow the decision"
    );
    p.shutdown()?;
    Ok(())
}

#[test]
fn resource_attributes_reach_the_policies() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig::from_yaml_str(
        "policies: [{name: svc, type: string_attribute, string_attribute: {key: service.name, values: [payments]}}]",
    )?;
    let provider = SdkTracerProvider::builder()
        .with_resource(
            opentelemetry_sdk::Resource::builder_empty()
                .with_attribute(KeyValue::new("service.name", "payments"))
                .build(),
        )
        .with_span_processor(TailSamplingProcessor::new(exporter.clone(), config)?)
        .build();
    provider.tracer("t").start("op").end();
    provider.force_flush()?;
    assert_eq!(count(&exporter), 1);
    provider.shutdown()?;
    Ok(())
}

#[test]
fn a_time_limit_too_long_for_the_clock_is_no_panic() -> anyhow::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let p = TailSamplingProcessor::builder(exporter.clone(), errors_only())
        .with_flush_timeout(Duration::MAX)
        .build()?;
    p.on_end(S::new(1, 1).error().build());
    p.force_flush()?;
    assert_eq!(count(&exporter), 1);
    p.shutdown_with_timeout(Duration::MAX)?;
    Ok(())
}
