//! The `tail_sampling` config from YAML: the article's, the Collector's README example, whole
//! Collector configs, and errors that name the line and the field.

mod tail_support;

use std::time::Duration;

use tail_support::ARTICLE_YAML;
use tracewire_sdk::tail::{
    CompositePolicy, DecisionCacheConfig, LatencyPolicy, NumericAttributePolicy, Policy,
    PolicyConfig, ProbabilisticPolicy, RateAllocation, RateLimitingPolicy, SpanCountPolicy,
    SpanStatusCode, StatusCodePolicy, StringAttributePolicy, TailSamplingConfig, TraceStatePolicy,
};

#[test]
fn the_articles_config_loads_in_every_placement() {
    let wrapped = TailSamplingConfig::from_yaml_str(ARTICLE_YAML).expect("article config");
    assert_eq!(wrapped, TailSamplingConfig::article_example());
    assert_eq!(wrapped.decision_wait, Duration::from_secs(30));
    assert_eq!(wrapped.num_traces, 10_000);
    assert_eq!(wrapped.expected_new_traces_per_sec, 100);
    assert_eq!(
        wrapped.policies[0].policy,
        Policy::StatusCode(StatusCodePolicy {
            status_codes: vec![SpanStatusCode::Error],
            sampling_percentage: Some(100.0),
        })
    );
    assert_eq!(
        wrapped.policies[1].policy,
        Policy::Latency(LatencyPolicy {
            threshold_ms: 500,
            upper_threshold_ms: 0,
            sampling_percentage: Some(50.0),
        })
    );

    // The bare processor body (the section without `processors:` and `tail_sampling:`).
    let bare: String = ARTICLE_YAML
        .lines()
        .skip(2)
        .map(|l| format!("{}\n", l.get(4..).unwrap_or("")))
        .collect();
    assert_eq!(
        TailSamplingConfig::from_yaml_str(&bare),
        Ok(wrapped.clone())
    );

    // Under a top-level `tail_sampling:` key.
    let top: String = ARTICLE_YAML
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.get(2..).unwrap_or("")))
        .collect();
    assert_eq!(TailSamplingConfig::from_yaml_str(&top), Ok(wrapped));
}

#[test]
fn the_collectors_readme_example_loads() {
    // The Collector README's example (flow style), every policy type but ottl_condition.
    let yaml = r#"
processors:
  tail_sampling:
    decision_wait: 10s
    num_traces: 100
    expected_new_traces_per_sec: 10
    decision_cache:
      sampled_cache_size: 100_000
      non_sampled_cache_size: 100_000
    policies:
      [
          { name: test-policy-1, type: always_sample },
          { name: test-policy-2, type: latency, latency: {threshold_ms: 5000, upper_threshold_ms: 10000} },
          { name: test-policy-3, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50, max_value: 100} },
          { name: test-policy-4, type: probabilistic, probabilistic: {sampling_percentage: 10} },
          { name: test-policy-5, type: status_code, status_code: {status_codes: [ERROR, UNSET]} },
          { name: test-policy-6, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]} },
          { name: test-policy-7, type: string_attribute, string_attribute: {key: key2, values: [value1, val*], enabled_regex_matching: true, cache_max_size: 10} },
          { name: test-policy-8, type: rate_limiting, rate_limiting: {spans_per_second: 35} },
          { name: test-policy-9, type: span_count, span_count: {min_spans: 2, max_spans: 20} },
          { name: test-policy-10, type: trace_state, trace_state: { key: key3, values: [value1, value2] } },
          { name: test-policy-11, type: boolean_attribute, boolean_attribute: {key: key4, value: true} },
          { name: test-policy-12, type: trace_flags },
          { name: test-policy-13, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1000, burst_capacity: 4000} },
          {
            name: and-policy-1,
            type: and,
            and: {
              and_sub_policy:
              [
                { name: test-and-policy-1, type: numeric_attribute, numeric_attribute: { key: key1, min_value: 50, max_value: 100 } },
                { name: test-and-policy-2, type: string_attribute, string_attribute: { key: key2, values: [ value1, value2 ] } },
              ]
            }
          },
          {
            name: not-policy-1,
            type: not,
            not: { not_sub_policy: { name: healthcheck, type: string_attribute, string_attribute: { key: http.route, values: [/health] } } }
          },
          {
            name: drop-policy-1,
            type: drop,
            drop: {
              drop_sub_policy:
              [
                { name: test-drop-policy-1, type: string_attribute, string_attribute: {key: url.path, values: [\/health, \/metrics], enabled_regex_matching: true} }
              ]
            }
          },
          {
            name: composite-policy-1,
            type: composite,
            composite:
              {
                max_total_spans_per_second: 1000,
                policy_order: [test-composite-policy-1, test-composite-policy-2, test-composite-policy-3],
                composite_sub_policy:
                  [
                    { name: test-composite-policy-1, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50} },
                    { name: test-composite-policy-2, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]} },
                    { name: test-composite-policy-3, type: always_sample }
                  ],
                rate_allocation:
                  [
                    { policy: test-composite-policy-1, percent: 50 },
                    { policy: test-composite-policy-2, percent: 25 }
                  ]
              }
          },
        ]
