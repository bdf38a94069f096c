//! Fuzz targets of tracewire-sdk's parsers of untrusted input (run briefly by `cargo test`, for
//! longer by `cargo xtask fuzz`).

use tracewire_sdk::tail::{TailSamplingConfig, parse_go_duration};
use tracewire_testing::fuzz::Fuzz;

/// The tail sampling config loader: arbitrary bytes never panic; whatever loads is valid.
#[test]
fn fuzz_tail_sampling_yaml() {
    Fuzz::new("tail_sampling_yaml")
        .seed("processors:\n  tail_sampling:\n    decision_wait: 30s\n    num_traces: 10000\n    expected_new_traces_per_sec: 100\n    policies:\n      - name: error-sampling\n        type: status_code\n        config:\n          status_code: ERROR\n          sampling_percentage: 100\n      - name: latency-sampling\n        type: latency\n        config:\n          threshold_ms: 500\n          sampling_percentage: 50\n      - name: probabilistic\n        type: probabilistic\n        config:\n          sampling_percentage: 5\n")
        .seed("decision_wait: 1m30s\ndecision_cache: {sampled_cache_size: 100_000, non_sampled_cache_size: 10}\npolicies:\n  - {name: a, type: and, and: {and_sub_policy: [{name: s, type: string_attribute, string_attribute: {key: k, values: ['^/v1/.+'], enabled_regex_matching: true, invert_match: true}}, {name: n, type: numeric_attribute, numeric_attribute: {key: c, min_value: 500}}]}}\n  - {name: d, type: drop, drop: {drop_sub_policy: [{name: b, type: boolean_attribute, boolean_attribute: {key: bot, value: true}}]}}\n  - {name: c, type: composite, composite: {max_total_spans_per_second: 100, policy_order: [x], composite_sub_policy: [{name: x, type: always_sample}], rate_allocation: [{policy: x, percent: 50}]}}\n  - {name: no, type: not, not: {not_sub_policy: {name: t, type: trace_state, trace_state: {key: k, values: [v]}}}}\n  - {name: r, type: rate_limiting, rate_limiting: {spans_per_second: 10, burst_capacity: 20}}\n")
        .dict(&[
            "policies", "type", "name", "config", ":", "- ", "{", "}", "[", "]", "\n  ", "&a", "*a",
            "<<: *a", "status_code", "ERROR", "latency", "threshold_ms", "sampling_percentage",
            "probabilistic", "hash_salt", "1m30s", "500ms", "-1", "1e309", "ottl_condition",
            "processors", "tail_sampling", "tail_sampling/x", "composite", "rate_allocation",
            "and_sub_policy", "not_sub_policy", "drop_sub_policy", "invert_match", "(", "\\",
            "!!binary", "~", "null", "99999999999999999999999",
        ])
        .run(|input| {
            let text = String::from_utf8_lossy(input);
            if let Ok(config) = TailSamplingConfig::from_yaml_str(&text) {
                assert!(config.validate().is_ok(), "a loaded config is valid: {config:?}");
            }
        });
}

/// Go durations: arbitrary text never panics.
#[test]
fn fuzz_go_duration() {
    Fuzz::new("go_duration")
        .seed("1h2m3.5s")
        .seed("500ms")
        .dict(&[
            "h",
            "m",
            "s",
            "ms",
            "us",
            "µs",
            "ns",
            ".",
            "+",
            "-",
            "9999999999",
        ])
        .run(|input| {
            let _ = parse_go_duration(&String::from_utf8_lossy(input));
        });
}
