//! The header carriers: extraction rules (last value wins, unreadable values absent, foreign
//! names never panic) and injection (trace headers replaced, the rest kept byte for byte).

mod common;

use common::add_raw_header;
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use rdkafka::message::{OwnedHeaders, OwnedMessage, Timestamp};
use tracewire_kafka::carrier::{HeadersExtractor, inject_context};

fn msg(headers: Option<OwnedHeaders>) -> OwnedMessage {
    OwnedMessage::new(
        None,
        None,
        "t".into(),
        Timestamp::NotAvailable,
        0,
        0,
        headers,
    )
}

fn hdrs(list: &[(&[u8], Option<&[u8]>)]) -> OwnedHeaders {
    let mut h = OwnedHeaders::new();
    for (name, value) in list {
        add_raw_header(&mut h, name, *value);
    }
    h
}

#[test]
fn extraction_rules() {
    type Case<'a> = (
        &'a str,
        Vec<(&'a [u8], Option<&'a [u8]>)>,
        &'a str,
        Option<&'a str>,
    );
    let cases: Vec<Case<'_>> = vec![
        ("absent", vec![(b"other", Some(b"1"))], "k", None),
        ("single", vec![(b"k", Some(b"v"))], "k", Some("v")),
        (
            "last wins",
            vec![(b"k", Some(b"1")), (b"x", Some(b"-")), (b"k", Some(b"2"))],
            "k",
            Some("2"),
        ),
        (
            "null value absent",
            vec![(b"k", Some(b"1")), (b"k", None)],
            "k",
            Some("1"),
        ),
        ("only null", vec![(b"k", None)], "k", None),
        (
            "non-UTF-8 value absent",
            vec![(b"k", Some(b"ok")), (b"k", Some(b"\xff\xfe"))],
            "k",
            Some("ok"),
        ),
        ("case-sensitive", vec![(b"K", Some(b"1"))], "k", None),
        (
            "non-UTF-8 name skipped",
            vec![(b"k\xff", Some(b"1")), (b"k", Some(b"2"))],
            "k",
            Some("2"),
        ),
        ("empty value", vec![(b"k", Some(b""))], "k", Some("")),
        ("empty name", vec![(b"", Some(b"1"))], "", Some("1")),
    ];
    for (name, list, key, want) in cases {
        let m = msg(Some(hdrs(&list)));
        let e = HeadersExtractor::new(&m);
        assert_eq!(e.get(key), want, "{name}");
        assert_eq!(
            e.get_all(key),
            want.map(|v| vec![v]),
            "{name}: get_all agrees"
        );
    }
}

#[test]
fn keys_are_utf8_names_once_each() {
    let m = msg(Some(hdrs(&[
        (b"a", Some(b"1")),
        (b"\xc3\x28", Some(b"bad name")),
        (b"b", None),
        (b"a", Some(b"2")),
    ])));
    assert_eq!(HeadersExtractor::new(&m).keys(), ["a", "b"]);
    assert!(HeadersExtractor::new(&msg(None)).keys().is_empty());
    assert_eq!(HeadersExtractor::new(&msg(None)).get("traceparent"), None);
}

#[test]
fn a_foreign_non_utf8_name_is_read_without_panic() {
    let m = msg(Some(hdrs(&[
        (b"\xff\xff", Some(b"x")),
        (
            b"traceparent",
            Some(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ),
    ])));
    let cx = TraceContextPropagator::new().extract(&HeadersExtractor::new(&m));
    assert!(cx.span().span_context().is_valid());
}

#[test]
fn injection_replaces_only_trace_headers() {
    let sc = SpanContext::new(
        TraceId::from_bytes([7; 16]),
        SpanId::from_bytes([9; 8]),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let cx = Context::new().with_remote_span_context(sc);
    let before = hdrs(&[
        (
            b"traceparent",
            Some(b"00-11111111111111111111111111111111-2222222222222222-01"),
        ),
        (b"keep", None),
        (b"\xfe", Some(b"\x00")),
        (b"baggage", Some(b"a=b")),
    ]);
    let after = inject_context(&cx, &TraceContextPropagator::new(), Some(before));
    let m = msg(Some(after));
    let e = HeadersExtractor::new(&m);
    assert_eq!(e.keys(), ["keep", "traceparent", "tracestate"]);
    assert_eq!(
        e.get("traceparent"),
        Some("00-07070707070707070707070707070707-0909090909090909-01")
    );
    assert_eq!(e.get("baggage"), None, "stale baggage removed");

    // No earlier headers: a new list.
    let fresh = inject_context(&cx, &TraceContextPropagator::new(), None);
    let m = msg(Some(fresh));
    assert!(HeadersExtractor::new(&m).get("traceparent").is_some());

    // An invalid context writes nothing but still drops stale trace headers.
    let stale = hdrs(&[(b"traceparent", Some(b"00-1-2-01")), (b"a", Some(b"1"))]);
    let m = msg(Some(inject_context(
        &Context::new(),
        &TraceContextPropagator::new(),
        Some(stale),
    )));
    assert_eq!(HeadersExtractor::new(&m).keys(), ["a"]);
}
