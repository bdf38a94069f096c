//! Metrics: a scrape of `/metrics` over real HTTP finds an exemplar pointing at the span the
//! measurement was made in; the OpenTelemetry meter gets the same measurements.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::Traces;
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracer;
use tracewire_correlate::metrics::{
    ExemplarCounter, ExemplarFilter, ExemplarHistogram, Metrics, OPENMETRICS_CONTENT_TYPE,
};

/// One exemplar as scraped: its labels, value and whether it has a timestamp.
#[derive(Debug, PartialEq)]
struct Exemplar {
    labels: String,
    value: String,
    timestamp: Option<f64>,
}

/// The value and exemplar of the first sample line starting with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<(String, Option<Exemplar>)> {
    let line = text.lines().find(|l| l.starts_with(prefix))?;
    let rest = &line[prefix.len()..];
    let (value, exemplar) = match rest.split_once(" # ") {
        Some((v, e)) => (v, Some(e)),
        None => (rest, None),
    };
    let exemplar = exemplar.map(|e| {
        let close = e.find('}').expect("labels end");
        let labels = e[1..close].to_owned();
        let mut parts = e[close + 1..].split_whitespace();
        let value = parts.next().expect("value").to_owned();
        let timestamp = parts.next().map(|t| t.parse().expect("timestamp"));
        Exemplar {
            labels,
            value,
            timestamp,
        }
    });
    Some((value.trim().to_owned(), exemplar))
}

fn ids_labels(trace_id: &str, span_id: &str) -> String {
    format!("trace_id=\"{trace_id}\",span_id=\"{span_id}\"")
}

#[derive(Clone)]
struct App {
    tracer: Arc<SdkTracer>,
    requests: ExemplarCounter,
}

/// The article's payment handler: counts `payment.requests` by `status` inside its span and
/// answers with the span's ids.
async fn pay(State(app): State<App>, Path(status): Path<String>) -> String {
    app.tracer.in_span("payment", |cx| {
        app.requests.add(1, &[KeyValue::new("status", status)]);
        let sc = cx.span().span_context().clone();
        format!("{} {}", sc.trace_id(), sc.span_id())
    })
}

async fn serve(app: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (addr, server)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_over_http_finds_the_exemplar_of_the_request_span() {
    let traces = Traces::new(true);
    let metric_exporter = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metric_exporter.clone()).build())
        .build();
    let metrics = Metrics::builder()
        .with_meter(meter_provider.meter("payments"))
        .with_exemplar_filter(ExemplarFilter::TraceBased)
        .build();
    let requests = metrics
        .u64_counter("payment.requests")
        .with_description("Payment requests by outcome")
        .build();
    let app = Router::new()
        .route("/pay/{status}", get(pay))
        .with_state(App {
            tracer: Arc::new(traces.tracer()),
            requests,
        })
        .route_service("/metrics", metrics.service());
    let (addr, server) = serve(app).await;
    let http = client();

    let mut answers = Vec::new();
    for status in ["ok", "declined", "ok"] {
        let body = http
            .get(format!("http://{addr}/pay/{status}"))
            .send()
            .await
            .expect("pay")
            .text()
            .await
            .expect("body");
        answers.push(body);
    }
    let response = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], OPENMETRICS_CONTENT_TYPE);
    let text = response.text().await.expect("text");
    server.abort();

    assert!(text.contains("# TYPE payment_requests counter\n"), "{text}");
    assert!(text.contains("# HELP payment_requests Payment requests by outcome.\n"));
    assert!(text.ends_with("# EOF\n"));
    // The last `ok` request is the exemplar of the `ok` series; the `declined` one of its own.
    let (value, exemplar) = sample(&text, "payment_requests_total{status=\"ok\"} ").expect("ok");
    assert_eq!(value, "2");
    let exemplar = exemplar.expect("an exemplar");
    let (trace_id, span_id) = answers[2].split_once(' ').expect("ids");
    assert_eq!(exemplar.labels, ids_labels(trace_id, span_id));
    assert_eq!(exemplar.value, "1.0");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs_f64();
    let ts = exemplar.timestamp.expect("timestamp");
    assert!(ts > now - 600.0 && ts <= now + 1.0, "{ts} vs {now}");
    let (_, declined) =
        sample(&text, "payment_requests_total{status=\"declined\"} ").expect("declined");
    let (trace_id, span_id) = answers[1].split_once(' ').expect("ids");
    assert_eq!(
        declined.expect("exemplar").labels,
        ids_labels(trace_id, span_id)
    );
    // The exemplar points at a trace that was exported.
    let exported: Vec<String> = traces
        .spans()
        .iter()
        .map(|s| s.span_context.trace_id().to_string())
        .collect();
    assert!(exported.contains(&trace_id.to_owned()));
    // A trace id is never a label of a series.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let series = line.split(" # ").next().expect("series");
        assert!(!series.contains("trace_id"), "{line}");
    }

    // The OpenTelemetry meter saw the same counts, with `status` and nothing else.
    meter_provider.force_flush().expect("flush");
    let exported = metric_exporter.get_finished_metrics().expect("metrics");
    let metric = exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .find(|m| m.name() == "payment.requests")
        .expect("payment.requests exported");
    let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() else {
        panic!("a u64 sum: {:?}", metric.data());
    };
    let mut points: Vec<(Vec<String>, u64)> = sum
        .data_points()
        .map(|p| {
            (
                p.attributes()
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect(),
                p.value(),
            )
        })
        .collect();
    points.sort();
    assert_eq!(
        points,
        [
            (vec!["status=declined".to_owned()], 1),
            (vec!["status=ok".to_owned()], 2)
        ]
    );
}

