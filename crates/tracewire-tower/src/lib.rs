//! OpenTelemetry tracing and metrics for tower and axum HTTP servers and clients, by the HTTP
//! semantic conventions.
//!
//! Depend on this crate in a service built on tower (axum, hyper, tonic's HTTP layer) to get one
//! SERVER span per incoming request, one CLIENT span per outgoing request, W3C trace context
//! carried across both, and the `http.server.request.duration` / `http.client.request.duration`
//! histograms. It uses the OpenTelemetry API only: set up the SDK however you like (tracewire-sdk
//! or your own), install the tracer provider, meter provider and propagator, and add the layers.
//!
//! # Example: an axum service
//!
//! ```
//! use axum::{Router, routing::get};
//! use http_body_util::BodyExt as _;
//! use opentelemetry::trace::TracerProvider as _;
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use tower::ServiceExt as _;
//! use tracewire_tower::ServerLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let exporter = InMemorySpanExporter::default();
//! # let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
//! let app = Router::new()
//!     .route("/users/{id}", get(|| async { "hi" }))
//!     .layer(ServerLayer::new().with_tracer(provider.tracer("shop")));
//!
//! let req = http::Request::get("/users/7").body(axum::body::Body::empty()).unwrap();
//! let res = app.oneshot(req).await.unwrap();
//! res.into_body().collect().await.unwrap();
//! assert_eq!(exporter.get_finished_spans().unwrap()[0].name, "GET /users/{id}");
//! # }
//! ```
//!
//! # Example: a client
//!
//! ```
//! use http::{Request, Response};
//! use opentelemetry::trace::{SpanKind, TracerProvider as _};
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use tower::{ServiceBuilder, ServiceExt as _, service_fn};
//! use tracewire_tower::ClientLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let exporter = InMemorySpanExporter::default();
//! # let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
//! # let transport = service_fn(|_: Request<String>| async {
//! #     Ok::<_, std::convert::Infallible>(Response::new(String::new()))
//! # });
//! // `transport` is any tower HTTP client: hyper-util's `Client`, for instance.
//! let client = ServiceBuilder::new()
//!     .layer(ClientLayer::new().with_tracer(provider.tracer("shop")))
//!     .service(transport);
//!
//! let req = Request::get("http://payments.internal:8080/charge").body(String::new()).unwrap();
//! client.oneshot(req).await.unwrap();
//! let span = &exporter.get_finished_spans().unwrap()[0];
//! assert_eq!((span.name.as_ref(), &span.span_kind), ("GET", &SpanKind::Client));
//! # }
//! ```
//!
//! # Modules
//!
//! - [`server`]: [`ServerLayer`], its span, attributes, status rules and metric.
//! - [`client`]: [`ClientLayer`], injection, baggage limits, the reqwest path.
//!
//! # Feature flags
//!
//! - `axum` (default): the route from axum's `MatchedPath`, the peer from `ConnectInfo`.
//!
//! # MSRV
//!
//! The workspace's `rust-version` (see the root `Cargo.toml`).

mod attrs;
mod capture;
pub mod client;
mod hooks;
mod intern;
mod metrics;
mod names;
mod otel;
mod proxies;
mod report;
pub mod server;

pub use client::{ClientLayer, NoPropagation};
pub use hooks::{DefaultRoute, ExtractRoute, FilterRequest, OnRequest, OnResponse};
pub use otel::{GlobalPropagator, GlobalTracer};
pub use proxies::{ForwardingHeader, TrustedProxies, TrustedProxiesError};
pub use server::ServerLayer;
