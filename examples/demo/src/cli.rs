//! The command line: what runs (the whole system or one service) and how.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The article's system (checkout → payments → Kafka → fulfillment) on 127.0.0.1, traced with
/// tracewire: head and tail sampling, baggage, logs with trace ids, and a trace view.
///
/// Without arguments, everything runs in this process: the three services (each with its own
/// tracer provider and `service.name`), librdkafka's mock Kafka cluster, and a load generator.
/// With `--service`, one part runs on its own, so several processes form a real deployment
/// (see docs/guides/demo.md).
#[derive(Debug, Clone, Parser)]
#[command(name = "tracewire-demo", version, about, long_about = None)]
pub(crate) struct Cli {
    /// What to run: everything in one process, or one part of the system.
    #[arg(long, value_enum, default_value_t = Role::All)]
    pub(crate) service: Role,

    /// How many orders the load generator sends.
    #[arg(long, default_value_t = 200)]
    pub(crate) orders: u32,

    /// Orders in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(crate) concurrency: u32,

    /// Share of payments the (simulated) payment gateway fails.
    #[arg(long, default_value_t = 0.1, value_parser = parse_share)]
    pub(crate) failure_rate: f64,

    /// Share of payments the gateway answers slowly (over the 500 ms of the latency policy).
    #[arg(long, default_value_t = 0.05, value_parser = parse_share)]
    pub(crate) slow_rate: f64,

    /// Seed of the orders and of the gateway's answers (random when not given; printed).
    #[arg(long)]
    pub(crate) seed: Option<u64>,

    /// Tail-sampling config (Collector YAML); default: the article's, with decision_wait 2s.
    #[arg(long, value_name = "FILE")]
    pub(crate) tail_sampling: Option<PathBuf>,

    /// Kafka bootstrap servers; default: librdkafka's in-process mock cluster.
    #[arg(long, env = "KAFKA_BROKERS", value_name = "HOST:PORT,...")]
    pub(crate) kafka_brokers: Option<String>,

    /// Where the demo writes its files (trace view, logs); default: target/tracewire-demo.
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: Option<PathBuf>,

    /// Where the HTML trace view goes; default: trace-view.html in the output directory.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,

    /// Address the service listens on (`--service checkout`: 127.0.0.1:8080, `payments`:
    /// 127.0.0.1:8081).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,

    /// Where checkout finds payments (`--service checkout`).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8081")]
    pub(crate) payments_url: String,

    /// Where the load generator sends orders (`--service load`).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) checkout_url: String,
}

/// What the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Role {
    /// The whole system and the load generator, then the trace view.
    All,
    /// The checkout service (HTTP), calling payments.
    Checkout,
    /// The payments service (HTTP), producing to Kafka.
    Payments,
    /// The fulfillment service (a Kafka consumer).
    Fulfillment,
    /// The load generator, sending orders to checkout.
    Load,
    /// librdkafka's mock cluster alone, for the other processes to use.
    Kafka,
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a share between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_between_zero_and_one() {
        assert_eq!(parse_share("0.25"), Ok(0.25));
        assert_eq!(parse_share("1"), Ok(1.0));
        assert!(parse_share("1.5").is_err());
        assert!(parse_share("-0.1").is_err());
        assert!(parse_share("NaN").is_err());
    }

    #[test]
    fn defaults() {
        let cli = Cli::parse_from(["tracewire-demo"]);
        assert_eq!(cli.service, Role::All);
        assert_eq!(cli.orders, 200);
        let cli = Cli::parse_from(["tracewire-demo", "--service", "checkout", "--orders", "3"]);
        assert_eq!((cli.service, cli.orders), (Role::Checkout, 3));
    }
}
