//! Decisions of every policy type, and the processor's precedence between them, as the
//! Collector's `tail_sampling` processor makes them.

mod tail_support;

use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::trace::TraceId;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use tail_support::S;
use tracewire_sdk::tail::{
    DEFAULT_HASH_SALT, Decision, PolicySet, SAMPLING_PERCENTAGE_SALT, TailSamplingConfig,
    TraceView, Verdict, hash_trace_id, threshold_for_ratio,
};

fn policies(yaml: &str) -> PolicySet {
    let config = TailSamplingConfig::from_yaml_str(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    PolicySet::new(&config).expect("valid")
}

fn one(policy: &str) -> PolicySet {
    policies(&format!("policies:\n  - {policy}\n"))
}

fn decide(p: &mut PolicySet, trace: u128, spans: &[SpanData]) -> Decision {
    p.decide(TraceId::from(trace), spans).decision
}

/// Each policy's own decision (with the final verdict).
fn each(
    p: &mut PolicySet,
    trace: u128,
    spans: &[SpanData],
    resource: Option<&Resource>,
) -> (Verdict, Vec<Decision>) {
    let mut seen = Vec::new();
    let view = TraceView {
        trace_id: TraceId::from(trace),
        spans,
        resource,
        size_bytes: 0,
    };
    let v = p.decide_at(&view, Instant::now(), |_, d| seen.push(d));
    (v, seen)
}

use Decision::{Dropped, InvertNotSampled, InvertSampled, NotSampled, Sampled};

#[test]
fn always_sample() {
    let mut p = one("{name: all, type: always_sample}");
    assert_eq!(decide(&mut p, 1, &[]), Sampled);
    assert_eq!(decide(&mut p, 2, &[S::new(2, 1).build()]), Sampled);
}

#[test]
fn latency_uses_the_traces_extent_with_an_exclusive_lower_bound() {
    let mut p = one("{name: slow, type: latency, latency: {threshold_ms: 500}}");
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).at_ms(0, 500).build()]),
        NotSampled
    );
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).at_ms(0, 501).build()]),
        Sampled
    );
    // Two spans of 300 ms, 250 ms apart: the trace lasts 550 ms.
    let spans = [
        S::new(1, 1).at_ms(0, 300).build(),
        S::new(1, 2).at_ms(250, 550).build(),
    ];
    assert_eq!(decide(&mut p, 1, &spans), Sampled);

    let mut p =
        one("{name: band, type: latency, latency: {threshold_ms: 100, upper_threshold_ms: 200}}");
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).at_ms(0, 100).build()]),
        NotSampled
    );
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).at_ms(0, 150).build()]),
        Sampled
    );
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).at_ms(0, 200).build()]),
        Sampled
    );
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).at_ms(0, 201).build()]),
        NotSampled
    );
}

#[test]
fn status_code() {
    let mut p = one("{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}");
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1).build(), S::new(1, 2).error().build()]
        ),
        Sampled
    );
    assert_eq!(decide(&mut p, 1, &[S::new(1, 1).ok().build()]), NotSampled);
    let mut p = one("{name: s, type: status_code, status_code: {status_codes: [OK, UNSET]}}");
    assert_eq!(decide(&mut p, 1, &[S::new(1, 1).build()]), Sampled);
    assert_eq!(decide(&mut p, 1, &[S::new(1, 1).ok().build()]), Sampled);
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).error().build()]),
        NotSampled
    );
}

#[test]
fn the_sampling_percentage_extension_keeps_a_hash_share_of_the_matches() {
    let mut status =
        one("{name: e, type: status_code, config: {status_code: ERROR, sampling_percentage: 50}}");
    let mut latency =
        one("{name: l, type: latency, config: {threshold_ms: 500, sampling_percentage: 50}}");
    let threshold = threshold_for_ratio(0.5);
    let (mut kept, n) = (0, 2000u128);
    for t in tail_support::trace_ids(7).take(n as usize) {
        let in_share = hash_trace_id(SAMPLING_PERCENTAGE_SALT, TraceId::from(t)) <= threshold;
        let error = [S::new(t, 1).error().build()];
        let slow = [S::new(t, 1).at_ms(0, 900).build()];
        let fast_ok = [S::new(t, 1).build()];
        let want = if in_share { Sampled } else { NotSampled };
        assert_eq!(decide(&mut status, t, &error), want);
        assert_eq!(decide(&mut latency, t, &slow), want);
        assert_eq!(decide(&mut status, t, &fast_ok), NotSampled);
        assert_eq!(decide(&mut latency, t, &fast_ok), NotSampled);
        kept += u128::from(in_share);
    }
    assert!((900..1100).contains(&kept), "{kept} of {n}");
}

