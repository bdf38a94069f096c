//! The server span ends when the response body ends, fails or is dropped, not when the head is
//! sent.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use common::{Pipeline, attr, attr_str, serve};
use http::{Request, StatusCode};
use http_body_util::channel::{Channel, Sender};
use http_body_util::{BodyExt as _, Full};
use opentelemetry::trace::Status;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower::ServiceExt as _;
use tracewire_tower::ServerLayer;

type BodySender = Arc<Mutex<Option<Sender<Bytes, std::io::Error>>>>;

/// An app whose `/stream` body is fed by the test through `sender`.
fn streaming_app(pipeline: &Pipeline, sender: BodySender) -> Router {
    Router::new()
        .route(
            "/stream",
            get(move || {
                let sender = sender.clone();
                async move {
                    let (tx, body) = Channel::<Bytes, std::io::Error>::new(4);
                    *sender.lock().expect("lock") = Some(tx);
                    Body::new(body)
                }
            }),
        )
        .route("/users/{id}", get(|| async { "user" }))
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()))
}

/// A body that never ends by itself: only being dropped ends it.
fn endless_body() -> Body {
    let (tx, body) = Channel::<Bytes, std::io::Error>::new(1);
    std::mem::forget(tx);
    Body::new(body)
}

fn take(sender: &BodySender) -> Sender<Bytes, std::io::Error> {
    sender.lock().expect("lock").take().expect("handler ran")
}

#[tokio::test]
async fn the_span_ends_with_the_last_body_frame() {
    let pipeline = Pipeline::new();
    let sender = BodySender::default();
    let addr = serve(streaming_app(&pipeline, sender.clone())).await;

    let req = Request::get(format!("http://{addr}/stream"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = common::client().request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The head has arrived; the body has not ended, so neither has the span.
    let mut tx = take(&sender);
    tx.send_data(Bytes::from_static(b"first ")).await.unwrap();
    let mut body = res.into_body();
    let frame = body.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "first ");
    assert!(pipeline.spans().is_empty(), "ended before the body");

    tx.send_data(Bytes::from_static(b"last")).await.unwrap();
    drop(tx);
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest, "last");
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.name, "GET /stream");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(span, "error.type"), None);
}

#[tokio::test]
async fn a_body_error_sets_error_and_its_type() {
    let pipeline = Pipeline::new();
    let sender = BodySender::default();
    let addr = serve(streaming_app(&pipeline, sender.clone())).await;

    let req = Request::get(format!("http://{addr}/stream"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = common::client().request(req).await.unwrap();
    let mut tx = take(&sender);
    tx.send_data(Bytes::from_static(b"partial")).await.unwrap();
    tx.abort(std::io::Error::other("disk on fire"));
    // The client sees a truncated body.
    assert!(res.into_body().collect().await.is_err());

    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(
        attr_str(span, "error.type").as_deref(),
        Some("axum_core::error::Error")
    );
    match &span.status {
        Status::Error { description } => {
            assert!(description.contains("disk on fire"), "{description}")
        }
        other => panic!("status {other:?}"),
    }
}

#[tokio::test]
async fn a_client_going_away_mid_body_ends_the_span_as_cancelled() {
    let pipeline = Pipeline::new();
    let sender = BodySender::default();
    let addr = serve(streaming_app(&pipeline, sender.clone())).await;

    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    tcp.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut tx = take(&sender);
    drop(tcp);

    // Writing to the closed connection fails; the server then drops the body.
    for _ in 0..500 {
        if !pipeline.spans().is_empty() || tx.send_data(Bytes::from_static(b"x")).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(attr_str(span, "error.type").as_deref(), Some("cancelled"));
    assert_eq!(span.status, Status::error(""));
}

#[tokio::test]
async fn a_request_dropped_before_its_response_is_cancelled() {
    let pipeline = Pipeline::new();
    let app = Router::new()
        .route("/slow", get(std::future::pending::<&'static str>))
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()));
    let req = Request::get("/slow").body(Body::empty()).unwrap();
    let outcome = tokio::time::timeout(Duration::from_millis(20), app.oneshot(req)).await;
    assert!(outcome.is_err(), "the handler never answers");
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.name, "GET /slow");
    assert_eq!(attr_str(span, "error.type").as_deref(), Some("cancelled"));
}

#[tokio::test]
async fn head_requests_and_empty_bodies_end_cleanly() {
    let pipeline = Pipeline::new();
    let sender = BodySender::default();
    let addr = serve(streaming_app(&pipeline, sender)).await;
    let reply = common::send(http::Method::HEAD, &format!("http://{addr}/users/1"), &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(span.name, "HEAD /users/{id}");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(span, "error.type"), None);
}

#[tokio::test]
async fn a_bodiless_status_whose_body_the_server_drops_is_not_cancelled() {
    // A 304 (or 204) has no body on the wire: hyper writes the head and drops the body unread.
    let pipeline = Pipeline::new();
    let app = Router::new()
        .route(
            "/cached",
            get(|| async { (StatusCode::NOT_MODIFIED, endless_body()) }),
        )
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()));
    let addr = serve(app).await;
    let reply = common::get(&format!("http://{addr}/cached"), &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(attr(span, "error.type"), None);
    assert_eq!(span.status, Status::Unset);
}

#[tokio::test]
async fn a_streamed_body_of_declared_length_that_the_server_drops_when_complete_is_not_cancelled() {
    // With `Content-Length`, hyper stops polling the body once that many bytes are written and
    // drops it without waiting for its end: a complete response, not a cancelled one.
    let pipeline = Pipeline::new();
    let sender = BodySender::default();
    let app = Router::new()
        .route(
            "/file",
            get({
                let sender = sender.clone();
                move || {
                    let sender = sender.clone();
                    async move {
                        let (tx, body) = Channel::<Bytes, std::io::Error>::new(4);
                        *sender.lock().expect("lock") = Some(tx);
                        ([(http::header::CONTENT_LENGTH, "10")], Body::new(body))
                    }
                }
            }),
        )
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()));
    let addr = serve(app).await;
    let req = Request::get(format!("http://{addr}/file"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = common::client().request(req).await.unwrap();
    let mut tx = take(&sender);
    tx.send_data(Bytes::from_static(b"01234")).await.unwrap();
    tx.send_data(Bytes::from_static(b"56789")).await.unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "0123456789");
    // The sender stays open: the body never ends by itself.
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(attr(span, "error.type"), None);
    assert_eq!(span.status, Status::Unset);
    drop(tx);
}

#[tokio::test]
async fn a_body_of_declared_length_zero_that_the_server_never_polls_is_not_cancelled() {
    let pipeline = Pipeline::new();
    let app = Router::new()
        .route(
            "/empty",
            get(|| async { ([(http::header::CONTENT_LENGTH, "0")], endless_body()) }),
        )
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()));
    let addr = serve(app).await;
    let reply = common::get(&format!("http://{addr}/empty"), &[]).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, ""));
    let span = &pipeline.wait_spans(1).await[0];
    assert_eq!(attr(span, "error.type"), None);
    assert_eq!(span.status, Status::Unset);
}
