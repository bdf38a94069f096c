//! Carriers: [`http::HeaderMap`] injector and extractor that see every value of a repeated header,
//! and a plain string-map carrier.
//!
//! The W3C rules need to know how many times a header occurs (exactly one `traceparent`; every
//! `tracestate` and `baggage` line combined), so [`HeaderExtractor`] differs from
//! opentelemetry-http's in two ways:
//!
//! - [`Extractor::get`] returns a value only when the header occurs **exactly once**: a repeated
//!   header has no single value, so `get` returns `None` for it (and when it is absent);
//! - [`Extractor::get_all`] returns every value in order, and `None` without allocating when the
//!   header is absent.
//!
//! tracewire's propagators read them in two ways:
//!
//! - a header that holds one value (`traceparent`, `b3`, `uber-trace-id`, ...): `get` first, and
//!   `get_all` only when `get` returned `None`, to tell an absent header from a repeated one. A
//!   present header costs one lookup and no allocation.
//! - a list header whose lines are combined (`tracestate`, `baggage`): `get_all`, which costs one
//!   lookup and no allocation when the header is absent (the common case), and one `Vec` when it
//!   is present. It also sees every line through extractors whose `get` returns only the first
//!   one (opentelemetry-http's).
//!
//! Extractors from other crates keep working (the trait's default `get_all` wraps `get`), but an
//! extractor whose `get` returns the first of several values hides a repeated header from the
//! "exactly one traceparent" rule.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::propagation::Extractor;
//! use tracewire_propagation::HeaderExtractor;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("traceparent", HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
//! headers.append("tracestate", HeaderValue::from_static("a=1"));
//! headers.append("tracestate", HeaderValue::from_static("b=2"));
//!
//! let extractor = HeaderExtractor(&headers);
//! assert!(extractor.get("traceparent").is_some());
//! assert_eq!(extractor.get("tracestate"), None); // repeated: no single value
//! assert_eq!(extractor.get_all("tracestate"), Some(vec!["a=1", "b=2"]));
//! assert_eq!(extractor.get_all("baggage"), None);
//! ```

use std::collections::HashMap;
use std::hash::BuildHasher;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use tracewire_core::semconv::header;

use crate::report::{Problem, report};

/// What [`Extractor::get_all`] of [`HeaderExtractor`] returns for a value that is not UTF-8: the
/// replacement character, which no propagation format accepts, so that a parser sees the value
/// as malformed instead of missing.
pub const INVALID_VALUE: &str = "\u{FFFD}";

/// A propagation header: its name as a string (for the `Injector`/`Extractor` traits) and as a
/// pre-built [`HeaderName`] (for direct `HeaderMap` access without parsing the name).
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) header: HeaderName,
}

macro_rules! fields {
    ($($id:ident = $name:path;)*) => {
        $(pub(crate) static $id: Field = Field { name: $name, header: HeaderName::from_static($name) };)*

        /// The pre-built field for a known header name, matched exactly (lowercase).
        #[inline]
        fn known(name: &str) -> Option<&'static Field> {
            match name {
                $($name => Some(&$id),)*
                _ => None,
            }
        }
    };
}

fields! {
    TRACEPARENT = header::TRACEPARENT;
    TRACESTATE = header::TRACESTATE;
    BAGGAGE = header::BAGGAGE;
    B3 = header::B3;
    X_B3_TRACE_ID = header::X_B3_TRACE_ID;
    X_B3_SPAN_ID = header::X_B3_SPAN_ID;
    X_B3_PARENT_SPAN_ID = header::X_B3_PARENT_SPAN_ID;
    X_B3_SAMPLED = header::X_B3_SAMPLED;
    X_B3_FLAGS = header::X_B3_FLAGS;
    UBER_TRACE_ID = header::UBER_TRACE_ID;
}

/// How often a header occurs in a carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Occurs<'a> {
    Absent,
    Once(&'a [u8]),
    Repeated,
}

/// Every value of a header, in order; allocates only when the header is repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lines<'a> {
    Zero,
    Once(&'a [u8]),
    Many(Vec<&'a [u8]>),
}

impl<'a> Lines<'a> {
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Lines::Zero)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let (one, many): (Option<&'a [u8]>, &[&'a [u8]]) = match self {
            Lines::Zero => (None, &[]),
            Lines::Once(v) => (Some(*v), &[]),
            Lines::Many(vs) => (None, vs.as_slice()),
        };
        one.into_iter().chain(many.iter().copied())
    }
}

/// Read access to a carrier, shared by the `dyn Extractor` path and the direct `HeaderMap` path.
pub(crate) trait Source {
    /// The value when the header occurs exactly once.
    fn one(&self, field: &Field) -> Occurs<'_>;

