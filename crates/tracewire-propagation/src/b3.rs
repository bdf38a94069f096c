//! The B3 propagator, single header (`b3`) and multiple headers (`x-b3-*`), as the
//! OpenTelemetry propagator specification defines it.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::Context;
//! use opentelemetry::trace::TraceContextExt;
//! use tracewire_propagation::{B3Encoding, B3Propagator};
//!
//! let mut incoming = HeaderMap::new();
//! incoming.insert("x-b3-traceid", HeaderValue::from_static("463ac35c9f6413ad"));
//! incoming.insert("x-b3-spanid", HeaderValue::from_static("a2fb4a1d1a96d312"));
//! incoming.insert("x-b3-sampled", HeaderValue::from_static("1"));
//!
//! // Both encodings are extracted (single first); injection uses the configured one.
//! let cx = B3Propagator::new().extract_from_headers(&incoming, &Context::new());
//! assert_eq!(cx.span().span_context().trace_id().to_string(), "0000000000000000463ac35c9f6413ad");
//!
//! let mut outgoing = HeaderMap::new();
//! B3Propagator::new().inject_into_headers(&cx, &mut outgoing);
//! assert_eq!(outgoing["b3"], "0000000000000000463ac35c9f6413ad-a2fb4a1d1a96d312-1");
//!
//! let mut outgoing = HeaderMap::new();
//! B3Propagator::with_encoding(B3Encoding::MultipleHeader).inject_into_headers(&cx, &mut outgoing);
//! assert_eq!(outgoing["x-b3-sampled"], "1");
//! ```
//!
//! # Rules
//!
//! From the [OpenTelemetry propagator specification](https://opentelemetry.io/docs/specs/otel/context/api-propagators/#b3-requirements)
//! and [B3](https://github.com/openzipkin/b3-propagation):
//!
//! - extract tries the single header first, then the multiple headers;
//! - a trace id is 16 or 32 hex digits (a 64-bit id is left-padded with zeros), a span id 16,
//!   neither all zeros; upper-case digits are accepted; a parent span id is checked and ignored;
//! - sampling state `1` (or `true` in `x-b3-sampled`) sets the sampled flag; `0` (`false`) and a
//!   missing state (defer) leave it unset, as other OpenTelemetry implementations do;
//! - debug (`d`, or `x-b3-flags: 1`) sets the sampled flag and is kept (see
//!   [`debug`]) and sent on: `d` in the single header, `x-b3-flags: 1` in the
//!   multiple headers;
//! - a sampling state alone (`b3: 0`, or `x-b3-sampled: 0` without ids) carries no ids to
//!   continue, so no parent is extracted; a deny is kept in the `Context`
//!   ([`sampling_denied`]) and sent on as `b3: 0` / `x-b3-sampled: 0` while no span is valid;
//! - inject writes the single header by default, or the multiple headers, never
//!   `x-b3-parentspanid`;
//! - a header that occurs more than once is invalid.

use std::sync::OnceLock;

use http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use tracewire_core::hex;

use crate::carrier::{
    B3, Field, Occurs, Sink, Source, X_B3_FLAGS, X_B3_PARENT_SPAN_ID, X_B3_SAMPLED, X_B3_SPAN_ID,
    X_B3_TRACE_ID,
};
use crate::debug;
use crate::report::{Problem, report};
use crate::traceparent::trim_ows;

/// Which B3 encoding is injected (both are always extracted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum B3Encoding {
    /// The single `b3` header (`b3` in `OTEL_PROPAGATORS`).
    #[default]
    SingleHeader,
    /// The `x-b3-*` headers (`b3multi` in `OTEL_PROPAGATORS`).
    MultipleHeader,
}

/// The B3 propagator. See the [module docs](crate::b3) for the rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct B3Propagator {
    encoding: B3Encoding,
}

/// A B3 sampling state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum B3Sampling {
    /// `1`: sampled.
    Accept,
    /// `0`: not sampled.
    Deny,
    /// `d`: debug, which implies sampled.
    Debug,
    /// No sampling state: the receiver decides.
    Defer,
}

