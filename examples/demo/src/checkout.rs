//! checkout: receives orders over HTTP (axum with tracewire-tower's `ServerLayer`), puts the
//! article's baggage in the request's context, and pays through payments with a traced HTTP
//! client (hyper-util with `ClientLayer`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use tower::ServiceExt as _;
use tracewire_api::SpanOptions;
use tracewire_api::baggage::with_baggage_future;
use tracewire_core::semconv::{BAGGAGE_REQUEST_SOURCE, BAGGAGE_SESSION_REGION, BAGGAGE_USER_ID};
use tracewire_tower::{ClientLayer, ServerLayer};

use crate::model::{Order, OrderResponse, PaymentRequest, PaymentResponse, attr};
use crate::telemetry::{Telemetry, propagator};

/// A plain hyper-util HTTP client.
pub(crate) type HttpClient = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

/// A new plain HTTP client.
pub(crate) fn http_client() -> HttpClient {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
}

type TracedClient =
    tracewire_tower::client::Client<HttpClient, SdkTracer, tracewire_propagation::Propagators>;

#[derive(Clone)]
struct Checkout {
    client: TracedClient,
    payments: Arc<str>,
    log: slog::Logger,
}

/// checkout's routes: `POST /orders` (traced) and `GET /health` (a `health-check` span that the
/// article's head rule drops).
pub(crate) fn router(telemetry: &Telemetry, payments_url: &str, log: slog::Logger) -> Router {
    let tracer = telemetry.tracer.clone();
    let client = tower::ServiceBuilder::new()
        .layer(
            ClientLayer::new()
                .with_tracer(tracer.clone())
                .with_propagator(propagator())
                // Baggage is user data: only these keys leave the process.
                .with_baggage_keys([
                    BAGGAGE_USER_ID,
                    BAGGAGE_SESSION_REGION,
                    BAGGAGE_REQUEST_SOURCE,
                ])
                .with_meter(telemetry.meter()),
        )
        .service(http_client());
    let state = Checkout {
        client,
        payments: payments_url.trim_end_matches('/').into(),
        log,
    };
    Router::new()
        .route("/orders", post(place_order))
        .with_state(state)
        .layer(
            // The edge of the system: callers' trace context and baggage are not trusted (each
            // order starts a trace); the `traceresponse` header tells the caller its trace id.
            ServerLayer::new_for_public_endpoint()
                .with_tracer(tracer.clone())
                .with_propagator(propagator())
                .with_traceresponse(true)
                .with_meter(telemetry.meter()),
        )
        // Added after the layer: health checks get no HTTP span.
        .route("/health", get(move || health(tracer.clone())))
}

/// A health check inside a `health-check` span, which the head sampler drops.
pub(crate) async fn health(tracer: SdkTracer) -> &'static str {
    SpanOptions::new("health-check")
        .with_tracer(&tracer)
        .in_span(|_| ());
    "ok"
}

async fn place_order(
    State(checkout): State<Checkout>,
    Json(order): Json<Order>,
) -> (StatusCode, Json<OrderResponse>) {
    Context::map_current(|cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new(attr::ORDER_ID, order.order_id.clone()));
        span.set_attribute(KeyValue::new(attr::ORDER_ITEMS, i64::from(order.items)));
    });
    // The article's baggage, set at the edge: it travels with the order over HTTP and Kafka.
    let baggage = [
        KeyValue::new(BAGGAGE_USER_ID, order.user_id.clone()),
        KeyValue::new(BAGGAGE_SESSION_REGION, order.region.clone()),
        KeyValue::new(BAGGAGE_REQUEST_SOURCE, order.source.clone()),
    ];
    with_baggage_future(baggage, checkout.pay(order)).await
}

impl Checkout {
    async fn pay(&self, order: Order) -> (StatusCode, Json<OrderResponse>) {
        slog::info!(self.log, "order received";
            "order_id" => &order.order_id, "user_id" => &order.user_id, "amount_cents" => order.amount_cents);
        tracing::info!(target: "checkout", order_id = %order.order_id, "paying order");

        let answer = |status, text: &str, transaction_id| {
            (
                status,
                Json(OrderResponse {
                    order_id: order.order_id.clone(),
                    status: text.to_owned(),
                    transaction_id,
                }),
            )
        };
        let request = PaymentRequest {
            order_id: order.order_id.clone(),
            amount_cents: order.amount_cents,
            currency: order.currency.clone(),
            items: order.items,
        };
        let Ok(body) = serde_json::to_vec(&request) else {
            return answer(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None);
        };
        let Ok(http_request) = http::Request::post(format!("{}/payments", self.payments))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
        else {
            return answer(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None);
        };

        let response = match self.client.clone().oneshot(http_request).await {
            Ok(r) => r,
            Err(e) => {
                slog::error!(self.log, "payments unreachable"; "order_id" => &order.order_id, "error" => %e);
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payments unreachable",
                    None,
                );
            }
        };
        let status = response.status();
        let paid: Option<PaymentResponse> = match response.into_body().collect().await {
            Ok(b) => serde_json::from_slice(&b.to_bytes()).ok(),
            Err(_) => None,
        };
        match paid {
            Some(PaymentResponse {
                transaction_id: Some(txn),
                ..
            }) if status.is_success() => {
                slog::info!(self.log, "order accepted"; "order_id" => &order.order_id, "transaction_id" => &txn);
                answer(StatusCode::CREATED, "accepted", Some(txn))
            }
            other => {
                let reason = other
                    .and_then(|p| p.error)
                    .unwrap_or_else(|| status.to_string());
                slog::warn!(self.log, "order not paid"; "order_id" => &order.order_id, "reason" => &reason);
                tracing::warn!(target: "checkout", order_id = %order.order_id, %reason, "payment failed");
                answer(StatusCode::BAD_GATEWAY, "payment failed", None)
            }
        }
    }
}
