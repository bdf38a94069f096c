//! Carriers between OpenTelemetry propagators and Kafka message headers.
//!
//! # Example
//!
//! ```
//! use opentelemetry::propagation::{Extractor, TextMapPropagator};
//! use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
//! use opentelemetry::Context;
//! use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};
//! use tracewire_kafka::carrier::{inject_context, HeadersExtractor};
//! use opentelemetry_sdk::propagation::TraceContextPropagator;
//!
//! // A retried message: it carries an old traceparent and a header of the application.
//! let old = OwnedHeaders::new()
//!     .insert(Header { key: "traceparent", value: Some("00-11111111111111111111111111111111-2222222222222222-01") })
//!     .insert(Header { key: "content-type", value: Some("application/json") });
//!
//! let sc = SpanContext::new(
//!     TraceId::from_bytes([0x4b; 16]), SpanId::from_bytes([0x0f; 8]),
//!     TraceFlags::SAMPLED, false, TraceState::NONE,
//! );
//! let cx = Context::new().with_remote_span_context(sc);
//! let headers = inject_context(&cx, &TraceContextPropagator::new(), Some(old));
//!
//! let message = OwnedMessage::new(None, None, "orders".into(), Timestamp::NotAvailable, 0, 0, Some(headers));
//! let extractor = HeadersExtractor::new(&message);
//! assert_eq!(extractor.get("content-type"), Some("application/json"));
//! assert_eq!(
//!     extractor.get("traceparent"),
//!     Some("00-4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b-0f0f0f0f0f0f0f0f-01"),
//! );
//! // The old traceparent is gone, the application's header kept; the SDK's propagator also
//! // writes an (empty) tracestate.
//! assert_eq!(extractor.keys(), ["content-type", "traceparent", "tracestate"]);
//! ```
//!
//! # Reading headers ([`HeadersExtractor`])
//!
//! Kafka header names are case-sensitive byte strings, and a header may repeat. The extractor
//! follows the Kafka clients (Java's `Headers::lastHeader`):
//!
//! - names match exactly (no case folding);
//! - when a name repeats, the **last** value wins;
//! - a value that is null or not UTF-8 counts as absent (the last *readable* value wins);
//! - a name that is not UTF-8 is never a propagation field, so it is skipped. rdkafka's own
//!   `Headers` accessors panic on such a name (they unwrap the conversion); this carrier reads
//!   the raw bytes through librdkafka instead and never panics, whatever the producer sent.
//!
//! # Writing headers ([`inject_context`], [`HeadersInjector`])
//!
//! rdkafka's headers can only be appended to. [`inject_context`] first drops every earlier trace
//! header (`traceparent`, `tracestate`, `baggage` and every field the propagator declares), then
//! appends what the propagator writes, so a retried or forwarded message carries exactly one
//! trace context. When the message has no earlier trace header its headers are appended to in
//! place; otherwise they are rebuilt with every other header kept byte for byte and in order,
//! null values and non-UTF-8 names included. (One exception: librdkafka hands out header names
//! only up to their first NUL byte, so a name with a NUL inside is rebuilt up to it.)

use std::any::Any;
use std::collections::HashSet;
use std::sync::Arc;

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt as _};
use opentelemetry::{Context, global};
use rdkafka::Message;
use rdkafka::message::{BorrowedHeaders, Header, OwnedHeaders};
use tracewire_core::semconv::header;
use tracewire_propagation::{BaggagePropagator, Format, Propagators, TraceContextPropagator};

use crate::ffi;

/// Trace headers that are always replaced on injection, whatever the propagator declares.
const TRACE_HEADERS: [&str; 3] = [header::TRACEPARENT, header::TRACESTATE, header::BAGGAGE];

mod sealed {
    pub trait Sealed {}
    impl Sealed for rdkafka::message::BorrowedHeaders {}
    impl Sealed for rdkafka::message::OwnedHeaders {}
}

