//! [`ServerLayer`]: the server middleware's configuration and its `tower::Layer` impl.

use std::sync::{Arc, OnceLock};

use http::{HeaderName, Method};
use opentelemetry::metrics::Meter;
use tower_layer::Layer;
use tracewire_core::semconv;

use super::service::{End, Server, Start};
use crate::attrs::KnownMethods;
use crate::capture::HeaderCapture;
use crate::hooks::DefaultRoute;
use crate::metrics::Duration;
use crate::otel::{GlobalPropagator, GlobalTracer};
use crate::proxies::TrustedProxies;

/// Options of the server layer that need no type parameter.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) known_methods: KnownMethods,
    pub(crate) request_headers: HeaderCapture,
    pub(crate) response_headers: HeaderCapture,
    pub(crate) trusted: TrustedProxies,
    pub(crate) public_endpoint: bool,
    pub(crate) incoming_baggage: bool,
    pub(crate) traceresponse: bool,
    pub(crate) tls: bool,
    pub(crate) meter: Option<Meter>,
}

/// Traces the requests of an HTTP service: one SERVER span and one `http.server.request.duration`
/// measurement per request, by the HTTP semantic conventions. See the [module docs](super).
///
/// The type parameters are the tracer `T`, the propagator `P`, the route extractor `R`, the
/// request filter `F` and the attribute hooks `Q` (request) and `A` (response); the builder
/// methods that set them change the type, so none of them is boxed.
#[derive(Debug)]
pub struct ServerLayer<
    T = GlobalTracer,
    P = GlobalPropagator,
    R = DefaultRoute,
    F = (),
    Q = (),
    A = (),
> {
    pub(crate) config: ServerConfig,
    pub(crate) tracer: Arc<T>,
    pub(crate) propagator: Arc<P>,
    pub(crate) route: R,
    pub(crate) filter: F,
    pub(crate) on_request: Q,
    pub(crate) on_response: A,
    /// The services' shared state, made by the first `layer` call so that every route of a
    /// router shares it (and `layer` stays cheap when a framework calls it often).
    built: Arc<Built<T, P, R, F, Q, A>>,
}

type Built<T, P, R, F, Q, A> = OnceLock<(Arc<Start<T, P, R, F, Q>>, Arc<End<A>>)>;

// === impl ServerLayer ===

impl<T, P, R: Clone, F: Clone, Q: Clone, A: Clone> Clone for ServerLayer<T, P, R, F, Q, A> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            tracer: Arc::clone(&self.tracer),
            propagator: Arc::clone(&self.propagator),
            route: self.route.clone(),
            filter: self.filter.clone(),
            on_request: self.on_request.clone(),
            on_response: self.on_response.clone(),
            built: Arc::clone(&self.built),
        }
    }
}

impl ServerLayer {
    /// A layer on the global tracer, meter and propagator, with the route from axum's
    /// `MatchedPath`, trusting no proxy.
    ///
    /// Reads `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` (a comma-separated list that replaces the
    /// known methods; others are recorded as `_OTHER`).
    pub fn new() -> Self {
        Self {
            config: ServerConfig {
                known_methods: KnownMethods::from_env(),
                request_headers: HeaderCapture::default(),
                response_headers: HeaderCapture::default(),
                trusted: TrustedProxies::none(),
                public_endpoint: false,
                incoming_baggage: true,
                traceresponse: false,
                tls: false,
                meter: None,
            },
            tracer: Arc::new(crate::otel::global_tracer()),
            propagator: Arc::new(GlobalPropagator),
            route: DefaultRoute,
            filter: (),
            on_request: (),
            on_response: (),
            built: Arc::default(),
        }
    }

    /// A layer for a service that the public reaches directly: the caller's trace context is not
    /// trusted (each request starts a new trace, linked to the caller's span) and incoming
    /// baggage is dropped.
    pub fn new_for_public_endpoint() -> Self {
        Self::new()
            .with_public_endpoint(true)
            .with_incoming_baggage(false)
    }
}

impl Default for ServerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, P, R, F, Q, A> ServerLayer<T, P, R, F, Q, A> {
    /// Starts spans with `tracer` instead of the global tracer. A concrete tracer (such as the
    /// SDK's) also saves the allocation per span that boxing the global tracer's spans costs.
    pub fn with_tracer<T2>(self, tracer: T2) -> ServerLayer<T2, P, R, F, Q, A> {
        ServerLayer {
            config: self.config,
            tracer: Arc::new(tracer),
            propagator: self.propagator,
            route: self.route,
            filter: self.filter,
            on_request: self.on_request,
            on_response: self.on_response,
            built: Arc::default(),
        }
    }

    /// Extracts the caller's context with `propagator` instead of the global propagator.
    pub fn with_propagator<P2>(self, propagator: P2) -> ServerLayer<T, P2, R, F, Q, A> {
        ServerLayer {
            config: self.config,
            tracer: self.tracer,
            propagator: Arc::new(propagator),
            route: self.route,
            filter: self.filter,
            on_request: self.on_request,
            on_response: self.on_response,
            built: Arc::default(),
        }
    }

    /// Finds routes with `route` (an [`ExtractRoute`](crate::ExtractRoute), for instance a
    /// closure `Fn(&Request<B>) -> Option<Cow<'static, str>>`) instead of axum's `MatchedPath`.
    pub fn with_route_extractor<R2>(self, route: R2) -> ServerLayer<T, P, R2, F, Q, A> {
        ServerLayer {
            config: self.config,
            tracer: self.tracer,
            propagator: self.propagator,
            route,
            filter: self.filter,
            on_request: self.on_request,
            on_response: self.on_response,
            built: Arc::default(),
        }
    }