    /// Every value of the header, in order (through `get_all` on the `Extractor` path: one
    /// lookup when absent, and every line even from extractors whose `get` sees only the first).
    fn lines(&self, field: &Field) -> Lines<'_>;

    /// Calls `f` with the name and value of every header whose name starts with `prefix`
    /// (ASCII case-insensitively).
    fn prefixed(&self, prefix: &str, f: &mut dyn FnMut(&str, &[u8]));
}

/// Write access to a carrier.
pub(crate) trait Sink {
    /// Sets a known header, replacing any value it had.
    fn put(&mut self, field: &Field, value: String);

    /// Sets a header whose name is only known at run time (Jaeger's `uberctx-*`).
    fn put_dynamic(&mut self, name: &str, value: String);

    /// Removes a header that is not to be sent (where the carrier allows it).
    fn clear(&mut self, _field: &Field) {}
}

// === impl Source for dyn Extractor ===

impl Source for &dyn Extractor {
    #[inline]
    fn one(&self, field: &Field) -> Occurs<'_> {
        if let Some(v) = self.get(field.name) {
            return Occurs::Once(v.as_bytes());
        }
        match self.get_all(field.name) {
            None => Occurs::Absent,
            Some(values) => match values.as_slice() {
                [] => Occurs::Absent,
                [v] => Occurs::Once(v.as_bytes()),
                _ => Occurs::Repeated,
            },
        }
    }

    #[inline]
    fn lines(&self, field: &Field) -> Lines<'_> {
        match self.get_all(field.name) {
            None => Lines::Zero,
            Some(values) => match values.as_slice() {
                [] => Lines::Zero,
                [v] => Lines::Once(v.as_bytes()),
                _ => Lines::Many(values.iter().map(|v| v.as_bytes()).collect()),
            },
        }
    }

    fn prefixed(&self, prefix: &str, f: &mut dyn FnMut(&str, &[u8])) {
        for key in self.keys() {
            if !starts_with_ignore_case(key, prefix) {
                continue;
            }
            if let Some(v) = self.get(key) {
                f(key, v.as_bytes());
            } else if let Some(values) = self.get_all(key) {
                for v in values {
                    f(key, v.as_bytes());
                }
            }
        }
    }
}

// === impl Source for HeaderMap ===

impl Source for HeaderMap {
    #[inline]
    fn one(&self, field: &Field) -> Occurs<'_> {
        let mut values = self.get_all(&field.header).iter();
        match (values.next(), values.next()) {
            (None, _) => Occurs::Absent,
            (Some(v), None) => Occurs::Once(v.as_bytes()),
            (Some(_), Some(_)) => Occurs::Repeated,
        }
    }

    #[inline]
    fn lines(&self, field: &Field) -> Lines<'_> {
        let all = self.get_all(&field.header);
        let mut values = all.iter();
        match (values.next(), values.next()) {
            (None, _) => Lines::Zero,
            (Some(v), None) => Lines::Once(v.as_bytes()),
            (Some(_), Some(_)) => Lines::Many(all.iter().map(HeaderValue::as_bytes).collect()),
        }
    }

    fn prefixed(&self, prefix: &str, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self {
            if starts_with_ignore_case(name.as_str(), prefix) {
                f(name.as_str(), value.as_bytes());
            }
        }
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

// === impl Sink ===

impl Sink for &mut dyn Injector {
    #[inline]
    fn put(&mut self, field: &Field, value: String) {
        self.set(field.name, value);
    }

    fn put_dynamic(&mut self, name: &str, value: String) {
        self.set(name, value);
    }
}

impl Sink for HeaderMap {
    #[inline]
    fn put(&mut self, field: &Field, value: String) {
        match HeaderValue::try_from(value) {
            Ok(v) => {
                self.insert(field.header.clone(), v);
            }
            Err(_) => report(Problem::HeaderNotSet),
        }
    }

    fn put_dynamic(&mut self, name: &str, value: String) {
        insert(self, name, value);
    }

    fn clear(&mut self, field: &Field) {
        if self.contains_key(&field.header) {
            self.remove(&field.header);
        }
    }
}

/// Inserts `name: value`, with a pre-built name for the headers tracewire knows (building a
/// non-standard `HeaderName` from bytes allocates) and without copying the value.
#[inline]
fn insert(map: &mut HeaderMap, name: &str, value: String) {
    let name = match known(name) {
        Some(field) => field.header.clone(),
        None => match HeaderName::from_bytes(name.as_bytes()) {
            Ok(n) => n,
            Err(_) => return report(Problem::HeaderNotSet),
        },
    };
    match HeaderValue::try_from(value) {
        Ok(v) => {
            map.insert(name, v);
        }
        Err(_) => report(Problem::HeaderNotSet),
    }
}

/// Injects into an [`http::HeaderMap`], replacing any value the header had.
///
/// The value `String` becomes the header value without a copy, and the names of the headers
/// tracewire's propagators write are pre-built, so setting a header allocates nothing beyond the
/// value itself. A name or value that is not valid HTTP is skipped (and reported once).
///
/// # Example
///
/// ```
/// use http::HeaderMap;
/// use opentelemetry::propagation::Injector;
/// use tracewire_propagation::HeaderInjector;
///
/// let mut headers = HeaderMap::new();
/// HeaderInjector(&mut headers).set("baggage", "a=1".to_owned());
/// HeaderInjector(&mut headers).set("bad\nname", "x".to_owned()); // skipped
/// assert_eq!(headers["baggage"], "a=1");
/// assert_eq!(headers.len(), 1);
/// ```
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    #[inline]
    fn set(&mut self, key: &str, value: String) {
        insert(self.0, key, value);
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

/// Extracts from an [`http::HeaderMap`], seeing every value of a repeated header.
///
/// - [`get`](Extractor::get): the value when the header occurs exactly once and is UTF-8;
///   `None` when it is absent, repeated (a repeated header has no single value) or not UTF-8.
/// - [`get_all`](Extractor::get_all): every value in order, `None` (without allocating) when the
///   header is absent; a value that is not UTF-8 is returned as [`INVALID_VALUE`] so that it
///   counts as malformed rather than missing.
/// - [`keys`](Extractor::keys): every header name once, lowercase.
///
/// Header values hold printable ASCII, tabs and, rarely, bytes above `0x7f` (which no
/// propagation format allows, so their parsers reject them).
#[derive(Debug, Clone, Copy)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

/// Every value of `key`; a pre-built name for the headers tracewire knows, since looking up by
/// `&str` parses and validates the name first.
#[inline]
fn values<'m>(map: &'m HeaderMap, key: &str) -> http::header::GetAll<'m, HeaderValue> {
    match known(key) {
        Some(field) => map.get_all(&field.header),
        None => map.get_all(key),
    }
}