/// rdkafka's two header types, [`BorrowedHeaders`] (of consumed messages) and [`OwnedHeaders`]
/// (of [`OwnedMessage`](rdkafka::message::OwnedMessage)s and records), seen as the native list
/// the carrier reads byte by byte. Sealed.
pub trait KafkaHeaders: sealed::Sealed {
    /// The headers as a borrowed native list.
    fn as_native(&self) -> &BorrowedHeaders;
}

impl KafkaHeaders for BorrowedHeaders {
    fn as_native(&self) -> &BorrowedHeaders {
        self
    }
}

impl KafkaHeaders for OwnedHeaders {
    fn as_native(&self) -> &BorrowedHeaders {
        self.as_borrowed()
    }
}

/// Reads propagation fields from the headers of a Kafka message (see the module docs for the
/// rules). Works on [`BorrowedMessage`](rdkafka::message::BorrowedMessage) and
/// [`OwnedMessage`](rdkafka::message::OwnedMessage).
#[derive(Clone, Copy)]
pub struct HeadersExtractor<'a> {
    headers: Option<&'a BorrowedHeaders>,
}

impl std::fmt::Debug for HeadersExtractor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadersExtractor")
            .field("count", &self.headers.map_or(0, ffi::count))
            .finish()
    }
}

impl<'a> HeadersExtractor<'a> {
    /// An extractor over the headers of `message` (none: every field is absent).
    pub fn new<M>(message: &'a M) -> Self
    where
        M: Message,
        M::Headers: KafkaHeaders,
    {
        Self {
            headers: message.headers().map(KafkaHeaders::as_native),
        }
    }

    /// An extractor over a header list.
    pub fn from_headers<H: KafkaHeaders>(headers: &'a H) -> Self {
        Self {
            headers: Some(headers.as_native()),
        }
    }

    fn raw(&self) -> impl Iterator<Item = ffi::RawHeader<'a>> + 'a {
        let headers = self.headers;
        let count = headers.map_or(0, ffi::count);
        (0..count).filter_map(move |i| headers.and_then(|h| ffi::header(h, i)))
    }
}

impl Extractor for HeadersExtractor<'_> {
    /// The last readable value of the header named exactly `key`.
    fn get(&self, key: &str) -> Option<&str> {
        let mut found = None;
        for h in self.raw() {
            if h.name == key.as_bytes()
                && let Some(v) = h.value.and_then(|v| std::str::from_utf8(v).ok())
            {
                found = Some(v);
            }
        }
        found
    }

    /// Every UTF-8 header name, once each, in order of first appearance.
    fn keys(&self) -> Vec<&str> {
        // A foreign producer may send many thousands of headers: finding repeats through a set
        // keeps this linear in their number.
        let mut seen: HashSet<&[u8]> = HashSet::new();
        let mut keys: Vec<&str> = Vec::new();
        for h in self.raw() {
            if let Ok(name) = std::str::from_utf8(h.name)
                && seen.insert(h.name)
            {
                keys.push(name);
            }
        }
        keys
    }

    /// The value [`get`](Extractor::get) returns, alone: with Kafka's last-value-wins rule a
    /// repeated header has one value, so propagators that combine repeated headers see the same
    /// value as those that call `get`.
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        self.get(key).map(|v| vec![v])
    }
}

/// Writes propagation fields into message headers by appending (use [`inject_context`] to also
/// replace earlier trace headers).
#[derive(Debug, Default)]
pub struct HeadersInjector {
    headers: Option<OwnedHeaders>,
}

impl HeadersInjector {
    /// An injector appending to `headers` (or to a new list).
    pub fn new(headers: Option<OwnedHeaders>) -> Self {
        Self { headers }
    }

    /// The headers written so far (`None` if there were none and nothing was written).
    pub fn into_headers(self) -> Option<OwnedHeaders> {
        self.headers
    }
}

impl Injector for HeadersInjector {
    fn set(&mut self, key: &str, value: String) {
        let headers = self
            .headers
            .take()
            .unwrap_or_else(|| OwnedHeaders::new_with_capacity(3));
        self.headers = Some(headers.insert(Header {
            key,
            value: Some(value.as_str()),
        }));
    }
}

