//! [`ClientLayer`]: the client middleware's configuration and its `tower::Layer` impl.

use std::sync::Arc;

use http::Method;
use opentelemetry::metrics::Meter;
use tower_layer::Layer;
use tracewire_core::semconv;

use super::BaggagePolicy;
use super::service::{Client, Shared};
use crate::attrs::KnownMethods;
use crate::metrics::Duration;
use crate::otel::{GlobalPropagator, GlobalTracer};

/// Traces the requests of an HTTP client service: one CLIENT span and one
/// `http.client.request.duration` measurement per request, with the trace context injected into
/// the request headers. See the [module docs](super).
#[derive(Debug)]
pub struct ClientLayer<T = GlobalTracer, P = GlobalPropagator> {
    known_methods: KnownMethods,
    baggage: BaggagePolicy,
    meter: Option<Meter>,
    tracer: Arc<T>,
    propagator: Arc<P>,
}

// === impl ClientLayer ===

impl<T, P> Clone for ClientLayer<T, P> {
    fn clone(&self) -> Self {
        Self {
            known_methods: self.known_methods.clone(),
            baggage: self.baggage.clone(),
            meter: self.meter.clone(),
            tracer: Arc::clone(&self.tracer),
            propagator: Arc::clone(&self.propagator),
        }
    }
}

impl ClientLayer {
    /// A layer on the global tracer, meter and propagator, sending all baggage everywhere.
    ///
    /// Reads `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` like the server layer.
    pub fn new() -> Self {
        Self {
            known_methods: KnownMethods::from_env(),
            baggage: BaggagePolicy::default(),
            meter: None,
            tracer: Arc::new(crate::otel::global_tracer()),
            propagator: Arc::new(GlobalPropagator),
        }
    }
}

impl Default for ClientLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, P> ClientLayer<T, P> {
    /// Starts spans with `tracer` instead of the global tracer.
    pub fn with_tracer<T2>(self, tracer: T2) -> ClientLayer<T2, P> {
        ClientLayer {
            known_methods: self.known_methods,
            baggage: self.baggage,
            meter: self.meter,
            tracer: Arc::new(tracer),
            propagator: self.propagator,
        }
    }

    /// Injects the context with `propagator` instead of the global propagator.
    pub fn with_propagator<P2>(self, propagator: P2) -> ClientLayer<T, P2> {
        ClientLayer {
            known_methods: self.known_methods,
            baggage: self.baggage,
            meter: self.meter,
            tracer: self.tracer,
            propagator: Arc::new(propagator),
        }
    }

    /// Records `http.client.request.duration` with `meter` instead of the global meter.
    pub fn with_meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Sends only these baggage keys (others stay in the process).
    pub fn with_baggage_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.baggage.keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Sends baggage only to these hosts: an exact host name (`payments.internal`) or, with a
    /// leading dot, a domain and its subdomains (`.internal.example`). Compared without case.
    pub fn with_baggage_hosts<I, H>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = H>,
        H: Into<String>,
    {
        self.baggage.hosts = Some(
            hosts
                .into_iter()
                .map(|h| h.into().to_ascii_lowercase())
                .collect(),
        );
        self
    }

    /// Replaces the known methods (default: those of RFC 9110, PATCH and QUERY).
    pub fn with_known_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        let names: Vec<Method> = methods.into_iter().collect();
        self.known_methods = KnownMethods::from_list(names.iter().map(Method::as_str));
        self
    }
}

impl<S, T, P> Layer<S> for ClientLayer<T, P> {
    type Service = Client<S, T, P>;

    fn layer(&self, inner: S) -> Self::Service {
        Client {
            inner,
            shared: Arc::new(Shared {
                known_methods: self.known_methods.clone(),
                baggage: self.baggage.clone(),
                duration: Duration::new(
                    semconv::metric::HTTP_CLIENT_REQUEST_DURATION,
                    "Duration of HTTP client requests.",
                    self.meter.clone(),
                ),
                tracer: Arc::clone(&self.tracer),
                propagator: Arc::clone(&self.propagator),
            }),
        }
    }
}
