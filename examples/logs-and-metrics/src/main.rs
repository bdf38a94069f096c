//! Example: slog and tracing lines with trace ids, OpenTelemetry logs carrying the span context,
//! and `/metrics` with exemplars, in one small payments service.
//!
//! Without arguments it serves on a free port of 127.0.0.1, sends itself two requests, prints the
//! log lines, the exported spans and log records and the `/metrics` scrape, checks that they all
//! agree, and exits. With `--serve` it keeps serving on 127.0.0.1:3000.

use std::io;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail, ensure};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SimpleLogProcessor};
use opentelemetry_sdk::trace::InMemorySpanExporter;
use slog::Drain as _;
use tracewire_correlate::metrics::{ExemplarCounter, Metrics};
use tracewire_correlate::slog::{OtelLogsDrain, TraceIdsDrain};
use tracewire_correlate::subscriber::{OtelContextExt as _, TraceIdsFormat, logs_layer};
use tracing::Instrument as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;

/// Standard output, also kept in memory so the program can check what it printed.
#[derive(Clone, Default)]
struct Tee(Arc<Mutex<Vec<u8>>>);

impl io::Write for Tee {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if let Ok(mut kept) = self.0.lock() {
            kept.extend_from_slice(b);
        }
        io::stdout().write_all(b)?;
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

#[derive(Clone)]
struct App {
    log: slog::Logger,
    requests: ExemplarCounter,
}

/// The payment handler: logs with both stacks and counts the request by outcome.
async fn pay(State(app): State<App>, Path(status): Path<String>) -> String {
    let span = tracing::info_span!("payment", payment.status = %status);
    async move {
        tracing::info!(amount_cents = 4200, "charging card");
        slog::info!(app.log, "charging card"; "amount_cents" => 4200);
        tokio::task::yield_now().await;
        app.requests
            .add(1, &[KeyValue::new("status", status.clone())]);
        tracing::info!(%status, "payment done");
        let cx = opentelemetry::Context::current();
        cx.span().span_context().trace_id().to_string()
    }
    .instrument(span)
    .await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let serve = std::env::args().any(|a| a == "--serve");

    // tracewire-sdk sets up the tracer, meter and logger providers. Serving, it exports where
    // `OTEL_*` says (OTLP to localhost:4318 by default); checking itself, it exports to memory.
    let spans = InMemorySpanExporter::default();
    let logs = InMemoryLogExporter::default();
    let guard = if serve {
        tracewire_sdk::Tracewire::builder()
            .with_service_name("payments")
            .install()?
    } else {
        tracewire_sdk::Tracewire::builder()
            .with_service_name("payments")
            .with_span_exporter(spans.clone())
            .with_log_processor(SimpleLogProcessor::new(logs.clone()))
            .with_metrics_exporters([])
            .build()?
    };
    let logger_provider = guard.logger_provider();

    // tracing: spans through tracing-opentelemetry, JSON lines with the ids, and the logs bridge.
    let out = Tee::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::registry()
        .with(LevelFilter::INFO)
        .with(tracing_opentelemetry::layer().with_tracer(guard.tracer("payments")))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(TraceIdsFormat::default_json())
                .with_writer(move || writer.clone())
                .with_otel_context(),
        )
        .with(logs_layer(logger_provider));
    tracing::subscriber::set_global_default(subscriber).context("installing the subscriber")?;

    // slog: JSON lines with the ids, and every record to OpenTelemetry logs too. Built once.
    let json = slog_json::Json::new(out.clone())
        .add_default_keys()
        .build()
        .fuse();
    let drain = slog::Duplicate::new(
        TraceIdsDrain::new(Mutex::new(json)).fuse(),
        OtelLogsDrain::new(logger_provider),
    )
    .fuse();
    let log = slog::Logger::root(drain, slog::o!("service" => "payments"));

    // Metrics: OpenMetrics with exemplars on /metrics, and the OpenTelemetry meter for OTLP.
    let metrics = Metrics::builder()
        .with_meter(guard.meter_provider().meter("payments"))
        .build();
    let requests = metrics
        .u64_counter("payment.requests")
        .with_description("Payment requests by outcome")
        .build();

    let app = Router::new()
        .route("/pay/{status}", get(pay))
        .with_state(App {
            log: log.clone(),
            requests,
        })
        .route_service("/metrics", metrics.service());
    let addr = if serve {
        "127.0.0.1:3000"
    } else {
        "127.0.0.1:0"
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    slog::info!(log, "listening"; "addr" => %addr);

    if serve {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }

    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut traces = Vec::new();
    for status in ["ok", "declined"] {
        let trace_id = http
            .get(format!("http://{addr}/pay/{status}"))
            .send()
            .await?
            .text()
            .await?;
        traces.push(trace_id);
    }
    let scrape = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    server.abort();

    println!("\n--- GET /metrics ---\n{scrape}");
    guard.force_flush()?;
    let exported = spans.get_finished_spans()?;
    println!("--- exported spans ---");
    for span in &exported {
        println!(
            "{} trace_id={} span_id={}",
            span.name,
            span.span_context.trace_id(),
            span.span_context.span_id()
        );
    }
    let records = logs.get_emitted_logs()?;
    println!("--- exported log records ---");
    for r in &records {
        let tc = r.record.trace_context();
        println!(
            "{:?} trace_id={}",
            r.record.body(),
            tc.map(|t| t.trace_id.to_string()).unwrap_or_default()
        );
    }

    check(&out, &traces, &exported, &records, &scrape)?;
    println!("\nok: log lines, exported logs, exported spans and exemplars agree");
    guard.shutdown()?;
    Ok(())
}

/// Checks that every line written in a request, every exported log record and the exemplars
/// carry the ids of that request's span.
fn check(
    out: &Tee,
    traces: &[String],
    spans: &[opentelemetry_sdk::trace::SpanData],
    records: &[opentelemetry_sdk::logs::in_memory_exporter::LogDataWithResource],
    scrape: &str,
) -> anyhow::Result<()> {
    let text = String::from_utf8(out.0.lock().map_err(|_| anyhow::anyhow!("lock"))?.clone())?;
    let mut in_requests = 0;
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let Some(trace_id) = value["trace_id"].as_str() else {
            continue;
        };
        in_requests += 1;
        ensure!(
            traces.iter().any(|t| t == trace_id),
            "unknown trace in {line}"
        );
        let span_id = value["span_id"].as_str().context("span_id")?;
        ensure!(
            spans
                .iter()
                .any(|s| s.span_context.span_id().to_string() == span_id),
            "unknown span in {line}"
        );
        ensure!(value["trace_flags"] == "01", "flags in {line}");
    }
    // Per request: two tracing lines and one slog line.
    ensure!(in_requests == 6, "{in_requests} lines with ids, expected 6");
    let with_context = records
        .iter()
        .filter(|r| r.record.trace_context().is_some())
        .count();
    ensure!(
        with_context == 6,
        "{with_context} exported records with a trace context"
    );
    for (status, trace_id) in ["ok", "declined"].iter().zip(traces) {
        let line = scrape
            .lines()
            .find(|l| l.starts_with(&format!("payment_requests_total{{status=\"{status}\"}}")))
            .context("series")?;
        if !line.contains(&format!("trace_id=\"{trace_id}\"")) {
            bail!("no exemplar for {trace_id} in {line}");
        }
    }
    Ok(())
}