/// What a B3 header carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum B3Header {
    /// Ids and a sampling state.
    Context {
        /// The trace id (a 64-bit id left-padded with zeros).
        trace_id: TraceId,
        /// The caller's span id.
        span_id: SpanId,
        /// The sampling state.
        sampling: B3Sampling,
    },
    /// A sampling state without ids.
    SamplingOnly(B3Sampling),
}

/// Why a B3 header was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum B3Error {
    /// The trace id is not 16 or 32 hex digits, or is all zeros.
    #[error("B3 trace id is not 16 or 32 hex digits, or is all zeros")]
    TraceId,
    /// The span id is not 16 hex digits, or is all zeros.
    #[error("B3 span id is not 16 hex digits, or is all zeros")]
    SpanId,
    /// The parent span id is not 16 hex digits.
    #[error("B3 parent span id is not 16 hex digits")]
    ParentSpanId,
    /// The sampling state is not one B3 defines.
    #[error("B3 sampling state is not 0, 1 or d (or true/false in X-B3-Sampled)")]
    Sampling,
    /// The fields do not add up to a B3 header (a trace id alone, too many fields, a repeated
    /// header).
    #[error("B3 header has the wrong number of fields, or a header is repeated")]
    Format,
}

fn single_fields() -> &'static [String; 1] {
    static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
    FIELDS.get_or_init(|| [B3.name.to_owned()])
}

fn multi_fields() -> &'static [String; 4] {
    static FIELDS: OnceLock<[String; 4]> = OnceLock::new();
    FIELDS.get_or_init(|| {
        [
            X_B3_TRACE_ID.name.to_owned(),
            X_B3_SPAN_ID.name.to_owned(),
            X_B3_SAMPLED.name.to_owned(),
            X_B3_FLAGS.name.to_owned(),
        ]
    })
}

/// Kept in the `Context` when a B3 header said "deny" without ids.
#[derive(Clone, Copy, Debug)]
struct Denied;

/// Whether a B3 header said "do not sample" without ids to continue (`b3: 0`, or
/// `x-b3-sampled: 0` alone). A sampler may honour it for the new root trace; tracewire's B3
/// injection sends it on while there is no valid span.
pub fn sampling_denied(cx: &Context) -> bool {
    cx.get::<Denied>().is_some()
}

impl B3Propagator {
    /// A propagator injecting the single `b3` header.
    pub fn new() -> Self {
        Self::default()
    }

    /// A propagator injecting the given encoding.
    pub fn with_encoding(encoding: B3Encoding) -> Self {
        Self { encoding }
    }

    /// The encoding this propagator injects.
    pub fn encoding(&self) -> B3Encoding {
        self.encoding
    }

    /// Extracts straight from a `HeaderMap`.
    pub fn extract_from_headers(&self, headers: &HeaderMap, cx: &Context) -> Context {
        extract(headers, cx)
    }

    /// Injects straight into a `HeaderMap`.
    pub fn inject_into_headers(&self, cx: &Context, headers: &mut HeaderMap) {
        inject(self.encoding, cx, headers);
    }
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, mut injector: &mut dyn Injector) {
        inject(self.encoding, cx, &mut injector);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        extract(&extractor, cx)
    }

    fn fields(&self) -> FieldIter<'_> {
        match self.encoding {
            B3Encoding::SingleHeader => FieldIter::new(single_fields()),
            B3Encoding::MultipleHeader => FieldIter::new(multi_fields()),
        }
    }
}

