//! The Collector configs under `docs/deploy` load unchanged into the in-process tail sampler,
//! and decide as the article's config does (same policies in the Collector's own syntax).

use std::path::PathBuf;

use serde::Deserialize as _;

use tracewire_sdk::tail::{Policy, TailSamplingConfig};

fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/deploy")
        .join(path)
}

fn check(config: &TailSamplingConfig) {
    let names: Vec<&str> = config.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["error-sampling", "latency-sampling", "probabilistic"]
    );
    assert_eq!(config.num_traces, 10_000);
    assert!(matches!(config.policies[1].policy, Policy::And(ref subs) if subs.len() == 2));
}

#[test]
fn the_collector_config_file_loads_unchanged() -> anyhow::Result<()> {
    let config = TailSamplingConfig::from_yaml_file(deploy("collector/collector-jaeger.yaml"))?;
    check(&config);
    Ok(())
}

#[test]
fn the_kubernetes_gateway_config_loads_unchanged() -> anyhow::Result<()> {
    // A multi-document manifest: the gateway's ConfigMap holds the Collector config as a string.
    let text = std::fs::read_to_string(deploy("kubernetes/gateway.yaml"))?;
    let mut found = None;
    for doc in serde_norway::Deserializer::from_str(&text) {
        let value = serde_norway::Value::deserialize(doc)?;
        if value.get("kind").and_then(|k| k.as_str()) == Some("ConfigMap")
            && let Some(embedded) = value
                .get("data")
                .and_then(|d| d.get("config.yaml"))
                .and_then(|c| c.as_str())
        {
            found = Some(TailSamplingConfig::from_yaml_str(embedded)?);
        }
    }
    let config = found.expect("a ConfigMap with config.yaml");
    check(&config);
    assert_eq!(
        config,
        TailSamplingConfig::from_yaml_file(deploy("collector/collector-jaeger.yaml"))?,
        "the gateway and the standalone Collector run the same policies"
    );
    Ok(())
}
