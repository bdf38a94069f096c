//! Fuzz targets, one per parser of untrusted input: no panic, and the outcome is either no span
//! context (the caller's context unchanged) or a valid one that re-injects to headers that
//! extract to the same ids.
//!
//! Run briefly by `cargo test`, and for a bounded time by `cargo xtask fuzz --seconds N`.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use tracewire_propagation::b3::{self, B3Header};
use tracewire_propagation::baggage::{self, Member};
use tracewire_propagation::jaeger::UberTraceId;
use tracewire_propagation::{
    B3Encoding, B3Propagator, BaggagePropagator, Format, HeaderExtractor, HeaderInjector,
    JaegerPropagator, Propagators, TraceContextPropagator, TraceParent, TraceStateList,
};
use tracewire_testing::fuzz::Fuzz;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const HEX_DICT: &[&str] = &[
    "-",
    "00",
    "01",
    "02",
    "03",
    "ff",
    "cc",
    "0000000000000000",
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "00f067aa0ba902b7",
    " ",
    "\t",
    "A",
    "g",
];

/// A header map with `name: value` when `value` is a valid header value; `None` otherwise
/// (http refuses control characters, so such input never reaches a propagator).
fn map_with(name: &'static str, value: &[u8]) -> Option<HeaderMap> {
    let mut m = HeaderMap::new();
    m.insert(name, HeaderValue::from_bytes(value).ok()?);
    Some(m)
}

/// Extracts with `p` from `headers` through both paths; when a valid span context comes out,
/// re-injects it and checks that extracting again gives the same ids.
fn check_round_trip<P>(p: &P, headers: &HeaderMap, direct: impl Fn(&HeaderMap) -> Context)
where
    P: TextMapPropagator,
{
    let cx = p.extract_with_context(&Context::new(), &HeaderExtractor(headers));
    let via_direct = direct(headers);
    let span = cx.span();
    let sc = span.span_context();
    assert_eq!(sc, via_direct.span().span_context(), "paths disagree");
    if !sc.is_valid() {
        return;
    }
    assert!(sc.is_remote());
    let mut out = HeaderMap::new();
    p.inject_context(&cx, &mut HeaderInjector(&mut out));
    let again = p.extract_with_context(&Context::new(), &HeaderExtractor(&out));
    let again_span = again.span();
    let sc2 = again_span.span_context();
    assert!(sc2.is_valid(), "re-injected headers do not parse: {out:?}");
    assert_eq!(sc2.trace_id(), sc.trace_id());
    assert_eq!(sc2.span_id(), sc.span_id());
    assert_eq!(sc2.trace_flags(), sc.trace_flags());
    assert_eq!(sc2.trace_state(), sc.trace_state());
}