/// Parses a single `b3` header value.
///
/// # Errors
///
/// [`B3Error`] says what is malformed.
///
/// # Example
///
/// ```
/// use tracewire_propagation::b3::{parse_single, B3Header, B3Sampling};
///
/// assert_eq!(parse_single(b"0"), Ok(B3Header::SamplingOnly(B3Sampling::Deny)));
/// assert!(parse_single(b"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90").is_ok());
/// ```
pub fn parse_single(value: &[u8]) -> Result<B3Header, B3Error> {
    let v = trim_ows(value);
    if v.len() == 1 {
        return match v[0] {
            b'0' => Ok(B3Header::SamplingOnly(B3Sampling::Deny)),
            b'1' => Ok(B3Header::SamplingOnly(B3Sampling::Accept)),
            b'd' => Ok(B3Header::SamplingOnly(B3Sampling::Debug)),
            _ => Err(B3Error::Sampling),
        };
    }
    let mut parts = v.split(|&b| b == b'-');
    let (Some(trace), Some(span)) = (parts.next(), parts.next()) else {
        return Err(B3Error::Format);
    };
    let trace_id = parse_trace_id(trace)?;
    let span_id = parse_span_id(span)?;
    let sampling = match parts.next() {
        None => B3Sampling::Defer,
        Some(b"0") => B3Sampling::Deny,
        Some(b"1") => B3Sampling::Accept,
        Some(b"d") => B3Sampling::Debug,
        Some(_) => return Err(B3Error::Sampling),
    };
    if let Some(parent) = parts.next() {
        check_parent_span_id(parent)?;
    }
    if parts.next().is_some() {
        return Err(B3Error::Format);
    }
    Ok(B3Header::Context {
        trace_id,
        span_id,
        sampling,
    })
}

/// Parses the multiple-header encoding from its values (`None` for an absent header).
///
/// # Errors
///
/// [`B3Error`] says what is malformed; absent ids with no sampling state are
/// [`B3Error::Format`].
pub fn parse_multi(
    trace_id: Option<&[u8]>,
    span_id: Option<&[u8]>,
    sampled: Option<&[u8]>,
    flags: Option<&[u8]>,
) -> Result<B3Header, B3Error> {
    let debug = flags.map(trim_ows) == Some(b"1".as_slice());
    let sampling = match sampled.map(trim_ows) {
        _ if debug => B3Sampling::Debug,
        None => B3Sampling::Defer,
        Some(b"1") => B3Sampling::Accept,
        Some(b"0") => B3Sampling::Deny,
        Some(s) if s.eq_ignore_ascii_case(b"true") => B3Sampling::Accept,
        Some(s) if s.eq_ignore_ascii_case(b"false") => B3Sampling::Deny,
        Some(_) => return Err(B3Error::Sampling),
    };
    match (trace_id, span_id) {
        (None, None) if sampling != B3Sampling::Defer => Ok(B3Header::SamplingOnly(sampling)),
        (Some(t), Some(s)) => Ok(B3Header::Context {
            trace_id: parse_trace_id(trim_ows(t))?,
            span_id: parse_span_id(trim_ows(s))?,
            sampling,
        }),
        _ => Err(B3Error::Format),
    }
}

fn parse_trace_id(digits: &[u8]) -> Result<TraceId, B3Error> {
    let bytes = match digits.len() {
        16 | 32 => hex::decode_lenient::<16>(digits),
        _ => None,
    };
    let id = TraceId::from_bytes(bytes.ok_or(B3Error::TraceId)?);
    (id != TraceId::INVALID)
        .then_some(id)
        .ok_or(B3Error::TraceId)
}

fn parse_span_id(digits: &[u8]) -> Result<SpanId, B3Error> {
    hex::decode_any_case::<8>(digits)
        .map(SpanId::from_bytes)
        .filter(|id| *id != SpanId::INVALID)
        .ok_or(B3Error::SpanId)
}

/// A parent span id must be 16 hex digits; its value is not used (OpenTelemetry never sends
/// `x-b3-parentspanid`).
fn check_parent_span_id(digits: &[u8]) -> Result<(), B3Error> {
    hex::decode_any_case::<8>(digits)
        .map(drop)
        .ok_or(B3Error::ParentSpanId)
}

