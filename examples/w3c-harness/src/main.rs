//! `w3c-harness [PORT]`: serves the W3C Trace Context test-harness protocol on 127.0.0.1.
//!
//! The port is the first argument, else `PORT`, else 5000. Telemetry is tracewire-sdk's setup
//! from `OTEL_*`, with tracewire-propagation's strict W3C Trace Context propagator (what the
//! harness tests); spans are not exported unless `OTEL_TRACES_EXPORTER` says where
//! (`OTEL_TRACES_EXPORTER=console` prints them).

use std::net::SocketAddr;

use anyhow::Context as _;
use tracewire_sdk::Tracewire;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = match std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
    {
        Some(p) => p.parse().with_context(|| format!("invalid port `{p}`"))?,
        None => 5000,
    };

    let mut telemetry = Tracewire::builder()
        .with_service_name("w3c-harness")
        .with_propagator(tracewire_propagation::TraceContextPropagator::new());
    for (var, set) in [
        ("OTEL_TRACES_EXPORTER", 0),
        ("OTEL_METRICS_EXPORTER", 1),
        ("OTEL_LOGS_EXPORTER", 2),
    ] {
        if std::env::var_os(var).is_none() {
            telemetry = match set {
                0 => telemetry.with_traces_exporters([]),
                1 => telemetry.with_metrics_exporters([]),
                _ => telemetry.with_logs_exporters([]),
            };
        }
    }
    let guard = telemetry.install().context("telemetry setup")?;

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!("w3c-harness listening on http://{}", listener.local_addr()?);
    axum::serve(listener, w3c_harness::app())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    guard.shutdown()?;
    Ok(())
}
