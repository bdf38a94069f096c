//! The client layer on hyper-util's legacy `Client`, against a real server on 127.0.0.1.

mod common;

use axum::Router;
use axum::extract::Path;
use bytes::Bytes;
use common::{Pipeline, attr, attr_i64, attr_str, propagator, serve};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use tower::{Service as _, ServiceExt as _};
use tracewire_tower::{ClientLayer, NoPropagation};

/// A server that answers `/status/{code}` with that code and echoes the propagation headers.
async fn echo_server() -> std::net::SocketAddr {
    let app = Router::new().route(
        "/status/{code}",
        axum::routing::get(|Path(code): Path<u16>, headers: HeaderMap| async move {
            let h = |name: &str| {
                headers
                    .get(name)
                    .map(|v| v.to_str().expect("ascii").to_owned())
                    .unwrap_or_else(|| "-".to_owned())
            };
            (
                StatusCode::from_u16(code).expect("code"),
                format!("{}|{}", h("traceparent"), h("baggage")),
            )
        }),
    );
    serve(app).await
}

fn client(
    pipeline: &Pipeline,
    layer: ClientLayer,
) -> impl tower::Service<
    Request<Full<Bytes>>,
    Response = http::Response<hyper::body::Incoming>,
    Error = hyper_util::client::legacy::Error,
    Future: Send,
> + Clone {
    tower::ServiceBuilder::new()
        .layer(
            layer
                .with_tracer(pipeline.tracer())
                .with_propagator(propagator()),
        )
        .service(common::client())
}

async fn body(res: http::Response<hyper::body::Incoming>) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn get_req(url: String) -> Request<Full<Bytes>> {
    Request::get(url)
        .body(Full::new(Bytes::new()))
        .expect("request")
}

#[tokio::test]
async fn a_client_span_per_request_with_context_injected() {
    let pipeline = Pipeline::new();
    let addr = echo_server().await;
    let client = client(&pipeline, ClientLayer::new());

    let parent = pipeline.tracer().start("checkout");
    let cx = Context::current_with_span(parent);
    let res = {
        let _g = cx.clone().attach();
        client
            .oneshot(get_req(format!(
                "http://{addr}/status/200?q=1&Signature=abc"
            )))
            .await
            .unwrap()
    };
    assert_eq!(res.status(), StatusCode::OK);
    let echoed = body(res).await;
    cx.span().end();

    let span = pipeline.one("GET");
    let parent = pipeline.one("checkout");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, parent.span_context.span_id());
    assert_eq!(span.span_context.trace_id(), parent.span_context.trace_id());
    let want_tp = format!(
        "00-{}-{}-01",
        span.span_context.trace_id(),
        span.span_context.span_id()
    );
    assert_eq!(echoed, format!("{want_tp}|-"));
    assert_eq!(
        attr_str(&span, "http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        attr_str(&span, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(attr_i64(&span, "server.port"), Some(i64::from(addr.port())));
    assert_eq!(
        attr_str(&span, "url.full"),
        Some(format!("http://{addr}/status/200?q=1&Signature=REDACTED"))
    );
    assert_eq!(attr_i64(&span, "http.response.status_code"), Some(200));
    assert_eq!(
        attr_str(&span, "network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);
}

#[tokio::test]
async fn client_errors_are_4xx_and_5xx() {
    let pipeline = Pipeline::new();
    let addr = echo_server().await;
    let mut client = client(&pipeline, ClientLayer::new());
    for code in [302, 404, 503] {
        let res = client
            .ready()
            .await
            .unwrap()
            .call(get_req(format!("http://{addr}/status/{code}")))
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), code);
    }
    let spans = pipeline.wait_spans(3).await;
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(attr(&spans[0], "error.type"), None);
    for (span, code) in spans[1..].iter().zip(["404", "503"]) {
        assert_eq!(span.status, Status::error(""));
        assert_eq!(attr_str(span, "error.type").as_deref(), Some(code));
    }
}

#[tokio::test]
async fn a_transport_error_sets_error_with_its_type() {
    let pipeline = Pipeline::new();
    // A port nobody listens on any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = client(&pipeline, ClientLayer::new());
    let err = client
        .oneshot(get_req(format!("http://127.0.0.1:{port}/")))
        .await
        .unwrap_err();
    assert!(err.is_connect());
    let span = pipeline.one("GET");
    assert_eq!(
        attr_str(&span, "error.type").as_deref(),
        Some("hyper_util::client::legacy::client::Error")
    );
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(attr(&span, "http.response.status_code"), None);
}

#[tokio::test]
async fn propagation_can_be_turned_off_per_request() {
    let pipeline = Pipeline::new();
    let addr = echo_server().await;
    let client = client(&pipeline, ClientLayer::new());
    let mut req = get_req(format!("http://{addr}/status/200"));
    req.extensions_mut().insert(NoPropagation);
    let res = client.oneshot(req).await.unwrap();
    assert_eq!(body(res).await, "-|-");
    // Still traced.
    assert_eq!(pipeline.wait_spans(1).await.len(), 1);
}

#[tokio::test]
async fn outgoing_baggage_is_limited_by_key_and_host() {
    let pipeline = Pipeline::new();
    let addr = echo_server().await;
    let cx = Context::new().with_baggage([
        KeyValue::new("user.id", "42"),
        KeyValue::new("session.region", "eu-west"),
    ]);
    let _g = cx.attach();

    let everything = client(&pipeline, ClientLayer::new());
    let echoed = body(
        everything
            .oneshot(get_req(format!("http://{addr}/status/200")))
            .await
            .unwrap(),
    )
    .await;
    let bag = echoed.split('|').nth(1).unwrap().to_owned();
    assert!(
        bag.contains("user.id=42") && bag.contains("session.region=eu-west"),
        "{bag}"
    );

    let keys = client(
        &pipeline,
        ClientLayer::new().with_baggage_keys(["session.region"]),
    );
    let echoed = body(
        keys.oneshot(get_req(format!("http://{addr}/status/200")))
            .await
            .unwrap(),
    )
    .await;
    assert!(echoed.ends_with("|session.region=eu-west"), "{echoed}");

    let elsewhere = client(
        &pipeline,
        ClientLayer::new().with_baggage_hosts([".internal"]),
    );
    let echoed = body(
        elsewhere
            .oneshot(get_req(format!("http://{addr}/status/200")))
            .await
            .unwrap(),
    )
    .await;
    assert!(echoed.ends_with("|-"), "{echoed}");
    // The trace context still goes.
    assert!(echoed.starts_with("00-"), "{echoed}");

    let here = client(
        &pipeline,
        ClientLayer::new().with_baggage_hosts(["127.0.0.1"]),
    );
    let echoed = body(
        here.oneshot(get_req(format!("http://{addr}/status/200")))
            .await
            .unwrap(),
    )
    .await;
    assert!(echoed.contains("user.id=42"), "{echoed}");
}

#[tokio::test]
async fn unknown_methods_are_other() {
    let pipeline = Pipeline::new();
    let addr = echo_server().await;
    let client = client(&pipeline, ClientLayer::new());
    let req = Request::builder()
        .method(Method::from_bytes(b"PURGE").unwrap())
        .uri(format!("http://{addr}/status/200"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    client.oneshot(req).await.unwrap();
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.name, "HTTP");
    assert_eq!(
        attr_str(span, "http.request.method").as_deref(),
        Some("_OTHER")
    );
    assert_eq!(
        attr_str(span, "http.request.method_original").as_deref(),
        Some("PURGE")
    );
}