/// The value of a header that must occur at most once: `Err` when repeated.
fn at_most_one<'a, S: Source + ?Sized>(
    src: &'a S,
    field: &Field,
) -> Result<Option<&'a [u8]>, B3Error> {
    match src.one(field) {
        Occurs::Absent => Ok(None),
        Occurs::Once(v) => Ok(Some(v)),
        Occurs::Repeated => Err(B3Error::Format),
    }
}

fn extract_multi<S: Source + ?Sized>(src: &S) -> Result<Option<B3Header>, B3Error> {
    let trace_id = at_most_one(src, &X_B3_TRACE_ID)?;
    let span_id = at_most_one(src, &X_B3_SPAN_ID)?;
    let sampled = at_most_one(src, &X_B3_SAMPLED)?;
    let flags = at_most_one(src, &X_B3_FLAGS)?;
    if trace_id.is_none() && span_id.is_none() && sampled.is_none() && flags.is_none() {
        return Ok(None);
    }
    if let Some(parent) = at_most_one(src, &X_B3_PARENT_SPAN_ID)? {
        check_parent_span_id(trim_ows(parent))?;
    }
    parse_multi(trace_id, span_id, sampled, flags).map(Some)
}

pub(crate) fn extract<S: Source + ?Sized>(src: &S, cx: &Context) -> Context {
    let mut deny = false;
    let single = match src.one(&B3) {
        Occurs::Absent => None,
        Occurs::Once(v) => Some(parse_single(v)),
        Occurs::Repeated => Some(Err(B3Error::Format)),
    };
    // The single header takes precedence; when it is invalid, the multiple headers are tried.
    let single_ok = match single {
        Some(Ok(header)) => Some(header),
        Some(Err(_)) => {
            report(Problem::B3Invalid);
            None
        }
        None => None,
    };
    let header = match single_ok {
        Some(B3Header::Context { .. }) => single_ok,
        other => {
            if other == Some(B3Header::SamplingOnly(B3Sampling::Deny)) {
                deny = true;
            }
            match extract_multi(src) {
                Ok(Some(h)) => Some(h),
                Ok(None) => None,
                Err(_) => {
                    report(Problem::B3Invalid);
                    None
                }
            }
        }
    };
    match header {
        Some(B3Header::Context {
            trace_id,
            span_id,
            sampling,
        }) => {
            let sampled = matches!(sampling, B3Sampling::Accept | B3Sampling::Debug);
            let debug = sampling == B3Sampling::Debug;
            debug::with_remote_parent(cx, trace_id, span_id, sampled, debug)
        }
        Some(B3Header::SamplingOnly(B3Sampling::Deny)) => cx.with_value(Denied),
        _ if deny => cx.with_value(Denied),
        _ => cx.clone(),
    }
}

