//! [`ResponseFuture`]: runs the request inside the CLIENT span's context and ends the span when
//! the response head arrives.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::Response;
use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue, StringValue};
use pin_project_lite::pin_project;
use tracewire_core::semconv::attribute as attr;

use super::Target;
use crate::attrs;

/// `error.type` for a request dropped before its response arrived.
const CANCELLED: &str = "cancelled";

pin_project! {
    /// The response future of [`Client`](super::Client).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        state: Option<ClientState>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, state: ClientState) -> Self {
        Self {
            inner,
            state: Some(state),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: std::fmt::Display,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(state) = this.state.as_mut() else {
            return this.inner.poll(cx);
        };
        let result = {
            let _guard = state.cx.clone().attach();
            match this.inner.poll(cx) {
                Poll::Ready(r) => r,
                Poll::Pending => return Poll::Pending,
            }
        };
        if let Some(mut state) = this.state.take() {
            match &result {
                Ok(res) => state.finish_response(res),
                Err(e) => state.finish_error(std::any::type_name::<E>(), e),
            }
        }
        Poll::Ready(result)
    }
}

/// The CLIENT span's context and what the metric needs; ends the span once, at the latest when
/// dropped (a cancelled request).
#[derive(Debug)]
pub(crate) struct ClientState {
    cx: Context,
    started: Instant,
    histogram: Histogram<f64>,
    method: &'static str,
    target: Target,
    finished: bool,
}

impl ClientState {
    pub(crate) fn new(
        cx: Context,
        started: Instant,
        histogram: Histogram<f64>,
        method: &'static str,
        target: Target,
    ) -> Self {
        Self {
            cx,
            started,
            histogram,
            method,
            target,
            finished: false,
        }
    }

    fn finish_response<B>(&mut self, res: &Response<B>) {
        let code = res.status().as_u16();
        let protocol = attrs::protocol_version(res.version());
        let failed = !(100..400).contains(&code);
        let error = failed.then(|| StringValue::from(res.status().as_str().to_owned()));
        let span = self.cx.span();
        span.set_attributes(
            [
                Some(KeyValue::new(
                    attr::HTTP_RESPONSE_STATUS_CODE,
                    i64::from(code),
                )),
                protocol.map(|p| KeyValue::new(attr::NETWORK_PROTOCOL_VERSION, p)),
                error.clone().map(|e| KeyValue::new(attr::ERROR_TYPE, e)),
            ]
            .into_iter()
            .flatten(),
        );
        if error.is_some() {
            span.set_status(Status::error(""));
        }
        self.end(Some(i64::from(code)), error, protocol);
    }

    fn finish_error(&mut self, type_name: &'static str, error: &dyn std::fmt::Display) {
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(attr::ERROR_TYPE, type_name));
        span.set_status(Status::error(error.to_string()));
        self.end(None, Some(StringValue::from(type_name)), None);
    }

    fn end(
        &mut self,
        status: Option<i64>,
        error: Option<StringValue>,
        protocol: Option<&'static str>,
    ) {
        self.finished = true;
        self.cx.span().end();
        let mut kv: [KeyValue; 6] = std::array::from_fn(|_| KeyValue::new("", ""));
        let mut n = 0;
        let mut push = |k: KeyValue| {
            kv[n] = k;
            n += 1;
        };
        push(KeyValue::new(attr::HTTP_REQUEST_METHOD, self.method));
        if let Some(host) = &self.target.host {
            push(KeyValue::new(attr::SERVER_ADDRESS, host.clone()));
        }
        if let Some(port) = self.target.port {
            push(KeyValue::new(attr::SERVER_PORT, i64::from(port)));
        }
        if let Some(status) = status {
            push(KeyValue::new(attr::HTTP_RESPONSE_STATUS_CODE, status));
        }
        if let Some(error) = error {
            push(KeyValue::new(attr::ERROR_TYPE, error));
        }
        if let Some(protocol) = protocol {
            push(KeyValue::new(attr::NETWORK_PROTOCOL_VERSION, protocol));
        }
        self.histogram
            .record(self.started.elapsed().as_secs_f64(), &kv[..n]);
    }
}

impl Drop for ClientState {
    fn drop(&mut self) {
        if !self.finished {
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(attr::ERROR_TYPE, CANCELLED));
            span.set_status(Status::error(""));
            self.end(None, Some(StringValue::from(CANCELLED)), None);
        }
    }
}
