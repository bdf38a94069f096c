//! The harness protocol end to end on 127.0.0.1: a receiving server records what each call
//! brings, and the checks are the W3C harness's (trace id continued, parent id replaced, flags and
//! tracestate carried; a new trace when the traceparent is invalid).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::Sampler;
use tracewire_testing::InMemoryPipeline;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";

/// Spans of every test in this binary (global state, installed once).
fn pipeline() -> &'static InMemoryPipeline {
    static PIPELINE: OnceLock<InMemoryPipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        let pipeline = InMemoryPipeline::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .build();
        std::mem::forget(pipeline.install_global());
        // The strict W3C propagator, as tracewire-sdk installs it.
        opentelemetry::global::set_text_map_propagator(
            tracewire_propagation::TraceContextPropagator::new(),
        );
        pipeline
    })
}

/// What one call to the receiver brought.
#[derive(Debug, Clone)]
struct Received {
    hop: String,
    traceparent: Option<String>,
    tracestate: Option<String>,
    body: serde_json::Value,
}

type Log = Arc<Mutex<Vec<Received>>>;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

async fn receiver() -> (SocketAddr, Log) {
    let log = Log::default();
    let app = Router::new()
        .route(
            "/recv/{hop}",
            post(
                |State(log): State<Log>,
                 Path(hop): Path<String>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let header =
                        |n: &str| headers.get(n).map(|v| v.to_str().unwrap_or("?").to_owned());
                    log.lock().expect("lock").push(Received {
                        hop,
                        traceparent: header("traceparent"),
                        tracestate: header("tracestate"),
                        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                    });
                    StatusCode::OK
                },
            ),
        )
        .with_state(log.clone());
    (serve(app).await, log)
}

/// Sends `POST /test` to the harness at `harness` with `headers`, asking it to call the
/// receiver's hops `a` then `b`.
async fn run_test(
    harness: SocketAddr,
    receiver: SocketAddr,
    headers: &[(&str, &str)],
) -> StatusCode {
    let actions = serde_json::json!([
        {"url": format!("http://{receiver}/recv/a"), "arguments": [{"url": "http://example.invalid/", "arguments": []}]},
        {"url": format!("http://{receiver}/recv/b"), "arguments": []},
    ]);
    let mut req =
        Request::post(format!("http://{harness}/test")).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::from(actions.to_string())))
        .expect("request");
    let client = Client::builder(TokioExecutor::new()).build_http();
    let res = client.request(req).await.expect("harness answers");
    let status = res.status();
    let _ = res.into_body().collect().await;
    status
}

fn parts(traceparent: &str) -> (String, String, String, String) {
    let p: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(p.len(), 4, "{traceparent}");
    (p[0].into(), p[1].into(), p[2].into(), p[3].into())
}

#[tokio::test]
async fn a_valid_context_is_continued_on_every_call_in_order() {
    let pipeline = pipeline();
    let harness = serve(w3c_harness::app()).await;
    let (recv, log) = receiver().await;
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let status = run_test(
        harness,
        recv,
        &[
            ("traceparent", &traceparent),
            ("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The answer came after both calls.
    let calls = log.lock().unwrap().clone();
    assert_eq!(
        calls.iter().map(|c| c.hop.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let mut parents = Vec::new();
    for call in &calls {
        let (version, trace, parent, flags) =
            parts(call.traceparent.as_deref().expect("traceparent"));
        assert_eq!(version, "00");
        assert_eq!(trace, TRACE_ID);
        assert_ne!(parent, PARENT_ID);
        assert_eq!(flags, "01");
        assert_eq!(
            call.tracestate.as_deref(),
            Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        );
        parents.push(parent);
    }
    assert_ne!(parents[0], parents[1], "one CLIENT span per call");
    assert_eq!(
        calls[0].body,
        serde_json::json!([{"url": "http://example.invalid/", "arguments": []}])
    );
    assert_eq!(calls[1].body, serde_json::json!([]));

    // The spans: POST /test (SERVER) with two CLIENT children whose ids went out.
    let tree = pipeline.tree();
    let server = tree
        .find_by(|s| s.name == "POST /test" && s.span_context.trace_id().to_string() == TRACE_ID)
        .expect("server span")
        .assert_kind(SpanKind::Server);
    let clients = server.children();
    assert_eq!(clients.len(), 2);
    for (client, parent) in clients.iter().zip(&parents) {
        assert_eq!(client.kind(), &SpanKind::Client);
        assert_eq!(&client.span_id().to_string(), parent);
    }
}

#[tokio::test]
async fn an_unsampled_context_stays_unsampled() {
    pipeline();
    let harness = serve(w3c_harness::app()).await;
    let (recv, log) = receiver().await;
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-00");
    run_test(harness, recv, &[("traceparent", &traceparent)]).await;
    let calls = log.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    for call in &calls {
        let (_, trace, parent, flags) = parts(call.traceparent.as_deref().expect("traceparent"));
        assert_eq!((trace.as_str(), flags.as_str()), (TRACE_ID, "00"));
        assert_ne!(parent, PARENT_ID);
        assert_eq!(call.tracestate, None);
    }
}

#[tokio::test]
async fn an_invalid_traceparent_starts_a_new_trace_and_drops_tracestate() {
    pipeline();
    let harness = serve(w3c_harness::app()).await;
    let cases: [&[(&str, &str)]; 4] = [
        &[
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x",
            ),
            ("tracestate", "foo=1"),
        ],
        &[
            (
                "traceparent",
                "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            ),
            ("tracestate", "foo=1"),
        ],
        &[
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
            ("tracestate", "foo=1"),
        ],
        &[("tracestate", "foo=1")],
    ];
    for headers in cases {
        let (recv, log) = receiver().await;
        assert_eq!(run_test(harness, recv, headers).await, StatusCode::OK);
        let calls = log.lock().unwrap().clone();
        assert_eq!(calls.len(), 2, "{headers:?}");
        let (_, first_trace, _, _) = parts(calls[0].traceparent.as_deref().expect("traceparent"));
        for call in &calls {
            let (version, trace, _, flags) =
                parts(call.traceparent.as_deref().expect("traceparent"));
            assert_eq!(version, "00");
            assert_ne!(trace, TRACE_ID, "{headers:?}");
            assert_ne!(trace, "0".repeat(32));
            assert_eq!(trace, first_trace, "both calls in the one new trace");
            assert_eq!(flags, "01");
            assert_eq!(call.tracestate, None, "{headers:?}");
        }
    }
}

/// The binary, with the port as its first argument or in `PORT`.
#[tokio::test]
async fn the_binary_serves_the_protocol_on_the_given_port() {
    pipeline();
    for use_env in [false, true] {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_w3c-harness"));
        if use_env {
            cmd.env("PORT", port.to_string());
        } else {
            cmd.arg(port.to_string());
        }
        let mut child = cmd
            .env_remove("OTEL_TRACES_EXPORTER")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn w3c-harness");
        let harness = SocketAddr::from(([127, 0, 0, 1], port));
        let mut up = false;
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(harness).await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if up {
            let (recv, log) = receiver().await;
            let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
            let status = run_test(harness, recv, &[("traceparent", &traceparent)]).await;
            let calls = log.lock().unwrap().clone();
            let _ = child.kill();
            let _ = child.wait();
            assert_eq!(status, StatusCode::OK);
            assert_eq!(calls.len(), 2);
            let (_, trace, parent, _) =
                parts(calls[0].traceparent.as_deref().expect("traceparent"));
            assert_eq!(trace, TRACE_ID);
            assert_ne!(parent, PARENT_ID);
        } else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("w3c-harness did not listen on {port}");
        }
    }
}
