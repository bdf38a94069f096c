//! Tail sampling in tracewire's setup: `TracewireBuilder::with_tail_sampling`.

use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracewire_sdk::tail::{PolicyConfig, TailSamplingConfig};
use tracewire_sdk::{Guard, Tracewire};

const ENV: [(&str, &str); 3] = [
    ("OTEL_SERVICE_NAME", "checkout"),
    ("OTEL_METRICS_EXPORTER", "none"),
    ("OTEL_LOGS_EXPORTER", "none"),
];

/// Keeps the traces with an error.
const ERRORS: &str =
    "policies: [{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}]";

/// A trace with a failed child (`POST /checkout` > `charge card`), then one without
/// (`GET /items`).
fn checkout_and_items(guard: &Guard) {
    let tracer = guard.tracer("shop");
    tracer.in_span("POST /checkout", |_| {
        tracer.in_span("charge card", |cx| {
            cx.span().set_status(Status::error("declined"))
        });
    });
    tracer.in_span("GET /items", |_| {});
}

fn names(spans: &InMemorySpanExporter) -> Vec<String> {
    let mut n: Vec<String> = spans
        .get_finished_spans()
        .unwrap_or_default()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    n.sort_unstable();
    n
}

#[test]
fn with_tail_sampling_keeps_what_the_policies_keep() -> anyhow::Result<()> {
    let spans = InMemorySpanExporter::default();
    let guard = Tracewire::builder()
        .with_env(ENV)
        .with_span_exporter(spans.clone())
        .with_tail_sampling(TailSamplingConfig::from_yaml_str(ERRORS)?)
        .build()?;
    checkout_and_items(&guard);
    guard.force_flush()?;
    assert_eq!(names(&spans), vec!["POST /checkout", "charge card"]);
    guard.shutdown()?;
    Ok(())
}

#[test]
fn an_invalid_config_falls_back_to_exporting_everything() -> anyhow::Result<()> {
    let spans = InMemorySpanExporter::default();
    let invalid = TailSamplingConfig {
        policies: vec![
            PolicyConfig::always_sample("a"),
            PolicyConfig::always_sample("a"),
        ],
        ..TailSamplingConfig::default()
    };
    assert!(invalid.validate().is_err());
    let guard = Tracewire::builder()
        .with_env(ENV)
        .with_span_exporter(spans.clone())
        .with_tail_sampling(invalid)
        .build()?;
    guard.tracer("shop").in_span("GET /items", |_| {});
    guard.force_flush()?;
    assert_eq!(names(&spans), vec!["GET /items"]);
    guard.shutdown()?;
    Ok(())
}

#[test]
fn with_tail_sampling_observed_reports_each_decision_and_its_policy() -> anyhow::Result<()> {
    use std::sync::{Arc, Mutex};
    use tracewire_sdk::tail::Decision;

    let spans = InMemorySpanExporter::default();
    type Seen = Vec<(Decision, Option<String>, usize)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let sink = Arc::clone(&seen);
    let guard = Tracewire::builder()
        .with_env(ENV)
        .with_span_exporter(spans.clone())
        .with_tail_sampling_observed(
            TailSamplingConfig::from_yaml_str(ERRORS)?,
            Arc::new(move |d| {
                if let Ok(mut v) = sink.lock() {
                    v.push((d.decision, d.policy.map(str::to_owned), d.spans));
                }
            }),
        )
        .build()?;
    checkout_and_items(&guard);
    guard.force_flush()?;
    let mut seen = seen.lock().map(|v| v.clone()).unwrap_or_default();
    seen.sort_by_key(|(_, _, n)| *n);
    assert_eq!(
        seen,
        vec![
            (Decision::NotSampled, None, 1),
            (Decision::Sampled, Some("errors".to_owned()), 2),
        ]
    );
    assert_eq!(names(&spans), vec!["POST /checkout", "charge card"]);
    guard.shutdown()?;
    Ok(())
}

#[test]
fn with_tail_sampling_counts_exports_in_the_guards_diagnostics() -> anyhow::Result<()> {
    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};

    /// An exporter whose every export fails, as one to an endpoint that refuses.
    #[derive(Debug)]
    struct Refusing;
    impl SpanExporter for Refusing {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            Err(OTelSdkError::InternalFailure("refused".into()))
        }
    }

    let keep_all =
        || TailSamplingConfig::from_yaml_str("policies: [{name: all, type: always_sample}]");
    let spans = InMemorySpanExporter::default();
    let healthy = Tracewire::builder()
        .with_env(ENV)
        .with_span_exporter(spans.clone())
        .with_tail_sampling(keep_all()?)
        .build()?;
    healthy.tracer("shop").in_span("GET /items", |_| {});
    healthy.force_flush()?;
    assert_eq!(healthy.diagnostics().exported_spans(), 1);
    assert_eq!(healthy.diagnostics().failed_spans(), 0);
    healthy.shutdown()?;

    let refused = Tracewire::builder()
        .with_env(ENV)
        .with_span_exporter(Refusing)
        .with_tail_sampling(keep_all()?)
        .build()?;
    let tracer = refused.tracer("shop");
    tracer.in_span("GET /items", |_| {});
    tracer.in_span("GET /orders", |_| {});
    // The flush reports the exporter's own flush; the failed export is in the counters.
    let _ = refused.force_flush();
    assert_eq!(refused.diagnostics().failed_spans(), 2);
    assert_eq!(refused.diagnostics().failed_exports(), 1);
    assert_eq!(refused.diagnostics().exported_spans(), 0);
    let _ = refused.shutdown();
    Ok(())
}