#[tokio::test]
async fn only_get_and_head_are_served() {
    use tower::ServiceExt;
    let metrics = Metrics::builder()
        .with_exemplar_filter(ExemplarFilter::AlwaysOn)
        .build();
    metrics.u64_counter("jobs").build().add(1, &[]);
    for (method, status, empty) in [
        ("GET", 200, false),
        ("HEAD", 200, true),
        ("POST", 405, true),
    ] {
        let request = http::Request::builder()
            .method(method)
            .uri("/metrics")
            .body(())
            .expect("request");
        let response = metrics
            .service()
            .oneshot(request)
            .await
            .expect("infallible");
        assert_eq!(response.status(), status, "{method}");
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(body.is_empty(), empty, "{method}");
    }
}

fn counter(filter: ExemplarFilter) -> (Metrics, ExemplarCounter) {
    let metrics = Metrics::builder().with_exemplar_filter(filter).build();
    let counter = metrics.u64_counter("payment.requests").build();
    (metrics, counter)
}

const OK: &str = "payment_requests_total{status=\"ok\"} ";

#[test]
fn trace_based_takes_sampled_spans_only_and_keeps_the_last_exemplar() {
    let (metrics, requests) = counter(ExemplarFilter::TraceBased);
    let attrs = [KeyValue::new("status", "ok")];
    requests.add(1, &attrs);
    assert_eq!(sample(&metrics.encode(), OK), Some(("1".to_owned(), None)));

    let sampled = Traces::new(true);
    let sc = sampled.tracer().in_span("sampled", |cx| {
        requests.add(2, &attrs);
        cx.span().span_context().clone()
    });
    let unsampled = Traces::new(false);
    unsampled
        .tracer()
        .in_span("unsampled", |_| requests.add(4, &attrs));
    requests.add(8, &attrs);

    let (value, exemplar) = sample(&metrics.encode(), OK).expect("series");
    assert_eq!(value, "15");
    let exemplar = exemplar.expect("the sampled measurement's exemplar stays");
    assert_eq!(
        exemplar.labels,
        ids_labels(&sc.trace_id().to_string(), &sc.span_id().to_string())
    );
    assert_eq!(exemplar.value, "2.0");
}

