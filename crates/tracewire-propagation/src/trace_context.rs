//! The W3C Trace Context propagator (`traceparent` and `tracestate`), Level 1 and Level 2.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::Context;
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry::trace::TraceContextExt;
//! use tracewire_propagation::{HeaderExtractor, HeaderInjector, TraceContextPropagator};
//!
//! let mut incoming = HeaderMap::new();
//! incoming.insert("traceparent", HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"));
//! incoming.insert("tracestate", HeaderValue::from_static("congo=t61rcWkgMzE,t@x@y=1"));
//!
//! let propagator = TraceContextPropagator::new();
//! let cx = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&incoming));
//! assert!(cx.span().span_context().is_remote());
//! assert_eq!(cx.span().span_context().trace_flags().to_u8(), 0x03); // random flag kept
//!
//! let mut outgoing = HeaderMap::new();
//! propagator.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
//! assert_eq!(outgoing["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
//! // `t@x@y` is valid W3C but opentelemetry's TraceState rejects it: it is sent on all the same.
//! assert_eq!(outgoing["tracestate"], "congo=t61rcWkgMzE,t@x@y=1");
//!
//! // Two traceparent headers: no parent, the caller's context comes back unchanged.
//! incoming.append("traceparent", HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
//! let cx = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&incoming));
//! assert!(!cx.span().span_context().is_valid());
//! ```
//!
//! # Behaviour
//!
//! - Extract: exactly one `traceparent` header, parsed by the rules of
//!   [`traceparent`](crate::traceparent); none, two or more, or an invalid one leave the caller's
//!   context unchanged, so the next span starts a new trace. The `tracestate` lines are read only
//!   after a valid `traceparent`, by the rules of [`tracestate`]; an invalid `tracestate` drops
//!   only the `tracestate`.
//! - Inject: nothing for an invalid span context; otherwise `traceparent` version `00` with the
//!   sampled and random flags, and `tracestate` when there is at least one member.
//! - Problems are reported once per process through `tracing::warn!`, never per request.
//!
//! Specifications: [Trace Context](https://www.w3.org/TR/trace-context/),
//! [Trace Context Level 2](https://www.w3.org/TR/trace-context-2/).

use std::sync::OnceLock;

use http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};

use crate::carrier::{Occurs, Sink, Source, TRACEPARENT, TRACESTATE};
use crate::report::{Problem, report};
use crate::traceparent::TraceParent;
use crate::tracestate;

/// The W3C Trace Context propagator: strict `traceparent` and `tracestate`, Level 1 and Level 2.
///
/// See the [module docs](crate::trace_context) for the rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceContextPropagator {
    _private: (),
}

fn fields() -> &'static [String; 2] {
    static FIELDS: OnceLock<[String; 2]> = OnceLock::new();
    FIELDS.get_or_init(|| [TRACEPARENT.name.to_owned(), TRACESTATE.name.to_owned()])
}

impl TraceContextPropagator {
    /// A new propagator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Extracts straight from a `HeaderMap`, without the `Extractor` indirection; the same
    /// result as [`extract_with_context`](TextMapPropagator::extract_with_context) with a
    /// [`HeaderExtractor`](crate::HeaderExtractor).
    pub fn extract_from_headers(&self, headers: &HeaderMap, cx: &Context) -> Context {
        extract(headers, cx)
    }

    /// Injects straight into a `HeaderMap`; the same headers as
    /// [`inject_context`](TextMapPropagator::inject_context) with a
    /// [`HeaderInjector`](crate::HeaderInjector), except that a `tracestate` already in the map
    /// is removed when there is none to send.
    pub fn inject_into_headers(&self, cx: &Context, headers: &mut HeaderMap) {
        inject(cx, headers);
    }

