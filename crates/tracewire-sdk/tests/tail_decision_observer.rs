//! The decision observer: every decided trace is reported once, with its decision, the policy
//! that made it and its span count.

mod tail_support;

use std::sync::{Arc, Mutex};

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanProcessor as _};
use tail_support::S;
use tracewire_sdk::tail::{
    Decision, DecisionObserver, Policy, PolicyConfig, SpanStatusCode, TailSamplingConfig,
    TailSamplingProcessor,
};

type Seen = Arc<Mutex<Vec<(TraceId, Decision, Option<String>, usize)>>>;

fn observer() -> (DecisionObserver, Seen) {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    let observer: DecisionObserver = Arc::new(move |d| {
        sink.lock().expect("lock").push((
            d.trace_id,
            d.decision,
            d.policy.map(str::to_owned),
            d.spans,
        ));
    });
    (observer, seen)
}

fn sorted(seen: &Seen) -> Vec<(TraceId, Decision, Option<String>, usize)> {
    let mut v = seen.lock().expect("lock").clone();
    v.sort_by_key(|(id, ..)| u128::from_be_bytes(id.to_bytes()));
    v
}

#[test]
fn each_decision_is_reported_with_its_policy() -> anyhow::Result<()> {
    let config = TailSamplingConfig {
        policies: vec![
            PolicyConfig::status_code("errors", [SpanStatusCode::Error]),
            PolicyConfig::new(
                "drop-health",
                Policy::Drop(vec![PolicyConfig::string_attribute(
                    "health",
                    "http.route",
                    ["/health"],
                )]),
            ),
        ],
        ..TailSamplingConfig::default()
    };
    let (obs, seen) = observer();
    let exporter = InMemorySpanExporter::default();
    let p = TailSamplingProcessor::builder(exporter.clone(), config)
        .with_decision_observer(obs)
        .build()?;
    // Trace 1: an error among two spans. Trace 2: nothing to keep. Trace 3: a health check
    // with an error, which the drop policy drops anyway.
    p.on_end(S::new(1, 1).parent(9).error().build());
    p.on_end(S::new(1, 9).build());
    p.on_end(S::new(2, 2).build());
    p.on_end(
        S::new(3, 3)
            .error()
            .attr(opentelemetry::KeyValue::new("http.route", "/health"))
            .build(),
    );
    p.force_flush()?;
    assert_eq!(
        sorted(&seen),
        [
            (
                TraceId::from(1),
                Decision::Sampled,
                Some("errors".to_owned()),
                2
            ),
            (TraceId::from(2), Decision::NotSampled, None, 1),
            (
                TraceId::from(3),
                Decision::Dropped,
                Some("drop-health".to_owned()),
                1
            ),
        ]
    );
    // Late spans follow the decisions without new reports.
    p.on_end(S::new(1, 5).parent(9).build());
    p.force_flush()?;
    assert_eq!(seen.lock().expect("lock").len(), 3);
    assert_eq!(exporter.get_finished_spans()?.len(), 3);
    p.shutdown()?;
    Ok(())
}

#[test]
fn traces_over_the_size_limit_are_reported_not_sampled() -> anyhow::Result<()> {
    let config = TailSamplingConfig {
        maximum_trace_size_bytes: 2_000,
        policies: vec![PolicyConfig::always_sample("all")],
        ..TailSamplingConfig::default()
    };
    let (obs, seen) = observer();
    let p = TailSamplingProcessor::builder(InMemorySpanExporter::default(), config)
        .with_decision_observer(obs)
        .build()?;
    p.on_end(S::new(7, 1).big_attribute(4_000).build());
    p.on_end(S::new(8, 1).build());
    p.force_flush()?;
    assert_eq!(
        sorted(&seen),
        [
            (TraceId::from(7), Decision::NotSampled, None, 1),
            (
                TraceId::from(8),
                Decision::Sampled,
                Some("all".to_owned()),
                1
            ),
        ]
    );
    p.shutdown()?;
    Ok(())
}
