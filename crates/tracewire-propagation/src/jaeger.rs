//! The Jaeger propagator: `uber-trace-id` and `uberctx-*` baggage headers.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::Context;
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::trace::TraceContextExt;
//! use tracewire_propagation::JaegerPropagator;
//!
//! let mut incoming = HeaderMap::new();
//! incoming.insert("uber-trace-id", HeaderValue::from_static("463ac35c9f6413ad%3Aa2fb4a1d1a96d312%3A0%3A1"));
//! incoming.insert("uberctx-user", HeaderValue::from_static("alice%20smith"));
//!
//! let cx = JaegerPropagator::new().extract_from_headers(&incoming, &Context::new());
//! assert!(cx.span().span_context().is_sampled());
//! assert_eq!(cx.baggage().get("user").map(|v| v.as_str()), Some("alice smith"));
//!
//! let mut outgoing = HeaderMap::new();
//! JaegerPropagator::new().inject_into_headers(&cx, &mut outgoing);
//! assert_eq!(outgoing["uber-trace-id"], "0000000000000000463ac35c9f6413ad:a2fb4a1d1a96d312:0:01");
//! assert_eq!(outgoing["uberctx-user"], "alice%20smith");
//! ```
//!
//! # Rules
//!
//! From [Jaeger's propagation format](https://www.jaegertracing.io/docs/latest/client-libraries/#propagation-format),
//! listed by the [OpenTelemetry propagator specification](https://opentelemetry.io/docs/specs/otel/context/api-propagators/#propagators-distribution):
//!
//! - `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`, possibly URL-encoded
//!   (`%3A` for `:`), which is decoded first;
//! - the trace id is 1 to 32 hex digits, left-padded with zeros, not all zeros; the span id 1 to
//!   16, not all zeros; the deprecated parent span id 1 to 16 hex digits, ignored (sent as `0`);
//!   the flags 1 or 2 hex digits: `0x01` sampled, `0x02` debug (which sets sampled and is kept,
//!   see [`debug`]); other bits are ignored;
//! - baggage: every `uberctx-{key}` header is an entry whose value is URL-decoded (a `%` not
//!   followed by two hex digits is kept as it is; `+` is not a space, as in the other
//!   OpenTelemetry implementations). The entries are added to the baggage already in the
//!   `Context` (so `jaeger` composes with `baggage`); an entry opentelemetry's `Baggage` refuses
//!   (a key that is not a token, over 64 entries or 8192 bytes) is dropped alone;
//! - inject writes `uber-trace-id` with 32-digit trace ids and flags `00`, `01` or `03` (debug),
//!   and one `uberctx-{key}` header per baggage entry, the value URL-encoded (every byte other
//!   than `A-Z a-z 0-9 - . _ ~`);
//! - [`fields`](TextMapPropagator::fields) lists `uber-trace-id` only: the baggage header names
//!   depend on the entries.

use std::sync::OnceLock;

use http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use tracewire_core::hex;
use tracewire_core::semconv::header::UBERCTX_PREFIX;

use crate::baggage::{decode_lossy, encode_with, encoded_len_with, insert_entry, is_full_for};
use crate::carrier::{Occurs, Sink, Source, UBER_TRACE_ID};
use crate::debug;
use crate::report::{Problem, report};
use crate::traceparent::trim_ows;

/// The Jaeger propagator. See the [module docs](crate::jaeger) for the rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct JaegerPropagator {
    _private: (),
}

/// A parsed `uber-trace-id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UberTraceId {
    /// The trace id (left-padded with zeros).
    pub trace_id: TraceId,
    /// The caller's span id.
    pub span_id: SpanId,
    /// Whether the sampled flag (`0x01`) or the debug flag (`0x02`) is set.
    pub sampled: bool,
    /// Whether the debug flag (`0x02`) is set.
    pub debug: bool,
}

/// Why an `uber-trace-id` was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JaegerError {
    /// Not four `:`-separated fields, or too long.
    #[error("uber-trace-id is not four ':'-separated fields")]
    Format,
    /// The trace id is not 1 to 32 hex digits, or is zero.
    #[error("uber-trace-id trace id is not 1 to 32 hex digits, or is zero")]
    TraceId,
    /// The span id is not 1 to 16 hex digits, or is zero.
    #[error("uber-trace-id span id is not 1 to 16 hex digits, or is zero")]
    SpanId,
    /// The parent span id is not 1 to 16 hex digits.
    #[error("uber-trace-id parent span id is not 1 to 16 hex digits")]
    ParentSpanId,
    /// The flags are not 1 or 2 hex digits.
    #[error("uber-trace-id flags are not 1 or 2 hex digits")]
    Flags,
}

