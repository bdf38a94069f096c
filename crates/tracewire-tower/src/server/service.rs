//! [`Server`]: the traced service, which starts the SERVER span and runs the inner service in it.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::SystemTime;

use http::{Request, Response};
use opentelemetry::Context;
use opentelemetry::baggage::{Baggage, BaggageExt as _};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Link, Span as _, SpanBuilder, SpanKind, TraceContextExt as _, Tracer};
use tower_service::Service;
use tracewire_propagation::HeaderExtractor;

use super::future::ResponseFuture;
use super::{EndState, MetricAttrs, RequestInfo, Scope, Traced, request_attributes};
use crate::attrs::KnownMethods;
use crate::capture::HeaderCapture;
use crate::hooks::DefaultRoute;
use crate::hooks::{ExtractRoute, FilterRequest, OnRequest, OnResponse};
use crate::metrics::Duration;
use crate::otel::{GlobalPropagator, GlobalTracer};
use crate::proxies::TrustedProxies;

/// What the server needs to start a span, shared by every clone of the service.
#[derive(Debug)]
pub(crate) struct Start<T, P, R, F, Q> {
    pub(crate) known_methods: KnownMethods,
    pub(crate) request_headers: HeaderCapture,
    pub(crate) response_headers_len: usize,
    pub(crate) trusted: TrustedProxies,
    pub(crate) public_endpoint: bool,
    pub(crate) incoming_baggage: bool,
    pub(crate) tls: bool,
    pub(crate) tracer: Arc<T>,
    pub(crate) propagator: Arc<P>,
    pub(crate) route: R,
    pub(crate) filter: F,
    pub(crate) on_request: Q,
}

/// What the response future needs, shared by every clone of the service.
#[derive(Debug)]
pub(crate) struct End<A> {
    pub(crate) response_headers: HeaderCapture,
    pub(crate) traceresponse: bool,
    pub(crate) duration: Duration,
    pub(crate) on_response: A,
}

/// A service traced by [`ServerLayer`](super::ServerLayer): its responses carry a
/// [`ResponseBody`](super::ResponseBody) that ends the span when the body ends; its error type is
/// the inner service's.
#[derive(Debug)]
pub struct Server<
    S,
    T = GlobalTracer,
    P = GlobalPropagator,
    R = DefaultRoute,
    F = (),
    Q = (),
    A = (),
> {
    pub(crate) inner: S,
    pub(crate) start: Arc<Start<T, P, R, F, Q>>,
    pub(crate) end: Arc<End<A>>,
}

// === impl Server ===

impl<S: Clone, T, P, R, F, Q, A> Clone for Server<S, T, P, R, F, Q, A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            start: Arc::clone(&self.start),
            end: Arc::clone(&self.end),
        }
    }
}

impl<S, T, P, R, F, Q, A> Server<S, T, P, R, F, Q, A> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming the wrapper.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqB, ResB, T, P, R, F, Q, A> Service<Request<ReqB>> for Server<S, T, P, R, F, Q, A>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: std::fmt::Display,
    ResB: http_body::Body,
    T: Tracer + Send + Sync + 'static,
    T::Span: Send + Sync + 'static,
    P: TextMapPropagator + Send + Sync + 'static,
    R: ExtractRoute<ReqB>,
    F: FilterRequest<ReqB>,
    Q: OnRequest<ReqB>,
    A: OnResponse<ResB>,
{
    type Response = Response<super::ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, A>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let start = &*self.start;
        if Scope::is_inside() {
            return ResponseFuture::untraced(self.inner.call(req), None);
        }
        if !start.filter.trace(&req) {
            let current = Scope::current_span_id();
            let inner = {
                let _scope = Scope::enter(current);
                self.inner.call(req)
            };
            return ResponseFuture::untraced(inner, Some(current));
        }
        let started = SystemTime::now();
        let RequestInfo {
            name,
            attributes,
            method,
            scheme,
            route,
            protocol,
            is_head,
        } = request_attributes(start, &req);

        let incoming = Context::map_current(|current| {
            start
                .propagator
                .extract_with_context(current, &HeaderExtractor(req.headers()))
        });
        let mut builder = SpanBuilder::from_name(name).with_kind(SpanKind::Server);
        builder.attributes = Some(attributes);
        builder.start_time = Some(started);
        let parent = if start.public_endpoint {
            let caller = incoming.span().span_context().clone();
            if caller.is_valid() {
                builder.links = Some(vec![Link::with_context(caller)]);
            }
            if start.incoming_baggage && !incoming.baggage().is_empty() {
                let kept: Baggage = incoming
                    .baggage()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Context::new().with_baggage(kept)
            } else {
                Context::new()
            }
        } else if !start.incoming_baggage && !incoming.baggage().is_empty() {
            incoming.with_cleared_baggage()
        } else {
            incoming
        };
        let span = start.tracer.build_with_context(builder, &parent);
        let span_id = span.span_context().span_id();
        let cx = parent.with_span(span);

        let inner = {
            let _guard = cx.clone().attach();
            let _scope = Scope::enter(span_id);
            self.inner.call(req)
        };
        let end = EndState::new(
            cx,
            started,
            is_head,
            self.end.duration.histogram().clone(),
            MetricAttrs::new(method, scheme, route, protocol),
        );
        ResponseFuture::traced(
            inner,
            Traced {
                end,
                span_id,
                shared: Arc::clone(&self.end),
            },
        )
    }
}