"#;
    let c = TailSamplingConfig::from_yaml_str(yaml).expect("README config");
    assert_eq!(c.decision_wait, Duration::from_secs(10));
    assert_eq!(c.num_traces, 100);
    assert_eq!(
        c.decision_cache,
        DecisionCacheConfig {
            sampled: Some(100_000),
            non_sampled: Some(100_000)
        }
    );
    assert_eq!(c.policies.len(), 17);
    let by_name = |n: &str| {
        &c.policies
            .iter()
            .find(|p| p.name == n)
            .unwrap_or_else(|| panic!("{n}"))
            .policy
    };
    assert_eq!(
        by_name("test-policy-3"),
        &Policy::NumericAttribute(NumericAttributePolicy {
            key: "key1".into(),
            min_value: Some(50),
            max_value: Some(100),
            invert_match: false,
        })
    );
    assert_eq!(
        by_name("test-policy-4"),
        &Policy::Probabilistic(ProbabilisticPolicy {
            hash_salt: String::new(),
            sampling_percentage: 10.0,
        })
    );
    assert_eq!(
        by_name("test-policy-5"),
        &Policy::StatusCode(StatusCodePolicy {
            status_codes: vec![SpanStatusCode::Error, SpanStatusCode::Unset],
            sampling_percentage: None,
        })
    );
    assert_eq!(
        by_name("test-policy-7"),
        &Policy::StringAttribute(StringAttributePolicy {
            key: "key2".into(),
            values: vec!["value1".into(), "val*".into()],
            enabled_regex_matching: true,
            cache_max_size: 10,
            invert_match: false,
        })
    );
    assert_eq!(
        by_name("test-policy-8"),
        &Policy::RateLimiting(RateLimitingPolicy {
            spans_per_second: 35,
            burst_capacity: 0,
        })
    );
    assert_eq!(
        by_name("test-policy-9"),
        &Policy::SpanCount(SpanCountPolicy {
            min_spans: 2,
            max_spans: 20
        })
    );
    assert_eq!(
        by_name("test-policy-10"),
        &Policy::TraceState(TraceStatePolicy {
            key: "key3".into(),
            values: vec!["value1".into(), "value2".into()],
        })
    );
    assert_eq!(by_name("test-policy-12"), &Policy::TraceFlags);
    let Policy::Not(inner) = by_name("not-policy-1") else {
        panic!("not policy");
    };
    assert_eq!(inner.name, "healthcheck");
    let Policy::Composite(CompositePolicy {
        max_total_spans_per_second,
        sub_policies,
        rate_allocation,
        policy_order,
    }) = by_name("composite-policy-1")
    else {
        panic!("composite policy");
    };
    assert_eq!(*max_total_spans_per_second, 1000);
    assert_eq!(sub_policies.len(), 3);
    assert_eq!(policy_order.len(), 3);
    assert_eq!(
        rate_allocation[1],
        RateAllocation {
            policy: "test-composite-policy-2".into(),
            percent: 25
        }
    );
}

#[test]
fn a_whole_collector_config_is_read_and_other_sections_skipped() {
    let yaml = r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 0.0.0.0:4317 }
      http: { endpoint: 0.0.0.0:4318 }
processors:
  batch: {}
  memory_limiter: { check_interval: 1s, limit_mib: 512 }
  tail_sampling:
    decision_wait: 1m30s
    decision_wait_after_root_received: 500ms
    maximum_trace_size_bytes: 1048576
    sample_on_first_match: true
    drop_pending_traces_on_shutdown: true
    block_on_overflow: false
    sampling_strategy: trace-complete
    num_shards: 1
    policies:
      - name: errors
        type: status_code
        status_code: { status_codes: [ERROR] }
exporters:
  otlp: { endpoint: "jaeger:4317", tls: { insecure: true } }
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, tail_sampling, batch]
      exporters: [otlp]
"#;
    let c = TailSamplingConfig::from_yaml_str(yaml).expect("collector config");
    assert_eq!(c.decision_wait, Duration::from_secs(90));
    assert_eq!(
        c.decision_wait_after_root_received,
        Duration::from_millis(500)
    );
    assert_eq!(c.maximum_trace_size_bytes, 1_048_576);
    assert!(c.sample_on_first_match);
    assert!(c.drop_pending_traces_on_shutdown);
    assert_eq!(c.num_traces, 50_000, "the Collector's default");

    // Several named instances: the name picks one.
    let named = r#"
