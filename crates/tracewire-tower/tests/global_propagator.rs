//! Without a propagator given, the layers use the globally installed one. The only test in this
//! binary, since it sets global state.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use common::{Pipeline, serve};
use http::Request;
use opentelemetry::trace::TraceId;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower::ServiceExt as _;
use tracewire_tower::{ClientLayer, ServerLayer};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test]
async fn the_global_propagator_is_used_by_default() {
    // This test binary's only global state: the W3C propagator.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let pipeline = Pipeline::new();
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()));
    let addr = serve(app).await;
    common::get(
        &format!("http://{addr}/"),
        &[("traceparent", &format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))],
    )
    .await;
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(
        span.span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );

    // The client side injects with it too.
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let transport = tower::service_fn(move |req: Request<String>| {
        *seen2.lock().unwrap() = req.headers().get("traceparent").cloned();
        async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) }
    });
    let client = tower::ServiceBuilder::new()
        .layer(ClientLayer::new().with_tracer(pipeline.tracer()))
        .service(transport);
    client
        .oneshot(Request::get("http://x/").body(String::new()).unwrap())
        .await
        .unwrap();
    let tp = seen.lock().unwrap().clone().expect("traceparent injected");
    let client_span = pipeline.one("GET");
    assert!(
        tp.to_str()
            .unwrap()
            .contains(&client_span.span_context.span_id().to_string())
    );
}
