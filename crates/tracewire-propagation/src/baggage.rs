//! The W3C Baggage propagator: percent-encoding both ways, properties, and the specification's
//! limits, dropping entries one at a time.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::Context;
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::propagation::TextMapPropagator;
//! use tracewire_propagation::{BaggagePropagator, HeaderExtractor, HeaderInjector};
//!
//! let mut incoming = HeaderMap::new();
//! incoming.append("baggage", HeaderValue::from_static("user.id=alice, serverNode=DF%2028;region=eu"));
//! incoming.append("baggage", HeaderValue::from_static("bad entry,isProduction=false"));
//!
//! let propagator = BaggagePropagator::new();
//! let cx = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&incoming));
//! let baggage = cx.baggage();
//! assert_eq!(baggage.len(), 3); // the malformed entry alone is dropped
//! let (value, metadata) = baggage.get_with_metadata("serverNode").expect("present");
//! assert_eq!(value.as_str(), "DF 28");
//! assert_eq!(metadata.as_str(), "region=eu");
//!
//! let mut outgoing = HeaderMap::new();
//! propagator.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
//! let sent = outgoing["baggage"].to_str().expect("ascii");
//! assert!(sent.contains("serverNode=DF%2028;region=eu"));
//! ```
//!
//! # Rules
//!
//! From [W3C Baggage](https://www.w3.org/TR/baggage/):
//!
//! - every `baggage` line is combined, in order; empty members are skipped and white space
//!   around members, keys, values and properties is trimmed;
//! - a key is an RFC 7230 token; a value is made of baggage octets (printable ASCII other than
//!   space, `"`, `,`, `;` and `\`) and is percent-decoded as UTF-8, invalid sequences becoming
//!   U+FFFD; a `%` not followed by two hex digits makes the member malformed;
//! - properties (`;k=v`, `;k`) are kept, as received, in the entry's `BaggageMetadata`: the
//!   specification treats them as opaque, so they are sent on exactly as they came;
//! - a malformed member is dropped alone, never the whole header;
//! - a key that occurs twice keeps its last value (opentelemetry's `Baggage` is a map);
//! - values are percent-encoded on the way out (every byte that is not a baggage octet, and `%`).
//!
//! # Limits
//!
//! The specification requires at least 64 members and 8192 bytes to be propagated, and entries
//! beyond a platform's limits to be dropped one at a time. opentelemetry 0.33's `Baggage` holds
//! at most 64 entries and 8192 bytes of decoded keys, values and metadata (there is no limit per
//! entry), and refuses an insert beyond that. So:
//!
//! - extract: members are inserted in header order; one that `Baggage` refuses (the 65th
//!   distinct key, or one that would pass 8192 bytes) is dropped alone, and later smaller members
//!   may still fit. The header's own length is not limited (the SDK propagator drops a whole
//!   header longer than 8192 bytes, which the specification does not allow);
//! - inject: entries are written while the header stays within 8192 bytes; an entry that would
//!   pass it (percent-encoding can triple a value's length) is skipped alone, so that any
//!   receiver honouring the specification's minimum keeps everything sent. `Baggage` iterates in
//!   hash order, so which entry is skipped is not defined.

use std::borrow::Cow;
use std::sync::OnceLock;

use http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use tracewire_core::hex;

use crate::carrier::{BAGGAGE, Sink, Source};
use crate::report::{Problem, report};
use crate::traceparent::{ows_bounds, trim_ows};

/// The number of members opentelemetry's `Baggage` holds, and the specification's minimum.
pub const MAX_MEMBERS: usize = 64;

/// The most bytes of a `baggage` header tracewire sends, the specification's minimum.
pub const MAX_HEADER_BYTES: usize = 8192;

/// The W3C Baggage propagator.
///
/// See the [module docs](crate::baggage) for the rules and limits.
#[derive(Clone, Copy, Debug, Default)]
pub struct BaggagePropagator {
    _private: (),
}

fn fields() -> &'static [String; 1] {
    static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
    FIELDS.get_or_init(|| [BAGGAGE.name.to_owned()])
}

impl BaggagePropagator {
    /// A new propagator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Extracts straight from a `HeaderMap`; the same result as
    /// [`extract_with_context`](TextMapPropagator::extract_with_context) with a
    /// [`HeaderExtractor`](crate::HeaderExtractor).
    pub fn extract_from_headers(&self, headers: &HeaderMap, cx: &Context) -> Context {
        extract(headers, cx)
    }

