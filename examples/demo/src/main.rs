//! tracewire-demo: the article's system (checkout → payments → Kafka → fulfillment) on
//! 127.0.0.1, traced with tracewire, and a view of the traces tail sampling kept.
//!
//! `cargo xtask demo` runs it with its defaults; `--help` lists the flags, and
//! docs/guides/demo.md explains what it shows and how to run each service as its own process.

mod checkout;
mod cli;
mod demo;
mod fulfillment;
mod gateway;
mod kafka;
mod load;
mod logs;
mod model;
mod payments;
mod standalone;
mod system;
mod telemetry;
mod view;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Role};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tracewire-demo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.service {
            Role::All => demo::run(cli).await,
            _ => standalone::run(cli).await,
        }
    });
    // Whatever a service left running (a client's idle connection) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracewire-demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}
