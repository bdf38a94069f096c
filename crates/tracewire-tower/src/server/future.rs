//! [`ResponseFuture`]: runs the inner future inside the span's context and records the response.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http::Response;
use http::header::HeaderValue;
use opentelemetry::trace::{SpanId, TraceContextExt as _};
use pin_project_lite::pin_project;
use tracewire_core::TraceIds;

use super::{Outcome, ResponseBody, Scope, Traced};
use crate::hooks::OnResponse;
use crate::report;

pin_project! {
    /// The response future of [`Server`](super::Server).
    ///
    /// Each poll attaches the span's context for the duration of the poll only (a context guard
    /// is never held across an `.await`), so everything the inner future does is in the trace.
    pub struct ResponseFuture<F, A> {
        #[pin]
        inner: F,
        traced: Option<Traced<A>>,
        // For a filtered request: the span id its polls run under, so inner layers skip it.
        untraced_scope: Option<SpanId>,
    }
}

impl<F, A> std::fmt::Debug for ResponseFuture<F, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("traced", &self.traced.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, A> ResponseFuture<F, A> {
    pub(crate) fn untraced(inner: F, scope: Option<SpanId>) -> Self {
        Self {
            inner,
            traced: None,
            untraced_scope: scope,
        }
    }

    pub(crate) fn traced(inner: F, traced: Traced<A>) -> Self {
        Self {
            inner,
            traced: Some(traced),
            untraced_scope: None,
        }
    }
}

impl<F, A, B, E> Future for ResponseFuture<F, A>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
    E: std::fmt::Display,
    A: OnResponse<B>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(traced) = this.traced.as_mut() else {
            let _scope = this.untraced_scope.map(Scope::enter);
            return match this.inner.poll(cx) {
                Poll::Ready(Ok(res)) => Poll::Ready(Ok(res.map(ResponseBody::untraced))),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            };
        };
        let result = {
            let _guard = traced.end.cx.clone().attach();
            let _scope = Scope::enter(traced.span_id);
            match this.inner.poll(cx) {
                Poll::Ready(r) => r,
                Poll::Pending => return Poll::Pending,
            }
        };
        let Some(Traced {
            mut end, shared, ..
        }) = this.traced.take()
        else {
            return Poll::Pending;
        };
        match result {
            Ok(mut res) => {
                let mut extra = Vec::new();
                shared.response_headers.capture(res.headers(), &mut extra);
                shared.on_response.on_response(&res, &mut extra);
                end.record_status(res.status(), extra);
                if shared.traceresponse {
                    insert_traceresponse(&end.cx, &mut res);
                }
                let length = declared_length(&res);
                if http_body::Body::is_end_stream(res.body()) || length == Some(0) {
                    end.finish(Outcome::Complete);
                    Poll::Ready(Ok(res.map(ResponseBody::untraced)))
                } else {
                    Poll::Ready(Ok(res.map(|b| ResponseBody::traced(b, end, length))))
                }
            }
            Err(e) => {
                end.finish(Outcome::ServiceError(std::any::type_name::<E>(), &e));
                Poll::Ready(Err(e))
            }
        }
    }
}

/// The body length the server will write, as hyper decides it: `Content-Length`, else the body's
/// exact size hint. `None` when the body is delimited by its end instead.
fn declared_length<B: http_body::Body>(res: &Response<B>) -> Option<u64> {
    match res.headers().get(http::header::CONTENT_LENGTH) {
        Some(v) => v.to_str().ok()?.trim().parse().ok(),
        None => http_body::Body::size_hint(res.body()).exact(),
    }
}

/// Adds `traceresponse: 00-{trace-id}-{span-id}-{flags}` for the server span.
fn insert_traceresponse<B>(cx: &opentelemetry::Context, res: &mut Response<B>) {
    let span = cx.span();
    let Some(ids) = TraceIds::from_span_context(span.span_context()) else {
        return;
    };
    let value = format!(
        "00-{}-{}-{}",
        ids.trace_id_hex().as_str(),
        ids.span_id_hex().as_str(),
        ids.trace_flags_hex().as_str()
    );
    match HeaderValue::from_str(&value) {
        Ok(v) => {
            res.headers_mut()
                .insert(tracewire_core::semconv::header::TRACERESPONSE, v);
        }
        Err(_) => report::once(
            &report::BAD_TRACERESPONSE,
            "could not build a traceresponse header value",
        ),
    }
}
