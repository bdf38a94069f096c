//! The article's "Traces, spans, context" and "Baggage" sections in Rust, on the `tracewire`
//! facade: the edge sets `user.id`, `session.region` and `request.source` as baggage; the
//! `process-payment` span records the order's attributes, its status and the exception of a
//! declined card; downstream code reads `user.id` from baggage without it being passed along; and
//! the headers an outgoing call would carry are printed. Traces go to the console.
//!
//! ```sh
//! cargo run -p spans-baggage
//! ```

use std::time::Duration;

use tracewire::api::SpanOptions;
use tracewire::api::baggage::{baggage_value, with_baggage_future};
use tracewire::core::TraceIds;
use tracewire::core::semconv::{BAGGAGE_REQUEST_SOURCE, BAGGAGE_SESSION_REGION, BAGGAGE_USER_ID};
use tracewire::opentelemetry::trace::{SpanKind, TraceContextExt as _};
use tracewire::opentelemetry::{Context, KeyValue, global};
use tracewire::propagation::HeaderInjector;
use tracewire::sdk::Tracewire;
use tracewire::sdk::config::ExporterKind;

// The application's own attribute keys, named once.
const ORDER_ID: &str = "payment.order_id";
const AMOUNT: &str = "payment.amount";
const CURRENCY: &str = "payment.currency";
const TRANSACTION_ID: &str = "payment.transaction_id";

#[derive(Debug, thiserror::Error)]
#[error("card declined for order {0}")]
struct Declined(String);

struct Charge {
    transaction_id: String,
}

/// The payment gateway: amounts over 1000 are declined.
async fn charge_payment_gateway(order_id: &str, amount: f64) -> Result<Charge, Declined> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if amount > 1000.0 {
        return Err(Declined(order_id.to_owned()));
    }
    Ok(Charge {
        transaction_id: format!("tx-{order_id}"),
    })
}

/// The article's `processPayment`: a span with the order's attributes, status Ok and the
/// transaction id on success, status Error and an `exception` event on failure, always ended.
async fn process_payment(order_id: &str, amount: f64) -> Result<Charge, Declined> {
    SpanOptions::new("process-payment")
        .with_attributes([
            KeyValue::new(ORDER_ID, order_id.to_owned()),
            KeyValue::new(AMOUNT, amount),
            KeyValue::new(CURRENCY, "USD"),
        ])
        .with_ok_status()
        .in_span_future(async {
            // Downstream code reads the baggage set at the edge; nobody passed it along.
            let user = baggage_value(BAGGAGE_USER_ID).unwrap_or_default();
            log(&format!("charging {amount} USD for user.id={user}"));
            let charge = charge_payment_gateway(order_id, amount).await?;
            Context::current()
                .span()
                .set_attribute(KeyValue::new(TRANSACTION_ID, charge.transaction_id.clone()));
            Ok(charge)
        })
        .await
}

/// A log line with the current trace's ids, as tracewire-correlate adds them to slog and
/// tracing lines.
fn log(message: &str) {
    match TraceIds::current() {
        Some(ids) => println!(
            "  log: {message} trace_id={} span_id={}",
            ids.trace_id_hex().as_str(),
            ids.span_id_hex().as_str()
        ),
        None => println!("  log: {message}"),
    }
}

/// The headers an outgoing HTTP call would carry from the current context (what
/// `tracewire::tower::ClientLayer` injects).
fn outgoing_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    global::get_text_map_propagator(|p| {
        p.inject_context(&Context::current(), &mut HeaderInjector(&mut headers));
    });
    headers
}

/// The edge service's handler: shows the headers an outgoing call would carry, then pays.
async fn handle_checkout(order_id: &str, amount: f64) -> Result<(), std::convert::Infallible> {
    let headers = outgoing_headers();
    for name in ["traceparent", "baggage"] {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            println!("  outgoing {name}: {value}");
        }
    }
    match process_payment(order_id, amount).await {
        Ok(charge) => log(&format!("paid, transaction {}", charge.transaction_id)),
        Err(e) => log(&format!("payment failed: {e}")),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    // The binary's setup: here traces print to the console; `tracewire::sdk::init()` reads
    // OTEL_* instead (OTLP to a Collector by default).
    let telemetry = Tracewire::builder()
        .with_service_name("checkout")
        .with_traces_exporters([ExporterKind::Console])
        .with_metrics_exporters([])
        .with_logs_exporters([])
        .install()?;

    for (order_id, amount) in [("order-41", 42.0), ("order-42", 4200.0)] {
        println!("\nPOST /checkout {order_id}");
        // The edge: the article's baggage, set once for the whole request.
        let edge = [
            KeyValue::new(BAGGAGE_USER_ID, "u-1042"),
            KeyValue::new(BAGGAGE_SESSION_REGION, "eu-west-1"),
            KeyValue::new(BAGGAGE_REQUEST_SOURCE, "web"),
        ];
        // The span starts inside the baggage scope (the async block runs there), so its
        // context, and everything under it, carries the baggage.
        with_baggage_future(edge, async {
            SpanOptions::new("POST /checkout")
                .with_kind(SpanKind::Server)
                .in_span_future(handle_checkout(order_id, amount))
                .await
        })
        .await?;
        // The console exporter prints each trace when its root span ends.
        telemetry.force_flush()?;
    }

    // Outside the request, nothing is current.
    anyhow::ensure!(baggage_value(BAGGAGE_USER_ID).is_none());
    telemetry.shutdown()?;
    Ok(())
}
