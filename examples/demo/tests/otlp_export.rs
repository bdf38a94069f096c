//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the kept traces also go out over OTLP/HTTP (to a real
//! receiver on 127.0.0.1 here; a Collector or Jaeger in use), one `service.name` per service.

mod common;

use std::collections::BTreeSet;

use anyhow::{Context as _, ensure};
use common::{embedded_data, run_demo, temp_dir};
use tracewire_testing::otlp::OtlpServer;

#[test]
fn kept_traces_go_to_the_otlp_endpoint_too() -> anyhow::Result<()> {
    let receiver = OtlpServer::start_http()?;
    let dir = temp_dir()?;
    let endpoint = receiver.endpoint();
    let stdout = run_demo(
        &dir,
        30,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())],
    )?;
    ensure!(
        stdout.contains("and OTLP (OTEL_EXPORTER_OTLP_ENDPOINT)"),
        "{stdout}"
    );

    let page = std::fs::read_to_string(dir.join("trace-view.html"))?;
    let data = embedded_data(&page)?;
    let traces = data["traces"].as_array().context("traces")?;
    let viewed: BTreeSet<String> = traces
        .iter()
        .filter_map(|t| t["trace_id"].as_str().map(str::to_owned))
        .collect();
    let viewed_spans: usize = traces
        .iter()
        .map(|t| t["spans"].as_array().map_or(0, Vec::len))
        .sum();

    // The demo flushed and shut its exporters down before exiting: everything is there.
    let received = receiver.spans();
    let exported: BTreeSet<String> = received.iter().map(|s| s.trace_id_hex()).collect();
    ensure!(
        exported == viewed,
        "OTLP got traces {exported:?}, the view shows {viewed:?}"
    );
    ensure!(
        received.len() == viewed_spans,
        "{} spans over OTLP, {viewed_spans} in the view",
        received.len()
    );
    let services: BTreeSet<&str> = received.iter().filter_map(|s| s.service_name()).collect();
    ensure!(
        services == BTreeSet::from(["checkout", "fulfillment", "payments"]),
        "{services:?}"
    );
    ensure!(
        received
            .iter()
            .all(|s| s.resource_str("service.namespace") == Some("tracewire-demo")),
        "service.namespace on every resource"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
