//! The Collector configs under `docs/deploy` load unchanged into the in-process tail sampler,
//! and decide as the article's config does (same policies in the Collector's own syntax); every
//! YAML file there parses, and every `tail_sampling` section in it loads.

use std::path::{Path, PathBuf};

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

/// Every `.yaml` / `.yml` file under `dir`, recursively, sorted.
fn yaml_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e == "yaml" || e == "yml")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A `tail_sampling` section found in a deploy file, loaded with tracewire's own loader.
struct Found {
    /// Where: the file, the document, and the ConfigMap key when the config is embedded.
    place: String,
    /// The processor's name (`tail_sampling` or `tail_sampling/<name>`).
    name: String,
    config: TailSamplingConfig,
}

/// Looks for `tail_sampling` processors in one YAML document (`text` is the document's own
/// source when known, so that the loader reads exactly what a Collector would), and in every
/// YAML string embedded in it (a ConfigMap's `config.yaml`).
fn collect(
    value: &serde_norway::Value,
    text: Option<&str>,
    place: &str,
    found: &mut Vec<Found>,
) -> anyhow::Result<()> {
    use serde_norway::Value;
    let processors = value.get("processors").and_then(Value::as_mapping);
    for (key, body) in processors.into_iter().flatten() {
        let Some(name) = key.as_str() else { continue };
        if name != "tail_sampling" && !name.starts_with("tail_sampling/") {
            continue;
        }
        let config = match text {
            Some(text) => TailSamplingConfig::from_yaml_str_named(text, name),
            // A document of a multi-document file: the processor's body alone.
            None => TailSamplingConfig::from_yaml_str(&serde_norway::to_string(body)?),
        }
        .map_err(|e| anyhow::anyhow!("{place}: processor `{name}`: {e}"))?;
        found.push(Found {
            place: place.to_owned(),
            name: name.to_owned(),
            config,
        });
    }
    // A bare `tail_sampling:` key at the top of a document.
    if processors.is_none()
        && let Some(body) = value.get("tail_sampling")
    {
        let config = TailSamplingConfig::from_yaml_str(&serde_norway::to_string(body)?)
            .map_err(|e| anyhow::anyhow!("{place}: `tail_sampling`: {e}"))?;
        found.push(Found {
            place: place.to_owned(),
            name: "tail_sampling".to_owned(),
            config,
        });
    }
    // Configs embedded as strings: every ConfigMap data entry named *.yaml / *.yml must parse,
    // and is searched like a file.
    if value.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
        for (key, embedded) in value
            .get("data")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let (Some(key), Some(embedded)) = (key.as_str(), embedded.as_str()) else {
                continue;
            };
            if !(key.ends_with(".yaml") || key.ends_with(".yml")) {
                continue;
            }
            let place = format!("{place}, data.{key}");
            let inner: Value = serde_norway::from_str(embedded)
                .map_err(|e| anyhow::anyhow!("{place}: does not parse: {e}"))?;
            collect(&inner, Some(embedded), &place, found)?;
        }
    }
    Ok(())
}

/// Parses every YAML file under `root` (each document of multi-document files) and loads every
/// `tail_sampling` section found, in files or in ConfigMap-embedded configs.
fn walk(root: &Path) -> anyhow::Result<Vec<Found>> {
    let mut found = Vec::new();
    for file in yaml_files(root)? {
        let text = std::fs::read_to_string(&file)?;
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let documents: Vec<serde_norway::Value> = serde_norway::Deserializer::from_str(&text)
            .map(serde_norway::Value::deserialize)
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("{shown}: does not parse: {e}"))?;
        anyhow::ensure!(!documents.is_empty(), "{shown}: no YAML document");
        let single = documents.len() == 1;
        for (i, document) in documents.iter().enumerate() {
            let place = format!("{shown} (document {})", i + 1);
            collect(
                document,
                single.then_some(text.as_str()),
                &place,
                &mut found,
            )?;
        }
    }
    Ok(found)
}

#[test]
fn every_deploy_yaml_file_parses_and_every_tail_sampling_section_loads() -> anyhow::Result<()> {
    let root = deploy("");
    let files = yaml_files(&root)?;
    assert!(
        files.len() >= 9,
        "the deploy files were not found under {}: {files:?}",
        root.display()
    );

    let found = walk(&root)?;
    let places: Vec<String> = found
        .iter()
        .map(|f| format!("{}: {}", f.place, f.name))
        .collect();
    for expected in [
        "collector/collector-jaeger.yaml (document 1): tail_sampling",
        "kubernetes/gateway.yaml (document 1), data.config.yaml: tail_sampling",
    ] {
        assert!(
            places.iter().any(|p| p == expected),
            "{expected} not found in {places:#?}"
        );
    }
    for f in &found {
        assert!(
            !f.config.policies.is_empty(),
            "{}: `{}` has no policies",
            f.place,
            f.name
        );
    }
    Ok(())
}

#[test]
fn the_walk_fails_on_a_file_that_does_not_parse_or_a_section_that_does_not_load()
-> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("tracewire-tail-deploy-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("nested"))?;
    let good = "processors:\n  tail_sampling:\n    policies:\n      - name: all\n        type: always_sample\n";
    std::fs::write(dir.join("good.yaml"), good)?;
    let walked = walk(&dir)?;
    assert_eq!(walked.len(), 1);

    // A new file that does not parse, in a sub-folder, multi-document.
    std::fs::write(
        dir.join("nested/broken.yml"),
        "kind: Namespace\n---\nprocessors: [\n",
    )?;
    let err = walk(&dir).err().expect("a broken file fails the walk");
    assert!(
        err.to_string()
            .starts_with("nested/broken.yml: does not parse"),
        "{err}"
    );

    // A ConfigMap whose embedded config has a section the loader rejects.
    std::fs::write(
        dir.join("nested/broken.yml"),
        "kind: ConfigMap\ndata:\n  config.yaml: |\n    processors:\n      tail_sampling:\n        policies:\n          - name: x\n            type: ottl_condition\n",
    )?;
    let err = walk(&dir)
        .err()
        .expect("a section that does not load fails the walk");
    assert!(
        err.to_string().starts_with(
            "nested/broken.yml (document 1), data.config.yaml: processor `tail_sampling`"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
