//! One SERVER span per request however the layer is stacked; filtered requests get none.

mod common;

use axum::Router;
use axum::routing::get;
use common::{Pipeline, attr_str, names, serve};
use http::Request;
use opentelemetry::trace::SpanKind;
use tracewire_tower::ServerLayer;

#[tokio::test]
async fn a_layer_added_twice_makes_one_span() {
    let pipeline = Pipeline::new();
    let layer = ServerLayer::new().with_tracer(pipeline.tracer());
    let app = Router::new()
        .route("/users/{id}", get(|| async { "u" }))
        .layer(layer.clone())
        .layer(layer.clone());
    // And once more around the whole router.
    let app = tower::ServiceBuilder::new().layer(layer).service(app);
    let app = Router::new().fallback_service(app);
    let addr = serve(app).await;
    common::get(&format!("http://{addr}/users/1"), &[]).await;
    common::get(&format!("http://{addr}/users/2"), &[]).await;
    let spans = pipeline.wait_spans(2).await;
    assert_eq!(spans.len(), 2, "{:?}", names(&spans));
    // The outermost layer made them, outside routing: no route known there.
    assert!(
        spans
            .iter()
            .all(|s| s.span_kind == SpanKind::Server && s.name == "GET")
    );
}

#[tokio::test]
async fn nested_routers_with_their_own_layers_make_one_span_with_the_full_route() {
    let pipeline = Pipeline::new();
    let inner = Router::new()
        .route("/users/{id}", get(|| async { "u" }))
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()));
    let app = Router::new()
        .nest("/api", inner)
        .route("/health", get(|| async { "ok" }))
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()));
    let addr = serve(app).await;
    common::get(&format!("http://{addr}/api/users/7"), &[]).await;
    common::get(&format!("http://{addr}/health"), &[]).await;
    let spans = pipeline.wait_spans(2).await;
    assert_eq!(names(&spans), ["GET /api/users/{id}", "GET /health"]);
    assert_eq!(
        attr_str(&spans[0], "http.route").as_deref(),
        Some("/api/users/{id}")
    );
}

#[tokio::test]
async fn a_filter_keeps_requests_out_of_tracing_entirely() {
    let pipeline = Pipeline::new();
    let outer = ServerLayer::new()
        .with_tracer(pipeline.tracer())
        .with_filter(|req: &Request<axum::body::Body>| req.uri().path() != "/health");
    // An inner layer without a filter must not trace what the outer one filtered out.
    let inner = ServerLayer::new().with_tracer(pipeline.tracer());
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/orders", get(|| async { "orders" }))
        .layer(inner)
        .layer(outer);
    let addr = serve(app).await;
    let health = common::get(&format!("http://{addr}/health"), &[]).await;
    assert_eq!(health.body, "ok");
    common::get(&format!("http://{addr}/orders"), &[]).await;
    let spans = pipeline.wait_spans(1).await;
    assert_eq!(names(&spans), ["GET /orders"]);
}
