//! Starting and stopping the parts of the system: the HTTP services, the consumer, the sampling
//! setup, the output directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracewire_sdk::tail::{Policy, TailSamplingConfig};

use crate::telemetry::{ARTICLE_TAIL_SAMPLING, HEAD_RATIO};
use crate::view::Sampling;

/// How long a stopping server may take to finish its connections.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTP service running on a task until stopped.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves `router` on `addr` (port 0: any free port) until `stop` turns true.
    pub(crate) async fn start(
        addr: SocketAddr,
        router: Router,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let addr = listener.local_addr()?;
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stop| *stop).await;
        });
        let task = tokio::spawn(async move { serve.await });
        Ok(Self { addr, task })
    }

    /// Waits for the server to finish after `stop` turned true (abandoning it past a limit).
    pub(crate) async fn join(self) -> anyhow::Result<()> {
        let abort = self.task.abort_handle();
        match tokio::time::timeout(STOP_TIMEOUT, self.task).await {
            Ok(joined) => joined
                .context("the server task failed")?
                .context("the server failed"),
            Err(_) => {
                abort.abort();
                Ok(())
            }
        }
    }
}

/// The tail-sampling config: the file given, or the article's (validated by the loader).
pub(crate) fn tail_config(path: Option<&Path>) -> anyhow::Result<TailSamplingConfig> {
    Ok(match path {
        Some(path) => TailSamplingConfig::from_yaml_file(path)?,
        None => TailSamplingConfig::from_yaml_str(ARTICLE_TAIL_SAMPLING)?,
    })
}

/// The sampling setup in words.
pub(crate) fn describe_sampling(tail: &TailSamplingConfig) -> Sampling {
    let head = format!(
        "payment.* always, health-check never, {:.0}% of the rest by trace id (the other traces \
         are recorded, not sampled, so the tail sampler sees them)",
        HEAD_RATIO * 100.0
    );
    let mut policies: Vec<String> = tail
        .policies
        .iter()
        .map(|p| {
            let what = match &p.policy {
                Policy::StatusCode(s) => format!(
                    "status {}{}",
                    s.status_codes
                        .iter()
                        .map(|c| format!("{c:?}").to_uppercase())
                        .collect::<Vec<_>>()
                        .join("|"),
                    share(s.sampling_percentage)
                ),
                Policy::Latency(l) => {
                    format!("over {} ms{}", l.threshold_ms, share(l.sampling_percentage))
                }
                Policy::Probabilistic(p) => format!("{}% by trace id", p.sampling_percentage),
                other => other.type_name().to_owned(),
            };
            format!("{}: {what}", p.name)
        })
        .collect();
    policies.push(format!(
        "decision_wait {}",
        tracewire_sdk::tail::format_go_duration(tail.decision_wait)
    ));
    Sampling {
        head,
        tail: policies,
    }
}

fn share(percentage: Option<f64>) -> String {
    match percentage {
        Some(p) if p < 100.0 => format!(", {p}% of them"),
        _ => String::new(),
    }
}

/// Where the demo writes its files: `--out-dir`, else `target/tracewire-demo` next to the
/// binary's own target directory, else a directory in the system's temporary directory.
pub(crate) fn out_dir(given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_owned();
    }
    let target = std::env::current_exe().ok().and_then(|exe| {
        // target/<profile>/tracewire-demo → target
        let profile = exe.parent()?;
        let name = profile.file_name()?.to_str()?;
        matches!(name, "debug" | "release")
            .then(|| profile.parent().map(Path::to_owned))
            .flatten()
    });
    match target {
        Some(target) => target.join("tracewire-demo"),
        None => std::env::temp_dir().join("tracewire-demo"),
    }
}

/// A seed from the clock and the process id, for runs without `--seed`: short enough to type
/// back.
pub(crate) fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state = nanos ^ (u64::from(std::process::id()) << 32);
    crate::gateway::splitmix(&mut state) % 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_articles_sampling_in_words() -> anyhow::Result<()> {
        let s = describe_sampling(&tail_config(None)?);
        assert_eq!(
            s.tail,
            [
                "error-sampling: status ERROR",
                "latency-sampling: over 500 ms, 50% of them",
                "probabilistic: 5% by trace id",
                "decision_wait 2s",
            ]
        );
        Ok(())
    }
}