    /// Injects straight into a `HeaderMap`; the same header as
    /// [`inject_context`](TextMapPropagator::inject_context) with a
    /// [`HeaderInjector`](crate::HeaderInjector).
    pub fn inject_into_headers(&self, cx: &Context, headers: &mut HeaderMap) {
        inject(cx, headers);
    }
}

pub(crate) fn extract<S: Source + ?Sized>(src: &S, cx: &Context) -> Context {
    let lines = src.lines(&BAGGAGE);
    if lines.is_empty() {
        return cx.clone();
    }
    let baggage = parse(lines.iter());
    if baggage.is_empty() {
        return cx.clone();
    }
    cx.with_baggage(baggage)
}

pub(crate) fn inject<K: Sink + ?Sized>(cx: &Context, sink: &mut K) {
    if let Some(value) = header(cx.baggage()) {
        sink.put(&BAGGAGE, value);
    }
}

impl TextMapPropagator for BaggagePropagator {
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

/// Why a baggage member was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BaggageError {
    /// A member without `=`.
    #[error("a baggage member has no '='")]
    Member,
    /// A key that is not a token.
    #[error("a baggage key is not an RFC 7230 token")]
    Key,
    /// A value with a character that is not a baggage octet, or a bad percent-escape.
    #[error("a baggage value is not percent-encoded baggage octets")]
    Value,
    /// A malformed property.
    #[error("a baggage property is not `key` or `key=value`")]
    Property,
}

/// One member of a `baggage` header, validated, borrowing from the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    key: &'a str,
    raw_value: &'a str,
    raw_properties: &'a str,
    escaped: bool,
}

impl<'a> Member<'a> {
    /// Parses and validates one member (white space around it is trimmed).
    ///
    /// # Errors
    ///
    /// [`BaggageError`] says what is malformed.
    ///
    /// # Example
    ///
    /// ```
    /// use tracewire_propagation::baggage::{BaggageError, Member};
    ///
    /// let m = Member::parse(" serverNode = DF%2028 ;region=eu")?;
    /// assert_eq!((m.key(), m.value().as_ref(), m.properties().as_ref()), ("serverNode", "DF 28", "region=eu"));
    /// assert_eq!(Member::parse("k=a b"), Err(BaggageError::Value));
    /// # Ok::<(), BaggageError>(())
    /// ```
    pub fn parse(member: &'a str) -> Result<Self, BaggageError> {
        let bytes = member.as_bytes();
        let semi = bytes.iter().position(|&b| b == b';');
        let eq = bytes[..semi.unwrap_or(bytes.len())]
            .iter()
            .position(|&b| b == b'=');
        Self::from_parts(member, 0, bytes.len(), eq, semi)
    }

    /// Validates the member at `line[start..end]` whose first `=` (before any `;`) and first
    /// `;` are at the given positions of `line`.
    #[inline]
    fn from_parts(
        line: &'a str,
        start: usize,
        end: usize,
        eq: Option<usize>,
        semi: Option<usize>,
    ) -> Result<Self, BaggageError> {
        let bytes = line.as_bytes();
        let eq = eq.ok_or(BaggageError::Member)?;
        let (kv_end, props_start) = match semi {
            Some(i) => (i, i + 1),
            None => (end, end),
        };
        let (ks, ke) = ows_bounds(bytes, start, eq);
        let (vs, ve) = ows_bounds(bytes, eq + 1, kv_end);
        if ks == ke || !bytes[ks..ke].iter().all(|&b| TCHAR[usize::from(b)]) {
            return Err(BaggageError::Key);
        }
        let escaped = match scan_encoded_value(&bytes[vs..ve]) {
            Some(escaped) => escaped,
            None => return Err(BaggageError::Value),
        };
        let (ps, pe) = ows_bounds(bytes, props_start, end);
        let props = &bytes[ps..pe];
        if !props.is_empty() && !props.split(|&b| b == b';').all(valid_property) {
            return Err(BaggageError::Property);
        }
        // Every boundary is next to an ASCII byte, so these slices cannot fail.
        let slice = |s: usize, e: usize| line.get(s..e).ok_or(BaggageError::Value);
        Ok(Self {
            key: slice(ks, ke)?,
            raw_value: slice(vs, ve)?,
            raw_properties: slice(ps, pe)?,
            escaped,
        })
    }

