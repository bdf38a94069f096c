//! The reqwest paths the docs show: reqwest wrapped in a tower service under `ClientLayer`, and
//! injecting by hand for a single call.

mod common;

use axum::Router;
use axum::routing::get;
use common::{Pipeline, attr_i64, attr_str, propagator, serve};
use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use tower::ServiceExt as _;
use tracewire_propagation::HeaderInjector;
use tracewire_tower::ClientLayer;

async fn echo_traceparent() -> std::net::SocketAddr {
    serve(Router::new().route(
        "/",
        get(|headers: HeaderMap| async move {
            headers
                .get("traceparent")
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default()
        }),
    ))
    .await
}

#[tokio::test]
async fn reqwest_wrapped_in_a_tower_service() {
    let pipeline = Pipeline::new();
    let addr = echo_traceparent().await;

    let http = reqwest::Client::new();
    let transport = tower::service_fn(move |req: http::Request<reqwest::Body>| {
        let http = http.clone();
        async move {
            let req = reqwest::Request::try_from(req)?;
            let res = http.execute(req).await?;
            Ok::<_, reqwest::Error>(http::Response::from(res))
        }
    });
    let client = tower::ServiceBuilder::new()
        .layer(
            ClientLayer::new()
                .with_tracer(pipeline.tracer())
                .with_propagator(propagator()),
        )
        .service(transport);

    let req = http::Request::get(format!("http://{addr}/"))
        .body(reqwest::Body::from(""))
        .unwrap();
    let res = client.oneshot(req).await.unwrap();
    let res = reqwest::Response::from(res);
    let echoed = res.text().await.unwrap();

    let span = pipeline.one("GET");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(attr_i64(&span, "http.response.status_code"), Some(200));
    assert_eq!(attr_str(&span, "url.full"), Some(format!("http://{addr}/")));
    assert_eq!(
        echoed,
        format!(
            "00-{}-{}-01",
            span.span_context.trace_id(),
            span.span_context.span_id()
        )
    );
}

#[tokio::test]
async fn reqwest_with_the_context_injected_by_hand() {
    let pipeline = Pipeline::new();
    let addr = echo_traceparent().await;
    let tracer = pipeline.tracer();
    let http = reqwest::Client::new();

    let span = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .start(&tracer);
    let cx = Context::current_with_span(span);
    let mut req = http.get(format!("http://{addr}/")).build().unwrap();
    propagator().inject_context(&cx, &mut HeaderInjector(req.headers_mut()));
    let res = http.execute(req).await.unwrap();
    cx.span().set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(res.status().as_u16()),
    ));
    let echoed = res.text().await.unwrap();
    cx.span().end();

    let span = pipeline.one("GET");
    assert!(echoed.contains(&span.span_context.span_id().to_string()));
}
