//! `cargo xtask`: every piece of tracewire's automation, runnable the same way locally and in CI.
//!
//! Run `cargo xtask help` for the list of tasks.

mod broker;
mod layers;
mod tasks;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, bail};

const HELP: &str = "\
cargo xtask <task> [args]

tasks:
  ci            everything CI checks: fmt, lint, test, layers, docs, build of examples and benches, fuzz (short)
  fmt [--check] format the workspace (or only check it)
  lint          clippy on every target and feature, warnings denied
  test          unit, doc and integration tests: loopback HTTP/OTLP servers and a real Kafka-compatible
                broker (installs the pinned tansu if missing)
  it            only the integration tests against the real broker (installs tansu if missing)
  layers        check the direction of dependencies between tracewire crates
  docs          build the API docs with warnings denied
  build-all     build every target (examples, binaries, tests and benches)
  bench         run every bench; prints ratios and allocations per operation
  fuzz [--seconds N]
                run every fuzz target for N seconds each (default 60)
  demo [args]   run the demo: the article's system on 127.0.0.1 (args go to the demo)
  broker [--port N]
                install if missing and run a tansu broker in the foreground (for manual testing)
  deploy-check  validate docs/deploy against published schemas: the Kubernetes manifests
                (kubernetes-validate, strict) and the Compose files (the compose-spec schema),
                with pinned Python tools in a virtualenv under target/ (needs python3 and PyPI)
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_else(|| "help".to_owned());
    let rest: Vec<String> = args.collect();
    std::env::set_current_dir(project_root()).context("entering the project root")?;
    match task.as_str() {
        "ci" => tasks::ci(),
        "fmt" => tasks::fmt(rest.iter().any(|a| a == "--check")),
        "lint" => tasks::lint(),
        "test" => tasks::test(),
        "it" => tasks::it(),
        "layers" => layers::check(),
        "docs" => tasks::docs(),
        "build-all" => tasks::build_all(),
        "bench" => tasks::bench(&rest),
        "fuzz" => tasks::fuzz(parse_seconds(&rest, 60)?),
        "demo" => tasks::demo(&rest),
        "broker" => broker::foreground(parse_port(&rest)?),
        "deploy-check" => tasks::deploy_check(),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{HELP}"),
    }
}

fn parse_seconds(args: &[String], default: u64) -> Result<u64> {
    flag_value(args, "--seconds")
        .map(|v| v.parse().with_context(|| format!("--seconds {v}")))
        .unwrap_or(Ok(default))
}

fn parse_port(args: &[String]) -> Result<u16> {
    flag_value(args, "--port")
        .map(|v| v.parse().with_context(|| format!("--port {v}")))
        .unwrap_or(Ok(19092))
}

fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The workspace root, from this crate's manifest directory.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The `cargo` that runs this xtask.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd`, echoing it first; fails when it exits unsuccessfully.
pub(crate) fn run_cmd(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", display(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("starting {}", display(cmd)))?;
    if !status.success() {
        bail!("`{}` failed: {status}", display(cmd));
    }
    Ok(())
}

pub(crate) fn display(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