#[test]
fn probabilistic_hashes_like_the_collector() {
    let mut p = one("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 20}}");
    let mut salted = one(
        "{name: p, type: probabilistic, probabilistic: {sampling_percentage: 20, hash_salt: other}}",
    );
    let t20 = threshold_for_ratio(0.2);
    let mut differ = 0;
    for t in tail_support::trace_ids(1).take(1000) {
        let id = TraceId::from(t);
        let want = hash_trace_id(DEFAULT_HASH_SALT, id) <= t20;
        assert_eq!(decide(&mut p, t, &[]) == Sampled, want);
        let salted_want = hash_trace_id("other", id) <= t20;
        assert_eq!(decide(&mut salted, t, &[]) == Sampled, salted_want);
        differ += usize::from(want != salted_want);
    }
    assert!(differ > 100, "a salt changes which traces are kept");
    let mut all = one("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 100}}");
    let mut none = one("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 0}}");
    for t in tail_support::trace_ids(2).take(200) {
        assert_eq!(decide(&mut all, t, &[]), Sampled);
        assert_eq!(decide(&mut none, t, &[]), NotSampled);
    }
}

#[test]
fn string_attribute_exact_regex_inverted_and_resource() {
    let mut p = one(
        "{name: s, type: string_attribute, string_attribute: {key: http.route, values: [/checkout, /pay]}}",
    );
    let span = |v: &str| {
        [S::new(1, 1)
            .attr(KeyValue::new("http.route", v.to_owned()))
            .build()]
    };
    assert_eq!(decide(&mut p, 1, &span("/pay")), Sampled);
    assert_eq!(decide(&mut p, 1, &span("/payments")), NotSampled);
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1).attr(KeyValue::new("http.route", 7)).build()]
        ),
        NotSampled
    );

    // Regexes are unanchored, as Go's MatchString.
    let mut r = one(
        "{name: r, type: string_attribute, string_attribute: {key: http.route, values: ['^/v1/name/.+', health], enabled_regex_matching: true}}",
    );
    assert_eq!(decide(&mut r, 1, &span("/v1/name/42")), Sampled);
    assert_eq!(decide(&mut r, 1, &span("/healthz")), Sampled);
    assert_eq!(decide(&mut r, 1, &span("/v1/name/")), NotSampled);

    // Go's \d and \w are ASCII: a route of other digits or letters does not match.
    let mut ascii = one(
        r"{name: a, type: string_attribute, string_attribute: {key: http.route, values: ['^/\d+$', '^/\w+/x$'], enabled_regex_matching: true}}",
    );
    assert_eq!(decide(&mut ascii, 1, &span("/42")), Sampled);
    assert_eq!(decide(&mut ascii, 1, &span("/\u{663}\u{662}")), NotSampled);
    assert_eq!(decide(&mut ascii, 1, &span("/cafe/x")), Sampled);
    assert_eq!(decide(&mut ascii, 1, &span("/caf\u{e9}/x")), NotSampled);

    let mut inv = one(
        "{name: i, type: string_attribute, string_attribute: {key: http.route, values: [/health], invert_match: true}}",
    );
    assert_eq!(
        each(&mut inv, 1, &span("/health"), None).1,
        vec![InvertNotSampled]
    );
    assert_eq!(
        each(&mut inv, 1, &span("/orders"), None).1,
        vec![InvertSampled]
    );
    assert_eq!(
        each(&mut inv, 1, &[S::new(1, 1).build()], None).1,
        vec![InvertSampled]
    );

    // Resource attributes count too (the tracer provider's resource).
    let mut svc = one(
        "{name: svc, type: string_attribute, string_attribute: {key: service.name, values: [payments]}}",
    );
    let resource = Resource::builder_empty()
        .with_attribute(KeyValue::new("service.name", "payments"))
        .build();
    assert_eq!(
        each(&mut svc, 1, &[S::new(1, 1).build()], Some(&resource))
            .0
            .decision,
        Sampled
    );
    assert_eq!(
        each(&mut svc, 1, &[S::new(1, 1).build()], None).0.decision,
        NotSampled
    );
}

