//! Running the demo binary from the tests, and reading what it wrote.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, ensure};
use serde_json::Value;

/// The article's policies, with a larger probabilistic share than its 5% so that a run of a few
/// dozen orders keeps whole traces for sure (each service keeps the same traces: the share is by
/// trace id). Errors must still be kept by `error-sampling`, whatever the share.
const TAIL: &str = r#"
tail_sampling:
  decision_wait: 1s
  num_traces: 10000
  policies:
    - name: error-sampling
      type: status_code
      config:
        status_code: ERROR
        sampling_percentage: 100
    - name: latency-sampling
      type: latency
      config:
        threshold_ms: 500
        sampling_percentage: 50
    - name: probabilistic
      type: probabilistic
      config:
        sampling_percentage: 50
"#;

/// A new directory of its own in the system's temporary directory.
pub fn temp_dir() -> anyhow::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "tracewire-demo-test-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The JSON the HTML view embeds.
pub fn embedded_data(page: &str) -> anyhow::Result<Value> {
    let marker = r#"<script type="application/json" id="data">"#;
    let start = page.find(marker).context("no data element in the page")? + marker.len();
    let len = page[start..]
        .find("</script>")
        .context("data element not closed")?;
    Ok(serde_json::from_str(&page[start..start + len])?)
}

/// Runs the demo in-process with `orders` orders (seed 7, 20% failures, none slow), the test's
/// tail-sampling config, its files in `dir`, and `env` added to a clean environment.
pub fn run_demo(dir: &Path, orders: u32, env: &[(&str, &str)]) -> anyhow::Result<String> {
    let output = demo_command(dir, orders, env)?
        .output()
        .context("running the demo")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "the demo failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

/// The demo's command line as [`run_demo`] runs it.
pub fn demo_command(dir: &Path, orders: u32, env: &[(&str, &str)]) -> anyhow::Result<Command> {
    let tail = dir.join("tail.yaml");
    std::fs::write(&tail, TAIL)?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_tracewire-demo"));
    command
        .arg("--orders")
        .arg(orders.to_string())
        .args(["--concurrency", "8", "--seed", "7"])
        .args(["--failure-rate", "0.2", "--slow-rate", "0"])
        .arg("--tail-sampling")
        .arg(&tail)
        .arg("--out-dir")
        .arg(dir)
        .env_remove("KAFKA_BROKERS")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied());
    Ok(command)
}
