//! The Kafka-compatible broker the integration tests run against: tansu, pinned, installed
//! from crates.io when missing.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::{cargo, run_cmd};

/// The pinned tansu version; the tests were checked against it with rdkafka 0.39.
pub(crate) const TANSU_VERSION: &str = "0.6.0";

/// Finds a tansu binary of the pinned version, installing it with `cargo install --locked` when
/// none is found. Returns its path.
pub(crate) fn ensure_installed() -> Result<PathBuf> {
    if let Some(path) = find() {
        return Ok(path);
    }
    eprintln!("xtask: tansu {TANSU_VERSION} not found; installing it (takes several minutes)");
    run_cmd(cargo().args([
        "install",
        "tansu",
        "--version",
        TANSU_VERSION,
        "--locked",
        "--features",
        "dynostore",
    ]))?;
    find().context("tansu was installed but cannot be found in $CARGO_HOME/bin or $PATH")
}

fn find() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("TRACEWIRE_TANSU") {
        candidates.push(PathBuf::from(p));
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        candidates.push(home.join("bin").join("tansu"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("tansu")));
    }
    candidates.into_iter().find(is_pinned_version)
}

fn is_pinned_version(path: &PathBuf) -> bool {
    Command::new(path)
        .arg("--version")
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(TANSU_VERSION))
        .unwrap_or(false)
}

/// Runs a broker on 127.0.0.1:`port` in the foreground until interrupted.
pub(crate) fn foreground(port: u16) -> Result<()> {
    let tansu = ensure_installed()?;
    let url = format!("tcp://127.0.0.1:{port}");
    eprintln!("xtask: tansu broker on {url} (Ctrl-C to stop)");
    let status = Command::new(tansu)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .status()
        .context("starting tansu")?;
    if !status.success() {
        bail!("tansu exited: {status}");
    }
    Ok(())
}