    /// The key.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The value as received (percent-encoded); see [`Member::value`].
    pub fn raw_value(&self) -> &'a str {
        self.raw_value
    }

    /// The properties as received after the first `;`, white space around them trimmed (empty
    /// when there is none).
    pub fn raw_properties(&self) -> &'a str {
        self.raw_properties
    }

    /// The percent-decoded value (borrowed when it has no escape); sequences that are not UTF-8
    /// become U+FFFD.
    pub fn value(&self) -> Cow<'a, str> {
        if self.escaped {
            Cow::Owned(decode_lossy(self.raw_value.as_bytes()))
        } else {
            Cow::Borrowed(self.raw_value)
        }
    }

    /// The properties, trimmed and joined by `;` (borrowed when they already are), as they go
    /// into `BaggageMetadata`.
    pub fn properties(&self) -> Cow<'a, str> {
        if self.raw_properties.is_empty() {
            return Cow::Borrowed("");
        }
        normalize_properties(self.raw_properties)
    }
}

/// Parses the `baggage` header lines, in order, into a `Baggage`, dropping malformed members
/// and members beyond `Baggage`'s limits one at a time (each kind reported once).
///
/// # Example
///
/// ```
/// let baggage = tracewire_propagation::baggage::parse([b"a=1,bad,b=%F0%9F%98%80".as_slice()]);
/// assert_eq!(baggage.len(), 2);
/// assert_eq!(baggage.get("b").map(|v| v.as_str()), Some("\u{1f600}"));
/// ```
pub fn parse<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Baggage {
    let mut baggage = Baggage::new();
    for line in lines {
        match std::str::from_utf8(line) {
            Ok(line) => parse_line(&mut baggage, line),
            // Bytes above 0x7f are in no member's grammar: the members holding them are
            // dropped, the others on the line kept.
            Err(_) => {
                for raw in line.split(|&b| b == b',') {
                    match std::str::from_utf8(raw) {
                        Ok(raw) => parse_line(&mut baggage, raw),
                        Err(_) => report(Problem::BaggageMemberMalformed),
                    }
                }
            }
        }
    }
    baggage
}

/// Splits a line into members in one pass, noting each member's first `=` (before any `;`)
/// and first `;` on the way.
fn parse_line(baggage: &mut Baggage, line: &str) {
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut eq = None;
    let mut semi = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b',' => {
                parse_member(baggage, line, start, i, eq, semi);
                start = i + 1;
                eq = None;
                semi = None;
            }
            b'=' if eq.is_none() && semi.is_none() => eq = Some(i),
            b';' if semi.is_none() => semi = Some(i),
            _ => {}
        }
    }
    parse_member(baggage, line, start, bytes.len(), eq, semi);
}

#[inline]
fn parse_member(
    baggage: &mut Baggage,
    line: &str,
    start: usize,
    end: usize,
    eq: Option<usize>,
    semi: Option<usize>,
) {
    let (s, e) = ows_bounds(line.as_bytes(), start, end);
    if s == e {
        return;
    }
    match Member::from_parts(line, s, e, eq, semi) {
        Ok(member) => insert(baggage, member),
        Err(_) => report(Problem::BaggageMemberMalformed),
    }
}

fn insert(baggage: &mut Baggage, member: Member<'_>) {
    if is_full_for(baggage, member.key) {
        report(Problem::BaggageOverLimit);
        return;
    }
    let value = match member.value() {
        Cow::Borrowed(v) => String::from(v),
        Cow::Owned(v) => v,
    };
    let props = member.properties();
    if !insert_entry(baggage, String::from(member.key), value, props.as_ref()) {
        report(Problem::BaggageOverLimit);
    }
}

/// Whether `baggage` already holds its 64 entries and none for `key`, so that it would refuse a
/// new one: checked before the entry's strings are allocated.
pub(crate) fn is_full_for(baggage: &Baggage, key: &str) -> bool {
    baggage.len() >= MAX_MEMBERS && baggage.get(key).is_none()
}

/// Inserts an entry and returns whether `Baggage` took it (it refuses an entry beyond 64
/// entries or 8192 bytes, and a key that is not a token).
pub(crate) fn insert_entry(
    baggage: &mut Baggage,
    key: String,
    value: String,
    metadata: &str,
) -> bool {
    let before = baggage.len();
    // `insert_with_metadata` returns the old entry when it replaced one, and `None` both when it
    // added a new entry (the length grew) and when it refused the entry.
    let replaced = baggage.insert_with_metadata(key, value, metadata);
    replaced.is_some() || baggage.len() > before
}

