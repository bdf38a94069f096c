//! Server span names and attributes, over real HTTP on 127.0.0.1.

mod common;

use axum::Router;
use axum::routing::get;
use common::{Pipeline, RecordingSampler, attr, attr_i64, attr_str, serve};
use http::{HeaderName, Method, StatusCode};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use tracewire_tower::{ForwardingHeader, ServerLayer, TrustedProxies};

type Layer = ServerLayer<opentelemetry_sdk::trace::SdkTracer>;

fn app(pipeline: &Pipeline, layer: impl FnOnce(Layer) -> Layer) -> Router {
    routes().layer(layer(ServerLayer::new().with_tracer(pipeline.tracer())))
}

fn routes() -> Router {
    Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/teapot",
            get(|| async { (StatusCode::IM_A_TEAPOT, "tea") }),
        )
        .route(
            "/headers",
            get(|| async { ([("x-request-cost", "7"), ("set-cookie", "secret")], "ok") }),
        )
}

#[tokio::test]
async fn a_routed_get_records_the_stable_attributes() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l)).await;
    let url = format!("http://{addr}/users/42?q=OpenTelemetry&sig=c2VjcmV0");
    let reply = common::get(&url, &[("user-agent", "tests/1.0")]).await;
    assert_eq!(reply.status, StatusCode::OK);

    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.name, "GET /users/{id}");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        attr_str(span, "http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(attr_str(span, "url.path").as_deref(), Some("/users/42"));
    assert_eq!(
        attr_str(span, "url.query").as_deref(),
        Some("q=OpenTelemetry&sig=REDACTED")
    );
    assert_eq!(attr_str(span, "url.scheme").as_deref(), Some("http"));
    assert_eq!(attr_str(span, "http.route").as_deref(), Some("/users/{id}"));
    assert_eq!(
        attr_str(span, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(attr_i64(span, "server.port"), Some(i64::from(addr.port())));
    assert_eq!(
        attr_str(span, "client.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attr_str(span, "network.peer.address").as_deref(),
        Some("127.0.0.1")
    );
    assert!(attr_i64(span, "network.peer.port").is_some_and(|p| p > 0));
    assert_eq!(
        attr_str(span, "user_agent.original").as_deref(),
        Some("tests/1.0")
    );
    assert_eq!(
        attr_str(span, "network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert_eq!(attr_i64(span, "http.response.status_code"), Some(200));
    assert_eq!(attr(span, "error.type"), None);
    assert_eq!(attr(span, "http.request.method_original"), None);
    // Nothing is recorded as an empty string.
    for kv in &span.attributes {
        assert!(!kv.value.as_str().is_empty(), "{} is empty", kv.key);
    }
}

#[tokio::test]
async fn attributes_are_present_when_the_span_starts() {
    let sampler = RecordingSampler::default();
    let pipeline = Pipeline::with_sampler(sampler.clone());
    let addr = serve(app(&pipeline, |l| l)).await;
    common::get(
        &format!("http://{addr}/users/1?a=b"),
        &[("user-agent", "ua")],
    )
    .await;
    pipeline.wait_spans(1).await;

    let seen = sampler.seen.lock().unwrap();
    let (name, attributes) = &seen[0];
    assert_eq!(name, "GET /users/{id}");
    let keys: Vec<&str> = attributes.iter().map(|kv| kv.key.as_str()).collect();
    for key in [
        "http.request.method",
        "url.path",
        "url.query",
        "url.scheme",
        "http.route",
        "server.address",
        "server.port",
        "client.address",
        "network.peer.address",
        "network.peer.port",
        "user_agent.original",
        "network.protocol.version",
    ] {
        assert!(keys.contains(&key), "{key} missing at start: {keys:?}");
    }
}

#[tokio::test]
async fn absent_inputs_leave_attributes_out() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l)).await;
    // hyper's client always sends Host; no query, no user agent.
    common::get(&format!("http://{addr}/users/1?"), &[]).await;
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(attr(span, "url.query"), None);
    assert_eq!(attr(span, "user_agent.original"), None);
}

#[tokio::test]
async fn unmatched_paths_are_named_by_method_only() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l)).await;
    let reply = common::get(&format!("http://{addr}/no/such/page"), &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.name, "GET");
    assert_eq!(attr(span, "http.route"), None);
    assert_eq!(attr_str(span, "url.path").as_deref(), Some("/no/such/page"));
    assert_eq!(span.status, Status::Unset);
}

#[tokio::test]
async fn unknown_methods_are_other_with_the_original() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l)).await;
    let purge = Method::from_bytes(b"PURGE").unwrap();
    let reply = common::send(purge.clone(), &format!("http://{addr}/users/1"), &[]).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    common::send(purge, &format!("http://{addr}/nowhere"), &[]).await;
    let spans = pipeline.wait_spans(2).await;
    assert_eq!(spans[0].name, "HTTP /users/{id}");
    assert_eq!(spans[1].name, "HTTP");
    for span in &spans {
        assert_eq!(
            attr_str(span, "http.request.method").as_deref(),
            Some("_OTHER")
        );
        assert_eq!(
            attr_str(span, "http.request.method_original").as_deref(),
            Some("PURGE")
        );
    }
}