#[test]
fn fuzz_traceparent() {
    Fuzz::new("traceparent")
        .seed(TP)
        .seed("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")
        .seed("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future-stuff")
        .seed(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\t")
        .dict(HEX_DICT)
        .with_max_len(256)
        .run(|input| {
            if let Ok(tp) = TraceParent::parse(input) {
                assert_eq!(tp.flags.to_u8() & !0x03, 0);
                assert_eq!(TraceParent::parse(tp.to_header().as_bytes()), Ok(tp));
            }
            let p = TraceContextPropagator::new();
            if let Some(m) = map_with("traceparent", input) {
                check_round_trip(&p, &m, |h| p.extract_from_headers(h, &Context::new()));
            }
        });
}

#[test]
fn fuzz_tracestate() {
    Fuzz::new("tracestate")
        .seed("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        .seed("a=1, ,t@x@y=2 ,\tb= 3")
        .seed("t@abcdefghijklmn=1,k0=v,k1=v,k2=v")
        .dict(&[
            "=", ",", " ", "\t", "@", "*", "/", "_", "-", "A", "~", "k=v", "t@v=",
        ])
        .with_max_len(2048)
        .run(|input| {
            if let Ok(list) = TraceStateList::parse([input]) {
                assert!(list.len() <= 32);
                if let Some(h) = list.header() {
                    let again = TraceStateList::parse([h.as_bytes()]).expect("normalized parses");
                    assert_eq!(again.header().as_deref(), Some(h.as_str()));
                }
            }
            // Split the input over two header lines at a comma to exercise combining.
            let mut m = HeaderMap::new();
            m.insert("traceparent", HeaderValue::from_static(TP));
            let cut = input.iter().position(|&b| b == b',').unwrap_or(input.len());
            for part in [&input[..cut], input.get(cut + 1..).unwrap_or_default()] {
                if let Ok(v) = HeaderValue::from_bytes(part) {
                    m.append(HeaderName::from_static("tracestate"), v);
                }
            }
            let p = TraceContextPropagator::new();
            check_round_trip(&p, &m, |h| p.extract_from_headers(h, &Context::new()));
            // What is sent is exactly what was validated.
            let cx = p.extract_from_headers(&m, &Context::new());
            let mut out = HeaderMap::new();
            p.inject_into_headers(&cx, &mut out);
            if let Some(ts) = out.get("tracestate") {
                let list = TraceStateList::parse([ts.as_bytes()]).expect("valid tracestate sent");
                assert!(!list.is_empty() && list.len() <= 32);
            }
        });
}

#[test]
fn fuzz_baggage() {
    Fuzz::new("baggage")
        .seed("user.id=alice,session.region=eu-west-1,request.source=web%20checkout")
        .seed("k=v;p;q=1, a = b ;c=%E2%82%AC")
        .seed("x=%F0%9F%98%80,y=%ZZ,z=%2")
        .dict(&[
            "=",
            ",",
            ";",
            "%",
            "%20",
            "%E2%82%AC",
            "%FF",
            " ",
            "\t",
            "\"",
            "\\",
            "k=v",
        ])
        .with_max_len(10_000)
        .run(|input| {
            if let Ok(s) = std::str::from_utf8(input)
                && let Ok(m) = Member::parse(s)
            {
                assert!(!m.key().is_empty());
                let _ = (m.value(), m.properties());
            }
            let parsed = baggage::parse([input]);
            assert!(parsed.len() <= 64);
            // What comes out is sent within the limits and reads back the same.
            if let Some(h) = baggage::header(&parsed) {
                assert!(h.len() <= baggage::MAX_HEADER_BYTES);
                let again = baggage::parse([h.as_bytes()]);
                for (k, (v, m)) in &again {
                    let (v0, m0) = parsed.get_with_metadata(k.as_str()).expect("key kept");
                    assert_eq!(v, v0);
                    assert_eq!(m, m0);
                }
            }
            if let Some(m) = map_with("baggage", input) {
                let p = BaggagePropagator::new();
                let a = p.extract_with_context(&Context::new(), &HeaderExtractor(&m));
                let b = p.extract_from_headers(&m, &Context::new());
                // Through the `Extractor` trait a line that is not UTF-8 cannot be read at all;
                // the direct path drops only the members holding the bad bytes.
                if std::str::from_utf8(input).is_ok() {
                    assert_eq!(a.baggage().len(), b.baggage().len());
                } else {
                    assert!(a.baggage().len() <= b.baggage().len());
                }
            }
        });
}

#[test]
fn fuzz_b3_single() {
    Fuzz::new("b3 single")
        .seed("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90")
        .seed("463ac35c9f6413ad-a2fb4a1d1a96d312-d")
        .seed("0")
        .dict(&[
            "-",
            "0",
            "1",
            "d",
            "true",
            "463ac35c9f6413ad",
            "e457b5a2e4d86bd1",
        ])
        .with_max_len(256)
        .run(|input| {
            if let Ok(B3Header::Context {
                trace_id, span_id, ..
            }) = b3::parse_single(input)
            {
                assert_ne!(trace_id.to_string(), "0".repeat(32));
                assert_ne!(span_id.to_string(), "0".repeat(16));
            }
            if let Some(m) = map_with("b3", input) {
                for enc in [B3Encoding::SingleHeader, B3Encoding::MultipleHeader] {
                    let p = B3Propagator::with_encoding(enc);
                    check_round_trip(&p, &m, |h| p.extract_from_headers(h, &Context::new()));
                }
            }
        });
}

#[test]
fn fuzz_b3_multi() {
    Fuzz::new("b3 multi")
        .seed("463ac35c9f6413ad\na2fb4a1d1a96d312\n1\n")
        .seed("80f198ee56343ba864fe8b2a57d3eff7\ne457b5a2e4d86bd1\n0\n1")
        .seed("\n\n0\n")
        .dict(&["\n", "0", "1", "true", "false", "463ac35c9f6413ad"])
        .with_max_len(256)
        .run(|input| {
            // Lines: trace id, span id, sampled, flags (an empty line: header absent).
            let mut parts = input.split(|&b| b == b'\n');
            let mut m = HeaderMap::new();
            for name in ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"] {
                if let Some(v) = parts.next().filter(|v| !v.is_empty())
                    && let Ok(v) = HeaderValue::from_bytes(v)
                {
                    m.insert(name, v);
                }
            }
            for enc in [B3Encoding::SingleHeader, B3Encoding::MultipleHeader] {
                let p = B3Propagator::with_encoding(enc);
                check_round_trip(&p, &m, |h| p.extract_from_headers(h, &Context::new()));
            }
        });
}

#[test]
fn fuzz_jaeger() {
    Fuzz::new("jaeger")
        .seed("80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:1")
        .seed("463ac35c9f6413ad%3Aa2fb4a1d1a96d312%3A0%3A3")
        .seed("abc:1:0:0")
        .dict(&[":", "%3A", "%3a", "0", "1", "3", "ff", "%"])
        .with_max_len(256)
        .run(|input| {
            if let Ok(id) = UberTraceId::parse(input) {
                assert!(!id.debug || id.sampled);
            }
            if let Some(m) = map_with("uber-trace-id", input) {
                let p = JaegerPropagator::new();
                check_round_trip(&p, &m, |h| p.extract_from_headers(h, &Context::new()));
            }
            if let Some(m) = map_with("uberctx-k", input) {
                let cx = JaegerPropagator::new().extract_from_headers(&m, &Context::new());
                let mut out = HeaderMap::new();
                JaegerPropagator::new().inject_into_headers(&cx, &mut out);
                let back = JaegerPropagator::new().extract_from_headers(&out, &Context::new());
                assert_eq!(back.baggage().get("k"), cx.baggage().get("k"));
            }
        });
}

#[test]
fn fuzz_composite_header_map() {
    Fuzz::new("composite")
        .seed(format!("traceparent\n{TP}\ntracestate\na=1\nbaggage\nk=v"))
        .seed("b3\n463ac35c9f6413ad-a2fb4a1d1a96d312-1\nuber-trace-id\n1:2:0:1\nuberctx-u\nx%20y")
        .seed(format!("traceparent\n{TP}\ntraceparent\n{TP}"))
        .dict(&[
            "\n",
            "traceparent\n",
            "tracestate\n",
            "baggage\n",
            "b3\n",
            "x-b3-traceid\n",
            "x-b3-spanid\n",
            "x-b3-sampled\n",
            "x-b3-flags\n",
            "uber-trace-id\n",
            "uberctx-",
            TP,
            "=",
            ",",
            ":",
            "-",
        ])
        .with_max_len(4096)
        .run(|input| {
            // Alternating name and value lines; invalid names or values are skipped, as an
            // HTTP server would refuse them.
            let mut m = HeaderMap::new();
            let mut lines = input.split(|&b| b == b'\n');
            while let (Some(name), Some(value)) = (lines.next(), lines.next()) {
                if let (Ok(n), Ok(v)) =
                    (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
                {
                    m.append(n, v);
                }
            }
            let all = Propagators::new(Format::ALL);
            let a = all.extract_with_context(&Context::new(), &HeaderExtractor(&m));
            let b = all.extract_from_headers(&m, &Context::new());
            assert_eq!(a.span().span_context(), b.span().span_context());
            if std::str::from_utf8(input).is_ok() {
                assert_eq!(a.baggage().len(), b.baggage().len());
            }
            let mut out = HeaderMap::new();
            all.inject_context(&a, &mut HeaderInjector(&mut out));
            let again = all.extract_from_headers(&out, &Context::new());
            let (sc, sc2) = (a.span(), again.span());
            if sc.span_context().is_valid() {
                assert_eq!(sc2.span_context().trace_id(), sc.span_context().trace_id());
                assert_eq!(sc2.span_context().span_id(), sc.span_context().span_id());
            } else {
                assert!(!sc2.span_context().is_valid());
            }
        });
}
