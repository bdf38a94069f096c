//! The whole system in one process: three services, each with its own tracer provider, the
//! mock Kafka cluster, the load generator, then the views.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::watch;

use crate::cli::Cli;
use crate::fulfillment::Fulfilled;
use crate::gateway::Gateway;
use crate::kafka::Kafka;
use crate::logs::LogSink;
use crate::system::{Server, describe_sampling, out_dir, random_seed, tail_config};
use crate::telemetry::{Exports, Telemetry, otlp_requested};
use crate::view::terminal::{Style, sampling_table, trace_table, waterfall};
use crate::view::{Report, ServiceOutput, html};
use crate::{checkout, fulfillment, load, logs, payments};

/// How long the demo waits for fulfillment to consume the paid orders.
const FULFILLMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Kept traces listed in the terminal.
const TABLE_ROWS: usize = 10;
/// Log lines shown in the terminal.
const LOG_LINES: usize = 6;
/// Log lines kept per trace in the HTML view.
const LOG_LINES_PER_TRACE: usize = 40;

/// Runs the demo: starts everything, sends the orders, shows the kept traces, stops everything.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    let started = Instant::now();
    let style = Style::detect();
    let seed = cli.seed.unwrap_or_else(random_seed);
    let dir = out_dir(cli.out_dir.as_deref());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let html_path = cli
        .html
        .clone()
        .unwrap_or_else(|| dir.join("trace-view.html"));
    let sink = LogSink::file(&dir.join("logs.jsonl"))?;
    logs::install_tracing(&sink)?;

    let tail = tail_config(cli.tail_sampling.as_deref())?;
    let sampling = describe_sampling(&tail);
    let kafka = Kafka::connect(cli.kafka_brokers.as_deref()).await?;
    let exports = Exports {
        in_process: true,
        console: false,
    };
    let checkout_t = Telemetry::start("checkout", &tail, exports)?;
    let payments_t = Telemetry::start("payments", &tail, exports)?;
    let fulfillment_t = Arc::new(Telemetry::start("fulfillment", &tail, exports)?);

    // The services, on free ports of 127.0.0.1.
    let (stop_tx, stop) = watch::channel(false);
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let gateway = Gateway {
        seed,
        failure_rate: cli.failure_rate,
        slow_rate: cli.slow_rate,
    };
    let producer = payments::producer(&payments_t, &kafka.producer_config())?;
    let payments_router = payments::router(
        &payments_t,
        gateway,
        producer,
        logs::slog_logger(&sink, "payments"),
    );
    let payments_srv = Server::start(loopback, payments_router, stop.clone()).await?;
    let checkout_router = checkout::router(
        &checkout_t,
        &format!("http://{}", payments_srv.addr),
        logs::slog_logger(&sink, "checkout"),
    );
    let checkout_srv = Server::start(loopback, checkout_router, stop.clone()).await?;
    let fulfilled = Arc::new(Fulfilled::default());
    let consumer = {
        let telemetry = Arc::clone(&fulfillment_t);
        let config = kafka.consumer_config();
        let log = logs::slog_logger(&sink, "fulfillment");
        let fulfilled = Arc::clone(&fulfilled);
        let stop = stop.clone();
        tokio::spawn(
            async move { fulfillment::run(&telemetry, config, log, fulfilled, stop).await },
        )
    };

    println!(
        "{}",
        style.bold(&format!(
            "tracewire demo: the article's system on 127.0.0.1 (seed {seed}; replay with --seed {seed})"
        ))
    );
    println!(
        "  checkout     http://{}   POST /orders; baggage user.id, session.region, request.source; calls payments",
        checkout_srv.addr
    );
    println!(
        "  payments     http://{}   process-payment and payment.charge; publishes paid orders to `orders`",
        payments_srv.addr
    );
    println!("  fulfillment  consumes `orders`: process-order; logs with slog and tracing");
    println!("  kafka        {}", kafka.describe());
    println!("  head         {}", sampling.head);
    println!("  tail         {}", sampling.tail.join(" · "));
    println!(
        "  export       in-process view{}",
        if otlp_requested() {
            ", and OTLP (OTEL_EXPORTER_OTLP_ENDPOINT)"
        } else {
            " (set OTEL_EXPORTER_OTLP_ENDPOINT to send traces to a Collector or Jaeger too)"
        }
    );
    let joining = Instant::now();
    print!(
        "\nfulfillment is joining its consumer group{}... ",
        if matches!(kafka, Kafka::Mock(_)) {
            " (the mock cluster waits 3 s for more members)"
        } else {
            ""
        }
    );
    let _ = std::io::Write::flush(&mut std::io::stdout());
    if !fulfilled.wait_assigned(FULFILLMENT_TIMEOUT).await {
        anyhow::bail!("fulfillment got no partition of `orders` in {FULFILLMENT_TIMEOUT:?}");
    }
    println!("assigned in {:.1} s", joining.elapsed().as_secs_f64());
    println!(
        "Sending {} orders, {} at a time ({:.0}% of payments fail, {:.0}% are slow):",
        cli.orders,
        cli.concurrency,
        cli.failure_rate * 100.0,
        cli.slow_rate * 100.0
    );

    let orders = load::run(
        &format!("http://{}", checkout_srv.addr),
        cli.orders,
        cli.concurrency,
        seed,
    )
    .await;
    // Stop whatever happens next, but only after fulfillment has had its orders.
    let accepted: Vec<String> = orders
        .as_ref()
        .map(|o| {
            o.iter()
                .filter(|r| r.accepted())
                .map(|r| r.order.order_id.clone())
                .collect()
        })
        .unwrap_or_default();
    let fulfilled_count = fulfilled.wait_for(&accepted, FULFILLMENT_TIMEOUT).await;
    let _ = stop_tx.send(true);
    checkout_srv.join().await?;
    payments_srv.join().await?;
    consumer
        .await
        .context("the consumer task failed")?
        .context("the consumer failed")?;
    let orders = orders?;

    // Every buffered trace is decided now, and the kept ones exported.
    let fulfillment_t = Arc::try_unwrap(fulfillment_t)
        .map_err(|_| anyhow::anyhow!("fulfillment's telemetry is still in use"))?;
    let telemetry = [checkout_t, payments_t, fulfillment_t];
    for t in &telemetry {
        t.flush()?;
    }
    let outputs: Vec<ServiceOutput> = telemetry
        .iter()
        .map(|t| ServiceOutput {
            name: t.service,
            spans: t.kept.as_ref().map(|k| k.spans()).unwrap_or_default(),
            decisions: t.decisions.snapshot(),
        })
        .collect();
    let mut report = Report::build(
        &orders,
        &outputs,
        fulfilled_count,
        kafka.describe(),
        sampling,
        seed,
    );
    attach_logs(&mut report, &sink)?;

    print_report(&report, style);
    html::write(&report, &html_path)?;
    let html_path = std::fs::canonicalize(&html_path).unwrap_or(html_path);
    println!(
        "\n{} {}",
        style.bold("Trace view (one self-contained HTML file, no network):"),
        html_path.display()
    );
    let url = format!("file://{}", html_path.display());
    match (report.featured_error(), report.featured_complete()) {
        (None, None) => println!("  open {url}"),
        (error, whole) => {
            if let Some(t) = error {
                println!("  the error trace: {url}#{}", t.trace_id);
            }
            if let Some(t) = whole {
                println!("  the whole trace: {url}#{}", t.trace_id);
            }
        }
    }
    if let Some(path) = sink.path() {
        println!("{} {}", style.bold("All log lines:"), path.display());
    }

    for t in telemetry {
        t.shutdown()?;
    }
    sink.flush()?;
    drop(kafka);
    println!(
        "\nDone in {:.1} s: servers stopped, consumer closed, telemetry flushed and shut down.",
        started.elapsed().as_secs_f64()
    );
    if accepted.len() != fulfilled_count {
        anyhow::bail!(
            "fulfillment consumed {fulfilled_count} of {} paid orders in {FULFILLMENT_TIMEOUT:?}",
            accepted.len()
        );
    }
    Ok(())
}

