//! One part of the system per process (`--service ...`): the same code as the in-process demo,
//! with logs on standard output and spans to OTLP (`OTEL_EXPORTER_OTLP_ENDPOINT`) or, without
//! it, to the console.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

use crate::cli::{Cli, Role};
use crate::fulfillment::Fulfilled;
use crate::gateway::Gateway;
use crate::kafka::Kafka;
use crate::logs::LogSink;
use crate::system::{Server, random_seed, tail_config};
use crate::telemetry::{Exports, Telemetry, otlp_requested};
use crate::{checkout, fulfillment, load, logs, payments};

const CHECKOUT_PORT: u16 = 8080;
const PAYMENTS_PORT: u16 = 8081;

/// Runs one part until Ctrl-C (the load generator: until its orders are sent).
pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.service {
        Role::Kafka => kafka().await,
        Role::Load => load(&cli).await,
        Role::Checkout | Role::Payments | Role::Fulfillment => service(&cli).await,
        Role::All => anyhow::bail!("the whole system runs in crate::demo"),
    }
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        // Without a signal handler, run until killed.
        std::future::pending::<()>().await;
    }
}

/// librdkafka's mock cluster as a process of its own: its address goes to the other processes.
async fn kafka() -> anyhow::Result<()> {
    let kafka = Kafka::connect(None).await?;
    println!("KAFKA_BROKERS={}", kafka.bootstrap_servers());
    eprintln!(
        "librdkafka's mock cluster, with the `orders` topic: give the line above to payments and \
         fulfillment; Ctrl-C stops it"
    );
    ctrl_c().await;
    drop(kafka);
    Ok(())
}

async fn service(cli: &Cli) -> anyhow::Result<()> {
    let sink = LogSink::stdout();
    logs::install_tracing(&sink)?;
    let tail = tail_config(cli.tail_sampling.as_deref())?;
    let exports = Exports {
        in_process: false,
        console: !otlp_requested(),
    };
    let (stop_tx, stop) = watch::channel(false);
    let listen = |port| {
        cli.listen
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    };
    let needs_kafka = || -> anyhow::Result<&str> {
        cli.kafka_brokers.as_deref().context(
            "this service needs Kafka: set KAFKA_BROKERS or --kafka-brokers (run \
             `tracewire-demo --service kafka` for librdkafka's mock cluster)",
        )
    };

    match cli.service {
        Role::Checkout => {
            let telemetry = Telemetry::start("checkout", &tail, exports)?;
            let router = checkout::router(
                &telemetry,
                &cli.payments_url,
                logs::slog_logger(&sink, "checkout"),
            );
            let server = Server::start(listen(CHECKOUT_PORT), router, stop).await?;
            eprintln!(
                "checkout listening on http://{} (payments at {}); Ctrl-C stops it",
                server.addr, cli.payments_url
            );
            ctrl_c().await;
            let _ = stop_tx.send(true);
            server.join().await?;
            telemetry.shutdown()
        }
        Role::Payments => {
            let kafka = Kafka::connect(Some(needs_kafka()?)).await?;
            let telemetry = Telemetry::start("payments", &tail, exports)?;
            let seed = cli.seed.unwrap_or_else(random_seed);
            let gateway = Gateway {
                seed,
                failure_rate: cli.failure_rate,
                slow_rate: cli.slow_rate,
            };
            let producer = payments::producer(&telemetry, &kafka.producer_config())?;
            let router = payments::router(
                &telemetry,
                gateway,
                producer,
                logs::slog_logger(&sink, "payments"),
            );
            let server = Server::start(listen(PAYMENTS_PORT), router, stop).await?;
            eprintln!(
                "payments listening on http://{} (Kafka: {}); Ctrl-C stops it",
                server.addr,
                kafka.describe()
            );
            ctrl_c().await;
            let _ = stop_tx.send(true);
            server.join().await?;
            telemetry.shutdown()
        }
        Role::Fulfillment => {
            let kafka = Kafka::connect(Some(needs_kafka()?)).await?;
            let telemetry = Arc::new(Telemetry::start("fulfillment", &tail, exports)?);
            let consumer = {
                let telemetry = Arc::clone(&telemetry);
                let config = kafka.consumer_config();
                let log = logs::slog_logger(&sink, "fulfillment");
                tokio::spawn(async move {
                    fulfillment::run(
                        &telemetry,
                        config,
                        log,
                        Arc::new(Fulfilled::default()),
                        stop,
                    )
                    .await
                })
            };
            eprintln!(
                "fulfillment consuming `orders` from {}; Ctrl-C stops it",
                kafka.describe()
            );
            ctrl_c().await;
            let _ = stop_tx.send(true);
            consumer.await.context("the consumer task failed")??;
            Arc::try_unwrap(telemetry)
                .map_err(|_| anyhow::anyhow!("fulfillment's telemetry is still in use"))?
                .shutdown()
        }
        _ => Ok(()),
    }
}

async fn load(cli: &Cli) -> anyhow::Result<()> {
    let seed = cli.seed.unwrap_or_else(random_seed);
    eprintln!(
        "Sending {} orders to {}, {} at a time (seed {seed}):",
        cli.orders, cli.checkout_url, cli.concurrency
    );
    let results = load::run(&cli.checkout_url, cli.orders, cli.concurrency, seed).await?;
    let accepted = results.iter().filter(|r| r.accepted()).count();
    println!(
        "{} orders: {accepted} accepted, {} failed",
        results.len(),
        results.len() - accepted
    );
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.accepted())
        .filter_map(|r| r.trace_id.map(|t| t.to_string()))
        .collect();
    if !failed.is_empty() {
        println!("Traces of the failed orders (kept by error-sampling in checkout and payments):");
        for id in failed.iter().take(10) {
            println!("  {id}   Jaeger: http://localhost:16686/trace/{id}");
        }
    }
    Ok(())
}
