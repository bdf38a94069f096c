//! Hook traits of the layers: route extraction, request filters, attribute hooks.
//!
//! Each is implemented for `()` (the default, doing nothing), for closures, and where it applies
//! for a named default; the layers' builders change a type parameter to take one, so a hook costs
//! a direct call, never a box.

use std::borrow::Cow;

use http::{Request, Response};
use opentelemetry::KeyValue;

/// Finds the route template (`http.route`, and the `{route}` of the span name) of a request.
///
/// Implemented for [`DefaultRoute`] and for closures
/// `Fn(&Request<B>) -> Option<Cow<'static, str>>`. The route must be a low-cardinality template
/// (`/users/{id}`), never the raw path.
pub trait ExtractRoute<B>: Send + Sync + 'static {
    /// The route of `request`, if known.
    fn route<'a>(&self, request: &'a Request<B>) -> Option<Cow<'a, str>>;
}

/// The route from axum's `MatchedPath` (with the `axum` feature; otherwise no route).
///
/// axum inserts `MatchedPath` while routing, so the layer sees it when it is added with
/// `Router::layer` (which wraps every route), not when it wraps the whole `Router` from outside.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRoute;

impl<B> ExtractRoute<B> for DefaultRoute {
    fn route<'a>(&self, _request: &'a Request<B>) -> Option<Cow<'a, str>> {
        #[cfg(feature = "axum")]
        {
            _request
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .map(|p| Cow::Borrowed(p.as_str()))
        }
        #[cfg(not(feature = "axum"))]
        {
            None
        }
    }
}

impl<B, F> ExtractRoute<B> for F
where
    F: Fn(&Request<B>) -> Option<Cow<'static, str>> + Send + Sync + 'static,
{
    fn route<'a>(&self, request: &'a Request<B>) -> Option<Cow<'a, str>> {
        self(request)
    }
}

/// Decides whether a request is traced (no span, no metric, no propagation when it is not).
///
/// Implemented for `()` (trace everything) and closures `Fn(&Request<B>) -> bool`.
pub trait FilterRequest<B>: Send + Sync + 'static {
    /// `true` to trace `request`.
    fn trace(&self, request: &Request<B>) -> bool;
}

impl<B> FilterRequest<B> for () {
    #[inline]
    fn trace(&self, _request: &Request<B>) -> bool {
        true
    }
}

impl<B, F> FilterRequest<B> for F
where
    F: Fn(&Request<B>) -> bool + Send + Sync + 'static,
{
    #[inline]
    fn trace(&self, request: &Request<B>) -> bool {
        self(request)
    }
}

/// Adds attributes from the request before the span starts (so samplers see them).
///
/// Implemented for `()` and closures `Fn(&Request<B>, &mut Vec<KeyValue>)`.
pub trait OnRequest<B>: Send + Sync + 'static {
    /// Pushes attributes for `request` onto `attributes`.
    fn on_request(&self, request: &Request<B>, attributes: &mut Vec<KeyValue>);
}

impl<B> OnRequest<B> for () {
    #[inline]
    fn on_request(&self, _request: &Request<B>, _attributes: &mut Vec<KeyValue>) {}
}

impl<B, F> OnRequest<B> for F
where
    F: Fn(&Request<B>, &mut Vec<KeyValue>) + Send + Sync + 'static,
{
    #[inline]
    fn on_request(&self, request: &Request<B>, attributes: &mut Vec<KeyValue>) {
        self(request, attributes)
    }
}

/// Adds attributes from the response (its head) to the span.
///
/// Implemented for `()` and closures `Fn(&Response<B>, &mut Vec<KeyValue>)`.
pub trait OnResponse<B>: Send + Sync + 'static {
    /// Pushes attributes for `response` onto `attributes`.
    fn on_response(&self, response: &Response<B>, attributes: &mut Vec<KeyValue>);
}

impl<B> OnResponse<B> for () {
    #[inline]
    fn on_response(&self, _response: &Response<B>, _attributes: &mut Vec<KeyValue>) {}
}

impl<B, F> OnResponse<B> for F
where
    F: Fn(&Response<B>, &mut Vec<KeyValue>) + Send + Sync + 'static,
{
    #[inline]
    fn on_response(&self, response: &Response<B>, attributes: &mut Vec<KeyValue>) {
        self(response, attributes)
    }
}