    /// The header values [`inject_context`](TextMapPropagator::inject_context) writes for a
    /// context made of `cx` with a span whose context is `sc`, without a carrier or that
    /// context: `traceparent` as its 55 bytes, and `tracestate` when there is a member to send.
    /// `None` when `sc` is not valid (nothing is injected).
    ///
    /// For callers that hold the span itself rather than a context with it, and write into a
    /// carrier that takes bytes (Kafka message headers): nothing is allocated unless there is a
    /// `tracestate` to send. `cx` only matters for a `tracestate` kept aside at extraction
    /// (members opentelemetry's `TraceState` cannot hold), so pass the new span's parent context.
    ///
    /// ```
    /// use opentelemetry::Context;
    /// use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    /// use tracewire_propagation::TraceContextPropagator;
    ///
    /// let sc = SpanContext::new(
    ///     TraceId::from_bytes([0x4b; 16]), SpanId::from_bytes([0x0f; 8]),
    ///     TraceFlags::SAMPLED, false, TraceState::NONE,
    /// );
    /// let (traceparent, tracestate) = TraceContextPropagator::new()
    ///     .header_values(&Context::new(), &sc)
    ///     .expect("valid");
    /// assert_eq!(&traceparent[..], b"00-4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b-0f0f0f0f0f0f0f0f-01");
    /// assert_eq!(tracestate, None);
    /// ```
    pub fn header_values(
        &self,
        cx: &Context,
        sc: &SpanContext,
    ) -> Option<([u8; crate::traceparent::LEN], Option<String>)> {
        if !sc.is_valid() {
            return None;
        }
        let tp = TraceParent::new(sc.trace_id(), sc.span_id(), sc.trace_flags());
        Some((tp.to_bytes(), tracestate::inject_header(cx, sc)))
    }
}

/// The span context extracted from `src`, or `None` (reported once) when there is no valid one.
pub(crate) fn extract<S: Source + ?Sized>(src: &S, cx: &Context) -> Context {
    let tp = match src.one(&TRACEPARENT) {
        Occurs::Absent => return cx.clone(),
        Occurs::Repeated => {
            report(Problem::TraceparentRepeated);
            return cx.clone();
        }
        Occurs::Once(value) => match TraceParent::parse(value) {
            Ok(tp) => tp,
            Err(_) => {
                report(Problem::TraceparentInvalid);
                return cx.clone();
            }
        },
    };
    let lines = src.lines(&TRACESTATE);
    let (state, preserved) = if lines.is_empty() {
        (opentelemetry::trace::TraceState::NONE, None)
    } else {
        tracestate::extract(lines.iter(), tp.trace_id)
    };
    let sc = SpanContext::new(tp.trace_id, tp.parent_id, tp.flags, true, state);
    match preserved {
        Some(p) => cx.with_value(p).with_remote_span_context(sc),
        None if tracestate::has_preserved(cx) => cx
            .with_value(tracestate::cleared())
            .with_remote_span_context(sc),
        None => cx.with_remote_span_context(sc),
    }
}

