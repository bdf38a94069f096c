//! `http.server.request.duration` and `http.client.request.duration` through the meter.

mod common;

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use common::{Pipeline, serve};
use http::{Request, StatusCode};
use http_body_util::Full;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
use tower::ServiceExt as _;
use tracewire_tower::{ClientLayer, ServerLayer};

/// (count, bounds, attributes) of each data point of histogram `name`.
type Points = Vec<(u64, Vec<f64>, BTreeMap<String, String>)>;

fn histogram(provider: &SdkMeterProvider, exporter: &InMemoryMetricExporter, name: &str) -> Points {
    provider.force_flush().expect("flush");
    let mut out = Vec::new();
    for rm in exporter.get_finished_metrics().expect("metrics") {
        for sm in rm.scope_metrics() {
            for m in sm.metrics().filter(|m| m.name() == name) {
                assert_eq!(m.unit(), "s");
                if let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() {
                    for p in h.data_points() {
                        let attrs = p
                            .attributes()
                            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                            .collect();
                        out.push((p.count(), p.bounds().collect(), attrs));
                    }
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn server_and_client_durations_carry_the_semconv_attributes() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter.clone())
        .build();
    let meter = provider.meter("test");
    let pipeline = Pipeline::new();

    let app = Router::new()
        .route("/users/{id}", get(|| async { "u" }))
        .route("/fail", get(|| async { StatusCode::BAD_GATEWAY }))
        .layer(
            ServerLayer::new()
                .with_tracer(pipeline.tracer())
                .with_meter(meter.clone()),
        );
    let addr = serve(app).await;
    let client = tower::ServiceBuilder::new()
        .layer(
            ClientLayer::new()
                .with_tracer(pipeline.tracer())
                .with_meter(meter),
        )
        .service(common::client());
    for path in ["/users/1", "/users/2", "/fail"] {
        let req = Request::get(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        client.clone().oneshot(req).await.unwrap();
    }
    pipeline.wait_spans(6).await;

    let server = histogram(&provider, &exporter, "http.server.request.duration");
    let ok = server
        .iter()
        .find(|(_, _, a)| a.get("http.route").map(String::as_str) == Some("/users/{id}"))
        .expect("a point for the route");
    assert_eq!(ok.0, 2);
    assert_eq!(
        ok.1,
        [
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
        ]
    );
    let want: BTreeMap<String, String> = [
        ("http.request.method", "GET"),
        ("url.scheme", "http"),
        ("http.route", "/users/{id}"),
        ("http.response.status_code", "200"),
        ("network.protocol.version", "1.1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(ok.2, want);
    let failed = server
        .iter()
        .find(|(_, _, a)| a.get("http.route").map(String::as_str) == Some("/fail"))
        .expect("a point for the failure");
    assert_eq!(failed.2.get("error.type").map(String::as_str), Some("502"));
    // Trace ids never become metric attributes.
    assert!(
        server
            .iter()
            .all(|(_, _, a)| a.keys().all(|k| !k.contains("trace")))
    );

    let client = histogram(&provider, &exporter, "http.client.request.duration");
    let ok = client
        .iter()
        .find(|(_, _, a)| a.get("http.response.status_code").map(String::as_str) == Some("200"))
        .expect("a client point");
    assert_eq!(ok.0, 2);
    assert_eq!(
        ok.2.get("server.address").map(String::as_str),
        Some("127.0.0.1")
    );
    assert_eq!(ok.2.get("server.port"), Some(&addr.port().to_string()));
    // `url.scheme` is Opt-In on the client histogram (the HTTP metric conventions): left out.
    assert_eq!(ok.2.get("url.scheme"), None);
    let failed = client
        .iter()
        .find(|(_, _, a)| a.contains_key("error.type"))
        .expect("a failed client point");
    assert_eq!(failed.2.get("error.type").map(String::as_str), Some("502"));
}
