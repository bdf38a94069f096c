//! Table-driven tests of the rule sampler, its YAML loader and the environment samplers.

use super::*;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, Tracer, TracerProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// A deterministic stream of trace ids (splitmix64).
fn ids(n: usize) -> impl Iterator<Item = TraceId> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..n).map(move |_| {
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let hi = next();
        let lo = next();
        TraceId::from_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
    })
}

const ALL_PICK: TraceId = TraceId::from_bytes([0; 16]);
const NONE_PICK: TraceId = TraceId::from_bytes([0xff; 16]);

fn article() -> RuleSampler {
    RuleSampler::builder()
        .rule(Rule::span_name_prefix("payment.").always())
        .rule(Rule::span_name("health-check").never())
        .default_ratio(0.1)
        .build()
}

fn decide(
    s: &RuleSampler,
    cx: Option<&Context>,
    id: TraceId,
    name: &str,
    kind: SpanKind,
    attrs: &[KeyValue],
) -> SamplingDecision {
    s.should_sample(cx, id, name, &kind, attrs, &[]).decision
}

#[test]
fn article_rules() {
    let s = article();
    let cases = [
        (
            "payment.charge",
            NONE_PICK,
            SamplingDecision::RecordAndSample,
        ),
        (
            "payment.refund",
            ALL_PICK,
            SamplingDecision::RecordAndSample,
        ),
        ("health-check", ALL_PICK, SamplingDecision::Drop),
        ("health-check-deep", NONE_PICK, SamplingDecision::Drop),
        (
            "health-check-deep",
            ALL_PICK,
            SamplingDecision::RecordAndSample,
        ),
        ("GET /orders", ALL_PICK, SamplingDecision::RecordAndSample),
        ("GET /orders", NONE_PICK, SamplingDecision::Drop),
        ("paymentx", NONE_PICK, SamplingDecision::Drop),
    ];
    for (name, id, want) in cases {
        assert_eq!(
            decide(&s, None, id, name, SpanKind::Internal, &[]),
            want,
            "{name}"
        );
    }
}

#[test]
fn ratio_matches_trace_id_ratio_based_exactly() {
    for ratio in [0.0, 0.001, 0.05, 0.1, 0.5, 0.999, 1.0] {
        let ours = RuleSampler::builder().default_ratio(ratio).build();
        let sdk = Sampler::TraceIdRatioBased(ratio);
        let mut picked = 0usize;
        for id in ids(20_000) {
            let a = decide(&ours, None, id, "x", SpanKind::Internal, &[]);
            let b = sdk
                .should_sample(None, id, "x", &SpanKind::Internal, &[], &[])
                .decision;
            assert_eq!(a, b, "ratio {ratio} id {id}");
            picked += usize::from(a == SamplingDecision::RecordAndSample);
        }
        let share = picked as f64 / 20_000.0;
        assert!((share - ratio).abs() < 0.02, "ratio {ratio}: share {share}");
    }
}

#[test]
fn ratios_are_clamped() {
    assert_eq!(Rule::any().ratio(7.0).decision(), Decision::Ratio(1.0));
    assert_eq!(Rule::any().ratio(-1.0).decision(), Decision::Ratio(0.0));
    assert_eq!(Rule::any().ratio(f64::NAN).decision(), Decision::Ratio(0.0));
}

#[test]
fn record_unsampled_and_record_only() {
    let s = RuleSampler::builder()
        .rule(Rule::span_name("audit").record_only())
        .default_ratio(0.5)
        .record_unsampled(true)
        .build();
    assert_eq!(
        decide(&s, None, NONE_PICK, "x", SpanKind::Internal, &[]),
        SamplingDecision::RecordOnly
    );
    assert_eq!(
        decide(&s, None, ALL_PICK, "x", SpanKind::Internal, &[]),
        SamplingDecision::RecordAndSample
    );
    assert_eq!(
        decide(&s, None, ALL_PICK, "audit", SpanKind::Internal, &[]),
        SamplingDecision::RecordOnly
    );
}