#[test]
fn numeric_attribute_ranges_and_inversion() {
    let mut p = one(
        "{name: n, type: numeric_attribute, numeric_attribute: {key: http.response.status_code, min_value: 500, max_value: 599}}",
    );
    let code = |c: i64| {
        [S::new(1, 1)
            .attr(KeyValue::new("http.response.status_code", c))
            .build()]
    };
    assert_eq!(decide(&mut p, 1, &code(503)), Sampled);
    assert_eq!(decide(&mut p, 1, &code(599)), Sampled);
    assert_eq!(decide(&mut p, 1, &code(404)), NotSampled);
    // A non-integer value reads as 0 (pdata's Int()).
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1)
                .attr(KeyValue::new("http.response.status_code", "503"))
                .build()]
        ),
        NotSampled
    );

    let mut min_only =
        one("{name: n, type: numeric_attribute, numeric_attribute: {key: k, min_value: 10}}");
    assert_eq!(
        decide(
            &mut min_only,
            1,
            &[S::new(1, 1).attr(KeyValue::new("k", i64::MAX)).build()]
        ),
        Sampled
    );
    assert_eq!(
        decide(
            &mut min_only,
            1,
            &[S::new(1, 1).attr(KeyValue::new("k", 9)).build()]
        ),
        NotSampled
    );
    let mut max_only =
        one("{name: n, type: numeric_attribute, numeric_attribute: {key: k, max_value: 10}}");
    assert_eq!(
        decide(
            &mut max_only,
            1,
            &[S::new(1, 1).attr(KeyValue::new("k", -5)).build()]
        ),
        Sampled
    );

    let mut inv = one(
        "{name: n, type: numeric_attribute, numeric_attribute: {key: k, min_value: 1, max_value: 5, invert_match: true}}",
    );
    assert_eq!(
        each(
            &mut inv,
            1,
            &[S::new(1, 1).attr(KeyValue::new("k", 3)).build()],
            None
        )
        .1,
        vec![InvertNotSampled]
    );
    assert_eq!(
        each(
            &mut inv,
            1,
            &[S::new(1, 1).attr(KeyValue::new("k", 9)).build()],
            None
        )
        .1,
        vec![InvertSampled]
    );
}

#[test]
fn boolean_attribute() {
    let mut p = one(
        "{name: b, type: boolean_attribute, boolean_attribute: {key: app.force_sample, value: true}}",
    );
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1)
                .attr(KeyValue::new("app.force_sample", true))
                .build()]
        ),
        Sampled
    );
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1)
                .attr(KeyValue::new("app.force_sample", false))
                .build()]
        ),
        NotSampled
    );
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1)
                .attr(KeyValue::new("app.force_sample", "true"))
                .build()]
        ),
        NotSampled
    );
    let mut inv = one(
        "{name: b, type: boolean_attribute, boolean_attribute: {key: bot, value: true, invert_match: true}}",
    );
    assert_eq!(
        each(
            &mut inv,
            1,
            &[S::new(1, 1).attr(KeyValue::new("bot", true)).build()],
            None
        )
        .1,
        vec![InvertNotSampled]
    );
    assert_eq!(
        each(&mut inv, 1, &[S::new(1, 1).build()], None).1,
        vec![InvertSampled]
    );
}

