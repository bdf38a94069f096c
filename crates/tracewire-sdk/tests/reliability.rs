//! With the endpoint healthy, down, refusing or hanging: shutdown returns within its limit (on
//! a plain thread, a multi-thread runtime and a current-thread runtime), spans that do not fit
//! the queue are dropped and counted, and dropping is warned about once, not per span.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use tracewire_sdk::export::console::SharedBuffer;
use tracewire_sdk::{Guard, ShutdownError, Tracewire};
use tracewire_testing::otlp::OtlpServer;
use tracewire_testing::server::Behaviour;

/// The shutdown limit the tests set.
const LIMIT: Duration = Duration::from_millis(300);
/// A liveness bound, far above the limit: a shutdown that has not returned by then hangs.
const HUNG: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Healthy,
    Down,
    Refusing,
    Hanging,
}

struct Endpoint {
    url: String,
    server: Option<OtlpServer>,
}

fn endpoint(state: State) -> Endpoint {
    if state == State::Down {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        return Endpoint {
            url: format!("http://127.0.0.1:{port}"),
            server: None,
        };
    }
    let server = OtlpServer::start_http().expect("receiver");
    match state {
        State::Refusing => server.set_behaviour(Behaviour::Status(503)),
        State::Hanging => server.set_behaviour(Behaviour::Hang),
        _ => {}
    }
    Endpoint {
        url: server.endpoint(),
        server: Some(server),
    }
}

fn vars(url: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut v: HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", url),
        // Far longer than the shutdown limit: an export to a bad endpoint is still going when
        // the limit passes.
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "60000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "20"),
        ("OTEL_METRICS_EXPORTER", "otlp"),
        ("OTEL_LOGS_EXPORTER", "otlp"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, val) in extra {
        v.insert((*k).to_owned(), (*val).to_owned());
    }
    v
}

fn setup(state: State, url: &str) -> Guard {
    // A healthy shutdown gets all the time it needs (a loaded machine must not fail it); the
    // others get a short limit that their exports (60 s time limit) cannot meet.
    let limit = if state == State::Healthy {
        HUNG / 2
    } else {
        LIMIT
    };
    Tracewire::builder()
        .with_env(vars(url, &[]))
        .with_shutdown_timeout(limit)
        .build()
        .expect("setup")
}

/// Runs `f` on another thread and fails the test if it does not return within [`HUNG`].
fn returns<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HUNG).expect("shutdown did not return")
}

fn check(state: State, result: Result<(), ShutdownError>, ep: &Endpoint) {
    match state {
        State::Healthy => {
            result.expect("healthy shutdown");
            let server = ep.server.as_ref().expect("server");
            assert_eq!(server.wait_for_spans(10, HUNG).expect("spans").len(), 10);
        }
        State::Hanging => assert!(
            matches!(result, Err(ShutdownError::Timeout(_))),
            "{result:?}"
        ),
        State::Down | State::Refusing => assert!(result.is_err(), "{state:?}: {result:?}"),
    }
}

fn make_spans(guard: &Guard) {
    let tracer = guard.tracer("reliability");
    for _ in 0..10 {
        tracer.in_span("work", |_| {});
    }
}

#[test]
fn shutdown_returns_within_its_limit_without_a_runtime() {
    for state in [State::Healthy, State::Down, State::Refusing, State::Hanging] {
        let ep = endpoint(state);
        let guard = setup(state, &ep.url);
        make_spans(&guard);
        let result = returns(move || guard.shutdown());
        check(state, result, &ep);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_within_its_limit_on_a_multi_thread_runtime() {
    for state in [State::Healthy, State::Down, State::Refusing, State::Hanging] {
        let ep = endpoint(state);
        let guard = setup(state, &ep.url);
        make_spans(&guard);
        // Called from a runtime worker thread, as an async `main` would at its end.
        let result = tokio::task::block_in_place(|| guard.shutdown());
        check(state, result, &ep);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_and_drop_return_on_a_current_thread_runtime() {
    for state in [State::Healthy, State::Down, State::Refusing, State::Hanging] {
        let ep = endpoint(state);
        let guard = setup(state, &ep.url);
        make_spans(&guard);
        // Blocking the runtime's only thread: nothing the exports need runs on it.
        let result = guard.shutdown();
        check(state, result, &ep);
    }
    for state in [State::Healthy, State::Hanging] {
        let ep = endpoint(state);
        let guard = setup(state, &ep.url);
        make_spans(&guard);
        drop(guard);
        if state == State::Healthy {
            let server = ep.server.as_ref().expect("server");
            assert_eq!(
                server
                    .wait_for_spans_async(10, HUNG)
                    .await
                    .expect("spans")
                    .len(),
                10
            );
        }
    }
}

#[test]
fn a_hanging_endpoint_bounds_the_queue_counts_drops_and_warns_once() {
    let ep = endpoint(State::Hanging);
    let out = SharedBuffer::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::with_default(subscriber, || {
        let guard = Tracewire::builder()
            .with_env(vars(
                &ep.url,
                &[
                    ("OTEL_BSP_MAX_QUEUE_SIZE", "16"),
                    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4"),
                    ("OTEL_METRICS_EXPORTER", "none"),
                    ("OTEL_LOGS_EXPORTER", "none"),
                ],
            ))
            .with_shutdown_timeout(LIMIT)
            .build()
            .expect("setup");
        let tracer = guard.tracer("reliability");
        for _ in 0..500 {
            tracer.in_span("work", |_| {});
        }
        guard
    });
    // One export (at most one batch of 4) hangs and the queue holds 16: the rest is dropped.
    let dropped = guard.diagnostics().dropped_spans();
    assert!((480..=500).contains(&dropped), "dropped {dropped}");
    let text = out.contents();
    assert_eq!(text.matches("spans are being dropped").count(), 1, "{text}");
    let result = returns(move || guard.shutdown());
    assert!(
        matches!(result, Err(ShutdownError::Timeout(_))),
        "{result:?}"
    );
}

#[test]
fn a_refusing_endpoint_counts_failed_spans() {
    let ep = endpoint(State::Refusing);
    let guard = Tracewire::builder()
        .with_env(vars(
            &ep.url,
            &[
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "200"),
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_LOGS_EXPORTER", "none"),
            ],
        ))
        .build()
        .expect("setup");
    make_spans(&guard);
    assert!(guard.force_flush().is_err());
    assert_eq!(guard.diagnostics().failed_spans(), 10);
    assert_eq!(guard.diagnostics().exported_spans(), 0);
    let server = ep.server.as_ref().expect("server");
    assert!(
        server
            .wait_for_requests(1, HUNG)
            .expect("requests")
            .iter()
            .all(|r| r.header("content-type").is_some())
    );
}
