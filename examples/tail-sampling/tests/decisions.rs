//! The example's traces are decided as the article's policies say, and the Collector config in
//! `docs/deploy` (the same policies in the Collector's own syntax) decides exactly the same way.

use std::path::PathBuf;

use tail_sampling::{ARTICLE_YAML, Shape, TRACES, run};
use tracewire_sdk::tail::TailSamplingConfig;

#[test]
fn every_trace_is_decided_by_the_policy_its_shape_allows() -> anyhow::Result<()> {
    let report = run(TailSamplingConfig::from_yaml_str(ARTICLE_YAML)?)?;
    assert_eq!(report.traces.len(), TRACES);
    for t in &report.traces {
        assert_eq!(
            t.spans, 2,
            "{t:?}: both spans were buffered before the decision"
        );
        let policy = t.policy.as_deref();
        match t.shape {
            Shape::Failing => assert_eq!(policy, Some("error-sampling"), "{t:?}"),
            Shape::Slow if t.kept() => assert!(
                matches!(policy, Some("latency-sampling" | "probabilistic")),
                "{t:?}"
            ),
            Shape::Fast if t.kept() => assert_eq!(policy, Some("probabilistic"), "{t:?}"),
            _ => assert_eq!(policy, None, "{t:?}"),
        }
    }
    let kept = report.traces.iter().filter(|t| t.kept()).count();
    assert_eq!(
        report.exported_spans,
        2 * kept,
        "kept traces are exported whole"
    );
    Ok(())
}

#[test]
fn the_deploy_collector_config_keeps_the_same_traces() -> anyhow::Result<()> {
    let deploy = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/deploy/collector/collector-jaeger.yaml");
    let article = run(TailSamplingConfig::from_yaml_str(ARTICLE_YAML)?)?;
    let collector = run(TailSamplingConfig::from_yaml_file(deploy)?)?;
    let kept = |r: &tail_sampling::Report| -> Vec<String> {
        r.traces
            .iter()
            .filter(|t| t.kept())
            .map(|t| t.trace_id.to_string())
            .collect()
    };
    assert_eq!(kept(&article), kept(&collector));
    Ok(())
}
