//! The messages between the parts of the system, and the application's own attribute keys.

use serde::{Deserialize, Serialize};

/// The Kafka topic payments publishes paid orders to and fulfillment consumes.
pub(crate) const ORDERS_TOPIC: &str = "orders";

/// The article's payment attributes, set on `process-payment`. They are the application's own
/// keys (not semantic conventions), so they live here rather than in `tracewire_core::semconv`.
pub(crate) mod attr {
    /// The order being paid.
    pub(crate) const PAYMENT_ORDER_ID: &str = "payment.order_id";
    /// The amount, in the currency's main unit.
    pub(crate) const PAYMENT_AMOUNT: &str = "payment.amount";
    /// The ISO 4217 currency code.
    pub(crate) const PAYMENT_CURRENCY: &str = "payment.currency";
    /// The gateway's transaction id, set when the charge succeeds.
    pub(crate) const PAYMENT_TRANSACTION_ID: &str = "payment.transaction_id";
    /// The order, on checkout's and fulfillment's spans.
    pub(crate) const ORDER_ID: &str = "order.id";
    /// How many items the order has.
    pub(crate) const ORDER_ITEMS: &str = "order.items";
}

/// An order, as the load generator posts it to checkout (`POST /orders`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Order {
    pub(crate) order_id: String,
    pub(crate) user_id: String,
    pub(crate) region: String,
    pub(crate) source: String,
    pub(crate) amount_cents: u64,
    pub(crate) currency: String,
    pub(crate) items: u32,
}

/// Checkout's answer to an order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderResponse {
    pub(crate) order_id: String,
    pub(crate) status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) transaction_id: Option<String>,
}

/// What checkout asks payments (`POST /payments`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PaymentRequest {
    pub(crate) order_id: String,
    pub(crate) amount_cents: u64,
    pub(crate) currency: String,
    pub(crate) items: u32,
}

/// Payments' answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PaymentResponse {
    pub(crate) order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// The message payments publishes on `orders` once an order is paid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PaidOrder {
    pub(crate) order_id: String,
    pub(crate) transaction_id: String,
    pub(crate) amount_cents: u64,
    pub(crate) currency: String,
    pub(crate) items: u32,
}

/// `1234` cents as `12.34`.
pub(crate) fn amount(cents: u64) -> f64 {
    cents as f64 / 100.0
}