#[tokio::test]
async fn known_methods_can_be_replaced() {
    let pipeline = Pipeline::new();
    let purge = Method::from_bytes(b"PURGE").unwrap();
    let known = [Method::GET, purge.clone()];
    let addr = serve(app(&pipeline, |l| l.with_known_methods(known))).await;
    common::send(purge, &format!("http://{addr}/users/1"), &[]).await;
    common::send(Method::POST, &format!("http://{addr}/users/1"), &[]).await;
    let spans = pipeline.wait_spans(2).await;
    assert_eq!(spans[0].name, "PURGE /users/{id}");
    assert_eq!(attr(&spans[0], "http.request.method_original"), None);
    assert_eq!(spans[1].name, "HTTP /users/{id}");
}

#[tokio::test]
async fn status_codes_follow_the_server_rules() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l)).await;
    common::get(&format!("http://{addr}/teapot"), &[]).await;
    common::get(&format!("http://{addr}/fail"), &[]).await;
    let spans = pipeline.wait_spans(2).await;

    let teapot = &spans[0];
    assert_eq!(attr_i64(teapot, "http.response.status_code"), Some(418));
    assert_eq!(teapot.status, Status::Unset);
    assert_eq!(attr(teapot, "error.type"), None);

    let fail = &spans[1];
    assert_eq!(attr_i64(fail, "http.response.status_code"), Some(500));
    assert_eq!(fail.status, Status::error(""));
    assert_eq!(attr_str(fail, "error.type").as_deref(), Some("500"));
}

#[tokio::test]
async fn server_address_follows_forwarding_headers_then_host() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l)).await;
    let url = format!("http://{addr}/users/1");
    common::get(
        &url,
        &[
            ("x-forwarded-host", "shop.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    common::get(
        &url,
        &[(
            "forwarded",
            "for=192.0.2.60;proto=http;host=\"api.example.com:8443\"",
        )],
    )
    .await;
    common::get(&url, &[("host", "internal.svc:9000")]).await;
    common::get(
        &url,
        &[("x-forwarded-host", "bad host!"), ("host", "fallback.svc")],
    )
    .await;
    let spans = pipeline.wait_spans(4).await;

    let got = |i: usize| {
        (
            attr_str(&spans[i], "server.address"),
            attr_i64(&spans[i], "server.port"),
            attr_str(&spans[i], "url.scheme"),
        )
    };
    assert_eq!(
        got(0),
        (
            Some("shop.example.com".into()),
            Some(443),
            Some("https".into())
        )
    );
    assert_eq!(
        got(1),
        (
            Some("api.example.com".into()),
            Some(8443),
            Some("http".into())
        )
    );
    assert_eq!(
        got(2),
        (Some("internal.svc".into()), Some(9000), Some("http".into()))
    );
    assert_eq!(
        got(3),
        (Some("fallback.svc".into()), Some(80), Some("http".into()))
    );
}

#[tokio::test]
async fn tls_layers_default_to_https() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l.with_tls(true))).await;
    common::get(
        &format!("http://{addr}/users/1"),
        &[("host", "secure.example")],
    )
    .await;
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(attr_str(span, "url.scheme").as_deref(), Some("https"));
    assert_eq!(attr_i64(span, "server.port"), Some(443));
}