/// The longest `uber-trace-id` accepted once URL-decoded: 32 + 16 + 16 + 2 digits, 3 colons.
const MAX_DECODED: usize = 32 + 16 + 16 + 2 + 3;

impl UberTraceId {
    /// Parses an `uber-trace-id` value.
    ///
    /// # Errors
    ///
    /// [`JaegerError`] says what is malformed.
    pub fn parse(value: &[u8]) -> Result<Self, JaegerError> {
        let v = trim_ows(value);
        let mut buf = [0u8; MAX_DECODED];
        let v = if v.contains(&b'%') {
            let n = url_decode_into(v, &mut buf).ok_or(JaegerError::Format)?;
            &buf[..n]
        } else {
            v
        };
        let mut parts = v.split(|&b| b == b':');
        let (Some(trace), Some(span), Some(parent), Some(flags), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(JaegerError::Format);
        };
        let trace_id = hex::decode_lenient::<16>(trace)
            .map(TraceId::from_bytes)
            .filter(|t| *t != TraceId::INVALID)
            .ok_or(JaegerError::TraceId)?;
        let span_id = hex::decode_lenient::<8>(span)
            .map(SpanId::from_bytes)
            .filter(|s| *s != SpanId::INVALID)
            .ok_or(JaegerError::SpanId)?;
        hex::decode_lenient::<8>(parent).ok_or(JaegerError::ParentSpanId)?;
        let flags = hex::decode_lenient::<1>(flags).ok_or(JaegerError::Flags)?[0];
        let debug = flags & 0x02 != 0;
        Ok(Self {
            trace_id,
            span_id,
            sampled: flags & 0x01 != 0 || debug,
            debug,
        })
    }
}

/// URL-decodes `v` into `buf`; `None` when it does not fit or an escape is malformed.
fn url_decode_into(v: &[u8], buf: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    let mut i = 0;
    while i < v.len() {
        let b = if v[i] == b'%' {
            let pair = v.get(i + 1..i + 3)?;
            i += 3;
            hex::decode_any_case::<1>(pair)?[0]
        } else {
            i += 1;
            v[i - 1]
        };
        *buf.get_mut(n)? = b;
        n += 1;
    }
    Some(n)
}

fn fields() -> &'static [String; 1] {
    static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
    FIELDS.get_or_init(|| [UBER_TRACE_ID.name.to_owned()])
}

impl JaegerPropagator {
    /// A new propagator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Extracts straight from a `HeaderMap`.
    pub fn extract_from_headers(&self, headers: &HeaderMap, cx: &Context) -> Context {
        extract(headers, cx)
    }

    /// Injects straight into a `HeaderMap`.
    pub fn inject_into_headers(&self, cx: &Context, headers: &mut HeaderMap) {
        inject(cx, headers);
    }
}