processors:
  tail_sampling/errors:
    policies: [{ name: e, type: status_code, status_code: { status_codes: [ERROR] } }]
  tail_sampling/all:
    policies: [{ name: a, type: always_sample }]
"#;
    let err = TailSamplingConfig::from_yaml_str(named).expect_err("ambiguous");
    assert!(err.message().contains("several"), "{err}");
    let all = TailSamplingConfig::from_yaml_str_named(named, "tail_sampling/all").expect("named");
    assert_eq!(all.policies, vec![PolicyConfig::always_sample("a")]);
    let err = TailSamplingConfig::from_yaml_str_named(named, "tail_sampling/none").expect_err("");
    assert!(err.message().contains("no processor named"), "{err}");
}

#[test]
fn code_and_yaml_build_the_same_config() {
    let from_code = TailSamplingConfig::builder()
        .with_decision_wait(Duration::from_secs(10))
        .with_decision_wait_after_root_received(Duration::from_secs(1))
        .with_num_traces(2000)
        .with_expected_new_traces_per_sec(50)
        .with_decision_cache(30_000, 40_000)
        .with_maximum_trace_size_bytes(4096)
        .with_sample_on_first_match(true)
        .with_policy(PolicyConfig::status_code("errors", [SpanStatusCode::Error]))
        .with_policy(PolicyConfig::probabilistic("base", 2.5))
        .build()
        .expect("valid");
    let from_yaml = TailSamplingConfig::from_yaml_str(
        r#"
decision_wait: 10s
decision_wait_after_root_received: 1s
num_traces: 2000
expected_new_traces_per_sec: 50
decision_cache: { sampled_cache_size: 30000, non_sampled_cache_size: 40000 }
maximum_trace_size_bytes: 4096
sample_on_first_match: true
policies:
  - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
  - { name: base, type: probabilistic, probabilistic: { sampling_percentage: 2.5 } }
"#,
    );
    assert_eq!(from_yaml, Ok(from_code));
}

/// `(yaml, line, field, part of the message)`.
const ERRORS: &[(&str, usize, &str, &str)] = &[
    (
        "decision_wait: 30\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "decision_wait",
        "Go syntax",
    ),
    (
        "decision_wait: 5 minutes\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "decision_wait",
        "Go syntax",
    ),
    (
        "num_traces: 0\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "num_traces",
        "greater than zero",
    ),
    (
        "num_trace: 10\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "num_trace",
        "unknown field `num_trace`",
    ),
    ("decision_wait: 1s\n", 1, "policies", "at least one policy"),
    (
        "policies:\n  - name: a\n    type: always_sampled\n",
        3,
        "policies[0].type",
        "unknown policy type",
    ),
    (
        "policies:\n  - name: o\n    type: ottl_condition\n    ottl_condition: {span: ['x']}\n",
        3,
        "policies[0].type",
        "cannot run in-process",
    ),
    (
        "policies:\n  - name: a\n    type: always_sample\n    ottl_condition: {span: ['x']}\n",
        4,
        "policies[0].ottl_condition",
        "cannot run in-process",
    ),
    (
        "tail_storage: pebble\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "tail_storage",
        "Collector extension",
    ),
    (
        "block_on_overflow: true\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "block_on_overflow",
        "block the threads",
    ),
    (
        "sampling_strategy: span-ingest\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "sampling_strategy",
        "not supported in-process",
    ),
    (
        "num_shards: 4\npolicies: [{name: a, type: always_sample}]\n",
        1,
        "num_shards",
        "must be 1",
    ),
    (
        "policies:\n  - name: a\n    type: always_sample\n    colour: blue\n",
        4,
        "policies[0].colour",
        "unknown field `colour`",
    ),
    (
        "policies:\n  - name: s\n    type: status_code\n    status_code:\n      status_codes: [ERROR, FAILED]\n",
        5,
        "policies[0].status_code.status_codes[1]",
        "unknown status code \"FAILED\"",
    ),
    (
        "policies:\n  - name: s\n    type: status_code\n    status_code: {}\n",
        2,
        "policies[0].status_code.status_codes",
        "at least one status code",
    ),
    (
        "policies:\n  - name: p\n    type: probabilistic\n    probabilistic:\n      sampling_percentage: -5\n",
        5,
        "policies[0].probabilistic.sampling_percentage",
        "between 0 and 100",
    ),
    (
        "policies:\n  - name: p\n    type: probabilistic\n    probabilistic:\n      sampling_percentage: 5\n      rate: 3\n",
        6,
        "policies[0].probabilistic.rate",
        "unknown field `rate`",
    ),
    (
        "policies:\n  - name: r\n    type: string_attribute\n    string_attribute:\n      key: k\n      sampling_percentage: 5\n",
        6,
        "policies[0].string_attribute.sampling_percentage",
        "unknown field `sampling_percentage`",
    ),
    (
        "policies:\n  - name: r\n    type: string_attribute\n    string_attribute: {key: k, values: ['(unclosed'], enabled_regex_matching: true}\n",
        2,
        "policies[0].string_attribute.values[0]",
        "invalid regular expression",
    ),
    (
        "policies:\n  - name: l\n    type: latency\n    latency:\n      threshold_ms: fast\n",
        5,
        "policies[0].latency.threshold_ms",
        "expected an integer",
    ),
    (
        "policies:\n  - {name: a, type: always_sample}\n  - {name: a, type: always_sample}\n",
        3,
        "policies[1].name",
        "duplicate policy name",
    ),
    (
        "policies:\n  - type: always_sample\n",
        2,
        "policies[0]",
        "missing field `name`",
    ),
    (
        "policies:\n  - name: l\n    type: latency\n    latency: {threshold_ms: 5}\n    config: {threshold_ms: 6}\n",
        2,
        "policies[0].config",
        "given twice",
    ),
    (
        "policies:\n  - name: c\n    type: composite\n    composite:\n      max_total_spans_per_second: 100\n      composite_sub_policy:\n        - {name: x, type: always_sample}\n      rate_allocation:\n        - {policy: y, percent: 50}\n",
        2,
        "policies[0].composite.rate_allocation[0].policy",
        "not the name of a composite_sub_policy",
    ),
    (
        "policies:\n  - name: n\n    type: and\n    and:\n      and_sub_policy:\n        - {name: x, type: composite, composite: {max_total_spans_per_second: 1, composite_sub_policy: [{name: y, type: always_sample}]}}\n",
        6,
        "policies[0].and.and_sub_policy[0].type",
        "cannot be nested here",
    ),
    (
        "policies:\n  - name: n\n    type: numeric_attribute\n    numeric_attribute: {key: http.status_code}\n",
        2,
        "policies[0].numeric_attribute.min_value",
        "min_value or max_value",
    ),
    ("policies: [\n", 2, "", ""),
];

