//! An error from the inner service sets Error with its type, over a real hyper server.

mod common;

use bytes::Bytes;
use common::{Pipeline, attr, attr_i64, attr_str};
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use opentelemetry::trace::Status;
use tracewire_tower::ServerLayer;

#[tokio::test]
async fn an_inner_service_error_sets_error_with_its_type_and_message() {
    let pipeline = Pipeline::new();
    let service = tower::service_fn(|req: Request<hyper::body::Incoming>| async move {
        if req.uri().path() == "/fail" {
            Err(std::io::Error::other("database unreachable"))
        } else {
            Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
        }
    });
    let service = tower::ServiceBuilder::new()
        .layer(ServerLayer::new().with_tracer(pipeline.tracer()))
        .service(service);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });

    let ok = common::get(&format!("http://{addr}/ok"), &[]).await;
    assert_eq!(ok.body, "ok");
    let req = Request::get(format!("http://{addr}/fail"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    // hyper closes the connection when the service fails.
    assert!(common::client().request(req).await.is_err());

    let spans = pipeline.wait_spans(2).await;
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(attr_i64(&spans[0], "http.response.status_code"), Some(200));
    let failed = &spans[1];
    assert_eq!(failed.name, "GET");
    assert_eq!(
        attr_str(failed, "error.type").as_deref(),
        Some("std::io::error::Error")
    );
    assert_eq!(failed.status, Status::error("database unreachable"));
    assert_eq!(attr(failed, "http.response.status_code"), None);
}
