//! Server middleware overhead: tracewire's `ServerLayer` against what users wire by hand.
//!
//! An in-process axum router with one `GET /users/{id}` route, called with `oneshot` and its body
//! collected; the request carries a sampled `traceparent`, a `Host` and a `User-Agent`. Spans are
//! recorded and ended into a processor that only counts them. Cases, side by side:
//!
//! - (a) no instrumentation (the baseline);
//! - (b) tower-http's `TraceLayer` with tracing-opentelemetry, the parent set from the headers
//!   (`make_span_with` creating a `tracing` span, `set_parent` with the extracted context, the
//!   status recorded in `on_response`; no per-request log events);
//! - (c) a minimal hand-written middleware on the raw OpenTelemetry API (`axum::middleware::from_fn`:
//!   extract, SERVER span with method and route, status, end);
//! - (d) tracewire's `ServerLayer`, recording the full attribute set;
//! - (e) (d) with an SDK meter provider recording `http.server.request.duration`.
//!
//! Targets: (d)'s overhead over (a) is at most 0.25x (b)'s and at most 0.75x (c)'s.

use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use http_body_util::BodyExt as _;
use opentelemetry::context::FutureExt as _;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracer;
use tower::ServiceExt as _;
use tower_http::trace::TraceLayer;
use tracewire_core::semconv::attribute as attr;
use tracewire_propagation::{HeaderExtractor, TraceContextPropagator};
use tracewire_testing::bench::{Bench, CountingAlloc, Target};
use tracewire_testing::{CountingProcessor, InMemoryPipeline};
use tracewire_tower::ServerLayer;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const A: &str = "a: no instrumentation";
const B: &str = "b: tower-http TraceLayer + tracing-opentelemetry";
const C: &str = "c: hand-written middleware, raw OpenTelemetry API";
const D: &str = "d: tracewire ServerLayer";
const E: &str = "e: tracewire ServerLayer + SDK meter";

fn routes() -> Router {
    Router::new().route(
        "/users/{id}",
        get(|Path(id): Path<u32>| async move { if id == 0 { "nobody" } else { "somebody" } }),
    )
}

fn request() -> Request {
    http::Request::get("/users/42")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("host", "localhost:3000")
        .header("user-agent", "bench/1.0")
        .body(Body::empty())
        .expect("valid request")
}

/// Polls a future that completes without waiting (everything here is in memory).
fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// One request through `app`, body read to the end (where tracewire ends its span).
fn call(app: &Router) -> usize {
    run(async {
        let res = app.clone().oneshot(request()).await.expect("infallible");
        let status = res.status().as_u16() as usize;
        let body = res.into_body().collect().await.expect("body").to_bytes();
        status + body.len()
    })
}

/// (b): the usual hand-wiring of tower-http and tracing-opentelemetry.
fn tower_http_app() -> Router {
    routes().layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &Request| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or_default();
                let span = tracing::info_span!(
                    "request",
                    otel.name = %format_args!("{} {}", req.method(), route),
                    otel.kind = "server",
                    http.request.method = %req.method(),
                    http.route = route,
                    http.response.status_code = tracing::field::Empty,
                );
                let parent =
                    global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(req.headers())));
                let _ = span.set_parent(parent);
                span
            })
            .on_request(())
            .on_response(|res: &Response, _latency, span: &tracing::Span| {
                span.record("http.response.status_code", res.status().as_u16());
            })
            .on_body_chunk(())
            .on_eos(())
            .on_failure(()),
    )
}

/// (c): a minimal middleware on the raw OpenTelemetry API.
async fn raw_otel(State(tracer): State<SdkTracer>, req: Request, next: Next) -> Response {
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(req.headers())));
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let name = match &route {
        Some(r) => format!("{method} {r}"),
        None => method.clone(),
    };
    let mut attributes = vec![KeyValue::new(attr::HTTP_REQUEST_METHOD, method)];
    if let Some(route) = route {
        attributes.push(KeyValue::new(attr::HTTP_ROUTE, route));
    }
    let span = tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .with_attributes(attributes)
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(span);
    let res = next.run(req).with_context(cx.clone()).await;
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        attr::HTTP_RESPONSE_STATUS_CODE,
        i64::from(res.status().as_u16()),
    ));
    if res.status().is_server_error() {
        span.set_status(Status::error(""));
    }
    span.end();
    res
}

fn raw_otel_app(tracer: SdkTracer) -> Router {
    routes().layer(axum::middleware::from_fn_with_state(tracer, raw_otel))
}

