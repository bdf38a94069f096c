//! The build, test and check tasks.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

use crate::{broker, cargo, layers, run_cmd};

type Step = (&'static str, fn() -> Result<()>);

/// Every check CI runs, in the order that fails fastest.
pub(crate) fn ci() -> Result<()> {
    let started = Instant::now();
    // `test` includes the broker tests (it installs tansu first), so `it` is not repeated here.
    let steps: [Step; 7] = [
        ("fmt", || fmt(true)),
        ("lint", lint),
        ("test", test),
        ("layers", layers::check),
        ("docs", docs),
        ("build-all", build_all),
        ("fuzz", || fuzz(5)),
    ];
    for (name, step) in steps {
        let t = Instant::now();
        eprintln!("\n=== xtask ci: {name} ===");
        step()?;
        eprintln!("=== {name}: ok in {:.0?} ===", t.elapsed());
    }
    eprintln!("\nxtask ci: all green in {:.0?}", started.elapsed());
    Ok(())
}

pub(crate) fn fmt(check: bool) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["fmt", "--all"]);
    if check {
        cmd.args(["--", "--check"]);
    }
    run_cmd(&mut cmd)
}

pub(crate) fn lint() -> Result<()> {
    run_cmd(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Every test: unit, doc and integration tests, the Kafka tests against a real broker included
/// (`--all-features` turns on `broker-tests`), so the pinned tansu binary is installed first.
pub(crate) fn test() -> Result<()> {
    let tansu = broker::ensure_installed()?;
    run_cmd(
        cargo()
            .args(["test", "--workspace", "--all-features", "--no-fail-fast"])
            .env("TRACEWIRE_TANSU", tansu),
    )
}

/// Integration tests against a real Kafka-compatible broker. The tests start and stop the broker
/// themselves (by pid); this task makes sure the pinned tansu binary is installed first.
pub(crate) fn it() -> Result<()> {
    let tansu = broker::ensure_installed()?;
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--package",
        "tracewire-kafka",
        "--features",
        "broker-tests",
        "--test",
        "broker",
    ])
    .env("TRACEWIRE_TANSU", tansu);
    run_cmd(&mut cmd)
}

pub(crate) fn docs() -> Result<()> {
    run_cmd(
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-Dwarnings"),
    )
}

/// Builds every target of every package (libraries, binaries, examples, tests and benches) in
/// the test profile, with the test step's features, so it reuses that step's build; benches are
/// compiled here, run by `cargo xtask bench` in the bench profile.
pub(crate) fn build_all() -> Result<()> {
    run_cmd(cargo().args(["build", "--workspace", "--all-features", "--all-targets"]))
}

pub(crate) fn bench(args: &[String]) -> Result<()> {
    let tansu = broker::ensure_installed()?;
    let mut cmd = cargo();
    cmd.args(["bench", "--workspace", "--all-features"])
        .env("TRACEWIRE_TANSU", tansu);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run_cmd(&mut cmd)
}

/// Runs every fuzz target (each crate's `tests/fuzz.rs`) for `seconds` each. The test profile is
/// used so that the build is shared with `cargo xtask test`.
pub(crate) fn fuzz(seconds: u64) -> Result<()> {
    run_cmd(
        cargo()
            .args([
                "test",
                "--workspace",
                "--all-features",
                "--test",
                "fuzz",
                "--",
                "--test-threads",
                "1",
            ])
            .env("TRACEWIRE_FUZZ_SECONDS", seconds.to_string()),
    )
}

/// The demo in the dev profile: on two cores its own crate compiles in about 4 s there against
/// 45 s with `--release` (and the dependencies take minutes more), while a run of 200 orders is
/// only ~0.5 s slower (it waits on I/O and timers, not on the CPU).
pub(crate) fn demo(args: &[String]) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["run", "--package", "tracewire-demo", "--"])
        .args(args);
    run_cmd(&mut cmd)
}

/// Versions of the Python validators `deploy-check` installs.
const KUBERNETES_VALIDATE: &str = "kubernetes-validate==1.37.0";
const CHECK_JSONSCHEMA: &str = "check-jsonschema==0.39.0";
/// The Kubernetes version the manifests are checked against.
const KUBERNETES_VERSION: &str = "1.30.0";

/// Validates the files under docs/deploy against published schemas (the YAML parse and the
/// tail-sampling sections are checked by the facade's tests in `ci`; this adds the schemas).
pub(crate) fn deploy_check() -> Result<()> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| "target".into());
    let venv = target.join("deploy-check-venv");
    let bin = venv.join("bin");
    if !bin.join("check-jsonschema").exists() || !bin.join("kubernetes-validate").exists() {
        run_cmd(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run_cmd(Command::new(bin.join("pip")).args([
            "install",
            "--quiet",
            KUBERNETES_VALIDATE,
            CHECK_JSONSCHEMA,
        ]))?;
    }
    let files = |dir: &str| -> Result<Vec<PathBuf>> {
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {dir}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        out.sort();
        Ok(out)
    };
    let manifests = files("docs/deploy/kubernetes")?;
    let compose = files("docs/deploy/compose")?;
    if manifests.is_empty() || compose.is_empty() {
        bail!("docs/deploy has no Kubernetes or Compose files to check");
    }
    run_cmd(
        Command::new(bin.join("kubernetes-validate"))
            .args(["--strict", "-k", KUBERNETES_VERSION])
            .args(&manifests),
    )?;
    run_cmd(
        Command::new(bin.join("check-jsonschema"))
            .args(["--builtin-schema", "vendor.compose-spec"])
            .args(&compose),
    )
}