#[test]
fn rate_limiting_is_a_token_bucket() {
    let mut p = one(
        "{name: r, type: rate_limiting, rate_limiting: {spans_per_second: 10, burst_capacity: 4}}",
    );
    let start = Instant::now();
    let spans: Vec<SpanData> = (1..=3).map(|i| S::new(1, i).build()).collect();
    let at = |p: &mut PolicySet, ms: u64, n: usize| {
        let view = TraceView {
            trace_id: TraceId::from(1u128),
            spans: &spans[..n],
            resource: None,
            size_bytes: 0,
        };
        p.decide_at(&view, start + Duration::from_millis(ms), |_, _| {})
            .decision
    };
    assert_eq!(at(&mut p, 0, 3), Sampled, "the bucket starts full (4)");
    assert_eq!(at(&mut p, 0, 3), NotSampled, "1 token left");
    assert_eq!(at(&mut p, 0, 1), Sampled);
    assert_eq!(at(&mut p, 200, 2), Sampled, "2 tokens refilled in 200 ms");
    assert_eq!(at(&mut p, 200, 1), NotSampled);

    // Without burst_capacity the bucket holds twice the rate.
    let mut d = one("{name: r, type: rate_limiting, rate_limiting: {spans_per_second: 1}}");
    assert_eq!(at(&mut d, 0, 2), Sampled);
    assert_eq!(at(&mut d, 0, 1), NotSampled);
}

#[test]
fn bytes_limiting_is_a_token_bucket_of_bytes() {
    let mut p = one(
        "{name: b, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1000, burst_capacity: 1500}}",
    );
    let start = Instant::now();
    let view = |bytes| TraceView {
        trace_id: TraceId::from(1u128),
        spans: &[],
        resource: None,
        size_bytes: bytes,
    };
    assert_eq!(p.decide_at(&view(1000), start, |_, _| {}).decision, Sampled);
    assert_eq!(
        p.decide_at(&view(1000), start, |_, _| {}).decision,
        NotSampled
    );
    assert_eq!(
        p.decide_at(&view(1000), start + Duration::from_millis(500), |_, _| {})
            .decision,
        Sampled
    );
    assert_eq!(
        p.decide_at(&view(2000), start + Duration::from_secs(60), |_, _| {})
            .decision,
        NotSampled,
        "over the burst"
    );
}

#[test]
fn span_count() {
    let spans: Vec<SpanData> = (1..=5).map(|i| S::new(1, i).build()).collect();
    let mut p = one("{name: c, type: span_count, span_count: {min_spans: 2, max_spans: 4}}");
    assert_eq!(decide(&mut p, 1, &spans[..1]), NotSampled);
    assert_eq!(decide(&mut p, 1, &spans[..2]), Sampled);
    assert_eq!(decide(&mut p, 1, &spans[..4]), Sampled);
    assert_eq!(decide(&mut p, 1, &spans[..5]), NotSampled);
    let mut open = one("{name: c, type: span_count, span_count: {min_spans: 3}}");
    assert_eq!(decide(&mut open, 1, &spans), Sampled);
}

#[test]
fn trace_state() {
    let mut p =
        one("{name: t, type: trace_state, trace_state: {key: vendor, values: [gold, silver]}}");
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1).trace_state("vendor=gold,other=x").build()]
        ),
        Sampled
    );
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1).trace_state("vendor=bronze").build()]
        ),
        NotSampled
    );
    assert_eq!(decide(&mut p, 1, &[S::new(1, 1).build()]), NotSampled);
}

#[test]
fn trace_flags() {
    let mut p = one("{name: f, type: trace_flags}");
    assert_eq!(
        decide(
            &mut p,
            1,
            &[S::new(1, 1).not_sampled().build(), S::new(1, 2).build()]
        ),
        Sampled
    );
    assert_eq!(
        decide(&mut p, 1, &[S::new(1, 1).not_sampled().build()]),
        NotSampled
    );
}

