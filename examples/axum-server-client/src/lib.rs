//! Two axum services and a client, traced with tracewire-tower: `shop` answers
//! `GET /orders/{id}` by calling `inventory`'s `GET /stock/{sku}` through the client layer.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::TraceContextExt as _;
use tower::ServiceExt as _;
use tracewire_tower::{ClientLayer, ServerLayer};

/// An HTTP client whose requests are CLIENT spans carrying the trace context.
pub type TracedClient = tracewire_tower::client::Client<Client<HttpConnector, Empty<Bytes>>>;

/// A traced hyper-util client on the global tracer provider and propagator.
pub fn client() -> TracedClient {
    tower::ServiceBuilder::new()
        .layer(ClientLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http())
}

/// `GET /stock/{sku}`.
pub fn inventory() -> Router {
    Router::new()
        .route(
            "/stock/{sku}",
            get(|Path(sku): Path<String>| async move {
                // A `tracing` event inside the SERVER span: with a tracing-opentelemetry layer
                // it carries this trace's ids.
                tracing::info!(%sku, "stock lookup");
                "7"
            }),
        )
        .layer(ServerLayer::new())
}

/// `GET /orders/{id}`, which asks `inventory` (at `inventory_addr`) for stock.
pub fn shop(inventory_addr: SocketAddr) -> Router {
    Router::new()
        .route(
            "/orders/{id}",
            get(
                |State((client, inventory)): State<(TracedClient, SocketAddr)>,
                 Path(id): Path<u32>| async move {
                    // The handler runs inside the SERVER span's context...
                    let trace_id = opentelemetry::Context::current()
                        .span()
                        .span_context()
                        .trace_id();
                    // ...so this call is its child, and carries the trace to `inventory`.
                    let uri = format!("http://{inventory}/stock/sku-{id}");
                    let request = http::Request::get(uri)
                        .body(Empty::new())
                        .map_err(|e| e.to_string())?;
                    let response = client.oneshot(request).await.map_err(|e| e.to_string())?;
                    let stock = response
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| e.to_string())?
                        .to_bytes();
                    Ok::<_, String>(format!(
                        "order {id}: {} in stock (trace {trace_id})",
                        String::from_utf8_lossy(&stock)
                    ))
                },
            ),
        )
        .with_state((client(), inventory_addr))
        .layer(ServerLayer::new())
}

/// Serves `app` on 127.0.0.1 (a port the OS picks).
pub async fn serve(app: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok(addr)
}
