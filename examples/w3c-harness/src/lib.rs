//! The W3C Trace Context test-harness service, on tracewire-tower's layers.
//!
//! The [harness](https://github.com/w3c/trace-context/tree/main/test) sends `POST /test` with a
//! JSON array of `{"url": ..., "arguments": [...]}`; for each element, in order, the service
//! `POST`s the JSON of `arguments` to `url` and answers once every call has finished. The
//! harness checks what arrives at those URLs: that `traceparent` and `tracestate` were
//! extracted, continued and injected by the rules.
//!
//! Here the server side is [`ServerLayer`] (extraction, the SERVER span) and each call goes
//! through [`ClientLayer`] on hyper-util's client (a CLIENT span, injection), both on the
//! globally installed tracer provider and propagator. The same shape serves any axum service
//! that calls others.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use tower::ServiceExt as _;
use tracewire_tower::{ClientLayer, ServerLayer};

/// The traced HTTP client the service calls out with.
pub type TracedClient = tracewire_tower::client::Client<Client<HttpConnector, Full<Bytes>>>;

/// One element of a `/test` request: call `url` with the JSON of `arguments`.
#[derive(Debug, Deserialize)]
pub struct Action {
    /// Where to `POST`.
    pub url: String,
    /// The body to send, as JSON (usually more actions, for the next hop).
    pub arguments: serde_json::Value,
}

/// The harness service: `POST /test`, traced on the global tracer provider and propagator.
pub fn app() -> Router {
    let client = tower::ServiceBuilder::new()
        .layer(ClientLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http());
    Router::new()
        .route("/test", post(test))
        .with_state(client)
        .layer(ServerLayer::new())
}

/// Calls each action's URL in order; answers when all are done. A call that fails is logged
/// and skipped: the harness judges by what arrives, not by this answer.
async fn test(State(client): State<TracedClient>, Json(actions): Json<Vec<Action>>) -> StatusCode {
    for action in actions {
        let body = match serde_json::to_vec(&action.arguments) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("cannot encode arguments: {e}");
                continue;
            }
        };
        let request = match http::Request::post(&action.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(url = %action.url, "invalid url: {e}");
                continue;
            }
        };
        match client.clone().oneshot(request).await {
            Ok(response) => {
                // Read the answer so the connection can be reused.
                let _ = response.into_body().collect().await;
            }
            Err(e) => tracing::warn!(url = %action.url, "call failed: {e}"),
        }
    }
    StatusCode::OK
}