impl Extractor for HeaderExtractor<'_> {
    #[inline]
    fn get(&self, key: &str) -> Option<&str> {
        let mut values = values(self.0, key).iter();
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        // A header value holds no control character but tab; `from_utf8` (with its word-at-a-time
        // ASCII path) is cheaper than `to_str`, and lets UTF-8 through for callers that want it.
        std::str::from_utf8(first.as_bytes()).ok()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    #[inline]
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values = values(self.0, key);
        let mut iter = values.iter().peekable();
        iter.peek()?;
        Some(
            iter.map(|v| std::str::from_utf8(v.as_bytes()).unwrap_or(INVALID_VALUE))
                .collect(),
        )
    }
}

/// Extracts from a plain `HashMap<String, String>` (message headers, RPC metadata), matching
/// names ASCII case-insensitively without allocating: an exact (lowercase) match first, then a
/// scan.
///
/// opentelemetry's own `Extractor` impl for `HashMap` allocates a lowercase copy of the name on
/// every lookup.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use opentelemetry::propagation::Extractor;
/// use tracewire_propagation::MapExtractor;
///
/// let map: HashMap<String, String> = [("Baggage".to_owned(), "a=1".to_owned())].into();
/// assert_eq!(MapExtractor(&map).get("baggage"), Some("a=1"));
/// ```
#[derive(Debug)]
pub struct MapExtractor<'a, S = std::collections::hash_map::RandomState>(
    pub &'a HashMap<String, String, S>,
);

impl<S: BuildHasher> Extractor for MapExtractor<'_, S> {
    fn get(&self, key: &str) -> Option<&str> {
        if let Some(v) = self.0.get(key) {
            return Some(v.as_str());
        }
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Injects into a plain `HashMap<String, String>`, with lowercase names.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use opentelemetry::propagation::Injector;
/// use tracewire_propagation::MapInjector;
///
/// let mut map = HashMap::new();
/// MapInjector(&mut map).set("Baggage", "a=1".to_owned());
/// assert_eq!(map["baggage"], "a=1");
/// ```
#[derive(Debug)]
pub struct MapInjector<'a, S = std::collections::hash_map::RandomState>(
    pub &'a mut HashMap<String, String, S>,
);

