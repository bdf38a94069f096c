//! Loads the article's tail-sampling YAML (or any Collector config given as the first
//! argument), runs a few traces through tracewire's in-process tail sampler, and prints which
//! were kept and why.
//!
//! ```sh
//! cargo run -p tail-sampling                                                 # the article's YAML
//! cargo run -p tail-sampling -- docs/deploy/collector/collector-jaeger.yaml  # a Collector config
//! ```

use anyhow::{Context as _, ensure};
use tail_sampling::{ARTICLE_YAML, Shape, run};
use tracewire_sdk::tail::TailSamplingConfig;

fn main() -> anyhow::Result<()> {
    let (source, config) = match std::env::args().nth(1) {
        Some(path) => (
            path.clone(),
            TailSamplingConfig::from_yaml_file(&path).with_context(|| format!("loading {path}"))?,
        ),
        None => (
            "article.yaml (the article's config)".to_owned(),
            TailSamplingConfig::from_yaml_str(ARTICLE_YAML)?,
        ),
    };
    println!("tail_sampling from {source}:");
    println!(
        "  decision_wait {:?}, num_traces {}, policies:",
        config.decision_wait, config.num_traces
    );
    for policy in &config.policies {
        println!("  - {} ({})", policy.name, policy.policy.type_name());
    }

    let report = run(config)?;

    println!(
        "\n{:<34} {:<22} {:>5}  {:<8} policy",
        "trace", "what", "spans", "kept"
    );
    for t in &report.traces {
        println!(
            "{:<34} {:<22} {:>5}  {:<8} {}",
            t.trace_id,
            t.shape.to_string(),
            t.spans,
            if t.kept() { "yes" } else { "no" },
            t.policy.as_deref().unwrap_or("-"),
        );
    }
    let kept = report.traces.iter().filter(|t| t.kept()).count();
    println!(
        "\nkept {kept} of {} traces; {} spans exported",
        report.traces.len(),
        report.exported_spans
    );

    // The article's promise: every error trace is kept.
    ensure!(
        report
            .traces
            .iter()
            .filter(|t| t.shape == Shape::Failing)
            .all(|t| t.kept()),
        "an error trace was dropped"
    );
    Ok(())
}
