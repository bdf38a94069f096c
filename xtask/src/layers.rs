//! `cargo xtask layers`: dependencies between tracewire crates point one way.
//!
//! core <- propagation <- api <- {tower, kafka, correlate}; sdk sits on core and propagation.
//! Instrumentation crates never depend on each other, on tracewire-sdk, or on opentelemetry_sdk
//! (or the exporters), with default features and with all features: a user who picks
//! tracewire-tower with their own SDK setup must be able to.

use std::collections::BTreeSet;

use anyhow::{Context as _, Result, bail};

use crate::cargo;

/// Each library crate and the tracewire crates it may depend on directly (normal edges).
const ALLOWED: &[(&str, &[&str])] = &[
    ("tracewire-core", &[]),
    ("tracewire-propagation", &["tracewire-core"]),
    (
        "tracewire-api",
        &["tracewire-core", "tracewire-propagation"],
    ),
    (
        "tracewire-sdk",
        &["tracewire-core", "tracewire-propagation"],
    ),
    (
        "tracewire-tower",
        &["tracewire-core", "tracewire-propagation", "tracewire-api"],
    ),
    (
        "tracewire-kafka",
        &["tracewire-core", "tracewire-propagation", "tracewire-api"],
    ),
    ("tracewire-correlate", &["tracewire-core", "tracewire-api"]),
    // The test kit is a dev-dependency of the crates above; depending on them would make two
    // copies of their types in their own tests.
    ("tracewire-testing", &["tracewire-core"]),
    // The facade re-exports everything behind features; it is never a dependency of the others.
    (
        "tracewire",
        &[
            "tracewire-core",
            "tracewire-propagation",
            "tracewire-api",
            "tracewire-sdk",
            "tracewire-tower",
            "tracewire-kafka",
            "tracewire-correlate",
            "tracewire-testing",
        ],
    ),
];

/// Crates that must never reach the SDK or an exporter through normal dependencies.
const API_ONLY: &[&str] = &[
    "tracewire-core",
    "tracewire-propagation",
    "tracewire-api",
    "tracewire-tower",
    "tracewire-kafka",
    "tracewire-correlate",
];

/// Packages an API-only crate must not reach.
const SDK_SIDE: &[&str] = &[
    "opentelemetry_sdk",
    "opentelemetry-otlp",
    "opentelemetry-zipkin",
    "tracewire-sdk",
    "tracewire-testing",
];

pub(crate) fn check() -> Result<()> {
    let members = workspace_members()?;
    let mut problems = Vec::new();
    for (krate, allowed) in ALLOWED {
        if !members.contains(*krate) {
            continue;
        }
        for features in [None, Some("--all-features")] {
            let direct = tree(krate, Some(1), features)?;
            for dep in direct.iter().filter(|d| d.starts_with("tracewire")) {
                if dep != krate && !allowed.contains(&dep.as_str()) {
                    problems.push(format!(
                        "{krate} depends on {dep} ({}): not allowed by the layering",
                        features.unwrap_or("default features")
                    ));
                }
            }
            if API_ONLY.contains(krate) {
                let all = tree(krate, None, features)?;
                for bad in SDK_SIDE.iter().filter(|b| all.contains(**b)) {
                    problems.push(format!(
                        "{krate} reaches {bad} ({}): instrumentation crates use the opentelemetry API only",
                        features.unwrap_or("default features")
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        eprintln!(
            "xtask layers: dependency directions hold for {} crates",
            members.len()
        );
        Ok(())
    } else {
        bail!("layering violations:\n  {}", problems.join("\n  "))
    }
}

fn workspace_members() -> Result<BTreeSet<String>> {
    let out = cargo()
        .args([
            "tree",
            "--workspace",
            "--depth",
            "0",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .context("running cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(names(&String::from_utf8_lossy(&out.stdout)))
}

/// The package names in `krate`'s normal-dependency tree.
fn tree(krate: &str, depth: Option<u32>, features: Option<&str>) -> Result<BTreeSet<String>> {
    let mut cmd = cargo();
    cmd.args([
        "tree", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}",
    ]);
    if let Some(d) = depth {
        cmd.args(["--depth", &d.to_string()]);
    }
    if let Some(f) = features {
        cmd.arg(f);
    }
    let out = cmd.output().context("running cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree -p {krate} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(names(&String::from_utf8_lossy(&out.stdout)))
}

fn names(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}