impl<S: BuildHasher> Injector for MapInjector<'_, S> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_ascii_lowercase(), value);
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `HeaderMap` of `pairs`, in order (a repeated name is appended), for the propagators'
    /// tests.
    pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        m
    }

    fn map(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_bytes(v).expect("value"),
            );
        }
        m
    }

    #[test]
    fn get_sees_exactly_one_value() {
        let m = map(&[
            ("one", b"1"),
            ("two", b"a"),
            ("two", b"b"),
            ("utf8", "é".as_bytes()),
            ("latin1", b"\xe9"),
        ]);
        let e = HeaderExtractor(&m);
        let cases: &[(&str, Option<&str>)] = &[
            ("one", Some("1")),
            ("ONE", Some("1")),
            ("two", None),
            ("absent", None),
            ("utf8", Some("é")),
            ("latin1", None),
        ];
        for (key, want) in cases {
            assert_eq!(e.get(key), *want, "{key}");
        }
    }

    #[test]
    fn get_all_returns_every_value_and_marks_invalid_ones() {
        let m = map(&[("two", b"a"), ("two", b"\xe9"), ("two", b"c")]);
        let e = HeaderExtractor(&m);
        assert_eq!(e.get_all("two"), Some(vec!["a", INVALID_VALUE, "c"]));
        assert_eq!(e.get_all("absent"), None);
        let mut keys = e.keys();
        keys.sort_unstable();
        assert_eq!(keys, ["two"]);
    }

    #[test]
    fn source_paths_agree() {
        let m = map(&[
            ("traceparent", b"x"),
            ("tracestate", b"a=1"),
            ("tracestate", b"b=2"),
            ("uberctx-a", b"1"),
            ("other", b"o"),
        ]);
        let extractor = HeaderExtractor(&m);
        let dynamic: &dyn Extractor = &extractor;
        for field in [&TRACEPARENT, &TRACESTATE, &BAGGAGE] {
            assert_eq!(Source::one(&m, field), Source::one(&dynamic, field));
            assert_eq!(Source::lines(&m, field), Source::lines(&dynamic, field));
        }
        assert_eq!(
            Source::lines(&m, &TRACESTATE).iter().collect::<Vec<_>>(),
            [b"a=1".as_slice(), b"b=2"]
        );
        assert!(Source::lines(&m, &BAGGAGE).is_empty());
        assert_eq!(Source::one(&m, &TRACEPARENT), Occurs::Once(b"x"));
        assert_eq!(Source::one(&m, &TRACESTATE), Occurs::Repeated);
        assert_eq!(Source::one(&m, &BAGGAGE), Occurs::Absent);
        let mut seen = Vec::new();
        Source::prefixed(&dynamic, "UBERCTX-", &mut |k, v| {
            seen.push((k.to_owned(), v.to_vec()))
        });
        assert_eq!(seen, [("uberctx-a".to_owned(), b"1".to_vec())]);
    }

    #[test]
    fn injector_uses_known_names_and_skips_invalid_input() {
        let mut m = HeaderMap::new();
        let mut inj = HeaderInjector(&mut m);
        inj.set("traceparent", "v1".to_owned());
        inj.set("traceparent", "v2".to_owned());
        inj.set("X-Custom", "c".to_owned());
        inj.set("bad name", "x".to_owned());
        inj.set("bad-value", "a\nb".to_owned());
        assert_eq!(m.len(), 2);
        assert_eq!(m["traceparent"], "v2");
        assert_eq!(m["x-custom"], "c");
    }

    #[test]
    fn every_known_field_round_trips_its_name() {
        for name in [
            header::TRACEPARENT,
            header::TRACESTATE,
            header::BAGGAGE,
            header::B3,
            header::X_B3_TRACE_ID,
            header::X_B3_SPAN_ID,
            header::X_B3_PARENT_SPAN_ID,
            header::X_B3_SAMPLED,
            header::X_B3_FLAGS,
            header::UBER_TRACE_ID,
        ] {
            let field = known(name).expect("known");
            assert_eq!(field.name, name);
            assert_eq!(field.header.as_str(), name);
        }
        assert!(known("x-other").is_none());
    }

    #[test]
    fn map_carriers_are_case_insensitive() {
        let mut m: HashMap<String, String> = HashMap::new();
        MapInjector(&mut m).set("TraceParent", "v".to_owned());
        assert_eq!(m.get("traceparent").map(String::as_str), Some("v"));
        m.insert("X-Mixed".to_owned(), "m".to_owned());
        let e = MapExtractor(&m);
        assert_eq!(e.get("x-mixed"), Some("m"));
        assert_eq!(e.get("traceparent"), Some("v"));
        assert_eq!(e.get("absent"), None);
        assert_eq!(e.keys().len(), 2);
    }
}