pub(crate) fn inject<K: Sink + ?Sized>(encoding: B3Encoding, cx: &Context, sink: &mut K) {
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        if sampling_denied(cx) {
            match encoding {
                B3Encoding::SingleHeader => sink.put(&B3, String::from("0")),
                B3Encoding::MultipleHeader => sink.put(&X_B3_SAMPLED, String::from("0")),
            }
        }
        return;
    }
    let debug = debug::is_set_for(cx, sc.trace_id());
    let trace_id = hex::trace_id(sc.trace_id());
    let span_id = hex::span_id(sc.span_id());
    match encoding {
        B3Encoding::SingleHeader => {
            let state = if debug {
                'd'
            } else if sc.is_sampled() {
                '1'
            } else {
                '0'
            };
            let mut v = String::with_capacity(32 + 1 + 16 + 2);
            v.push_str(&trace_id);
            v.push('-');
            v.push_str(&span_id);
            v.push('-');
            v.push(state);
            sink.put(&B3, v);
        }
        B3Encoding::MultipleHeader => {
            sink.put(&X_B3_TRACE_ID, String::from(trace_id.as_str()));
            sink.put(&X_B3_SPAN_ID, String::from(span_id.as_str()));
            if debug {
                // Debug implies an accept decision, so X-B3-Sampled is not sent with it.
                sink.put(&X_B3_FLAGS, String::from("1"));
            } else {
                let sampled = if sc.is_sampled() { "1" } else { "0" };
                sink.put(&X_B3_SAMPLED, String::from(sampled));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderExtractor;
    use crate::HeaderInjector;
    use crate::carrier::tests::headers;
    use B3Error as E;
    use B3Sampling as S;

    const T32: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const T16: &str = "463ac35c9f6413ad";
    const SP: &str = "e457b5a2e4d86bd1";
    const PARENT: &str = "05e3ac9a4f6e3b90";

    fn ctx(trace: &str, sampling: B3Sampling) -> Result<B3Header, B3Error> {
        let padded = format!("{trace:0>32}");
        Ok(B3Header::Context {
            trace_id: TraceId::from_hex(&padded).expect("hex"),
            span_id: SpanId::from_hex(SP).expect("hex"),
            sampling,
        })
    }

    #[test]
    fn single_header_table() {
        let cases: Vec<(String, Result<B3Header, B3Error>, &str)> = vec![
            (
                format!("{T32}-{SP}-1-{PARENT}"),
                ctx(T32, S::Accept),
                "full",
            ),
            (format!("{T32}-{SP}-1"), ctx(T32, S::Accept), "no parent"),
            (format!("{T32}-{SP}-0"), ctx(T32, S::Deny), "deny"),
            (format!("{T32}-{SP}-d"), ctx(T32, S::Debug), "debug"),
            (format!("{T32}-{SP}"), ctx(T32, S::Defer), "deferred"),
            (
                format!("{T16}-{SP}-1"),
                ctx(T16, S::Accept),
                "64-bit trace id",
            ),
            (
                format!("{}-{}-1", T32.to_uppercase(), SP.to_uppercase()),
                ctx(T32, S::Accept),
                "upper case",
            ),
            (format!(" {T32}-{SP}-1\t"), ctx(T32, S::Accept), "OWS"),
            (
                "0".to_owned(),
                Ok(B3Header::SamplingOnly(S::Deny)),
                "deny only",
            ),
            (
                "1".to_owned(),
                Ok(B3Header::SamplingOnly(S::Accept)),
                "accept only",
            ),
            (
                "d".to_owned(),
                Ok(B3Header::SamplingOnly(S::Debug)),
                "debug only",
            ),
            ("x".to_owned(), Err(E::Sampling), "bad sampling only"),
            (String::new(), Err(E::Format), "empty"),
            (T32.to_owned(), Err(E::Format), "trace id alone"),
            (format!("{T32}-{SP}-2"), Err(E::Sampling), "bad sampling"),
            (
                format!("{T32}-{SP}-true"),
                Err(E::Sampling),
                "true is multi-header only",
            ),
            (
                format!("{T32}-{SP}-1-{PARENT}-x"),
                Err(E::Format),
                "too many fields",
            ),
            (
                format!("{T32}-{SP}-1-abc"),
                Err(E::ParentSpanId),
                "short parent",
            ),
            (
                format!("{}-{SP}-1", &T32[..20]),
                Err(E::TraceId),
                "20-digit trace id",
            ),
            (
                format!("{}-{SP}-1", "0".repeat(32)),
                Err(E::TraceId),
                "zero trace id",
            ),
            (
                format!("{T32}-{}-1", "0".repeat(16)),
                Err(E::SpanId),
                "zero span id",
            ),
            (
                format!("{T32}-{}-1", &SP[..15]),
                Err(E::SpanId),
                "short span id",
            ),
            (
                format!("{T32}-{}g-1", &SP[..15]),
                Err(E::SpanId),
                "non-hex span id",
            ),
        ];
        for (input, want, why) in cases {
            assert_eq!(parse_single(input.as_bytes()), want, "{why}: {input:?}");
        }
    }

    #[test]
    fn multi_header_table() {
        type Case<'a> = ([Option<&'a str>; 4], Result<B3Header, B3Error>, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                [Some(T32), Some(SP), Some("1"), None],
                ctx(T32, S::Accept),
                "sampled",
            ),
            (
                [Some(T32), Some(SP), Some("true"), None],
                ctx(T32, S::Accept),
                "true",
            ),
            (
                [Some(T32), Some(SP), Some("0"), None],
                ctx(T32, S::Deny),
                "not sampled",
            ),
            (
                [Some(T32), Some(SP), Some("False"), None],
                ctx(T32, S::Deny),
                "false",
            ),
            (
                [Some(T32), Some(SP), None, None],
                ctx(T32, S::Defer),
                "deferred",
            ),
            (
                [Some(T32), Some(SP), None, Some("1")],
                ctx(T32, S::Debug),
                "debug",
            ),
            (
                [Some(T32), Some(SP), Some("0"), Some("1")],
                ctx(T32, S::Debug),
                "debug wins over deny",
            ),
            (
                [Some(T32), Some(SP), Some("1"), Some("0")],
                ctx(T32, S::Accept),
                "flags 0",
            ),
            (
                [Some(T16), Some(SP), Some("1"), None],
                ctx(T16, S::Accept),
                "64-bit trace id",
            ),
            (
                [None, None, Some("0"), None],
                Ok(B3Header::SamplingOnly(S::Deny)),
                "deny only",
            ),
            (
                [None, None, None, Some("1")],
                Ok(B3Header::SamplingOnly(S::Debug)),
                "debug only",
            ),
            (
                [Some(T32), None, Some("1"), None],
                Err(E::Format),
                "trace id without span id",
            ),
            (
                [None, Some(SP), Some("1"), None],
                Err(E::Format),
                "span id without trace id",
            ),
            ([None, None, None, None], Err(E::Format), "nothing"),
            (
                [Some(T32), Some(SP), Some("yes"), None],
                Err(E::Sampling),
                "bad sampled",
            ),
            (
                [Some("xyz"), Some(SP), Some("1"), None],
                Err(E::TraceId),
                "bad trace id",
            ),
        ];
        for ([t, s, smp, f], want, why) in cases {
            let b = |v: Option<&'static str>| v.map(str::as_bytes);
            assert_eq!(parse_multi(b(t), b(s), b(smp), b(f)), want, "{why}");
        }
    }

    fn extract_both(pairs: &[(&str, &str)]) -> Context {
        let m = headers(pairs);
        let p = B3Propagator::new();
        let a = p.extract_with_context(&Context::new(), &HeaderExtractor(&m));
        let b = p.extract_from_headers(&m, &Context::new());
        assert_eq!(
            a.span().span_context(),
            b.span().span_context(),
            "{pairs:?}"
        );
        assert_eq!(sampling_denied(&a), sampling_denied(&b));
        assert_eq!(debug::is_requested(&a), debug::is_requested(&b));
        a
    }

    #[test]
    fn extraction_precedence_and_markers() {
        let single = format!("{T32}-{SP}-1");
        let multi_span = "1111111111111111";
        // Single wins over multi.
        let cx = extract_both(&[
            ("b3", &single),
            ("x-b3-traceid", T32),
            ("x-b3-spanid", multi_span),
        ]);
        assert_eq!(cx.span().span_context().span_id().to_string(), SP);
        // An invalid single header falls back to multi.
        let cx = extract_both(&[
            ("b3", "garbage"),
            ("x-b3-traceid", T32),
            ("x-b3-spanid", multi_span),
        ]);
        assert_eq!(cx.span().span_context().span_id().to_string(), multi_span);
        // Debug sets sampled and is kept.
        let cx = extract_both(&[("b3", &format!("{T32}-{SP}-d"))]);
        assert!(cx.span().span_context().is_sampled());
        assert!(debug::is_requested(&cx));
        // b3: 0 is a deny without a parent.
        let cx = extract_both(&[("b3", "0")]);
        assert!(!cx.span().span_context().is_valid());
        assert!(sampling_denied(&cx));
        // Repeated headers are invalid.
        let cx = extract_both(&[("b3", &single), ("b3", &single)]);
        assert!(!cx.span().span_context().is_valid());
        let cx = extract_both(&[
            ("x-b3-traceid", T32),
            ("x-b3-traceid", T32),
            ("x-b3-spanid", SP),
        ]);
        assert!(!cx.span().span_context().is_valid());
        // A parent span id is checked, and otherwise ignored.
        let cx = extract_both(&[
            ("x-b3-traceid", T32),
            ("x-b3-spanid", SP),
            ("x-b3-parentspanid", PARENT),
        ]);
        assert_eq!(cx.span().span_context().span_id().to_string(), SP);
        let cx = extract_both(&[
            ("x-b3-traceid", T32),
            ("x-b3-spanid", SP),
            ("x-b3-parentspanid", &PARENT[1..]),
        ]);
        assert!(!cx.span().span_context().is_valid());
        // Nothing at all: context unchanged.
        let cx = extract_both(&[]);
        assert!(!cx.has_active_span());
        assert!(!sampling_denied(&cx));
    }

    fn inject_both(encoding: B3Encoding, cx: &Context) -> HeaderMap {
        let p = B3Propagator::with_encoding(encoding);
        let mut a = HeaderMap::new();
        p.inject_context(cx, &mut HeaderInjector(&mut a));
        let mut b = HeaderMap::new();
        p.inject_into_headers(cx, &mut b);
        assert_eq!(a, b);
        a
    }

    #[test]
    fn injection_table() {
        use B3Encoding::{MultipleHeader as M, SingleHeader as Single};
        let sampled = extract_both(&[("b3", &format!("{T32}-{SP}-1"))]);
        let unsampled = extract_both(&[("b3", &format!("{T32}-{SP}-0"))]);
        let debug = extract_both(&[("b3", &format!("{T32}-{SP}-d"))]);
        let denied = extract_both(&[("b3", "0")]);
        let empty = Context::new();
        type Case<'a> = (B3Encoding, &'a Context, Vec<(&'a str, String)>, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                Single,
                &sampled,
                vec![("b3", format!("{T32}-{SP}-1"))],
                "single sampled",
            ),
            (
                Single,
                &unsampled,
                vec![("b3", format!("{T32}-{SP}-0"))],
                "single not sampled",
            ),
            (
                Single,
                &debug,
                vec![("b3", format!("{T32}-{SP}-d"))],
                "single debug",
            ),
            (Single, &denied, vec![("b3", "0".to_owned())], "single deny"),
            (
                M,
                &sampled,
                vec![
                    ("x-b3-traceid", T32.to_owned()),
                    ("x-b3-spanid", SP.to_owned()),
                    ("x-b3-sampled", "1".to_owned()),
                ],
                "multi sampled",
            ),
            (
                M,
                &unsampled,
                vec![
                    ("x-b3-traceid", T32.to_owned()),
                    ("x-b3-spanid", SP.to_owned()),
                    ("x-b3-sampled", "0".to_owned()),
                ],
                "multi not sampled",
            ),
            (
                M,
                &debug,
                vec![
                    ("x-b3-traceid", T32.to_owned()),
                    ("x-b3-spanid", SP.to_owned()),
                    ("x-b3-flags", "1".to_owned()),
                ],
                "multi debug",
            ),
            (
                M,
                &denied,
                vec![("x-b3-sampled", "0".to_owned())],
                "multi deny",
            ),
            (Single, &empty, vec![], "nothing"),
        ];
        for (encoding, cx, want, why) in cases {
            let m = inject_both(encoding, cx);
            let mut got: Vec<(&str, String)> = m
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().expect("ascii").to_owned()))
                .collect();
            got.sort();
            let mut want = want;
            want.sort();
            assert_eq!(got, want, "{why}");
        }
    }

    #[test]
    fn fields_follow_the_encoding() {
        assert_eq!(B3Propagator::new().fields().collect::<Vec<_>>(), ["b3"]);
        assert_eq!(
            B3Propagator::with_encoding(B3Encoding::MultipleHeader)
                .fields()
                .collect::<Vec<_>>(),
            ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"]
        );
    }
}