#[test]
fn and_not_drop() {
    let mut and = one(
        "{name: a, type: and, and: {and_sub_policy: [{name: e, type: status_code, status_code: {status_codes: [ERROR]}}, {name: r, type: string_attribute, string_attribute: {key: route, values: [/pay]}}]}}",
    );
    let pay_error = [S::new(1, 1)
        .error()
        .attr(KeyValue::new("route", "/pay"))
        .build()];
    let pay_ok = [S::new(1, 1).attr(KeyValue::new("route", "/pay")).build()];
    assert_eq!(decide(&mut and, 1, &pay_error), Sampled);
    assert_eq!(decide(&mut and, 1, &pay_ok), NotSampled);
    // An inverted match inside `and` counts as a match, an inverted non-match as a non-match.
    let mut and_inv = one(
        "{name: a, type: and, and: {and_sub_policy: [{name: i, type: string_attribute, string_attribute: {key: route, values: [/health], invert_match: true}}, {name: all, type: always_sample}]}}",
    );
    assert_eq!(decide(&mut and_inv, 1, &pay_ok), Sampled);
    assert_eq!(
        decide(
            &mut and_inv,
            1,
            &[S::new(1, 1).attr(KeyValue::new("route", "/health")).build()]
        ),
        NotSampled
    );

    let mut not = one(
        "{name: n, type: not, not: {not_sub_policy: {name: h, type: string_attribute, string_attribute: {key: route, values: [/health]}}}}",
    );
    assert_eq!(decide(&mut not, 1, &pay_ok), Sampled);
    assert_eq!(
        decide(
            &mut not,
            1,
            &[S::new(1, 1).attr(KeyValue::new("route", "/health")).build()]
        ),
        NotSampled
    );
    // `not` lets inverted decisions through unchanged, as the Collector does.
    let mut not_inv = one(
        "{name: n, type: not, not: {not_sub_policy: {name: h, type: string_attribute, string_attribute: {key: route, values: [/health], invert_match: true}}}}",
    );
    assert_eq!(each(&mut not_inv, 1, &pay_ok, None).1, vec![InvertSampled]);

    let mut drop = one(
        "{name: d, type: drop, drop: {drop_sub_policy: [{name: h, type: string_attribute, string_attribute: {key: route, values: [/health]}}, {name: ok, type: status_code, status_code: {status_codes: [UNSET, OK]}}]}}",
    );
    assert_eq!(
        each(
            &mut drop,
            1,
            &[S::new(1, 1).attr(KeyValue::new("route", "/health")).build()],
            None
        )
        .1,
        vec![Dropped]
    );
    let health_error = [S::new(1, 1)
        .error()
        .attr(KeyValue::new("route", "/health"))
        .build()];
    assert_eq!(each(&mut drop, 1, &health_error, None).1, vec![NotSampled]);
}

#[test]
fn composite_allocates_the_budget_in_sub_policy_order() {
    let mut p = one(
        "{name: c, type: composite, composite: {max_total_spans_per_second: 10, policy_order: [errors, rest, never], \
         composite_sub_policy: [{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}, {name: rest, type: always_sample}, {name: never, type: always_sample}], \
         rate_allocation: [{policy: errors, percent: 60}, {policy: rest, percent: 40}]}}",
    );
    let start = Instant::now();
    let error = [S::new(1, 1).error().build(), S::new(1, 2).build()];
    let ok = [S::new(2, 1).build(), S::new(2, 2).build()];
    let at = |p: &mut PolicySet, spans: &[SpanData], ms: u64| {
        let view = TraceView {
            trace_id: TraceId::from(1u128),
            spans,
            resource: None,
            size_bytes: 0,
        };
        p.decide_at(&view, start + Duration::from_millis(ms), |_, _| {})
            .decision
    };
    // errors: 6 spans per second, 2 per trace.
    for _ in 0..3 {
        assert_eq!(at(&mut p, &error, 0), Sampled);
    }
    assert_eq!(
        at(&mut p, &error, 0),
        NotSampled,
        "errors' share is used up"
    );
    // rest: 4 spans per second.
    assert_eq!(at(&mut p, &ok, 0), Sampled);
    assert_eq!(at(&mut p, &ok, 0), Sampled);
    assert_eq!(at(&mut p, &ok, 0), NotSampled);
    // A new second resets the counters.
    assert_eq!(at(&mut p, &error, 1000), Sampled);
    assert_eq!(at(&mut p, &ok, 1000), Sampled);

    // A sub-policy without a rate allocation gets no budget (as in the Collector).
    let mut unallocated = one(
        "{name: c, type: composite, composite: {max_total_spans_per_second: 100, \
         composite_sub_policy: [{name: all, type: always_sample}], rate_allocation: []}}",
    );
    assert_eq!(at(&mut unallocated, &ok, 0), NotSampled);
}