#[test]
fn attribute_and_kind_conditions() {
    let s = RuleSampler::builder()
        .rule(
            Rule::any()
                .with_kind(SpanKind::Server)
                .with_attribute_eq("http.route", "/healthz")
                .never(),
        )
        .rule(
            Rule::any()
                .with_attribute("url.path", Match::Prefix("/internal/".into()))
                .never(),
        )
        .rule(
            Rule::any()
                .with_kind(SpanKind::Consumer)
                .with_attribute(
                    "messaging.destination.name",
                    Match::Regex(Regex::new("^orders(-.*)?$").unwrap()),
                )
                .record_only(),
        )
        .rule(Rule::any().with_attribute("debug", Match::Present).always())
        .rule(
            Rule::any()
                .with_attribute_eq("http.response.status_code", "500")
                .always(),
        )
        .default_decision(Decision::Never)
        .build();
    let cases: Vec<(SpanKind, Vec<KeyValue>, SamplingDecision)> = vec![
        (
            SpanKind::Server,
            vec![KeyValue::new("http.route", "/healthz")],
            SamplingDecision::Drop,
        ),
        // Same route, other kind: falls through to the default.
        (
            SpanKind::Client,
            vec![KeyValue::new("http.route", "/healthz")],
            SamplingDecision::Drop,
        ),
        (
            SpanKind::Server,
            vec![KeyValue::new("url.path", "/internal/x")],
            SamplingDecision::Drop,
        ),
        (
            SpanKind::Consumer,
            vec![KeyValue::new("messaging.destination.name", "orders-eu")],
            SamplingDecision::RecordOnly,
        ),
        (
            SpanKind::Consumer,
            vec![KeyValue::new("messaging.destination.name", "payments")],
            SamplingDecision::Drop,
        ),
        (
            SpanKind::Producer,
            vec![KeyValue::new("messaging.destination.name", "orders")],
            SamplingDecision::Drop,
        ),
        (
            SpanKind::Internal,
            vec![KeyValue::new("debug", false)],
            SamplingDecision::RecordAndSample,
        ),
        (
            SpanKind::Internal,
            vec![KeyValue::new("http.response.status_code", 500)],
            SamplingDecision::RecordAndSample,
        ),
        (SpanKind::Internal, vec![], SamplingDecision::Drop),
    ];
    for (kind, attrs, want) in cases {
        assert_eq!(
            decide(&s, None, ALL_PICK, "span", kind.clone(), &attrs),
            want,
            "{kind:?} {attrs:?}"
        );
    }
}

fn remote(sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_bytes([0xff; 16]),
        SpanId::from_bytes([1; 8]),
        flags,
        true,
        TraceState::from_key_value([("vendor", "x")]).unwrap(),
    ))
}

