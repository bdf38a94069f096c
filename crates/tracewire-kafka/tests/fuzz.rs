//! Fuzz target: arbitrary header lists through the extraction carrier and the propagators, and
//! back through injection. Run briefly by `cargo test`, longer by `cargo xtask fuzz`.

mod common;

use common::add_raw_header;
use opentelemetry::propagation::{Extractor, TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use rdkafka::Message;
use rdkafka::message::{Headers as _, OwnedHeaders, OwnedMessage, Timestamp};
use tracewire_kafka::carrier::{HeadersExtractor, inject_context};
use tracewire_testing::fuzz::Fuzz;

/// Splits the input into headers: records separated by `\n`, name and value by the first `=`;
/// a record without `=` is a header with a null value. Names and values are arbitrary bytes.
fn headers(input: &[u8]) -> OwnedHeaders {
    let mut h = OwnedHeaders::new();
    for record in input.split(|b| *b == b'\n') {
        match record.iter().position(|b| *b == b'=') {
            Some(i) => add_raw_header(&mut h, &record[..i], Some(&record[i + 1..])),
            None => add_raw_header(&mut h, record, None),
        }
    }
    h
}

/// Whether every header name [`headers`] makes of `input` is UTF-8.
fn names_are_utf8(input: &[u8]) -> bool {
    input.split(|b| *b == b'\n').all(|record| {
        let name = record.split(|b| *b == b'=').next().unwrap_or_default();
        std::str::from_utf8(name).is_ok()
    })
}

#[test]
fn fuzz_header_lists() {
    let propagator = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]);
    Fuzz::new("kafka_headers")
        .seed("traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\ntracestate=a=1\nbaggage=user.id=7")
        .seed("traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\ntraceparent=garbage")
        .seed("content-type=application/json\nnull\n\u{ff}=x")
        .seed("")
        .dict(&["traceparent=", "tracestate=", "baggage=", "\n", "=", "00-", "-01", ","])
        .run(|input| {
            let message = OwnedMessage::new(
                None,
                None,
                "t".into(),
                Timestamp::NotAvailable,
                0,
                0,
                Some(headers(input)),
            );
            let extractor = HeadersExtractor::new(&message);
            let _ = extractor.keys();
            let cx = propagator.extract(&extractor);
            // Re-inject into the same list: exactly one traceparent afterwards when there is a
            // context to send, none otherwise (stale ones are always removed).
            let rebuilt = inject_context(&cx, &propagator, message.headers().cloned());
            let valid = cx.span().span_context().is_valid();
            // rdkafka's safe accessors unwrap a header name as UTF-8: count only then.
            if names_are_utf8(input) {
                let traceparents = (0..rebuilt.count())
                    .filter(|&i| rebuilt.get(i).key == "traceparent")
                    .count();
                assert_eq!(traceparents, usize::from(valid), "{input:?}");
            }
            let again = OwnedMessage::new(None, None, "t".into(), Timestamp::NotAvailable, 0, 0, Some(rebuilt));
            let e = HeadersExtractor::new(&again);
            assert_eq!(e.get("traceparent").is_some(), valid, "{input:?}");
        });
}
