//! Starts `inventory` and `shop` on 127.0.0.1, sends one request through a traced client, and
//! prints the response and the trace (tracewire-sdk's console exporter).

use http_body_util::{BodyExt as _, Empty};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use tower::ServiceExt as _;
use tracewire_sdk::Tracewire;
use tracewire_sdk::config::ExporterKind;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = Tracewire::builder()
        .with_service_name("axum-server-client")
        .with_propagator(tracewire_propagation::TraceContextPropagator::new())
        .with_traces_exporters([ExporterKind::Console])
        .with_metrics_exporters([])
        .with_logs_exporters([])
        .install()?;

    let inventory = axum_server_client::serve(axum_server_client::inventory()).await?;
    let shop = axum_server_client::serve(axum_server_client::shop(inventory)).await?;

    // A root span for the whole exchange; the client call below is its child.
    let tracer = telemetry.tracer("main");
    let cx = opentelemetry::Context::current_with_span(tracer.start("place order"));
    let request = http::Request::get(format!("http://{shop}/orders/42")).body(Empty::new())?;
    let response = axum_server_client::client()
        .oneshot(request)
        .with_context(cx.clone())
        .await?;
    let body = response.into_body().collect().await?.to_bytes();
    cx.span().end();
    println!("{}", String::from_utf8_lossy(&body));

    telemetry.shutdown()?;
    Ok(())
}