/// Whether `name` is a trace header: one of the fixed set or a field `propagator` declares.
fn is_trace_header(name: &[u8], propagator: &dyn TextMapPropagator) -> bool {
    TRACE_HEADERS.iter().any(|f| f.as_bytes() == name)
        || propagator.fields().any(|f| f.as_bytes() == name)
}

/// `headers` without its trace headers, every other header kept byte for byte and in order;
/// the same list when it has no trace header.
fn without_trace_headers(
    headers: OwnedHeaders,
    propagator: &dyn TextMapPropagator,
) -> OwnedHeaders {
    let native = headers.as_borrowed();
    let count = ffi::count(native);
    let has_trace_header = (0..count)
        .any(|i| ffi::header(native, i).is_some_and(|h| is_trace_header(h.name, propagator)));
    if !has_trace_header {
        return headers;
    }
    let mut rebuilt = OwnedHeaders::new_with_capacity(count + 2);
    for i in 0..count {
        if let Some(h) = ffi::header(native, i)
            && !is_trace_header(h.name, propagator)
        {
            ffi::add(&mut rebuilt, h.name, h.value);
        }
    }
    rebuilt
}

/// Injects `cx` with `propagator` into `headers` (or a new list), replacing every earlier trace
/// header, and returns the headers to put on the record.
///
/// Earlier trace headers are `traceparent`, `tracestate`, `baggage` and every field
/// `propagator` declares; every other header is kept byte for byte, in order, null values and
/// non-UTF-8 names included.
pub fn inject_context(
    cx: &Context,
    propagator: &dyn TextMapPropagator,
    headers: Option<OwnedHeaders>,
) -> OwnedHeaders {
    let headers = headers.map(|h| without_trace_headers(h, propagator));
    let mut injector = HeadersInjector::new(headers);
    propagator.inject_context(cx, &mut injector);
    injector.into_headers().unwrap_or_default()
}

/// Which propagator the instrumentation uses.
#[derive(Clone, Default)]
pub(crate) enum Propagation {
    /// The globally installed one, read at every message.
    #[default]
    Global,
    /// One given to the builder.
    Custom(Arc<dyn TextMapPropagator + Send + Sync>),
    /// tracewire-propagation's W3C propagator given to the builder, alone or first in its
    /// `tracecontext,baggage` composite (`composite`): injected straight into the headers,
    /// without a context holding the span or a `String` per value (ADR 0034).
    TraceContext {
        w3c: TraceContextPropagator,
        composite: Option<Arc<Propagators>>,
    },
}

impl std::fmt::Debug for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Global => f.write_str("Global"),
            Self::Custom(_) => f.write_str("Custom"),
            Self::TraceContext { composite, .. } => match composite {
                None => f.write_str("TraceContext"),
                Some(_) => f.write_str("TraceContext+Baggage"),
            },
        }
    }
}

impl Propagation {
    /// The propagation for a propagator given to a builder.
    pub(crate) fn of<P>(propagator: P) -> Self
    where
        P: TextMapPropagator + Send + Sync + 'static,
    {
        let any = &propagator as &dyn Any;
        if let Some(w3c) = any.downcast_ref::<TraceContextPropagator>() {
            return Self::TraceContext {
                w3c: *w3c,
                composite: None,
            };
        }
        if let Some(composite) = any.downcast_ref::<Propagators>() {
            match composite.formats() {
                [Format::TraceContext] => {
                    return Self::TraceContext {
                        w3c: TraceContextPropagator::new(),
                        composite: None,
                    };
                }
                [Format::TraceContext, Format::Baggage] => {
                    return Self::TraceContext {
                        w3c: TraceContextPropagator::new(),
                        composite: Some(Arc::new(composite.clone())),
                    };
                }
                _ => {}
            }
        }
        Self::Custom(Arc::new(propagator))
    }

