//! payments: the article's `process-payment` span (its attributes, status and exception), a
//! `payment.charge` span around the gateway call, and the paid order published on `orders`
//! through tracewire-kafka's `TracedProducer`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use rdkafka::ClientConfig;
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::FutureRecord;
use rdkafka::util::DefaultRuntime;
use tracewire_api::SpanOptions;
use tracewire_core::semconv::attribute as semconv;
use tracewire_kafka::TracedProducer;
use tracewire_tower::ServerLayer;

use crate::gateway::{Charge, Gateway, PaymentError};
use crate::model::{ORDERS_TOPIC, PaidOrder, PaymentRequest, PaymentResponse, amount, attr};
use crate::telemetry::{Telemetry, propagator};

/// The simulated gateway's host, for the `payment.charge` span.
const GATEWAY_HOST: &str = "gateway.payments.example";

/// How long a send may wait in the producer's queue.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// payments' traced Kafka producer.
pub(crate) type Producer = TracedProducer<DefaultClientContext, DefaultRuntime, SdkTracer>;

/// Creates payments' producer from `config`, traced with the service's tracer.
pub(crate) fn producer(telemetry: &Telemetry, config: &ClientConfig) -> anyhow::Result<Producer> {
    let producer = config.create()?;
    Ok(TracedProducer::builder(producer)
        .with_client_config(config)
        .with_tracer(telemetry.tracer.clone())
        .with_propagator(propagator())
        .with_meter(telemetry.meter())
        .build())
}

#[derive(Clone)]
struct Payments {
    tracer: SdkTracer,
    gateway: Gateway,
    producer: Arc<Producer>,
    log: slog::Logger,
}

/// payments' routes: `POST /payments` (traced) and `GET /health`.
pub(crate) fn router(
    telemetry: &Telemetry,
    gateway: Gateway,
    producer: Producer,
    log: slog::Logger,
) -> Router {
    let tracer = telemetry.tracer.clone();
    let state = Payments {
        tracer: tracer.clone(),
        gateway,
        producer: Arc::new(producer),
        log,
    };
    Router::new()
        .route("/payments", post(pay))
        .with_state(state)
        .layer(
            ServerLayer::new()
                .with_tracer(tracer.clone())
                .with_propagator(propagator())
                .with_meter(telemetry.meter()),
        )
        .route(
            "/health",
            get(move || crate::checkout::health(tracer.clone())),
        )
}

async fn pay(
    State(payments): State<Payments>,
    Json(request): Json<PaymentRequest>,
) -> (StatusCode, Json<PaymentResponse>) {
    let answer = |status, transaction_id, error| {
        (
            status,
            Json(PaymentResponse {
                order_id: request.order_id.clone(),
                transaction_id,
                error,
            }),
        )
    };
    let charge = match payments.process_payment(&request).await {
        Ok(charge) => charge,
        Err(e) => {
            slog::warn!(payments.log, "payment failed"; "order_id" => &request.order_id, "error" => %e);
            tracing::warn!(target: "payments", order_id = %request.order_id, error = %e, "payment failed");
            return answer(StatusCode::BAD_GATEWAY, None, Some(e.to_string()));
        }
    };
    slog::info!(payments.log, "payment captured";
        "order_id" => &request.order_id, "transaction_id" => &charge.transaction_id);

    // The paid order goes to fulfillment: a `send orders` span, its context in the headers.
    let paid = PaidOrder {
        order_id: request.order_id.clone(),
        transaction_id: charge.transaction_id.clone(),
        amount_cents: request.amount_cents,
        currency: request.currency.clone(),
        items: request.items,
    };
    let Ok(payload) = serde_json::to_vec(&paid) else {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, None, None);
    };
    let record = FutureRecord::to(ORDERS_TOPIC)
        .key(&request.order_id)
        .payload(&payload);
    match payments.producer.send(record, QUEUE_TIMEOUT).await {
        Ok(_) => answer(StatusCode::OK, Some(charge.transaction_id), None),
        Err((e, _)) => {
            slog::error!(payments.log, "paid order not published"; "order_id" => &request.order_id, "error" => %e);
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                Some(format!("order not published: {e}")),
            )
        }
    }
}

impl Payments {
    /// The article's `processPayment`: a `process-payment` span with the payment attributes,
    /// status Ok and `payment.transaction_id` on success, status Error and an `exception` event
    /// on failure.
    async fn process_payment(&self, request: &PaymentRequest) -> Result<Charge, PaymentError> {
        SpanOptions::new("process-payment")
            .with_tracer(&self.tracer)
            .with_attributes([
                KeyValue::new(attr::PAYMENT_ORDER_ID, request.order_id.clone()),
                KeyValue::new(attr::PAYMENT_AMOUNT, amount(request.amount_cents)),
                KeyValue::new(attr::PAYMENT_CURRENCY, request.currency.clone()),
            ])
            .with_ok_status()
            .in_span_future(async {
                let charge = SpanOptions::new("payment.charge")
                    .with_tracer(&self.tracer)
                    .with_kind(SpanKind::Client)
                    .with_attribute(KeyValue::new(semconv::SERVER_ADDRESS, GATEWAY_HOST))
                    .in_span_future(self.gateway.charge(&request.order_id))
                    .await
                    .map_err(|source| PaymentError {
                        order_id: request.order_id.clone(),
                        source,
                    })?;
                Context::map_current(|cx| {
                    cx.span().set_attribute(KeyValue::new(
                        attr::PAYMENT_TRANSACTION_ID,
                        charge.transaction_id.clone(),
                    ));
                });
                Ok(charge)
            })
            .await
    }
}
