//! [`MetricsService`]: a tower service serving the registry in OpenMetrics text.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use tower_service::Service;

use crate::metrics::Metrics;

/// The content type of the OpenMetrics text format, the only Prometheus exposition format
/// with exemplars.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A tower service that answers `GET` and `HEAD` with the registry's metrics in the OpenMetrics
/// text format (exemplars included), and any other method with `405 Method Not Allowed`.
///
/// It ignores the request path, so mount it on a route: with axum,
/// `Router::new().route_service("/metrics", metrics.service())`. Made by
/// [`Metrics::service`]; cheap to clone.
///
/// # Example
///
/// ```
/// use tower::ServiceExt;
/// use tracewire_correlate::metrics::Metrics;
///
/// # tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(async {
/// let metrics = Metrics::new();
/// metrics.u64_counter("jobs").build().add(3, &[]);
/// let response = metrics
///     .service()
///     .oneshot(http::Request::get("/metrics").body(()).expect("request"))
///     .await
///     .expect("infallible");
/// assert_eq!(response.status(), 200);
/// assert_eq!(
///     response.headers()["content-type"],
///     tracewire_correlate::metrics::OPENMETRICS_CONTENT_TYPE
/// );
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct MetricsService {
    metrics: Metrics,
}

impl MetricsService {
    pub(crate) fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }

    fn respond(&self, method: &Method) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let body = if method == Method::HEAD {
            Bytes::new()
        } else {
            Bytes::from(self.metrics.encode())
        };
        let mut response = Response::new(Full::new(body));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE),
        );
        response
    }
}

impl<B> Service<Request<B>> for MetricsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.respond(req.method())))
    }
}