#[test]
fn always_off_never_makes_an_exemplar() {
    let (metrics, requests) = counter(ExemplarFilter::AlwaysOff);
    Traces::new(true).tracer().in_span("sampled", |_| {
        requests.add(1, &[KeyValue::new("status", "ok")])
    });
    assert_eq!(sample(&metrics.encode(), OK), Some(("1".to_owned(), None)));
}

#[test]
fn always_on_takes_unsampled_spans_and_measurements_outside_spans() {
    let (metrics, requests) = counter(ExemplarFilter::AlwaysOn);
    let attrs = [KeyValue::new("status", "ok")];
    let sc = Traces::new(false).tracer().in_span("unsampled", |cx| {
        requests.add(1, &attrs);
        cx.span().span_context().clone()
    });
    let (_, exemplar) = sample(&metrics.encode(), OK).expect("series");
    assert_eq!(
        exemplar.expect("exemplar").labels,
        ids_labels(&sc.trace_id().to_string(), &sc.span_id().to_string())
    );
    requests.add(3, &attrs);
    let (value, exemplar) = sample(&metrics.encode(), OK).expect("series");
    assert_eq!(value, "4");
    let exemplar = exemplar.expect("exemplar");
    assert_eq!(
        (exemplar.labels.as_str(), exemplar.value.as_str()),
        ("", "3.0")
    );
}

#[test]
fn histograms_keep_one_exemplar_per_bucket() {
    let metrics = Metrics::builder()
        .with_exemplar_filter(ExemplarFilter::TraceBased)
        .build();
    let latency: ExemplarHistogram = metrics
        .f64_histogram("payment.duration")
        .with_unit("s")
        .with_boundaries(vec![0.1, 1.0])
        .build();
    let traces = Traces::new(true);
    let attrs = [KeyValue::new("status", "ok")];
    let fast = traces.tracer().in_span("fast", |cx| {
        latency.record(0.05, &attrs);
        cx.span().span_context().clone()
    });
    let slow = traces.tracer().in_span("slow", |cx| {
        latency.record(0.5, &attrs);
        cx.span().span_context().clone()
    });
    latency.record(5.0, &attrs);
    let text = metrics.encode();
    assert!(
        text.contains("# TYPE payment_duration_seconds histogram\n"),
        "{text}"
    );
    let bucket = |le: &str| {
        sample(
            &text,
            &format!("payment_duration_seconds_bucket{{le=\"{le}\",status=\"ok\"}} "),
        )
        .or_else(|| {
            sample(
                &text,
                &format!("payment_duration_seconds_bucket{{status=\"ok\",le=\"{le}\"}} "),
            )
        })
        .unwrap_or_else(|| panic!("bucket {le} in {text}"))
    };
    let (count, exemplar) = bucket("0.1");
    assert_eq!(count, "1");
    assert_eq!(
        exemplar.expect("fast exemplar").labels,
        ids_labels(&fast.trace_id().to_string(), &fast.span_id().to_string())
    );
    let (count, exemplar) = bucket("1.0");
    assert_eq!(count, "2");
    let exemplar = exemplar.expect("slow exemplar");
    assert_eq!(
        exemplar.labels,
        ids_labels(&slow.trace_id().to_string(), &slow.span_id().to_string())
    );
    assert_eq!(exemplar.value, "0.5");
    let (count, exemplar) = bucket("+Inf");
    assert_eq!(count, "3");
    assert_eq!(exemplar, None, "recorded outside any span");
}

#[test]
fn the_same_name_twice_is_one_instrument() {
    let metrics = Metrics::builder()
        .with_exemplar_filter(ExemplarFilter::AlwaysOff)
        .build();
    metrics.u64_counter("jobs").build().add(1, &[]);
    metrics.u64_counter("jobs").build().add(2, &[]);
    // A histogram under a taken name is not served (and does not corrupt the exposition).
    metrics.f64_histogram("jobs").build().record(1.0, &[]);
    let text = metrics.encode();
    assert_eq!(text.matches("# TYPE jobs").count(), 1, "{text}");
    assert_eq!(sample(&text, "jobs_total "), Some(("3".to_owned(), None)));
}
