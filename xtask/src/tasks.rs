//! The build, test and check tasks.

use std::time::Instant;

use anyhow::Result;

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