    /// Runs `f` with the propagator.
    pub(crate) fn with<R>(&self, mut f: impl FnMut(&dyn TextMapPropagator) -> R) -> R {
        match self {
            Self::Global => global::get_text_map_propagator(f),
            Self::Custom(p) => f(p.as_ref()),
            Self::TraceContext {
                composite: Some(p), ..
            } => f(p.as_ref()),
            Self::TraceContext { w3c, .. } => f(w3c),
        }
    }

    /// Injects the context of a new span, `sc`, whose parent context is `parent`, into
    /// `headers` like [`inject_context`] does with a context holding the span; returns the
    /// headers to put on the record (`None` only when there were none and nothing was written).
    pub(crate) fn inject_span(
        &self,
        parent: &Context,
        sc: &SpanContext,
        headers: Option<OwnedHeaders>,
    ) -> Option<OwnedHeaders> {
        let Self::TraceContext { w3c, composite } = self else {
            let cx = parent.with_remote_span_context(sc.clone());
            let mut headers = headers;
            return Some(self.with(|p| inject_context(&cx, p, headers.take())));
        };
        // `TRACE_HEADERS` and the W3C fields cover every field of the composite too.
        let mut headers = headers.map(|h| without_trace_headers(h, w3c));
        if let Some((traceparent, tracestate)) = w3c.header_values(parent, sc) {
            let h = headers.get_or_insert_with(|| {
                OwnedHeaders::new_with_capacity(1 + usize::from(tracestate.is_some()))
            });
            ffi::add(h, header::TRACEPARENT.as_bytes(), Some(&traceparent));
            if let Some(tracestate) = tracestate {
                ffi::add(
                    h,
                    header::TRACESTATE.as_bytes(),
                    Some(tracestate.as_bytes()),
                );
            }
        }
        // Baggage is the parent's (a new span adds none): written only when there is some.
        if composite.is_some() && !parent.baggage().is_empty() {
            let mut injector = HeadersInjector::new(headers);
            BaggagePropagator::new().inject_context(parent, &mut injector);
            headers = injector.into_headers();
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_list(headers: &OwnedHeaders) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let native = headers.as_borrowed();
        (0..ffi::count(native))
            .filter_map(|i| ffi::header(native, i))
            .map(|h| (h.name.to_vec(), h.value.map(<[u8]>::to_vec)))
            .collect()
    }

    #[test]
    fn a_rebuild_keeps_every_other_header_byte_for_byte_and_in_order() {
        let mut before = OwnedHeaders::new();
        let list: [(&[u8], Option<&[u8]>); 7] = [
            (
                b"traceparent",
                Some(b"00-11111111111111111111111111111111-2222222222222222-01"),
            ),
            (b"\xfe\xff", Some(b"\x00\x01\xff")),
            (b"null", None),
            (b"baggage", Some(b"a=b")),
            (b"empty", Some(b"")),
            (b"tracestate", Some(b"k=v")),
            (b"\xfe\xff", Some(b"again")),
        ];
        for (name, value) in list {
            ffi::add(&mut before, name, value);
        }
        let after = without_trace_headers(before, &TraceContextPropagator::new());
        let want: Vec<(Vec<u8>, Option<Vec<u8>>)> = [
            (&b"\xfe\xff"[..], Some(&b"\x00\x01\xff"[..])),
            (b"null", None),
            (b"empty", Some(b"")),
            (b"\xfe\xff", Some(b"again")),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_vec(), v.map(<[u8]>::to_vec)))
        .collect();
        assert_eq!(raw_list(&after), want);
    }

    #[test]
    fn keys_of_a_long_list_are_each_name_once() {
        let mut headers = OwnedHeaders::new();
        for i in 0..5_000 {
            let name = format!("h{}", i % 2_500);
            ffi::add(&mut headers, name.as_bytes(), Some(b"v"));
        }
        ffi::add(&mut headers, b"\xff", Some(b"v"));
        let extractor = HeadersExtractor::from_headers(&headers);
        let keys = extractor.keys();
        assert_eq!(keys.len(), 2_500);
        assert_eq!((keys[0], keys[2_499]), ("h0", "h2499"));
    }
}