#[test]
fn precedence_drop_then_inverted_not_then_sampled_then_inverted_sampled() {
    let health = [S::new(1, 1)
        .error()
        .attr(KeyValue::new("route", "/health"))
        .build()];
    let pay = [S::new(1, 1).attr(KeyValue::new("route", "/pay")).build()];

    // A drop wins over a sample, and is evaluated first whatever its position.
    let mut p = policies(
        "policies:\n  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n  - {name: drop-health, type: drop, drop: {drop_sub_policy: [{name: h, type: string_attribute, string_attribute: {key: route, values: [/health]}}]}}\n",
    );
    assert_eq!(p.policy_name(0), "drop-health");
    let (v, seen) = each(&mut p, 1, &health, None);
    assert_eq!(v.decision, Dropped);
    assert_eq!(p.policy_name(v.policy.expect("policy")), "drop-health");
    assert_eq!(seen, vec![Dropped], "evaluation stops at a drop");

    // An inverted not-sampled wins over a sample.
    let mut p = policies(
        "policies:\n  - {name: all, type: always_sample}\n  - {name: not-health, type: string_attribute, string_attribute: {key: route, values: [/health], invert_match: true}}\n",
    );
    let (v, seen) = each(&mut p, 1, &health, None);
    assert_eq!(seen, vec![Sampled, InvertNotSampled]);
    assert_eq!(
        v,
        Verdict {
            decision: NotSampled,
            policy: None
        }
    );
    assert_eq!(each(&mut p, 1, &pay, None).0.decision, Sampled);

    // An inverted sample samples only when no policy said not sampled.
    let mut p = policies(
        "policies:\n  - {name: not-health, type: string_attribute, string_attribute: {key: route, values: [/health], invert_match: true}}\n  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n",
    );
    let (v, seen) = each(&mut p, 1, &pay, None);
    assert_eq!(seen, vec![InvertSampled, NotSampled]);
    assert_eq!(v.decision, NotSampled);
    let mut p = policies(
        "policies:\n  - {name: not-health, type: string_attribute, string_attribute: {key: route, values: [/health], invert_match: true}}\n",
    );
    assert_eq!(
        each(&mut p, 1, &pay, None).0,
        Verdict {
            decision: Sampled,
            policy: Some(0)
        }
    );

    // The first sampling policy is named in the verdict.
    let mut p = policies(
        "policies:\n  - {name: none, type: probabilistic, probabilistic: {sampling_percentage: 0}}\n  - {name: a, type: always_sample}\n  - {name: b, type: always_sample}\n",
    );
    let (v, seen) = each(&mut p, 1, &pay, None);
    assert_eq!(
        v,
        Verdict {
            decision: Sampled,
            policy: Some(1)
        }
    );
    assert_eq!(seen.len(), 3, "every policy is evaluated");
}

#[test]
fn sample_on_first_match_stops_at_the_first_sample() {
    let yaml = |first: bool| {
        format!(
            "sample_on_first_match: {first}\npolicies:\n  - {{name: a, type: always_sample}}\n  - {{name: not-health, type: string_attribute, string_attribute: {{key: route, values: [/health], invert_match: true}}}}\n"
        )
    };
    let health = [S::new(1, 1).attr(KeyValue::new("route", "/health")).build()];
    let mut off = policies(&yaml(false));
    assert_eq!(each(&mut off, 1, &health, None).0.decision, NotSampled);
    let mut on = policies(&yaml(true));
    let (v, seen) = each(&mut on, 1, &health, None);
    assert_eq!(seen, vec![Sampled]);
    assert_eq!(v.decision, Sampled);
}
