//! [`Client`]: the traced client service, which starts the CLIENT span and injects its context.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::{Request, Response};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt as _, Tracer};
use opentelemetry::{Context, KeyValue};
use tower_service::Service;
use tracewire_core::semconv::attribute as attr;
use tracewire_propagation::HeaderInjector;

use super::future::{ClientState, ResponseFuture};
use super::{BaggagePolicy, NoPropagation, request_target};
use crate::attrs::{self, KnownMethods, MethodAttr};
use crate::metrics::Duration;
use crate::otel::{GlobalPropagator, GlobalTracer};

/// What the client needs, shared by every clone of the service.
#[derive(Debug)]
pub(crate) struct Shared<T, P> {
    pub(crate) known_methods: KnownMethods,
    pub(crate) baggage: BaggagePolicy,
    pub(crate) duration: Duration,
    pub(crate) tracer: Arc<T>,
    pub(crate) propagator: Arc<P>,
}

/// A client service traced by [`ClientLayer`](super::ClientLayer); its response and error types
/// are the inner service's.
#[derive(Debug)]
pub struct Client<S, T = GlobalTracer, P = GlobalPropagator> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared<T, P>>,
}

// === impl Client ===

impl<S: Clone, T, P> Clone for Client<S, T, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, T, P> Client<S, T, P> {
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

impl<S, ReqB, ResB, T, P> Service<Request<ReqB>> for Client<S, T, P>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: std::fmt::Display,
    T: Tracer + Send + Sync + 'static,
    T::Span: Send + Sync + 'static,
    P: TextMapPropagator + Send + Sync + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let shared = &*self.shared;
        let started = Instant::now();
        let method = shared.known_methods.lookup(req.method());
        let target = request_target(&req);

        let mut a = Vec::with_capacity(9);
        a.push(KeyValue::new(attr::HTTP_REQUEST_METHOD, method.value()));
        if method == MethodAttr::Other {
            a.push(KeyValue::new(
                attr::HTTP_REQUEST_METHOD_ORIGINAL,
                req.method().as_str().to_owned(),
            ));
        }
        if let Some(host) = &target.host {
            a.push(KeyValue::new(attr::SERVER_ADDRESS, host.clone()));
        }
        if let Some(port) = target.port {
            a.push(KeyValue::new(attr::SERVER_PORT, i64::from(port)));
        }
        if let Some(url) = attrs::url_full(req.uri(), req.headers()) {
            a.push(KeyValue::new(attr::URL_FULL, url));
        }

        let mut builder = SpanBuilder::from_name(method.span_name()).with_kind(SpanKind::Client);
        builder.attributes = Some(a);
        let parent = Context::current();
        let span = shared.tracer.build_with_context(builder, &parent);
        let cx = parent.with_span(span);

        if req.extensions().get::<NoPropagation>().is_none() {
            let outgoing = shared
                .baggage
                .apply(&cx, target.host.as_ref().map(|h| h.as_str()));
            shared
                .propagator
                .inject_context(&outgoing, &mut HeaderInjector(req.headers_mut()));
        }

        let inner = {
            let _guard = cx.clone().attach();
            self.inner.call(req)
        };
        ResponseFuture::new(
            inner,
            ClientState::new(
                cx,
                started,
                shared.duration.histogram().clone(),
                method.value(),
                target,
            ),
        )
    }
}