impl TextMapPropagator for JaegerPropagator {
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

pub(crate) fn extract<S: Source + ?Sized>(src: &S, cx: &Context) -> Context {
    let id = match src.one(&UBER_TRACE_ID) {
        Occurs::Absent => None,
        Occurs::Repeated => {
            report(Problem::JaegerInvalid);
            None
        }
        Occurs::Once(v) => match UberTraceId::parse(v) {
            Ok(id) => Some(id),
            Err(_) => {
                report(Problem::JaegerInvalid);
                None
            }
        },
    };
    let cx = match extract_baggage(src, cx) {
        Some(with_baggage) => with_baggage,
        None => cx.clone(),
    };
    match id {
        Some(id) => debug::with_remote_parent(&cx, id.trace_id, id.span_id, id.sampled, id.debug),
        None => cx,
    }
}

/// `cx` with the `uberctx-*` entries added to its baggage, or `None` when there is none.
fn extract_baggage<S: Source + ?Sized>(src: &S, cx: &Context) -> Option<Context> {
    // The context's baggage is copied on the first entry, and entries go in as they are read.
    let mut baggage: Option<Baggage> = None;
    src.prefixed(UBERCTX_PREFIX, &mut |name, value| {
        let key = &name[UBERCTX_PREFIX.len()..];
        let value = trim_ows(value);
        if key.is_empty() || !value.iter().all(|&b| (0x20..0x7f).contains(&b)) {
            report(Problem::JaegerBaggageInvalid);
            return;
        }
        let baggage = baggage.get_or_insert_with(|| {
            cx.baggage()
                .iter()
                .map(|(k, (v, m))| (k.clone(), (v.clone(), m.clone())))
                .collect()
        });
        let key = key.to_ascii_lowercase();
        if is_full_for(baggage, &key) || !insert_entry(baggage, key, decode_lossy(value), "") {
            report(Problem::JaegerBaggageInvalid);
        }
    });
    baggage.map(|baggage| cx.with_baggage(baggage))
}

/// Every byte other than `A-Z a-z 0-9 - . _ ~` is URL-encoded in a baggage value.
fn jaeger_escape(b: u8) -> bool {
    !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub(crate) fn inject<K: Sink + ?Sized>(cx: &Context, sink: &mut K) {
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        let flags = if debug::is_set_for(cx, sc.trace_id()) {
            "03"
        } else if sc.is_sampled() {
            "01"
        } else {
            "00"
        };
        let mut v = String::with_capacity(32 + 1 + 16 + 3 + 2);
        v.push_str(&hex::trace_id(sc.trace_id()));
        v.push(':');
        v.push_str(&hex::span_id(sc.span_id()));
        v.push_str(":0:");
        v.push_str(flags);
        sink.put(&UBER_TRACE_ID, v);
    }
    for (key, (value, _)) in cx.baggage() {
        let key = key.as_str();
        let mut name = String::with_capacity(UBERCTX_PREFIX.len() + key.len());
        name.push_str(UBERCTX_PREFIX);
        name.push_str(key);
        let mut v = String::with_capacity(encoded_len_with(value.as_str(), jaeger_escape));
        encode_with(value.as_str(), &mut v, jaeger_escape);
        sink.put_dynamic(&name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::tests::headers;
    use crate::{HeaderExtractor, HeaderInjector};
    use JaegerError as E;
    use opentelemetry::KeyValue;

    const T: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const S: &str = "e457b5a2e4d86bd1";

    fn ok(trace: &str, sampled: bool, debug: bool) -> Result<UberTraceId, JaegerError> {
        Ok(UberTraceId {
            trace_id: TraceId::from_hex(&format!("{trace:0>32}")).expect("hex"),
            span_id: SpanId::from_hex(S).expect("hex"),
            sampled,
            debug,
        })
    }

    #[test]
    fn parsing_table() {
        let cases: Vec<(String, Result<UberTraceId, JaegerError>, &str)> = vec![
            (format!("{T}:{S}:0:1"), ok(T, true, false), "sampled"),
            (
                format!("{T}:{S}:0:01"),
                ok(T, true, false),
                "two-digit flags",
            ),
            (format!("{T}:{S}:0:0"), ok(T, false, false), "not sampled"),
            (
                format!("{T}:{S}:0:2"),
                ok(T, true, true),
                "debug implies sampled",
            ),
            (
                format!("{T}:{S}:0:3"),
                ok(T, true, true),
                "sampled and debug",
            ),
            (
                format!("{T}:{S}:0:ff"),
                ok(T, true, true),
                "other bits ignored",
            ),
            (
                format!("{T}:{S}:{S}:1"),
                ok(T, true, false),
                "parent span id ignored",
            ),
            (
                format!("abc:{S}:0:1"),
                ok("abc", true, false),
                "short trace id padded",
            ),
            (
                format!("{}:{S}:0:1", T.to_uppercase()),
                ok(T, true, false),
                "upper case",
            ),
            (
                format!("{T}%3A{S}%3a0%3A1"),
                ok(T, true, false),
                "URL-encoded",
            ),
            (format!(" {T}:{S}:0:1 "), ok(T, true, false), "OWS"),
            (format!("{T}:{S}:0"), Err(E::Format), "three fields"),
            (format!("{T}:{S}:0:1:x"), Err(E::Format), "five fields"),
            (format!("{T}%3:{S}:0:1"), Err(E::Format), "bad escape"),
            (
                format!("{T}%3A{S}%3A0%3A1%3A{}", "0".repeat(40)),
                Err(E::Format),
                "too long decoded",
            ),
            (format!("0:{S}:0:1"), Err(E::TraceId), "zero trace id"),
            (
                format!("{T}0:{S}:0:1"),
                Err(E::TraceId),
                "33-digit trace id",
            ),
            (format!(":{S}:0:1"), Err(E::TraceId), "empty trace id"),
            (format!("{T}:0:0:1"), Err(E::SpanId), "zero span id"),
            (format!("{T}:{S}0:0:1"), Err(E::SpanId), "17-digit span id"),
            (format!("{T}:{S}:x:1"), Err(E::ParentSpanId), "bad parent"),
            (format!("{T}:{S}:0:100"), Err(E::Flags), "three-digit flags"),
            (format!("{T}:{S}:0:"), Err(E::Flags), "empty flags"),
        ];
        for (input, want, why) in cases {
            assert_eq!(
                UberTraceId::parse(input.as_bytes()),
                want,
                "{why}: {input:?}"
            );
        }
    }

    fn baggage_of(cx: &Context) -> Vec<(String, String)> {
        let mut v: Vec<_> = cx
            .baggage()
            .iter()
            .map(|(k, (v, _))| (k.to_string(), v.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn extraction_through_both_paths() {
        let m = headers(&[
            ("uber-trace-id", &format!("{T}:{S}:0:3")),
            ("uberctx-user", "alice%20smith"),
            ("uberctx-plus", "a+b"),
            ("uberctx-stray", "100%"),
            ("uberctx-", "empty key"),
        ]);
        let base = Context::new().with_baggage([KeyValue::new("w3c", "kept")]);
        let p = JaegerPropagator::new();
        let a = p.extract_with_context(&base, &HeaderExtractor(&m));
        let b = p.extract_from_headers(&m, &base);
        for cx in [&a, &b] {
            assert!(cx.span().span_context().is_sampled());
            assert!(debug::is_requested(cx));
            assert_eq!(
                baggage_of(cx),
                [
                    ("plus".to_owned(), "a+b".to_owned()),
                    ("stray".to_owned(), "100%".to_owned()),
                    ("user".to_owned(), "alice smith".to_owned()),
                    ("w3c".to_owned(), "kept".to_owned()),
                ]
            );
        }
    }

    #[test]
    fn baggage_alone_and_invalid_ids() {
        let m = headers(&[("uber-trace-id", "garbage"), ("uberctx-k", "v")]);
        let cx = JaegerPropagator::new().extract_from_headers(&m, &Context::new());
        assert!(!cx.span().span_context().is_valid());
        assert_eq!(baggage_of(&cx), [("k".to_owned(), "v".to_owned())]);
        let id = format!("{T}:{S}:0:1");
        let m = headers(&[("uber-trace-id", &id), ("uber-trace-id", &id)]);
        let cx = JaegerPropagator::new().extract_from_headers(&m, &Context::new());
        assert!(!cx.has_active_span());
    }

    #[test]
    fn baggage_beyond_the_limits_is_dropped_entry_by_entry() {
        let names: Vec<String> = (0..70).map(|i| format!("uberctx-k{i:02}")).collect();
        let mut pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        let big = "x".repeat(9000);
        pairs.push(("uberctx-large", &big));
        let base = Context::new().with_baggage([KeyValue::new("w3c", "kept")]);
        let cx = JaegerPropagator::new().extract_from_headers(&headers(&pairs), &base);
        let b = cx.baggage();
        assert_eq!(b.len(), 64);
        assert_eq!(b.get("w3c").map(|v| v.as_str()), Some("kept"));
        assert!(b.get("large").is_none());
    }

    #[test]
    fn injection() {
        let m = headers(&[("uber-trace-id", &format!("{T}:{S}:0:0"))]);
        let cx = JaegerPropagator::new()
            .extract_from_headers(&m, &Context::new())
            .with_baggage([KeyValue::new("k", "a b+c/\u{e9}")]);
        let p = JaegerPropagator::new();
        let mut a = HeaderMap::new();
        p.inject_context(&cx, &mut HeaderInjector(&mut a));
        let mut b = HeaderMap::new();
        p.inject_into_headers(&cx, &mut b);
        assert_eq!(a, b);
        assert_eq!(a["uber-trace-id"], format!("{T}:{S}:0:00").as_str());
        assert_eq!(a["uberctx-k"], "a%20b%2Bc%2F%C3%A9");
        let back = p.extract_from_headers(&a, &Context::new());
        assert_eq!(
            back.baggage().get("k").map(|v| v.as_str()),
            Some("a b+c/\u{e9}")
        );
        assert_eq!(p.fields().collect::<Vec<_>>(), ["uber-trace-id"]);
    }
}