/// The `baggage` header for `baggage`, or `None` when nothing is to be sent.
pub fn header(baggage: &Baggage) -> Option<String> {
    if baggage.is_empty() {
        return None;
    }
    // Decide which entries fit, in iteration order; `Baggage` holds at most 64 entries, so a
    // bit per entry fits a u64 (entries past 64 are never sent).
    let mut keep = 0u64;
    let mut total = 0usize;
    for (i, (key, (value, metadata))) in baggage.iter().enumerate().take(64) {
        let len = key.as_str().len()
            + 1
            + encoded_len(value.as_str())
            + properties_len(metadata.as_str());
        let sep = usize::from(total > 0);
        if total + sep + len <= MAX_HEADER_BYTES {
            total += sep + len;
            keep |= 1 << i;
        } else {
            report(Problem::BaggageNotSent);
        }
    }
    if total == 0 {
        return None;
    }
    let mut out = String::with_capacity(total);
    for (i, (key, (value, metadata))) in baggage.iter().enumerate().take(64) {
        if keep & (1 << i) == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(key.as_str());
        out.push('=');
        encode_into(value.as_str(), &mut out);
        write_properties(metadata.as_str(), &mut out);
    }
    Some(out)
}

/// RFC 7230 `tchar`: the characters of keys.
const fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// `baggage-octet`: printable ASCII other than space, `"`, `,`, `;` and `\`.
const fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

macro_rules! table {
    ($f:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $f(i as u8);
            i += 1;
        }
        t
    }};
}

static TCHAR: [bool; 256] = table!(is_tchar);
static OCTET: [bool; 256] = table!(is_baggage_octet);

/// Baggage octets, with every `%` followed by two hex digits: `Some(has an escape)`, or `None`.
#[inline]
fn scan_encoded_value(v: &[u8]) -> Option<bool> {
    let mut escaped = false;
    let mut i = 0;
    while i < v.len() {
        let b = v[i];
        if !OCTET[usize::from(b)] {
            return None;
        }
        if b == b'%' {
            let pair = v.get(i + 1..i + 3)?;
            if !(pair[0].is_ascii_hexdigit() && pair[1].is_ascii_hexdigit()) {
                return None;
            }
            escaped = true;
            i += 3;
        } else {
            i += 1;
        }
    }
    Some(escaped)
}

/// `key` or `key OWS = OWS value`, white space around it allowed; empty is allowed (a trailing
/// `;`) and dropped when normalizing.
fn valid_property(prop: &[u8]) -> bool {
    let prop = trim_ows(prop);
    if prop.is_empty() {
        return true;
    }
    let (key, value) = match prop.iter().position(|&b| b == b'=') {
        Some(i) => (trim_ows(&prop[..i]), Some(trim_ows(&prop[i + 1..]))),
        None => (prop, None),
    };
    !key.is_empty()
        && key.iter().all(|&b| TCHAR[usize::from(b)])
        && value.is_none_or(|v| v.iter().all(|&b| OCTET[usize::from(b)]))
}

/// Properties trimmed and joined by `;`, empty ones dropped; borrowed when already so.
fn normalize_properties(raw: &str) -> Cow<'_, str> {
    let normalized = raw.split(';').all(|p| {
        !p.is_empty()
            && trim_ows(p.as_bytes()).len() == p.len()
            && p.split_once('=').is_none_or(|(k, v)| {
                trim_ows(k.as_bytes()).len() == k.len() && trim_ows(v.as_bytes()).len() == v.len()
            })
    });
    if normalized || raw.is_empty() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    for_each_property(raw, |key, value| {
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(key);
        if let Some(v) = value {
            out.push('=');
            out.push_str(v);
        }
    });
    Cow::Owned(out)
}

/// Calls `f` with the key and value of every valid, non-empty property, trimmed.
fn for_each_property<'a>(raw: &'a str, mut f: impl FnMut(&'a str, Option<&'a str>)) {
    for prop in raw.split(';') {
        if !valid_property(prop.as_bytes()) {
            report(Problem::BaggageNotSent);
            continue;
        }
        let prop = trim_str(prop);
        if prop.is_empty() {
            continue;
        }
        match prop.split_once('=') {
            Some((k, v)) => f(trim_str(k), Some(trim_str(v))),
            None => f(prop, None),
        }
    }
}

