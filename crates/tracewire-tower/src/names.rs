//! A cache of `{METHOD} {route}` span names, so the hot path neither formats nor allocates them.
//!
//! Span names are `Cow<'static, str>` in the OpenTelemetry API: a name borrowed for the life of the
//! process costs nothing per span, a formatted one costs an allocation per span. Routes are
//! templates registered by the application (axum's `MatchedPath`), so the set of `(method,
//! route)` pairs is small and fixed; each pair's name is made once and kept for the life of the
//! process, and `http.route` borrows the route part of it. A cap bounds what a route extractor
//! returning unbounded values could keep: past it, names are formatted per request (see
//! docs/adr/0020-span-name-cache.md). The cache is one per process, so building many layers (in
//! tests, say) never keeps more than the cap.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use opentelemetry::StringValue;

use crate::attrs::MethodAttr;
use crate::report;

/// How many distinct names are kept at most (per process).
pub(crate) const MAX_CACHED_NAMES: usize = 1024;

/// The longest route kept (longer ones are formatted per request).
const MAX_ROUTE_LEN: usize = 512;

/// A span name and the `http.route` value that goes with it.
#[derive(Debug, Clone)]
pub(crate) struct NameAndRoute {
    pub(crate) name: Cow<'static, str>,
    pub(crate) route: StringValue,
}

/// Span names by route and method.
#[derive(Debug, Default)]
pub(crate) struct NameCache {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// For each route, the names made for it so far (one per method seen).
    by_route: HashMap<Box<str>, Vec<&'static str>>,
    count: usize,
}

/// The process-wide cache.
pub(crate) static NAMES: LazyLock<NameCache> = LazyLock::new(NameCache::default);

fn find(names: &[&'static str], method: &str) -> Option<&'static str> {
    names.iter().copied().find(|n| {
        n.len() > method.len() && n.starts_with(method) && n.as_bytes()[method.len()] == b' '
    })
}

impl NameCache {
    /// The name `{METHOD} {route}` and the route value, from the cache when possible.
    pub(crate) fn get(&self, method: MethodAttr, route: &str) -> NameAndRoute {
        let method = method.span_name();
        let prefix = method.len() + 1;
        if let Ok(inner) = self.inner.read()
            && let Some(name) = inner.by_route.get(route).and_then(|n| find(n, method))
        {
            return borrowed(name, prefix);
        }
        if route.len() <= MAX_ROUTE_LEN
            && let Ok(mut inner) = self.inner.write()
        {
            if let Some(name) = inner.by_route.get(route).and_then(|n| find(n, method)) {
                return borrowed(name, prefix);
            }
            if inner.count < MAX_CACHED_NAMES {
                let name: &'static str = Box::leak(format!("{method} {route}").into_boxed_str());
                inner.count += 1;
                inner.by_route.entry(route.into()).or_default().push(name);
                return borrowed(name, prefix);
            }
        }
        report::once(
            &report::NAME_CACHE_FULL,
            "more distinct routes than the span-name cache keeps; names are now formatted per request (is a route extractor returning raw paths?)",
        );
        NameAndRoute {
            name: Cow::Owned(format!("{method} {route}")),
            route: StringValue::from(route.to_owned()),
        }
    }
}

fn borrowed(name: &'static str, prefix: usize) -> NameAndRoute {
    NameAndRoute {
        name: Cow::Borrowed(name),
        route: StringValue::from(name.get(prefix..).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_once_and_borrowed() {
        let cache = NameCache::default();
        let a = cache.get(MethodAttr::Known("GET"), "/users/{id}");
        let b = cache.get(MethodAttr::Known("GET"), "/users/{id}");
        assert_eq!(a.name, "GET /users/{id}");
        assert_eq!(a.route.as_str(), "/users/{id}");
        match (&a.name, &b.name) {
            (Cow::Borrowed(x), Cow::Borrowed(y)) => assert!(std::ptr::eq(*x, *y)),
            _ => panic!("names are borrowed"),
        }
        let post = cache.get(MethodAttr::Known("POST"), "/users/{id}");
        assert_eq!(post.name, "POST /users/{id}");
        let other = cache.get(MethodAttr::Other, "/users/{id}");
        assert_eq!(other.name, "HTTP /users/{id}");
        assert_eq!(other.route.as_str(), "/users/{id}");
    }

    #[test]
    fn past_the_cap_names_are_formatted() {
        let cache = NameCache::default();
        for i in 0..MAX_CACHED_NAMES {
            let r = cache.get(MethodAttr::Known("GET"), &format!("/r{i}"));
            assert!(matches!(r.name, Cow::Borrowed(_)));
        }
        let r = cache.get(MethodAttr::Known("GET"), "/one-more");
        assert!(matches!(r.name, Cow::Owned(_)));
        assert_eq!(r.name, "GET /one-more");
        assert_eq!(r.route.as_str(), "/one-more");
        let long = "/x".repeat(400);
        let r = cache.get(MethodAttr::Known("GET"), &long);
        assert!(matches!(r.name, Cow::Owned(_)));
    }
}
