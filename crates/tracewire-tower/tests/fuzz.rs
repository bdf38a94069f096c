//! Fuzz target: arbitrary request lines and headers through the server layer never panic and
//! always give the inner service's response.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderName, HeaderValue, Method, Request, Response};
use http_body_util::BodyExt as _;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tower::ServiceExt as _;
use tracewire_testing::fuzz::Fuzz;
use tracewire_tower::{ServerLayer, TrustedProxies};

/// Parses fuzz bytes as `METHOD TARGET\nname: value\n...`, skipping what `http` rejects.
fn request(input: &[u8]) -> Request<Body> {
    let mut lines = input.split(|b| *b == b'\n');
    let first = lines.next().unwrap_or_default();
    let mut parts = first.splitn(2, |b| *b == b' ');
    let method = parts
        .next()
        .and_then(|m| Method::from_bytes(m).ok())
        .unwrap_or(Method::GET);
    let target = parts
        .next()
        .and_then(|t| http::Uri::try_from(t).ok())
        .unwrap_or_else(|| http::Uri::from_static("/"));
    let mut req = Request::builder()
        .method(method)
        .uri(target)
        .body(Body::empty())
        .expect("method and uri are valid");
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            req.headers_mut().append(name, value);
        }
    }
    req
}

#[test]
fn request_headers_through_the_server_layer() {
    let provider = SdkTracerProvider::builder().build();
    let propagator = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]);
    let layer = ServerLayer::new()
        .with_tracer(provider.tracer("fuzz"))
        .with_propagator(propagator)
        .with_trusted_proxies(TrustedProxies::parse("10.0.0.0/8, ::1").expect("valid"))
        .with_request_headers([
            HeaderName::from_static("x-forwarded-for"),
            HeaderName::from_static("user-agent"),
        ])
        .with_traceresponse(true);
    let inner = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, std::convert::Infallible>(
            Response::builder()
                .status(203)
                .header("x-inner", "1")
                .body(Body::from("inner"))
                .expect("valid"),
        )
    });
    let service = tower::ServiceBuilder::new().layer(layer).service(inner);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let peers: [SocketAddr; 2] = [
        "10.1.2.3:5555".parse().expect("ip"),
        "[::1]:80".parse().expect("ip"),
    ];

    let runs = Fuzz::new("server_layer_headers")
        .seed(
            "GET /users/1?q=1&sig=abc\nhost: shop.example:8080\n\
             traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n\
             tracestate: a=1,b=2\nbaggage: user.id=42;p=1\nuser-agent: fuzz/1",
        )
        .seed(
            "POST /x\nforwarded: for=\"[2001:db8::1]:4711\";proto=https;host=\"a.b:1\", for=10.0.0.2\n\
             x-forwarded-for: 203.0.113.9, 10.0.0.1\nx-forwarded-host: h.example\nx-forwarded-proto: HTTPS",
        )
        .seed("PURGE *\nhost: [::1]:80\ntraceparent: 00-x\ntraceparent: 00-y")
        .dict(&[
            "traceparent: ", "tracestate: ", "baggage: ", "forwarded: ", "x-forwarded-for: ",
            "x-forwarded-host: ", "x-forwarded-proto: ", "host: ", "user-agent: ", "for=", "host=",
            "proto=", "[", "]", ":", ",", ";", "=", "\"", "00-", "4bf92f3577b34da6a3ce929d0e0e4736",
            "-01", "/", "?sig=", "&", "\n", "%", "https", "10.0.0.", "::ffff:",
        ])
        .run(|input| {
            let mut req = request(input);
            if input.len() % 3 != 0 {
                req.extensions_mut().insert(ConnectInfo(peers[input.len() % 2]));
            }
            let res = rt
                .block_on(service.clone().oneshot(req))
                .expect("infallible");
            assert_eq!(res.status(), 203);
            assert_eq!(res.headers()["x-inner"], "1");
            let body = rt
                .block_on(res.into_body().collect())
                .expect("body")
                .to_bytes();
            assert_eq!(body, "inner");
        });
    assert!(runs > 0);
}