/// Checks that each case does what it claims before timing it.
fn sanity(apps: &[(&str, &Router, &CountingProcessor)]) {
    for (name, app, counter) in apps {
        let before = counter.ended();
        assert!(call(app) > 200, "{name}: bad response");
        let spans = counter.ended() - before;
        let want = u64::from(*name != A);
        assert_eq!(spans, want, "{name}: {spans} spans per request");
    }
    // tracewire records the full attribute set, as a child of the incoming traceparent.
    let pipeline = InMemoryPipeline::new();
    let app = routes().layer(ServerLayer::new().with_tracer(pipeline.tracer("check")));
    call(&app);
    let tree = pipeline.tree();
    let span = tree.span("GET /users/{id}");
    for key in [
        attr::HTTP_REQUEST_METHOD,
        attr::URL_PATH,
        attr::URL_SCHEME,
        attr::HTTP_ROUTE,
        attr::SERVER_ADDRESS,
        attr::SERVER_PORT,
        attr::USER_AGENT_ORIGINAL,
        attr::NETWORK_PROTOCOL_VERSION,
        attr::HTTP_RESPONSE_STATUS_CODE,
    ] {
        assert!(span.attribute(key).is_some(), "tracewire span lacks {key}");
    }
    assert_eq!(
        span.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

fn main() {
    global::set_text_map_propagator(TraceContextPropagator::new());

    let (provider_b, counter_b) = CountingProcessor::provider();
    let (provider_c, counter_c) = CountingProcessor::provider();
    let (provider_d, counter_d) = CountingProcessor::provider();
    let (provider_e, counter_e) = CountingProcessor::provider();
    let none = CountingProcessor::new();

    // Only (b) creates `tracing` spans; the subscriber is this thread's for the whole run.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider_b.tracer("b")));
    let _subscriber = tracing::subscriber::set_default(subscriber);

    let meter_provider = SdkMeterProvider::builder()
        .with_periodic_exporter(InMemoryMetricExporter::default())
        .build();

    // `with_state(())` turns handlers into routes once, as `axum::serve` does; without it a
    // `Router<()>` called directly rebuilds each route (and applies its layers) per request.
    let a = routes().with_state(());
    let b = tower_http_app().with_state(());
    let c = raw_otel_app(provider_c.tracer("c")).with_state(());
    let d = routes()
        .layer(ServerLayer::new().with_tracer(provider_d.tracer("d")))
        .with_state(());
    let e = routes()
        .layer(
            ServerLayer::new()
                .with_tracer(provider_e.tracer("e"))
                .with_meter(meter_provider.meter("e")),
        )
        .with_state(());

    sanity(&[
        (A, &a, &none),
        (B, &b, &counter_b),
        (C, &c, &counter_c),
        (D, &d, &counter_d),
        (E, &e, &counter_e),
    ]);

    // `TRACEWIRE_BENCH_PROFILE=d` runs one case in a loop, for a profiler (callgrind counts
    // instructions deterministically on a noisy machine).
    if let Ok(case) = std::env::var("TRACEWIRE_BENCH_PROFILE") {
        let identity = routes()
            .layer(tower::layer::util::Identity::new())
            .with_state(());
        let app = match case.as_str() {
            "a" => &a,
            "i" => &identity,
            "b" => &b,
            "c" => &c,
            "e" => &e,
            _ => &d,
        };
        for (name, app) in [
            ("a", &a),
            ("identity", &identity),
            ("b", &b),
            ("c", &c),
            ("d", &d),
            ("e", &e),
        ] {
            call(app);
            let (_, n) = tracewire_testing::bench::count_allocations(|| call(app));
            println!("allocations per request, {name}: {n}");
        }
        let iterations: u32 = std::env::var("TRACEWIRE_BENCH_ITERATIONS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(20_000);
        let mut sum = 0;
        for _ in 0..iterations {
            sum += call(app);
        }
        println!("profiled {case}: {sum}");
        return;
    }

    let mut bench = Bench::new("tower server");
    bench.group("GET /users/{id} with traceparent, oneshot", |g| {
        g.case(A, || call(&a));
        g.case(B, || call(&b));
        g.case(C, || call(&c));
        g.case(D, || call(&d));
        g.case(E, || call(&e));
        g.target(D, Target::overhead(0.25, B, A));
        g.target(D, Target::overhead(0.75, C, A));
    });
    let report = bench.finish();

    // Overheads over the baseline, as the issue states its targets.
    for group in &report.groups {
        let base = &group.cases[0];
        for case in &group.cases[1..] {
            println!(
                "  overhead of {:<52} {:>8.1} ns  {:>6.2} allocs",
                case.name,
                case.median_ns - base.median_ns,
                case.allocs_per_op - base.allocs_per_op
            );
        }
    }
    let _ = meter_provider.shutdown();
}