fn trim_str(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Bytes that `write_properties` writes for `metadata`.
fn properties_len(metadata: &str) -> usize {
    let mut len = 0;
    for_each_property(metadata, |k, v| {
        len += 1 + k.len() + v.map_or(0, |v| 1 + v.len());
    });
    len
}

/// Writes `;k=v;k2` for the valid properties of `metadata`.
fn write_properties(metadata: &str, out: &mut String) {
    for_each_property(metadata, |k, v| {
        out.push(';');
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    });
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn needs_escape(b: u8) -> bool {
    !OCTET[usize::from(b)] || b == b'%'
}

/// The percent-encoded length of `value`.
fn encoded_len(value: &str) -> usize {
    encoded_len_with(value, needs_escape)
}

/// Appends `value` percent-encoded.
fn encode_into(value: &str, out: &mut String) {
    encode_with(value, out, needs_escape);
}

/// The length of `value` with every byte for which `escape` holds percent-encoded.
pub(crate) fn encoded_len_with(value: &str, escape: impl Fn(u8) -> bool) -> usize {
    value
        .bytes()
        .map(|b| if escape(b) || !b.is_ascii() { 3 } else { 1 })
        .sum()
}

/// Appends `value` with every byte for which `escape` holds percent-encoded (upper-case hex).
/// `escape` must hold for every non-ASCII byte.
pub(crate) fn encode_with(value: &str, out: &mut String, escape: impl Fn(u8) -> bool) {
    let bytes = value.as_bytes();
    let mut start = 0;
    // The runs between escaped bytes are ASCII, so they start and end on char boundaries; `get`
    // keeps this free of panics all the same.
    for (i, &b) in bytes.iter().enumerate() {
        if escape(b) || !b.is_ascii() {
            if start < i {
                out.push_str(value.get(start..i).unwrap_or_default());
            }
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push_str(value.get(start..).unwrap_or_default());
    }
}

/// Percent-decodes `raw`, keeping a `%` that is not followed by two hex digits as it is;
/// sequences that are not UTF-8 become U+FFFD.
pub(crate) fn decode_lossy(raw: &[u8]) -> String {
    // Exact capacity when every `%` starts an escape (always so in a validated baggage value),
    // so that the value becomes a `StringValue` without re-allocating.
    let escapes = raw.iter().filter(|&&b| b == b'%').count();
    let mut out = Vec::with_capacity(raw.len().saturating_sub(2 * escapes));
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let Some([b]) = raw.get(i + 1..i + 3).and_then(hex::decode_any_case::<1>)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HeaderExtractor, HeaderInjector};
    use BaggageError as E;
    use http::{HeaderName, HeaderValue};
    use opentelemetry::KeyValue;
    use opentelemetry::baggage::KeyValueMetadata;

    /// Sorted (key, value, metadata) triples.
    fn entries(b: &Baggage) -> Vec<(String, String, String)> {
        let mut v: Vec<_> = b
            .iter()
            .map(|(k, (v, m))| (k.to_string(), v.to_string(), m.as_str().to_owned()))
            .collect();
        v.sort();
        v
    }

    fn triples(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        let mut v: Vec<_> = items
            .iter()
            .map(|(k, v, m)| ((*k).to_owned(), (*v).to_owned(), (*m).to_owned()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn member_table() {
        let ok = |key, raw_value, raw_properties| Ok((key, raw_value, raw_properties));
        type Parts<'a> = Result<(&'a str, &'a str, &'a str), BaggageError>;
        let cases: Vec<(&str, Parts<'_>, &str)> = vec![
            ("k=v", ok("k", "v", ""), "simple"),
            (" k = v ", ok("k", "v", ""), "OWS around key and value"),
            ("k=", ok("k", "", ""), "empty value"),
            ("k=a=b", ok("k", "a=b", ""), "= in value"),
            ("k=v;p", ok("k", "v", "p"), "property key"),
            (
                "k=v; p = 1 ;q",
                ok("k", "v", "p = 1 ;q"),
                "properties with OWS",
            ),
            ("k=v;", ok("k", "v", ""), "trailing ;"),
            ("k=%20%E2%82%AC", ok("k", "%20%E2%82%AC", ""), "escapes"),
            (
                "!#$%&'*+-.^_`|~09azAZ=v",
                ok("!#$%&'*+-.^_`|~09azAZ", "v", ""),
                "every tchar",
            ),
            ("k", Err(E::Member), "no ="),
            ("=v", Err(E::Key), "empty key"),
            ("k y=v", Err(E::Key), "space in key"),
            ("k@=v", Err(E::Key), "separator in key"),
            ("k=a b", Err(E::Value), "space in value"),
            ("k=a\"b", Err(E::Value), "quote in value"),
            ("k=a\\b", Err(E::Value), "backslash in value"),
            ("k=%2", Err(E::Value), "short escape"),
            ("k=%zz", Err(E::Value), "non-hex escape"),
            ("k=v;p q", Err(E::Property), "space in property key"),
            ("k=v;=1", Err(E::Property), "empty property key"),
            ("k=v;p=a b", Err(E::Property), "space in property value"),
        ];
        for (input, want, why) in cases {
            let got = Member::parse(input).map(|m| (m.key(), m.raw_value(), m.raw_properties()));
            assert_eq!(got, want, "{why}: {input:?}");
        }
    }

    #[test]
    fn decoding_table() {
        let cases = [
            ("plain", "plain"),
            ("DF%2028", "DF 28"),
            ("%E2%82%AC", "\u{20ac}"),
            ("%e2%82%ac", "\u{20ac}"),
            ("%FF", "\u{fffd}"),
            ("a%C3", "a\u{fffd}"),
            ("%25", "%"),
            ("%2C%3B", ",;"),
        ];
        for (raw, want) in cases {
            let member = format!("k={raw}");
            let m = Member::parse(&member).expect("valid");
            assert_eq!(m.value(), want, "{raw}");
        }
    }

    #[test]
    fn parse_table() {
        type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str, &'a str)>, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                vec!["a=1,b=2"],
                vec![("a", "1", ""), ("b", "2", "")],
                "two members",
            ),
            (
                vec!["a=1", "b=2"],
                vec![("a", "1", ""), ("b", "2", "")],
                "lines combined",
            ),
            (
                vec!["a=1,,  ,b=2,"],
                vec![("a", "1", ""), ("b", "2", "")],
                "empty members skipped",
            ),
            (
                vec!["a=1,bad,b=2"],
                vec![("a", "1", ""), ("b", "2", "")],
                "malformed dropped alone",
            ),
            (
                vec!["a=1,b=x y"],
                vec![("a", "1", "")],
                "bad value dropped alone",
            ),
            (vec!["a=1,a=2"], vec![("a", "2", "")], "last duplicate wins"),
            (
                vec!["k=v;p;q=1"],
                vec![("k", "v", "p;q=1")],
                "properties kept",
            ),
            (
                vec!["k=v; p ; q = 1 "],
                vec![("k", "v", "p;q=1")],
                "properties normalized",
            ),
            (
                vec!["k=v;q=%20"],
                vec![("k", "v", "q=%20")],
                "property values kept encoded",
            ),
            (
                vec!["u=%F0%9F%98%80"],
                vec![("u", "\u{1f600}", "")],
                "UTF-8 decoded",
            ),
            (vec![""], vec![], "empty header"),
        ];
        for (lines, want, why) in cases {
            let b = parse(lines.iter().map(|l| l.as_bytes()));
            assert_eq!(entries(&b), triples(&want), "{why}");
        }
    }

    #[test]
    fn the_minimum_64_members_in_8192_bytes_are_kept_both_ways() {
        // 64 members filling exactly 8192 bytes, each with an escape and a property: the
        // specification's minimum must be extracted and sent on whole.
        let mut members: Vec<String> = (0..64).map(|i| format!("k{i:02}=%2C;p")).collect();
        let used = members.iter().map(String::len).sum::<usize>() + 63;
        let (per, extra) = ((8192 - used) / 64, (8192 - used) % 64);
        for (i, m) in members.iter_mut().enumerate() {
            m.insert_str(4, &"v".repeat(per + usize::from(i < extra)));
        }
        let header_in = members.join(",");
        assert_eq!(header_in.len(), MAX_HEADER_BYTES);
        let b = parse([header_in.as_bytes()]);
        assert_eq!(b.len(), 64);
        let header_out = header(&b).expect("some");
        assert_eq!(header_out.len(), MAX_HEADER_BYTES);
        assert_eq!(entries(&parse([header_out.as_bytes()])), entries(&b));
    }

    #[test]
    fn over_64_members_drops_the_rest_one_at_a_time() {
        let header: Vec<String> = (0..70).map(|i| format!("k{i}=v")).collect();
        let b = parse([header.join(",").as_bytes()]);
        assert_eq!(b.len(), 64);
        assert!(b.get("k63").is_some());
        assert!(b.get("k64").is_none());
        // A duplicate of a kept key still updates it.
        let mut header = header;
        header.push("k0=updated".to_owned());
        let b = parse([header.join(",").as_bytes()]);
        assert_eq!(b.get("k0").map(|v| v.as_str()), Some("updated"));
    }

    #[test]
    fn over_8192_bytes_drops_only_what_does_not_fit() {
        let big = "x".repeat(5000);
        let header = format!("a={big},b={big},c=small");
        let b = parse([header.as_bytes()]);
        assert_eq!(
            entries(&b).iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
    }

    #[test]
    fn header_encodes_values_and_keeps_properties() {
        let b = Baggage::from_iter([KeyValueMetadata::new(
            "k",
            "a b,c;d=e%\u{20ac}\"\\",
            "p;q=1",
        )]);
        let h = header(&b).expect("some");
        assert_eq!(h, "k=a%20b%2Cc%3Bd=e%25%E2%82%AC%22%5C;p;q=1");
        assert_eq!(h.capacity(), h.len());
        let back = parse([h.as_bytes()]);
        assert_eq!(entries(&back), entries(&b));
    }

    #[test]
    fn header_skips_invalid_properties() {
        let b = Baggage::from_iter([KeyValueMetadata::new("k", "v", "ok;bad key;x=a b;y=2")]);
        assert_eq!(header(&b).as_deref(), Some("k=v;ok;y=2"));
        assert_eq!(header(&Baggage::new()), None);
    }

    #[test]
    fn header_stays_within_8192_bytes() {
        // Values of 3000 bytes that encode to 9000 bytes cannot be sent; small ones still are.
        let mut b = Baggage::new();
        b.insert("big", "\u{e9}".repeat(1500));
        b.insert("small", "v");
        let h = header(&b).expect("some");
        assert_eq!(h, "small=v");
        let mut b = Baggage::new();
        for i in 0..3 {
            b.insert(format!("k{i}"), "x".repeat(3000));
        }
        let h = header(&b).expect("some");
        assert!(h.len() <= MAX_HEADER_BYTES);
        assert_eq!(h.split(',').count(), 2);
    }

    #[test]
    fn propagator_round_trip_through_both_paths() {
        let cx = Context::new().with_baggage([
            KeyValue::new("user.id", "alice"),
            KeyValue::new("session.region", "eu west"),
        ]);
        let p = BaggagePropagator::new();
        let mut via_trait = HeaderMap::new();
        p.inject_context(&cx, &mut HeaderInjector(&mut via_trait));
        let mut direct = HeaderMap::new();
        p.inject_into_headers(&cx, &mut direct);
        assert_eq!(via_trait, direct);
        let a = p.extract_with_context(&Context::new(), &HeaderExtractor(&via_trait));
        let b = p.extract_from_headers(&direct, &Context::new());
        assert_eq!(entries(a.baggage()), entries(cx.baggage()));
        assert_eq!(entries(b.baggage()), entries(cx.baggage()));
    }

    #[test]
    fn repeated_headers_are_combined_and_bad_bytes_drop_one_line() {
        let mut m = HeaderMap::new();
        let name = HeaderName::from_static("baggage");
        m.append(name.clone(), HeaderValue::from_static("a=1"));
        m.append(
            name.clone(),
            HeaderValue::from_bytes(b"b=\xff").expect("obs-text"),
        );
        m.append(name, HeaderValue::from_static("c=3"));
        let p = BaggagePropagator::new();
        let via_trait = p.extract_with_context(&Context::new(), &HeaderExtractor(&m));
        let direct = p.extract_from_headers(&m, &Context::new());
        let want = triples(&[("a", "1", ""), ("c", "3", "")]);
        assert_eq!(entries(via_trait.baggage()), want);
        assert_eq!(entries(direct.baggage()), want);
    }

    #[test]
    fn nothing_valid_leaves_the_context_unchanged() {
        let mut m = HeaderMap::new();
        m.insert("baggage", HeaderValue::from_static("bad,worse"));
        let cx = Context::new().with_baggage([KeyValue::new("keep", "me")]);
        let out = BaggagePropagator::new().extract_from_headers(&m, &cx);
        assert_eq!(out.baggage().get("keep").map(|v| v.as_str()), Some("me"));
    }
}
