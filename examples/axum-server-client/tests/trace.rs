//! One request to `shop` makes one trace across both services, over real HTTP on 127.0.0.1.

use http_body_util::{BodyExt as _, Empty};
use opentelemetry::trace::SpanKind;
use tower::ServiceExt as _;
use tracewire_testing::InMemoryPipeline;

#[tokio::test]
async fn one_request_one_trace_across_both_services() {
    let pipeline = InMemoryPipeline::new();
    let _global = pipeline.install_global();
    opentelemetry::global::set_text_map_propagator(
        tracewire_propagation::TraceContextPropagator::new(),
    );

    let inventory = axum_server_client::serve(axum_server_client::inventory())
        .await
        .unwrap();
    let shop = axum_server_client::serve(axum_server_client::shop(inventory))
        .await
        .unwrap();
    let request = http::Request::get(format!("http://{shop}/orders/42"))
        .body(Empty::new())
        .unwrap();
    let response = axum_server_client::client().oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();

    // The server spans end with their bodies, which the client has read by now.
    for _ in 0..500 {
        if pipeline.spans().len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let tree = pipeline.tree();
    tree.assert_len(4).assert_single_trace();
    let outer = tree
        .find_by(|s| s.name == "GET" && s.parent_span_id == opentelemetry::trace::SpanId::INVALID)
        .expect("the test's client span")
        .assert_kind(SpanKind::Client);
    let shop_span = tree
        .span("GET /orders/{id}")
        .assert_kind(SpanKind::Server)
        .assert_child_of(outer);
    let inner = shop_span.child("GET").assert_kind(SpanKind::Client);
    tree.span("GET /stock/{sku}")
        .assert_kind(SpanKind::Server)
        .assert_child_of(inner);
    assert_eq!(
        body,
        format!("order 42: 7 in stock (trace {})", outer.trace_id())
    );
}