#[test]
fn config_errors_name_the_line_and_the_field() {
    for (yaml, line, field, part) in ERRORS {
        let err = TailSamplingConfig::from_yaml_str(yaml)
            .expect_err(&format!("should be rejected:\n{yaml}"));
        assert_eq!(err.line(), Some(*line), "line of {err}\n{yaml}");
        if !field.is_empty() {
            assert_eq!(err.field(), Some(*field), "field of {err}\n{yaml}");
        }
        assert!(err.message().contains(part), "message of {err}\n{yaml}");
        assert!(err.to_string().contains(&format!("line {line}")), "{err}");
    }
}

#[test]
fn errors_in_a_whole_collector_config_carry_the_full_path() {
    let yaml = "receivers: {otlp: {}}\nprocessors:\n  tail_sampling:\n    decision_wait: soon\n    policies: [{name: a, type: always_sample}]\n";
    let err = TailSamplingConfig::from_yaml_str(yaml).expect_err("bad duration");
    assert_eq!(err.line(), Some(4), "{err}");
    assert_eq!(
        err.field(),
        Some("processors.tail_sampling.decision_wait"),
        "{err}"
    );
}

#[test]
fn files_are_named_in_errors() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("tracewire-tail-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let good = dir.join("collector.yaml");
    std::fs::write(&good, ARTICLE_YAML)?;
    assert_eq!(
        TailSamplingConfig::from_yaml_file(&good)?,
        TailSamplingConfig::article_example()
    );

    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "policies:\n  - name: x\n    type: latency\n    latency: {threshold_ms: -1}\n",
    )?;
    let err = TailSamplingConfig::from_yaml_file(&bad).expect_err("negative threshold");
    assert_eq!(err.file(), Some(bad.as_path()));
    assert_eq!(err.line(), Some(2), "{err}");
    assert_eq!(
        err.field(),
        Some("policies[0].latency.threshold_ms"),
        "{err}"
    );
    assert!(err.to_string().contains("bad.yaml:2"), "{err}");

    let missing = dir.join("missing.yaml");
    let err = TailSamplingConfig::from_yaml_file(&missing).expect_err("no file");
    assert_eq!(err.file(), Some(missing.as_path()));
    assert!(err.message().contains("cannot read"), "{err}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn unquoted_numbers_are_accepted_where_strings_are_expected() {
    let c = TailSamplingConfig::from_yaml_str(
        "policies:\n  - {name: 500s, type: string_attribute, string_attribute: {key: http.status_code, values: [500, 503]}}\n",
    )
    .expect("valid");
    let Policy::StringAttribute(s) = &c.policies[0].policy else {
        panic!("string policy");
    };
    assert_eq!(s.values, vec!["500".to_owned(), "503".to_owned()]);
}
