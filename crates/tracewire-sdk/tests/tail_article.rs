//! The article's config in a service: every error trace kept, at least half of the slow ones
//! (latency 50% and the 5% baseline combine), 5% of the rest, each exactly as the hashes say.

mod tail_support;

use std::time::{Duration, SystemTime};

use opentelemetry::Context;
use opentelemetry::trace::{
    Span as _, Status, TraceContextExt as _, TraceId, Tracer as _, TracerProvider as _,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracewire_sdk::tail::{
    DEFAULT_HASH_SALT, SAMPLING_PERCENTAGE_SALT, TailSamplingConfig, TailSamplingProcessor,
    hash_trace_id, recording_head_sampler, threshold_for_ratio,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Error,
    Slow,
    Normal,
}

#[test]
fn the_articles_config_keeps_errors_half_the_slow_traces_and_5_percent_of_the_rest()
-> anyhow::Result<()> {
    let config = TailSamplingConfig::from_yaml_str(tail_support::ARTICLE_YAML)?;
    let exporter = InMemorySpanExporter::default();
    let kinds: Vec<Kind> = (0..8_200)
        .map(|i| match i % 41 {
            0 => Kind::Error,
            1..=10 => Kind::Slow,
            _ => Kind::Normal,
        })
        .collect();
    let ids: Vec<u128> = tail_support::trace_ids(2024).take(kinds.len()).collect();
    let provider = SdkTracerProvider::builder()
        .with_sampler(recording_head_sampler())
        .with_id_generator(tail_support::FixedIds::new(ids.clone()))
        .with_span_processor(TailSamplingProcessor::new(exporter.clone(), config)?)
        .build();
    let tracer = provider.tracer("checkout");
    let t0 = SystemTime::now();
    for (i, kind) in kinds.iter().enumerate() {
        // A request span with one child; slow requests last 700 ms, the others 20 ms.
        let root = tracer
            .span_builder("POST /checkout")
            .with_start_time(t0)
            .start(&tracer);
        let cx = Context::current_with_span(root);
        {
            let mut child = tracer
                .span_builder("charge card")
                .with_start_time(t0)
                .start_with_context(&tracer, &cx);
            if *kind == Kind::Error {
                child.set_status(Status::error("card declined"));
            }
            child.end_with_timestamp(t0 + Duration::from_millis(10));
        }
        let took = if *kind == Kind::Slow { 700 } else { 20 };
        cx.span()
            .end_with_timestamp(t0 + Duration::from_millis(took));
        if i % 1000 == 999 {
            provider.force_flush()?;
        }
    }
    provider.force_flush()?;

    let mut exported: Vec<u128> = exporter
        .get_finished_spans()?
        .iter()
        .map(|s| u128::from_be_bytes(s.span_context.trace_id().to_bytes()))
        .collect();
    exported.sort_unstable();
    exported.dedup();

    let (t50, t5) = (threshold_for_ratio(0.5), threshold_for_ratio(0.05));
    let mut want = Vec::new();
    let mut totals = [0usize; 3];
    let mut kept = [0usize; 3];
    for (id, kind) in ids.iter().zip(&kinds) {
        let tid = TraceId::from(*id);
        let baseline = hash_trace_id(DEFAULT_HASH_SALT, tid) <= t5;
        let keep = match kind {
            Kind::Error => true,
            Kind::Slow => hash_trace_id(SAMPLING_PERCENTAGE_SALT, tid) <= t50 || baseline,
            Kind::Normal => baseline,
        };
        let k = *kind as usize;
        totals[k] += 1;
        if keep {
            want.push(*id);
            kept[k] += 1;
        }
    }
    want.sort_unstable();
    assert_eq!(exported, want, "exactly the traces the hashes select");
    assert_eq!(kept[0], totals[0], "every error trace");
    assert!(
        2 * kept[1] >= totals[1],
        "at least half of the slow traces: {kept:?} of {totals:?}"
    );
    let normal_share = kept[2] as f64 / totals[2] as f64;
    assert!(
        (0.04..=0.06).contains(&normal_share),
        "about 5% of the rest: {normal_share}"
    );
    println!(
        "article config: errors {}/{}, slow {}/{} ({:.1}%), rest {}/{} ({:.2}%)",
        kept[0],
        totals[0],
        kept[1],
        totals[1],
        100.0 * kept[1] as f64 / totals[1] as f64,
        kept[2],
        totals[2],
        100.0 * normal_share
    );
    provider.shutdown()?;
    Ok(())
}