    /// Traces only the requests `filter` accepts (a [`FilterRequest`](crate::FilterRequest), for
    /// instance `|req: &Request<_>| req.uri().path() != "/health"`). A request it rejects gets no
    /// span and no measurement, and inner layers do not trace it either.
    pub fn with_filter<F2>(self, filter: F2) -> ServerLayer<T, P, R, F2, Q, A> {
        ServerLayer {
            config: self.config,
            tracer: self.tracer,
            propagator: self.propagator,
            route: self.route,
            filter,
            on_request: self.on_request,
            on_response: self.on_response,
            built: Arc::default(),
        }
    }

    /// Adds attributes from each request before its span starts (an
    /// [`OnRequest`](crate::OnRequest)), so head samplers see them.
    pub fn on_request<Q2>(self, on_request: Q2) -> ServerLayer<T, P, R, F, Q2, A> {
        ServerLayer {
            config: self.config,
            tracer: self.tracer,
            propagator: self.propagator,
            route: self.route,
            filter: self.filter,
            on_request,
            on_response: self.on_response,
            built: Arc::default(),
        }
    }

    /// Adds attributes from each response head (an [`OnResponse`](crate::OnResponse)).
    pub fn on_response<A2>(self, on_response: A2) -> ServerLayer<T, P, R, F, Q, A2> {
        ServerLayer {
            config: self.config,
            tracer: self.tracer,
            propagator: self.propagator,
            route: self.route,
            filter: self.filter,
            on_request: self.on_request,
            on_response,
            built: Arc::default(),
        }
    }

    /// The options, to change one: the services' shared state made from the old ones is
    /// dropped (a clone of this layer keeps its own), so the next `layer` call makes it anew.
    fn config_mut(&mut self) -> &mut ServerConfig {
        self.built = Arc::default();
        &mut self.config
    }

    /// Records `http.server.request.duration` with `meter` instead of the global meter.
    pub fn with_meter(mut self, meter: Meter) -> Self {
        self.config_mut().meter = Some(meter);
        self
    }

    /// Public-endpoint mode: do not make the caller's span the parent; start a new trace and link
    /// to the caller's span instead.
    pub fn with_public_endpoint(mut self, public: bool) -> Self {
        self.config_mut().public_endpoint = public;
        self
    }

    /// Whether baggage from the caller is kept in the request's context (default `true`).
    pub fn with_incoming_baggage(mut self, keep: bool) -> Self {
        self.config_mut().incoming_baggage = keep;
        self
    }

    /// The proxies believed about the original client (`client.address`); see
    /// [`TrustedProxies`].
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.config_mut().trusted = proxies;
        self
    }

    /// Records these request headers as `http.request.header.<name>` (every value).
    pub fn with_request_headers(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.config_mut().request_headers =
            HeaderCapture::new(semconv::HTTP_REQUEST_HEADER_PREFIX, names);
        self
    }

    /// Records these response headers as `http.response.header.<name>` (every value).
    pub fn with_response_headers(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.config_mut().response_headers =
            HeaderCapture::new(semconv::HTTP_RESPONSE_HEADER_PREFIX, names);
        self
    }

    /// Adds a W3C Trace Context Level 2 `traceresponse` header (the server span's ids) to every
    /// traced response. Off by default: it tells callers the trace id.
    pub fn with_traceresponse(mut self, enabled: bool) -> Self {
        self.config_mut().traceresponse = enabled;
        self
    }

    /// The service terminates TLS itself: `url.scheme` is `https` unless the request says
    /// otherwise.
    pub fn with_tls(mut self, tls: bool) -> Self {
        self.config_mut().tls = tls;
        self
    }

    /// Replaces the known methods (default: those of RFC 9110, PATCH and QUERY); other methods are
    /// recorded as `_OTHER` with `http.request.method_original`.
    pub fn with_known_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        let names: Vec<Method> = methods.into_iter().collect();
        self.config_mut().known_methods = KnownMethods::from_list(names.iter().map(Method::as_str));
        self
    }
}

impl<S, T, P, R, F, Q, A> Layer<S> for ServerLayer<T, P, R, F, Q, A>
where
    R: Clone,
    F: Clone,
    Q: Clone,
    A: Clone,
{
    type Service = Server<S, T, P, R, F, Q, A>;

    fn layer(&self, inner: S) -> Self::Service {
        let (start, end) = self.built.get_or_init(|| {
            let c = &self.config;
            let start = Start {
                known_methods: c.known_methods.clone(),
                request_headers: c.request_headers.clone(),
                response_headers_len: c.response_headers.len(),
                trusted: c.trusted.clone(),
                public_endpoint: c.public_endpoint,
                incoming_baggage: c.incoming_baggage,
                tls: c.tls,
                tracer: Arc::clone(&self.tracer),
                propagator: Arc::clone(&self.propagator),
                route: self.route.clone(),
                filter: self.filter.clone(),
                on_request: self.on_request.clone(),
            };
            let end = End {
                response_headers: c.response_headers.clone(),
                traceresponse: c.traceresponse,
                duration: Duration::new(
                    semconv::metric::HTTP_SERVER_REQUEST_DURATION,
                    "Duration of HTTP server requests.",
                    c.meter.clone(),
                ),
                on_response: self.on_response.clone(),
            };
            (Arc::new(start), Arc::new(end))
        });
        Server {
            inner,
            start: Arc::clone(start),
            end: Arc::clone(end),
        }
    }
}