#[tokio::test]
async fn client_address_believes_forwarding_headers_only_from_trusted_proxies() {
    let untrusted = Pipeline::new();
    let addr = serve(app(&untrusted, |l| l)).await;
    let headers = [("x-forwarded-for", "203.0.113.9, 10.0.0.2")];
    common::get(&format!("http://{addr}/users/1"), &headers).await;
    let span = &untrusted.wait_spans(1).await[0];
    assert_eq!(
        attr_str(span, "client.address").as_deref(),
        Some("127.0.0.1")
    );

    let trusted = Pipeline::new();
    let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
    let addr = serve(app(&trusted, |l| l.with_trusted_proxies(proxies))).await;
    common::get(&format!("http://{addr}/users/1"), &headers).await;
    common::get(
        &format!("http://{addr}/users/1"),
        &[("forwarded", "for=\"[2001:db8::1]:4711\"")],
    )
    .await;
    common::get(
        &format!("http://{addr}/users/1"),
        &[("x-forwarded-for", "garbage")],
    )
    .await;
    common::get(&format!("http://{addr}/users/1"), &[]).await;
    let spans = trusted.wait_spans(4).await;
    assert_eq!(
        attr_str(&spans[0], "client.address").as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(
        attr_str(&spans[1], "client.address").as_deref(),
        Some("2001:db8::1")
    );
    assert_eq!(attr(&spans[2], "client.address"), None);
    assert_eq!(
        attr_str(&spans[3], "client.address").as_deref(),
        Some("127.0.0.1")
    );
    for span in &spans {
        assert_eq!(
            attr_str(span, "network.peer.address").as_deref(),
            Some("127.0.0.1")
        );
    }
}

#[tokio::test]
async fn client_address_comes_only_from_the_header_the_proxies_write() {
    let pipeline = Pipeline::new();
    let proxies = TrustedProxies::parse("127.0.0.1")
        .unwrap()
        .with_header(ForwardingHeader::XForwardedFor);
    let addr = serve(app(&pipeline, |l| l.with_trusted_proxies(proxies))).await;
    // The client's own `Forwarded`, passed through by a proxy that appends X-Forwarded-For.
    common::get(
        &format!("http://{addr}/users/1"),
        &[
            ("forwarded", "for=198.51.100.66"),
            ("x-forwarded-for", "203.0.113.9"),
        ],
    )
    .await;
    // Only the client's `Forwarded`: not believed; the peer is recorded, as with no header.
    common::get(
        &format!("http://{addr}/users/1"),
        &[("forwarded", "for=198.51.100.66")],
    )
    .await;
    let spans = pipeline.wait_spans(2).await;
    assert_eq!(
        attr_str(&spans[0], "client.address").as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(
        attr_str(&spans[1], "client.address").as_deref(),
        Some("127.0.0.1")
    );
}

#[tokio::test]
async fn allow_listed_headers_are_captured() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| {
        l.with_request_headers([HeaderName::from_static("x-tenant"), http::header::ACCEPT])
            .with_response_headers([HeaderName::from_static("x-request-cost")])
    }))
    .await;
    common::get(
        &format!("http://{addr}/headers"),
        &[
            ("x-tenant", "acme"),
            ("x-tenant", "globex"),
            ("authorization", "Bearer secret"),
        ],
    )
    .await;
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(
        attr(span, "http.request.header.x-tenant"),
        Some(&Value::Array(Array::String(vec![
            "acme".into(),
            "globex".into()
        ])))
    );
    assert_eq!(attr(span, "http.request.header.accept"), None);
    assert_eq!(attr(span, "http.request.header.authorization"), None);
    assert_eq!(
        attr(span, "http.response.header.x-request-cost"),
        Some(&Value::Array(Array::String(vec!["7".into()])))
    );
    assert_eq!(attr(span, "http.response.header.set-cookie"), None);
}

#[tokio::test]
async fn hooks_add_attributes() {
    let pipeline = Pipeline::new();
    let layer = ServerLayer::new()
        .with_tracer(pipeline.tracer())
        .on_request(
            |req: &http::Request<axum::body::Body>, a: &mut Vec<KeyValue>| {
                a.push(KeyValue::new("app.path_len", req.uri().path().len() as i64));
            },
        )
        .on_response(
            |res: &http::Response<axum::body::Body>, a: &mut Vec<KeyValue>| {
                a.push(KeyValue::new("app.ok", res.status().is_success()));
            },
        );
    let addr = serve(routes().layer(layer)).await;
    common::get(&format!("http://{addr}/users/1"), &[]).await;
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(attr_i64(span, "app.path_len"), Some(8));
    assert_eq!(attr(span, "app.ok"), Some(&Value::Bool(true)));
}

#[tokio::test]
async fn a_route_extractor_names_spans_without_axum_routing() {
    let pipeline = Pipeline::new();
    let layer = ServerLayer::new()
        .with_tracer(pipeline.tracer())
        .with_route_extractor(|req: &http::Request<axum::body::Body>| {
            req.uri()
                .path()
                .starts_with("/users/")
                .then_some(std::borrow::Cow::Borrowed("/users/:id"))
        });
    let app = Router::new().route("/users/{id}", get(|| async { "u" }));
    // The layer wraps the whole router from outside: no MatchedPath there.
    let app =
        Router::new().fallback_service(tower::ServiceBuilder::new().layer(layer).service(app));
    let addr = serve(app).await;
    common::get(&format!("http://{addr}/users/9"), &[]).await;
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.name, "GET /users/:id");
    assert_eq!(attr_str(span, "http.route").as_deref(), Some("/users/:id"));
}

#[tokio::test]
async fn traceresponse_is_opt_in() {
    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l)).await;
    let reply = common::get(&format!("http://{addr}/users/1"), &[]).await;
    assert!(!reply.headers.contains_key("traceresponse"));

    let pipeline = Pipeline::new();
    let addr = serve(app(&pipeline, |l| l.with_traceresponse(true))).await;
    let reply = common::get(&format!("http://{addr}/users/1"), &[]).await;
    let span = &pipeline.wait_spans(1).await[0];
    let want = format!(
        "00-{}-{}-01",
        span.span_context.trace_id(),
        span.span_context.span_id()
    );
    assert_eq!(reply.headers["traceresponse"], want.as_str());
}