#[test]
fn parent_based_inherits_by_default() {
    let s = article();
    // A sampled remote parent wins over the health-check rule; an unsampled one over payments.
    assert_eq!(
        decide(
            &s,
            Some(&remote(true)),
            NONE_PICK,
            "health-check",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::RecordAndSample
    );
    assert_eq!(
        decide(
            &s,
            Some(&remote(false)),
            ALL_PICK,
            "payment.charge",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::Drop
    );
    // The parent's trace state is kept.
    let r = s.should_sample(
        Some(&remote(true)),
        NONE_PICK,
        "x",
        &SpanKind::Server,
        &[],
        &[],
    );
    assert_eq!(r.trace_state.get("vendor"), Some("x"));
    // An empty context is a root.
    assert_eq!(
        decide(
            &s,
            Some(&Context::new()),
            NONE_PICK,
            "payment.x",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::RecordAndSample
    );
}

#[test]
fn local_record_only_parent_keeps_children_recording() {
    let head = RuleSampler::builder()
        .default_decision(Decision::RecordOnly)
        .build();
    let provider = SdkTracerProvider::builder()
        .with_sampler(head.clone())
        .build();
    let tracer = provider.tracer("t");
    let parent = tracer.start("root");
    assert!(opentelemetry::trace::Span::is_recording(&parent));
    let cx = Context::new().with_span(parent);
    assert_eq!(
        decide(&head, Some(&cx), ALL_PICK, "child", SpanKind::Internal, &[]),
        SamplingDecision::RecordOnly
    );
    // With `never` for unsampled local parents, children are dropped.
    let strict = RuleSampler::builder()
        .parent_based(Some(ParentBased {
            local_parent_not_sampled: ParentPolicy::Never,
            ..ParentBased::default()
        }))
        .build();
    assert_eq!(
        decide(
            &strict,
            Some(&cx),
            ALL_PICK,
            "child",
            SpanKind::Internal,
            &[]
        ),
        SamplingDecision::Drop
    );
}

#[test]
fn parent_policies_and_no_parent_based() {
    let s = RuleSampler::builder()
        .rule(Rule::span_name("health-check").never())
        .parent_based(Some(ParentBased {
            remote_parent_sampled: ParentPolicy::Rules,
            remote_parent_not_sampled: ParentPolicy::RecordOnly,
            ..ParentBased::default()
        }))
        .build();
    assert_eq!(
        decide(
            &s,
            Some(&remote(true)),
            ALL_PICK,
            "health-check",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::Drop
    );
    assert_eq!(
        decide(
            &s,
            Some(&remote(true)),
            ALL_PICK,
            "other",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::RecordAndSample
    );
    assert_eq!(
        decide(
            &s,
            Some(&remote(false)),
            ALL_PICK,
            "other",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::RecordOnly
    );
    let flat = article().clone();
    let flat = RuleSampler {
        parent_based: None,
        ..flat
    };
    assert_eq!(
        decide(
            &flat,
            Some(&remote(true)),
            NONE_PICK,
            "health-check",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::Drop
    );
    let always = RuleSampler::builder()
        .parent_based(Some(ParentBased {
            remote_parent_not_sampled: ParentPolicy::Always,
            ..ParentBased::default()
        }))
        .build();
    assert_eq!(
        decide(
            &always,
            Some(&remote(false)),
            NONE_PICK,
            "x",
            SpanKind::Server,
            &[]
        ),
        SamplingDecision::RecordAndSample
    );
}

const ARTICLE_YAML: &str = r#"
rules:
  - name: payments
    span_name: { prefix: "payment." }
    sample: always
  - span_name: health-check
    sample: never
  - kind: server
    attributes:
      http.route: { exact: /healthz }
    sample: never
  - kind: consumer
    attributes:
      messaging.destination.name: { regex: "^orders" }
      tenant: { present: true }
    sample: 0.5
  - span_name: { exact: audit }
    sample: record_only
default: 0.1
record_unsampled: true
parent_based:
  remote_parent_not_sampled: record_only
"#;

#[test]
fn yaml_loads_everything() {
    let s = RuleSampler::from_yaml(ARTICLE_YAML).unwrap();
    assert_eq!(s.rules().len(), 5);
    assert_eq!(s.rules()[0].label(), Some("payments"));
    assert_eq!(s.rules()[3].decision(), Decision::Ratio(0.5));
    assert_eq!(s.rules()[4].decision(), Decision::RecordOnly);
    assert_eq!(s.default_decision(), Decision::Ratio(0.1));
    assert!(s.records_unsampled());
    assert_eq!(
        s.parent_based().unwrap().remote_parent_not_sampled,
        ParentPolicy::RecordOnly
    );
    assert_eq!(
        decide(&s, None, NONE_PICK, "payment.x", SpanKind::Internal, &[]),
        SamplingDecision::RecordAndSample
    );
    assert_eq!(
        decide(&s, None, ALL_PICK, "health-check", SpanKind::Internal, &[]),
        SamplingDecision::Drop
    );
    assert_eq!(
        decide(
            &s,
            None,
            ALL_PICK,
            "GET",
            SpanKind::Server,
            &[KeyValue::new("http.route", "/healthz")]
        ),
        SamplingDecision::Drop
    );
    let consumer = [
        KeyValue::new("messaging.destination.name", "orders"),
        KeyValue::new("tenant", "a"),
    ];
    assert_eq!(
        decide(
            &s,
            None,
            ALL_PICK,
            "process orders",
            SpanKind::Consumer,
            &consumer
        ),
        SamplingDecision::RecordAndSample
    );
    assert_eq!(
        decide(
            &s,
            None,
            NONE_PICK,
            "process orders",
            SpanKind::Consumer,
            &consumer
        ),
        SamplingDecision::RecordOnly
    );
    assert!(
        RuleSampler::from_yaml("parent_based: false")
            .unwrap()
            .parent_based()
            .is_none()
    );
    assert!(RuleSampler::from_yaml("{}").unwrap().rules().is_empty());
}

#[test]
fn yaml_errors_name_line_and_field() {
    // (yaml, expected line, text the message must contain)
    let cases: &[(&str, usize, &str)] = &[
        (
            "rules:\n  - span_name: a\n    sample: 1.5\n",
            3,
            "rules[0].sample: ratio 1.5 is outside [0, 1]",
        ),
        (
            "rules:\n  - span_name: a\n    sample: sometimes\n",
            3,
            "unknown decision `sometimes`",
        ),
        (
            "rules:\n  - span_name: a\n    sampel: always\n",
            3,
            "unknown field `sampel`",
        ),
        (
            "rules:\n  - span_name: { regex: \"(\" }\n    sample: never\n",
            2,
            "invalid regex",
        ),
        (
            "rules:\n  - span_name: { exact: a, prefix: b }\n    sample: never\n",
            2,
            "exactly one of",
        ),
        (
            "rules:\n  - kind: sideways\n    sample: never\n",
            2,
            "unknown span kind `sideways`",
        ),
        ("default: 2\n", 1, "default: ratio 2 is outside [0, 1]"),
        (
            "parent_based:\n  local_parent_sampled: maybe\n",
            2,
            "unknown parent policy `maybe`",
        ),
        ("ottl: x\n", 1, "unknown field `ottl`"),
        ("rules:\n  - span_name: a\n", 2, "missing field `sample`"),
    ];
    for (yaml, line, text) in cases {
        let err = RuleSampler::from_yaml(yaml).expect_err(yaml);
        assert_eq!(err.line, Some(*line), "{yaml}: {err}");
        assert!(err.to_string().contains(text), "{yaml}: {err}");
        assert!(err.file.is_none());
    }
}

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("tracewire-sampler-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rules.yaml");
    std::fs::write(&path, "rules:\n  - span_name: a\n    sample: 3\n").unwrap();
    let err = RuleSampler::from_file(&path).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:3:", path.display())),
        "{shown}"
    );
    let missing = RuleSampler::from_file(dir.join("missing.yaml")).unwrap_err();
    assert!(missing.to_string().contains("missing.yaml"), "{missing}");
    assert!(missing.line.is_none());
    let dev_zero = RuleSampler::from_file("/dev/zero");
    if std::path::Path::new("/dev/zero").exists() {
        assert!(dev_zero.unwrap_err().to_string().contains("larger than"));
    }
    std::fs::write(&path, ARTICLE_YAML).unwrap();
    assert_eq!(RuleSampler::from_file(&path).unwrap().rules().len(), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn env_samplers() {
    let run =
        |pairs: &[(&str, &str)], cx: Option<&Context>, id: TraceId| -> Option<SamplingDecision> {
            let env = OtelEnv::new(pairs);
            sampler_from_env(&env).map(|s| {
                s.should_sample(cx, id, "x", &SpanKind::Internal, &[], &[])
                    .decision
            })
        };
    use SamplingDecision::{Drop, RecordAndSample};
    let mid = TraceId::from_bytes([0, 0, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0, 0, 0, 0, 0]); // picked by ratios above ~0.38
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Vars<'_>, Option<bool>, TraceId, Option<SamplingDecision>)] = &[
        (&[], None, NONE_PICK, None),
        (
            &[("OTEL_TRACES_SAMPLER", "always_on")],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "always_off")],
            None,
            ALL_PICK,
            Some(Drop),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "ALWAYS_OFF")],
            Some(true),
            ALL_PICK,
            Some(Drop),
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
            ],
            None,
            mid,
            Some(RecordAndSample),
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ],
            None,
            mid,
            Some(Drop),
        ),
        // A bad argument is ignored: ratio 1.0.
        (
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "half"),
            ],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "parentbased_always_on")],
            Some(false),
            ALL_PICK,
            Some(Drop),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "parentbased_always_on")],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
            Some(true),
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
            None,
            ALL_PICK,
            Some(Drop),
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ],
            Some(true),
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ],
            None,
            mid,
            Some(Drop),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "jaeger_remote")],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote")],
            Some(false),
            NONE_PICK,
            Some(Drop),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "xray")],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "bogus")],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "tracewire_rules")],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "tracewire_rules"),
                ("OTEL_TRACES_SAMPLER_ARG", "/nonexistent/rules.yaml"),
            ],
            None,
            NONE_PICK,
            Some(RecordAndSample),
        ),
    ];
    for (pairs, parent, id, want) in cases {
        let cx = parent.map(remote);
        assert_eq!(
            run(pairs, cx.as_ref(), *id),
            *want,
            "{pairs:?} parent {parent:?}"
        );
    }
}

#[test]
fn env_rules_file() {
    let dir = std::env::temp_dir().join(format!("tracewire-env-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rules.yaml");
    std::fs::write(&path, "rules:\n  - span_name: x\n    sample: never\n").unwrap();
    let path_str = path.to_string_lossy().into_owned();
    let env = OtelEnv::new(
        vec![
            (
                "OTEL_TRACES_SAMPLER".to_owned(),
                "tracewire_rules".to_owned(),
            ),
            ("OTEL_TRACES_SAMPLER_ARG".to_owned(), path_str),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>(),
    );
    let s = sampler_from_env(&env).unwrap();
    assert_eq!(
        s.should_sample(None, ALL_PICK, "x", &SpanKind::Internal, &[], &[])
            .decision,
        SamplingDecision::Drop
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