/// Writes `traceparent` and `tracestate` for `cx`'s span context, if it is valid.
pub(crate) fn inject<K: Sink + ?Sized>(cx: &Context, sink: &mut K) {
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return;
    }
    let tp = TraceParent::new(sc.trace_id(), sc.span_id(), sc.trace_flags());
    sink.put(&TRACEPARENT, tp.to_header());
    match tracestate::inject_header(cx, sc) {
        Some(ts) => sink.put(&TRACESTATE, ts),
        None => sink.clear(&TRACESTATE),
    }
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, mut injector: &mut dyn Injector) {
        inject(cx, &mut injector);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        extract(&extractor, cx)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::tests::headers;
    use crate::{HeaderExtractor, HeaderInjector};
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};
    use std::collections::HashMap;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /// Extracts through both paths, checks they agree, and returns the span context.
    fn extract_sc(pairs: &[(&str, &str)]) -> SpanContext {
        let m = headers(pairs);
        let p = TraceContextPropagator::new();
        let via_trait = p.extract_with_context(&Context::new(), &HeaderExtractor(&m));
        let direct = p.extract_from_headers(&m, &Context::new());
        let a = via_trait.span().span_context().clone();
        let b = direct.span().span_context().clone();
        assert_eq!(a, b, "paths disagree on {pairs:?}");
        a
    }

    #[test]
    fn extraction_table() {
        let valid = |flags: u8, state: &str| {
            SpanContext::new(
                TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
                SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
                TraceFlags::new(flags),
                true,
                state.parse::<TraceState>().expect("state"),
            )
        };
        let none = SpanContext::NONE;
        let tp2 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        type Case<'a> = (Vec<(&'a str, &'a str)>, SpanContext, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (vec![("traceparent", TP)], valid(1, ""), "traceparent alone"),
            (vec![("TraceParent", TP)], valid(1, ""), "name in any case"),
            (vec![], none.clone(), "absent"),
            (
                vec![("traceparent", TP), ("traceparent", TP)],
                none.clone(),
                "two identical",
            ),
            (
                vec![("traceparent", TP), ("traceparent", tp2)],
                none.clone(),
                "two different",
            ),
            (vec![("traceparent", "00-xyz")], none.clone(), "invalid"),
            (
                vec![("traceparent", TP), ("tracestate", "a=1,b=2")],
                valid(1, "a=1,b=2"),
                "with tracestate",
            ),
            (
                vec![
                    ("traceparent", TP),
                    ("tracestate", "a=1"),
                    ("tracestate", "b=2"),
                ],
                valid(1, "a=1,b=2"),
                "tracestate lines combined",
            ),
            (
                vec![("traceparent", TP), ("tracestate", "a=1,A=2")],
                valid(1, ""),
                "invalid tracestate dropped, traceparent kept",
            ),
            (
                vec![("traceparent", TP), ("tracestate", "")],
                valid(1, ""),
                "empty tracestate",
            ),
            (
                vec![("traceparent", "00-xyz"), ("tracestate", "a=1")],
                none.clone(),
                "tracestate ignored without traceparent",
            ),
            (vec![("tracestate", "a=1")], none, "tracestate alone"),
        ];
        for (pairs, want, why) in cases {
            assert_eq!(extract_sc(&pairs), want, "{why}");
        }
    }

    #[test]
    fn invalid_input_leaves_the_callers_context_unchanged() {
        #[derive(Debug, PartialEq)]
        struct Marker(u8);
        let cx = Context::new().with_value(Marker(7));
        let m = headers(&[("traceparent", "garbage")]);
        let out = TraceContextPropagator::new().extract_with_context(&cx, &HeaderExtractor(&m));
        assert_eq!(out.get::<Marker>(), Some(&Marker(7)));
        assert!(!out.has_active_span());
    }

    #[test]
    fn injection_table() {
        let sc = |flags: u8, state: TraceState| {
            SpanContext::new(
                TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
                SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
                TraceFlags::new(flags),
                false,
                state,
            )
        };
        let state = TraceState::from_key_value([("a", "1")]).expect("state");
        let cases: Vec<(SpanContext, Option<&str>, Option<&str>, &str)> = vec![
            (
                sc(1, TraceState::NONE),
                Some(TP),
                None,
                "sampled, no tracestate",
            ),
            (
                sc(0, TraceState::NONE),
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
                None,
                "not sampled",
            ),
            (
                sc(3, state.clone()),
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"),
                Some("a=1"),
                "random flag and tracestate",
            ),
            (
                sc(0xff, TraceState::NONE),
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"),
                None,
                "unknown flags zeroed",
            ),
            (SpanContext::NONE, None, None, "invalid span context"),
        ];
        for (sc, tp, ts, why) in cases {
            let cx = Context::new().with_remote_span_context(sc);
            let p = TraceContextPropagator::new();
            let mut via_trait = HeaderMap::new();
            p.inject_context(&cx, &mut HeaderInjector(&mut via_trait));
            let mut direct = HeaderMap::new();
            p.inject_into_headers(&cx, &mut direct);
            assert_eq!(via_trait, direct, "{why}");
            let mut map = HashMap::new();
            p.inject_context(&cx, &mut map);
            assert_eq!(map.get("traceparent").map(String::as_str), tp, "{why}");
            assert_eq!(map.get("tracestate").map(String::as_str), ts, "{why}");
            assert_eq!(
                via_trait.get("traceparent").map(|v| v.as_bytes()),
                tp.map(str::as_bytes),
                "{why}"
            );
        }
    }

    #[test]
    fn direct_injection_removes_a_stale_tracestate() {
        let mut m = headers(&[("tracestate", "stale=1")]);
        let cx = Context::new().with_remote_span_context(extract_sc(&[("traceparent", TP)]));
        TraceContextPropagator::new().inject_into_headers(&cx, &mut m);
        assert!(m.get("tracestate").is_none());
        assert_eq!(m["traceparent"], TP);
    }

    #[test]
    fn a_new_extraction_clears_an_earlier_preserved_tracestate() {
        let p = TraceContextPropagator::new();
        let first = headers(&[("traceparent", TP), ("tracestate", "t@a@b=1")]);
        let cx = p.extract_from_headers(&first, &Context::new());
        let second = headers(&[("traceparent", TP), ("tracestate", "c=3")]);
        let cx = p.extract_from_headers(&second, &cx);
        let mut out = HeaderMap::new();
        p.inject_into_headers(&cx, &mut out);
        assert_eq!(out["tracestate"], "c=3");
    }

    #[test]
    fn foreign_extractors_work() {
        let mut map = HashMap::new();
        map.insert("traceparent".to_owned(), TP.to_owned());
        map.insert("tracestate".to_owned(), "a=1".to_owned());
        let cx = TraceContextPropagator::new().extract_with_context(&Context::new(), &map);
        assert_eq!(cx.span().span_context().trace_state().header(), "a=1");
    }

    #[test]
    fn opentelemetry_http_extractor_sees_every_tracestate_line() {
        // Its `get` returns only the first value of a repeated header; `get_all` sees them all.
        let m = headers(&[
            ("traceparent", TP),
            ("tracestate", "a=1"),
            ("tracestate", "b=2"),
        ]);
        let cx = TraceContextPropagator::new()
            .extract_with_context(&Context::new(), &opentelemetry_http::HeaderExtractor(&m));
        assert_eq!(cx.span().span_context().trace_state().header(), "a=1,b=2");
    }

    #[test]
    fn header_values_are_what_injection_writes() {
        use crate::MapInjector;
        let tp = TP.to_owned();
        let sc = |state: &str| {
            SpanContext::new(
                TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
                SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
                TraceFlags::new(3),
                false,
                state.parse::<TraceState>().expect("state"),
            )
        };
        let p = TraceContextPropagator::new();
        // Parents: none; one whose tracestate kept a member TraceState rejects (same trace).
        let kept = p.extract_with_context(
            &Context::new(),
            &HeaderExtractor(&headers(&[
                ("traceparent", &tp),
                ("tracestate", "a=1,t@x@y=2"),
            ])),
        );
        let parents = [Context::new(), kept.clone()];
        let states = ["", "b=1", "a=1"];
        for parent in &parents {
            for state in states {
                // The kept-aside parent's own span context, as a child of it carries it.
                let parent_span = parent.span();
                let psc = parent_span.span_context();
                let sc = if state == "a=1" && psc.is_valid() {
                    SpanContext::new(
                        psc.trace_id(),
                        SpanId::from_hex("00f067aa0ba902b8").expect("hex"),
                        psc.trace_flags(),
                        false,
                        psc.trace_state().clone(),
                    )
                } else {
                    sc(state)
                };
                let mut map = HashMap::new();
                p.inject_context(
                    &parent.with_remote_span_context(sc.clone()),
                    &mut MapInjector(&mut map),
                );
                let (traceparent, tracestate) = p.header_values(parent, &sc).expect("valid");
                assert_eq!(
                    map.get("traceparent").map(String::as_bytes),
                    Some(&traceparent[..])
                );
                assert_eq!(map.get("tracestate"), tracestate.as_ref(), "{state}");
            }
        }
        assert_eq!(
            kept_header(&p, &kept).as_deref(),
            Some("a=1,t@x@y=2"),
            "the kept-aside member is sent"
        );
        assert_eq!(p.header_values(&Context::new(), &SpanContext::NONE), None);
    }

    fn kept_header(p: &TraceContextPropagator, parent: &Context) -> Option<String> {
        let parent_span = parent.span();
        let psc = parent_span.span_context();
        let child = SpanContext::new(
            psc.trace_id(),
            SpanId::from_hex("00f067aa0ba902b8").expect("hex"),
            psc.trace_flags(),
            false,
            psc.trace_state().clone(),
        );
        p.header_values(parent, &child).and_then(|(_, ts)| ts)
    }

    #[test]
    fn fields_are_the_two_headers() {
        let p = TraceContextPropagator::new();
        assert_eq!(
            p.fields().collect::<Vec<_>>(),
            ["traceparent", "tracestate"]
        );
    }
}
