//! The HTTP client the OTLP/HTTP and Zipkin exporters use: reqwest on the private export
//! runtime, with a hard time limit per request and exactly the headers tracewire resolved.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http::{HeaderMap, Request, Response};
use opentelemetry_http::{HttpClient, HttpError};

use super::runtime::ExportRuntime;

/// The most response body read (as opentelemetry-http's own clients do).
const MAX_RESPONSE_BODY: usize = 4 * 1024 * 1024;

/// A rewrite of the request body before it is sent.
pub(crate) type BodyRewrite = Arc<dyn Fn(Bytes) -> Bytes + Send + Sync>;

/// The exporters' HTTP client.
#[derive(Clone)]
pub(crate) struct ExportHttpClient {
    client: reqwest::Client,
    runtime: ExportRuntime,
    timeout: Duration,
    /// When set, the request's headers are replaced by these (keeping the content type and
    /// encoding the exporter set): opentelemetry-otlp merges `OTEL_EXPORTER_OTLP_HEADERS` from
    /// the process environment on its own, which would contradict tracewire's resolution
    /// (values given in code, invalid entries of a variable skipped).
    headers: Option<HeaderMap>,
    body_rewrite: Option<BodyRewrite>,
}

impl fmt::Debug for ExportHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are never shown.
        let names: Vec<&str> = self
            .headers
            .iter()
            .flat_map(|h| h.keys())
            .map(HeaderName::as_str)
            .collect();
        f.debug_struct("ExportHttpClient")
            .field("timeout", &self.timeout)
            .field("header_names", &names)
            .finish_non_exhaustive()
    }
}

/// An invalid header given to the exporter.
#[derive(Debug, thiserror::Error)]
#[error("invalid header `{name}`: {reason}")]
pub(crate) struct InvalidHeader {
    pub(crate) name: String,
    pub(crate) reason: &'static str,
}

/// Builds a header map; an invalid name or value is an error naming the header (never its value).
pub(crate) fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, InvalidHeader> {
    let mut map = HeaderMap::new();
    map.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("tracewire/", env!("CARGO_PKG_VERSION"))),
    );
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| InvalidHeader {
            name: k.clone(),
            reason: "not a valid header name",
        })?;
        let mut value = HeaderValue::from_str(v).map_err(|_| InvalidHeader {
            name: k.clone(),
            reason: "the value is not a valid header value",
        })?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

impl ExportHttpClient {
    pub(crate) fn new(runtime: ExportRuntime, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // Proxies from the environment are not used: telemetry goes to the configured
            // collector, and a proxy variable meant for application traffic must not divert it.
            .no_proxy()
            .build()?;
        Ok(ExportHttpClient {
            client,
            runtime,
            timeout,
            headers: None,
            body_rewrite: None,
        })
    }

    pub(crate) fn with_exact_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    #[cfg_attr(not(feature = "zipkin"), allow(dead_code))]
    pub(crate) fn with_body_rewrite(mut self, rewrite: BodyRewrite) -> Self {
        self.body_rewrite = Some(rewrite);
        self
    }

    fn prepare(&self, mut request: Request<Bytes>) -> Request<Bytes> {
        if let Some(exact) = &self.headers {
            let keep: Vec<(HeaderName, HeaderValue)> = request
                .headers()
                .iter()
                .filter(|(k, _)| **k == CONTENT_TYPE || **k == CONTENT_ENCODING)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let headers = request.headers_mut();
            headers.clear();
            headers.extend(exact.iter().map(|(k, v)| (k.clone(), v.clone())));
            headers.extend(keep);
        }
        if let Some(rewrite) = &self.body_rewrite {
            let body = std::mem::take(request.body_mut());
            *request.body_mut() = rewrite(body);
        }
        request
    }

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = self.prepare(request);
        let client = self.client.clone();
        let result = self
            .runtime
            .run(self.timeout, async move {
                let request = reqwest::Request::try_from(request)?;
                let mut response = client.execute(request).await?;
                let status = response.status();
                let headers = std::mem::take(response.headers_mut());
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await? {
                    if body.len() + chunk.len() > MAX_RESPONSE_BODY {
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                let mut out = Response::new(Bytes::from(body));
                *out.status_mut() = status;
                *out.headers_mut() = headers;
                Ok::<_, reqwest::Error>(out)
            })
            .await;
        match result {
            Ok(Ok(response)) => Ok(response),
            // The URL is in reqwest's message; header values never are.
            Ok(Err(e)) => Err(Box::new(e)),
            Err(e) => Err(Box::new(e)),
        }
    }
}

// The expansion of `#[async_trait]`, which `HttpClient` uses, written out to avoid the macro.
impl HttpClient for ExportHttpClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_headers_replace_the_exporters_but_keep_content_headers() {
        let rt = ExportRuntime::start().unwrap();
        let exact = header_map(&[("authorization".into(), "Bearer s3cr3t".into())]).unwrap();
        let client = ExportHttpClient::new(rt, Duration::from_secs(1))
            .unwrap()
            .with_exact_headers(exact);
        let request = Request::builder()
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header(CONTENT_ENCODING, "gzip")
            .header("x-from-process-env", "1")
            .body(Bytes::from_static(b"x"))
            .unwrap();
        let prepared = client.prepare(request);
        let h = prepared.headers();
        assert_eq!(h.get("authorization").unwrap(), "Bearer s3cr3t");
        assert_eq!(h.get(CONTENT_TYPE).unwrap(), "application/x-protobuf");
        assert_eq!(h.get(CONTENT_ENCODING).unwrap(), "gzip");
        assert!(h.get("x-from-process-env").is_none());
        assert!(
            h.get(USER_AGENT)
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("tracewire/")
        );
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }

    #[test]
    fn invalid_headers_name_the_header_not_the_value() {
        let err = header_map(&[("bad name".into(), "v".into())]).unwrap_err();
        assert!(err.to_string().contains("bad name"));
        let err = header_map(&[("k".into(), "line\nbreak-s3cr3t".into())]).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
    }

    #[test]
    fn connection_refused_fails_fast_without_a_runtime() {
        // Bind then drop a listener so the port is (very likely) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let rt = ExportRuntime::start().unwrap();
        let client = ExportHttpClient::new(rt, Duration::from_secs(2)).unwrap();
        let request = Request::post(format!("http://127.0.0.1:{port}/v1/traces"))
            .body(Bytes::from_static(b"x"))
            .unwrap();
        let result = futures_executor::block_on(client.send_bytes(request));
        assert!(result.is_err());
    }
}
