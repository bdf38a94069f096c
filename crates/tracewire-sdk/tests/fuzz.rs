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

/// The head sampler's YAML loader: arbitrary bytes never panic, and whatever loads decides
/// without panicking.
#[test]
fn fuzz_head_sampler_yaml() {
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{SpanKind, TraceId};
    use opentelemetry_sdk::trace::ShouldSample as _;
    use tracewire_sdk::sampler::RuleSampler;

    Fuzz::new("head_sampler_yaml")
        .seed("rules:\n  - span_name: { prefix: \"payment.\" }\n    sample: always\n  - span_name: health-check\n    sample: never\n  - kind: server\n    attributes:\n      http.route: { exact: /healthz }\n    sample: 0.5\ndefault: 0.1\nrecord_unsampled: true\nparent_based:\n  remote_parent_not_sampled: record_only\n")
        .seed("parent_based: false\nrules: [{span_name: {regex: '^GET .*$'}, sample: record_only}]\n")
        .dict(&[
            "rules", "span_name", "prefix", "exact", "regex", "present", "kind", "attributes",
            "sample", "always", "never", "record_only", "default", "parent_based", "inherit",
            "record_unsampled", "true", "false", "0.5", "1.5", "-1", "NaN", ".inf", "1e308",
            "server", "consumer", "(", "[", "{", "}", "]", ": ", "- ", "\n  ", "&a", "*a", "~",
            "(?i)", "\\", "a{99999}",
        ])
        .run(|input| {
            if let Ok(sampler) = RuleSampler::from_yaml(&String::from_utf8_lossy(input)) {
                for kind in [SpanKind::Server, SpanKind::Consumer] {
                    let _ = sampler.should_sample(
                        None,
                        TraceId::from_bytes([7; 16]),
                        "payment.charge",
                        &kind,
                        &[KeyValue::new("http.route", "/healthz"), KeyValue::new("n", 5)],
                        &[],
                    );
                }
            }
        });
}

/// `OTEL_*` values: arbitrary text in every variable tracewire-sdk reads never panics and
/// never fails setup.
#[test]
fn fuzz_otel_environment() {
    use std::collections::HashMap;
    use tracewire_core::env::OtelEnv;
    use tracewire_sdk::Tracewire;
    use tracewire_sdk::config::{
        BatchSettings, MetricSettings, OtlpCode, Signal, SpanLimitSettings, resolve_exporters,
        resolve_otlp, resolve_zipkin,
    };
    use tracewire_sdk::resource::{ResourceCode, build_resource};
    use tracewire_sdk::sampler::sampler_from_env;

    const VARS: &[&str] = &[
        "OTEL_SDK_DISABLED",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "OTEL_METRIC_EXPORT_INTERVAL",
        "OTEL_PROPAGATORS",
        "K8S_POD_NAME",
    ];
    Fuzz::new("otel_environment")
        .seed("true\ncheckout\nk=v,a=%20b\notlp,console\nhttp://c:4318/\nhttp://t:1/x\ngrpc\na=b\n100\ngzip\nhttp://z/api\ntraceidratio\n0.5\n16\n4\n2\n8\n250\ntracecontext,b3\npod")
        .dict(&[
            "\n", ",", "=", "%", "%zz", "%ff", "http://", "https://", "://", "@", "none", "otlp",
            "zipkin", "console", "grpc", "http/json", "gzip", "always_on", "parentbased_traceidratio",
            "jaeger_remote", "-1", "0", "18446744073709551616", "1e999", "NaN", " ", "\t",
        ])
        .run(|input| {
            let text = String::from_utf8_lossy(input);
            let vars: HashMap<String, String> = VARS
                .iter()
                .zip(text.split('\n'))
                // A rules file path would be read from disk; that path is tested elsewhere.
                .filter(|(_, v)| !v.contains("tracewire_rules"))
                .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                .collect();
            let env = OtelEnv::new(vars.clone());
            for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
                let _ = resolve_exporters(signal, &env);
                let _ = resolve_otlp(signal, &OtlpCode::default(), &env);
            }
            let _ = resolve_zipkin(None, None, &env);
            let _ = BatchSettings::from_env("OTEL_BSP", BatchSettings::SPANS, &env);
            let _ = SpanLimitSettings::from_env(&env);
            let _ = MetricSettings::from_env(&env);
            let _ = sampler_from_env(&env);
            let _ = build_resource(&ResourceCode { skip_detection: true, ..ResourceCode::default() }, &env);
            let guard = Tracewire::builder()
                .with_env(vars)
                .with_traces_exporters([])
                .with_metrics_exporters([])
                .with_logs_exporters([])
                .with_resource_detection(false)
                .build();
            assert!(guard.is_ok(), "the environment alone never fails setup");
        });
}