/// Puts each kept trace's log lines into it (one pass over the log file).
fn attach_logs(report: &mut Report, sink: &LogSink) -> anyhow::Result<()> {
    let ids: HashSet<String> = report.traces.iter().map(|t| t.trace_id.clone()).collect();
    let mut by_trace = sink.lines_by_trace(&ids, LOG_LINES_PER_TRACE)?;
    for trace in &mut report.traces {
        trace.logs = by_trace.remove(&trace.trace_id).unwrap_or_default();
    }
    Ok(())
}

fn print_report(report: &Report, style: Style) {
    let kept = report.traces.len();
    let complete = report.traces.iter().filter(|t| t.complete).count();
    let errors = report.traces.iter().filter(|t| t.error).count();
    println!(
        "\n{} {} sent · {} accepted · {} failed · {} fulfilled · {} flagged sampled by the head sampler",
        style.bold("Orders:"),
        report.orders,
        report.accepted,
        report.failed,
        report.fulfilled,
        report.head_sampled,
    );
    println!(
        "\n{}",
        style.bold("Tail sampling, per service (each decides on its own part of a trace):")
    );
    print!("{}", sampling_table(report, style));
    println!(
        "\n{} {kept} of {} traces ({errors} with errors, {complete} whole: HTTP → HTTP → Kafka → consumer)",
        style.bold("Kept traces:"),
        report.orders
    );
    print!("{}", trace_table(report, TABLE_ROWS, style));

    if let Some(trace) = report.featured_error() {
        println!(
            "\n{} trace {}{}",
            style.bold("An error trace, kept by tail sampling:"),
            trace.trace_id,
            kept_by(trace)
        );
        print!("{}", waterfall(trace, style));
    }
    if let Some(trace) = report.featured_complete() {
        println!(
            "\n{} trace {}{}",
            style.bold("A whole trace, HTTP → HTTP → Kafka → consumer:"),
            trace.trace_id,
            kept_by(trace)
        );
        print!("{}", waterfall(trace, style));
    }
    let with_logs = report
        .featured_complete()
        .or_else(|| report.featured_error())
        .filter(|t| !t.logs.is_empty());
    if let Some(trace) = with_logs {
        println!(
            "\n{} {} {}",
            style.bold("Log lines of trace"),
            trace.trace_id,
            style.bold("(slog and tracing, each with the trace ids):")
        );
        for line in trace.logs.iter().take(LOG_LINES) {
            println!("  {}", style.dim(line));
        }
        if trace.logs.len() > LOG_LINES {
            println!(
                "  {}",
                style.dim(&format!("... {} more", trace.logs.len() - LOG_LINES))
            );
        }
        if trace
            .logs
            .iter()
            .any(|l| l.contains(r#""trace_flags":"00""#))
        {
            println!(
                "  {}",
                style.dim(
                    "trace_flags \"00\": the head sampler's 10% did not pick this trace; it was \
                     recorded anyway, and tail sampling kept it."
                )
            );
        }
    }
    if kept == 0 {
        println!("\nNo trace was kept: send more orders (--orders) or raise the failure rate.");
    }
}

fn kept_by(trace: &crate::view::TraceReport) -> String {
    let parts: Vec<String> = trace
        .decisions
        .iter()
        .filter(|d| d.outcome == "kept")
        .map(|d| format!("{} by {}", d.service, d.policy.as_deref().unwrap_or("?")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" (kept in {})", parts.join(", "))
    }
}
