//! Trace context across services: parent/child over real HTTP, the context inside handlers (the
//! OpenTelemetry API and `tracing`), bad trace headers, public endpoints, baggage.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use bytes::Bytes;
use common::{HttpClient, Pipeline, attr_str, propagator, serve};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{SpanId, SpanKind, TraceContextExt as _, TraceId};
use opentelemetry_sdk::trace::SdkTracer;
use tower::ServiceExt as _;
use tracewire_tower::client::Client;
use tracewire_tower::{ClientLayer, ServerLayer};
use tracing::Instrument as _;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{PARENT_ID}-01")
}

type Traced = Client<HttpClient, SdkTracer, opentelemetry::propagation::TextMapCompositePropagator>;

/// What service A's handler saw.
#[derive(Debug, Default, Clone)]
struct Seen {
    otel_span: Option<SpanId>,
    tracing_trace: Option<TraceId>,
    baggage: Option<String>,
}

#[tokio::test]
async fn parent_and_child_across_two_services() {
    let pipeline = Pipeline::new();
    let _subscriber = tracing::subscriber::set_default(pipeline.subscriber());

    // Service B echoes what it received.
    let b = Router::new()
        .route(
            "/inventory/{sku}",
            get(|headers: HeaderMap| async move {
                let bag = headers
                    .get("baggage")
                    .map(|v| v.to_str().unwrap().to_owned());
                bag.unwrap_or_default()
            }),
        )
        .layer(
            ServerLayer::new()
                .with_tracer(pipeline.tracer())
                .with_propagator(propagator()),
        );
    let b_addr = serve(b).await;

    // Service A calls B through the client layer, inside a `tracing` span.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let client = tower::ServiceBuilder::new()
        .layer(
            ClientLayer::new()
                .with_tracer(pipeline.tracer())
                .with_propagator(propagator()),
        )
        .service(common::client());
    let a = Router::new()
        .route(
            "/checkout",
            get(
                |State((client, seen, b_addr)): State<(
                    Traced,
                    Arc<Mutex<Seen>>,
                    std::net::SocketAddr,
                )>| async move {
                    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                    let cx = Context::current();
                    let work = tracing::info_span!("reserve stock");
                    {
                        let mut seen = seen.lock().unwrap();
                        seen.otel_span = Some(cx.span().span_context().span_id());
                        seen.tracing_trace = Some(work.context().span().span_context().trace_id());
                        seen.baggage = cx.baggage().get("user.id").map(|v| v.to_string());
                    }
                    let req = Request::get(format!("http://{b_addr}/inventory/sku-1"))
                        .body(Full::new(Bytes::new()))
                        .unwrap();
                    let res = client.oneshot(req).instrument(work).await.unwrap();
                    let body = res.into_body().collect().await.unwrap().to_bytes();
                    String::from_utf8_lossy(&body).into_owned()
                },
            ),
        )
        .with_state((client, seen.clone(), b_addr))
        .layer(
            ServerLayer::new()
                .with_tracer(pipeline.tracer())
                .with_propagator(propagator()),
        );
    let a_addr = serve(a).await;

    let reply = common::get(
        &format!("http://{a_addr}/checkout"),
        &[("traceparent", &traceparent()), ("baggage", "user.id=42")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    // B received the caller's baggage, carried through A's context.
    assert_eq!(reply.body, "user.id=42");

    pipeline.wait_spans(4).await;
    let tree = pipeline.tree();
    tree.assert_len(4).assert_single_trace();
    let trace = TraceId::from_hex(TRACE_ID).unwrap();
    let a_span = tree.span("GET /checkout").assert_kind(SpanKind::Server);
    assert_eq!(a_span.trace_id(), trace);
    assert_eq!(
        a_span.parent_span_id(),
        SpanId::from_hex(PARENT_ID).unwrap()
    );
    assert!(a_span.data().parent_span_is_remote);
    let work = tree.span("reserve stock").assert_child_of(a_span);
    let client_span = tree
        .span("GET")
        .assert_kind(SpanKind::Client)
        .assert_child_of(work);
    let b_span = tree
        .span("GET /inventory/{sku}")
        .assert_kind(SpanKind::Server)
        .assert_child_of(client_span);
    assert!(b_span.data().parent_span_is_remote);
    let (a_span, client_span) = (a_span.data(), client_span.data());

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.otel_span, Some(a_span.span_context.span_id()));
    assert_eq!(seen.tracing_trace, Some(trace));
    assert_eq!(seen.baggage.as_deref(), Some("42"));
    assert_eq!(
        attr_str(client_span, "url.full"),
        Some(format!("http://{b_addr}/inventory/sku-1"))
    );
}

fn echo_app(
    pipeline: &Pipeline,
    layer: ServerLayer<SdkTracer, opentelemetry::propagation::TextMapCompositePropagator>,
) -> Router {
    let _ = pipeline;
    Router::new()
        .route(
            "/echo",
            get(|| async {
                let cx = Context::current();
                let sc = cx.span().span_context().clone();
                let baggage: Vec<String> = cx
                    .baggage()
                    .iter()
                    .map(|(k, (v, _))| format!("{k}={v}"))
                    .collect();
                format!("{} {}", sc.trace_id(), baggage.join(","))
            }),
        )
        .layer(layer)
}

#[tokio::test]
async fn malformed_and_duplicated_trace_headers_never_fail_a_request() {
    let pipeline = Pipeline::new();
    let layer = ServerLayer::new()
        .with_tracer(pipeline.tracer())
        .with_propagator(propagator());
    let addr = serve(echo_app(&pipeline, layer)).await;
    let url = format!("http://{addr}/echo");
    let tp = traceparent();
    // (headers, whether the caller's span stays the parent)
    let cases: Vec<(Vec<(&str, &str)>, bool)> = vec![
        (vec![("traceparent", "garbage")], false),
        (
            vec![(
                "traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            )],
            false,
        ),
        (
            vec![(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            )],
            false,
        ),
        (
            vec![(
                "traceparent",
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )],
            false,
        ),
        // Two traceparent lines are ambiguous: no parent.
        (vec![("traceparent", &tp), ("traceparent", &tp)], false),
        // A bad tracestate is dropped; the traceparent still counts.
        (vec![("traceparent", &tp), ("tracestate", "=,,=;;")], true),
        (vec![("traceparent", &tp), ("baggage", "%%%;;=,=")], true),
        (vec![("baggage", "%%%;;=,=")], false),
    ];
    for (headers, _) in &cases {
        let reply = common::get(&url, headers).await;
        assert_eq!(reply.status, StatusCode::OK, "{headers:?}");
    }
    let spans = pipeline.wait_spans(cases.len()).await;
    for ((headers, keeps_parent), span) in cases.iter().zip(&spans) {
        let parent = if *keeps_parent {
            SpanId::from_hex(PARENT_ID).unwrap()
        } else {
            SpanId::INVALID
        };
        assert_eq!(span.parent_span_id, parent, "{headers:?}");
        assert_eq!(
            span.span_context.trace_id() == TraceId::from_hex(TRACE_ID).unwrap(),
            *keeps_parent,
            "{headers:?}"
        );
        assert!(span.span_context.trace_id() != TraceId::INVALID);
    }
}

#[tokio::test]
async fn public_endpoints_start_a_new_trace_linked_to_the_caller() {
    let pipeline = Pipeline::new();
    let layer = ServerLayer::new_for_public_endpoint()
        .with_tracer(pipeline.tracer())
        .with_propagator(propagator());
    let addr = serve(echo_app(&pipeline, layer)).await;
    let reply = common::get(
        &format!("http://{addr}/echo"),
        &[("traceparent", &traceparent()), ("baggage", "user.id=42")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    // Baggage from outside is dropped; the trace is new.
    assert!(reply.body.ends_with(' '), "{}", reply.body);
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.parent_span_id, SpanId::INVALID);
    assert_ne!(
        span.span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );
    assert_eq!(reply.body.trim(), span.span_context.trace_id().to_string());
    let links = &span.links.links;
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );
    assert_eq!(
        links[0].span_context.span_id(),
        SpanId::from_hex(PARENT_ID).unwrap()
    );

    // Without a caller context there is nothing to link.
    common::get(&format!("http://{addr}/echo"), &[]).await;
    let spans = pipeline.wait_spans(2).await;
    assert!(spans[1].links.links.is_empty());
}

#[tokio::test]
async fn public_endpoints_may_keep_baggage_and_private_ones_drop_it() {
    let pipeline = Pipeline::new();
    let keep = ServerLayer::new_for_public_endpoint()
        .with_incoming_baggage(true)
        .with_tracer(pipeline.tracer())
        .with_propagator(propagator());
    let addr = serve(echo_app(&pipeline, keep)).await;
    let headers = [
        ("traceparent", traceparent()),
        ("baggage", "user.id=42".to_owned()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = common::get(&format!("http://{addr}/echo"), &headers).await;
    assert!(reply.body.ends_with(" user.id=42"), "{}", reply.body);
    assert!(!reply.body.starts_with(TRACE_ID));

    let drop = ServerLayer::new()
        .with_incoming_baggage(false)
        .with_tracer(pipeline.tracer())
        .with_propagator(propagator());
    let addr = serve(echo_app(&pipeline, drop)).await;
    let reply = common::get(&format!("http://{addr}/echo"), &headers).await;
    assert_eq!(reply.body, format!("{TRACE_ID} "));
}
