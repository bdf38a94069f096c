//! The 5% probabilistic policy over 100 000 synthetic trace ids keeps exactly the traces the
//! Collector's hash keeps (FNV-1a 64 over the default salt then the id, compared with
//! `MaxUint64 × 0.05`), about 5% of them.

mod tail_support;

use opentelemetry::trace::{TraceId, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracewire_sdk::tail::{
    PolicyConfig, PolicySet, TailSamplingConfig, TailSamplingProcessor, threshold_for_ratio,
};

const N: usize = 100_000;

/// A reference FNV-1a 64, written here independently of the crate's.
fn reference_fnv1a64(chunks: &[&[u8]]) -> u64 {
    let mut h: u64 = 14_695_981_039_346_656_037;
    for chunk in chunks {
        for &b in *chunk {
            h ^= u64::from(b);
            h = h.wrapping_mul(1_099_511_628_211);
        }
    }
    h
}

/// `floor((2^64 - 1) × r)` for the f64 `r`, from its exact binary value.
fn reference_threshold(r: f64) -> u64 {
    let bits = r.to_bits();
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1075;
    assert!(exponent < 0 && exponent > -128);
    ((u128::from(u64::MAX) * u128::from(mantissa)) >> (-exponent)) as u64
}

#[test]
fn the_reference_fnv_matches_the_published_vectors() {
    assert_eq!(reference_fnv1a64(&[b""]), 0xcbf29ce484222325);
    assert_eq!(reference_fnv1a64(&[b"a"]), 0xaf63dc4c8601ec8c);
    assert_eq!(reference_fnv1a64(&[b"foo", b"bar"]), 0x85944171f73967e8);
    assert_eq!(tracewire_sdk::tail::fnv1a64(b"foobar"), 0x85944171f73967e8);
}

fn expected_kept(ids: &[u128]) -> Vec<bool> {
    let threshold = reference_threshold(0.05);
    // The crate rounds as Go's big.Float: at most one unit away from the exact floor.
    assert!(threshold.abs_diff(threshold_for_ratio(0.05)) <= 1);
    ids.iter()
        .map(|id| {
            let h = reference_fnv1a64(&[b"default-hash-seed", &id.to_be_bytes()]);
            h <= threshold
        })
        .collect()
}

#[test]
fn five_percent_of_100_000_traces_match_the_hash_exactly() {
    let ids: Vec<u128> = tail_support::trace_ids(0x5eed).take(N).collect();
    let want = expected_kept(&ids);
    let expected = want.iter().filter(|k| **k).count();

    let config = TailSamplingConfig {
        policies: vec![PolicyConfig::probabilistic("probabilistic", 5.0)],
        ..TailSamplingConfig::default()
    };
    let mut policies = PolicySet::new(&config).expect("valid");
    let mut kept = 0;
    for (id, want) in ids.iter().zip(&want) {
        let sampled = policies.decide(TraceId::from(*id), &[]).is_sampled();
        assert_eq!(sampled, *want, "trace {id:032x}");
        kept += usize::from(sampled);
    }
    assert_eq!(kept, expected);
    // 5% ± 0.3% of 100 000.
    assert!((4_700..=5_300).contains(&kept), "{kept} kept of {N}");
    println!(
        "probabilistic 5%: {kept} of {N} traces kept ({:.3}%)",
        kept as f64 / N as f64 * 100.0
    );
}

#[test]
fn the_processor_keeps_the_same_traces() -> anyhow::Result<()> {
    // 20 000 one-span traces through a real pipeline, flushed in chunks that fit the queue.
    let exporter = InMemorySpanExporter::default();
    let config = TailSamplingConfig {
        num_traces: 5_000,
        policies: vec![PolicyConfig::probabilistic("probabilistic", 5.0)],
        ..TailSamplingConfig::default()
    };
    let ids: Vec<u128> = tail_support::trace_ids(42).take(20_000).collect();
    let provider = SdkTracerProvider::builder()
        .with_id_generator(tail_support::FixedIds::new(ids.clone()))
        .with_span_processor(TailSamplingProcessor::new(exporter.clone(), config)?)
        .build();
    let tracer = provider.tracer("probabilistic");
    for chunk in ids.chunks(1000) {
        for _ in chunk {
            tracer.in_span("op", |_| {});
        }
        provider.force_flush()?;
    }
    let mut exported: Vec<u128> = exporter
        .get_finished_spans()?
        .iter()
        .map(|s| u128::from_be_bytes(s.span_context.trace_id().to_bytes()))
        .collect();
    exported.sort_unstable();
    let mut want: Vec<u128> = ids
        .iter()
        .zip(expected_kept(&ids))
        .filter(|(_, k)| *k)
        .map(|(id, _)| *id)
        .collect();
    want.sort_unstable();
    assert_eq!(exported, want);
    provider.shutdown()?;
    Ok(())
}
