//! The W3C `tracestate` header: strict parsing of the combined header lines, and the spec-valid
//! members that opentelemetry's `TraceState` cannot hold.
//!
//! # Example
//!
//! ```
//! use tracewire_propagation::tracestate::{TraceStateError, TraceStateList};
//!
//! // Lines are combined in order, empty members skipped, white space around members trimmed.
//! let lines: [&[u8]; 2] = [b"rojo=00f067aa0ba902b7, ,", b"\tt@a@b=x "];
//! let list = TraceStateList::parse(lines)?;
//! assert_eq!(list.header().as_deref(), Some("rojo=00f067aa0ba902b7,t@a@b=x"));
//!
//! // One invalid member drops the whole tracestate.
//! assert_eq!(TraceStateList::parse([b"ok=1,Bad=2".as_slice()]).err(), Some(TraceStateError::Key));
//! # Ok::<(), TraceStateError>(())
//! ```
//!
//! # Rules
//!
//! From [Trace Context Level 2](https://www.w3.org/TR/trace-context-2/#tracestate-header):
//!
//! - every `tracestate` line is combined, in order, as one comma-separated list;
//! - empty and white-space-only members are skipped; spaces and tabs around members are trimmed;
//! - a key starts with a lowercase letter or a digit, and has up to 256 characters among `a-z`,
//!   `0-9`, `_`, `-`, `*`, `/` and `@` (so `tenant@vendor` and keys with several `@` are valid);
//! - a value has 1 to 256 printable ASCII characters (`0x20`–`0x7e`) other than `,` and `=`, and
//!   does not end with a space;
//! - a key occurs at most once;
//! - more than 32 members, or any invalid member, drops the whole `tracestate` (never the
//!   `traceparent`);
//! - an empty `tracestate` header is never sent; member order is kept.
//!
//! # Keys that opentelemetry's `TraceState` rejects
//!
//! opentelemetry 0.33's `TraceState` rejects some keys the specification allows (more than one
//! `@`, or more than 13 characters after the `@`), and its member list is private. The
//! [`TraceContextPropagator`](crate::TraceContextPropagator) puts what `TraceState` can hold into
//! the span context and keeps the whole validated list in the extracted `Context`, so the
//! `tracestate` is sent on unchanged; see `docs/adr/0002-tracestate-keys.md`.

use std::sync::Arc;

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceId, TraceState};

use crate::report::{Problem, report};
use crate::traceparent::ows_bounds;

/// Most members a `tracestate` may have.
pub const MAX_MEMBERS: usize = 32;

/// Most characters of a key.
pub const MAX_KEY_LEN: usize = 256;

/// Most characters of a value.
pub const MAX_VALUE_LEN: usize = 256;

/// Why a `tracestate` was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceStateError {
    /// More than 32 non-empty members.
    #[error("tracestate has more than 32 members")]
    TooManyMembers,
    /// A member without `=`.
    #[error("a tracestate member has no '='")]
    Member,
    /// A key that breaks the key grammar.
    #[error("a tracestate key is not valid")]
    Key,
    /// A value that breaks the value grammar.
    #[error("a tracestate value is not valid")]
    Value,
    /// A key that occurs twice.
    #[error("a tracestate key occurs more than once")]
    DuplicateKey,
}

/// A validated `tracestate` member list, borrowing from the header lines.
#[derive(Clone, Copy, Debug)]
pub struct TraceStateList<'a> {
    // `None` is all zero bits, so the empty array is a plain memset.
    members: [Option<(&'a str, &'a str)>; MAX_MEMBERS],
    len: usize,
    fits_otel: bool,
}

impl Default for TraceStateList<'_> {
    fn default() -> Self {
        Self {
            members: [None; MAX_MEMBERS],
            len: 0,
            fits_otel: true,
        }
    }
}

impl<'a> TraceStateList<'a> {
    /// Parses and validates the `tracestate` header lines, in order, by the rules in the
    /// [module docs](self). No line at all, or only empty members, gives an empty list.
    ///
    /// # Errors
    ///
    /// [`TraceStateError`] says which rule the first offending member broke; the whole
    /// `tracestate` is then to be dropped.
    pub fn parse<I>(lines: I) -> Result<Self, TraceStateError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut list = Self::default();
        list.parse_into(lines)?;
        Ok(list)
    }

    /// [`parse`](Self::parse) into an existing (empty) list, so that the list, about 1 KiB,
    /// is not moved on the way out.
    fn parse_into<I>(&mut self, lines: I) -> Result<(), TraceStateError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        for line in lines {
            // Every valid member is ASCII, so a line that is not UTF-8 holds an invalid member.
            let line = std::str::from_utf8(line).map_err(|_| TraceStateError::Value)?;
            let bytes = line.as_bytes();
            let mut start = 0;
            loop {
                // A tight search for the next `,` (a byte-by-byte state machine finding both
                // `,` and `=` cost more than the members are long).
                let end = bytes
                    .get(start..)
                    .and_then(|rest| rest.iter().position(|&b| b == b','))
                    .map_or(bytes.len(), |at| start + at);
                self.push_member(line, start, end)?;
                if end >= bytes.len() {
                    break;
                }
                start = end + 1;
            }
        }
        Ok(())
    }

    /// Validates and adds the member at `line[start..end]` (white space around it allowed);
    /// an empty member is skipped.
    #[inline]
    fn push_member(
        &mut self,
        line: &'a str,
        start: usize,
        end: usize,
    ) -> Result<(), TraceStateError> {
        let bytes = line.as_bytes();
        let (s, e) = ows_bounds(bytes, start, end);
        if s == e {
            return Ok(());
        }
        if self.len == MAX_MEMBERS {
            return Err(TraceStateError::TooManyMembers);
        }
        let eq = bytes[s..e]
            .iter()
            .position(|&b| b == b'=')
            .map(|at| s + at)
            .ok_or(TraceStateError::Member)?;
        // The boundaries are next to ASCII bytes; `get` keeps this free of panics all the same.
        let key = line.get(s..eq).ok_or(TraceStateError::Key)?;
        let value = line.get(eq + 1..e).ok_or(TraceStateError::Value)?;
        if !valid_key_bytes(key.as_bytes()) {
            return Err(TraceStateError::Key);
        }
        if !valid_value_bytes(value.as_bytes()) {
            return Err(TraceStateError::Value);
        }
        if self.iter().any(|(k, _)| k == key) {
            return Err(TraceStateError::DuplicateKey);
        }
        // Only a key with an `@` can be one opentelemetry's `TraceState` rejects.
        if key.as_bytes().contains(&b'@') {
            self.fits_otel &= otel_accepts_key(key);
        }
        // `len < MAX_MEMBERS` was checked above.
        self.members[self.len] = Some((key, value));
        self.len += 1;
        Ok(())
    }

    /// The members in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.members[..self.len].iter().flatten().copied()
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no member.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The normalized header value (`k=v,k2=v2`), or `None` when the list is empty.
    pub fn header(&self) -> Option<String> {
        write_members(|| self.iter())
    }

    /// Whether opentelemetry's `TraceState` can hold every member.
    pub fn fits_otel(&self) -> bool {
        self.fits_otel
    }

    /// The members opentelemetry's `TraceState` can hold, as a `TraceState`.
    pub fn to_otel(&self) -> TraceState {
        if self.is_empty() {
            return TraceState::NONE;
        }
        if self.fits_otel {
            return TraceState::from_key_value(self.iter()).unwrap_or_default();
        }
        TraceState::from_key_value(self.iter().filter(|(k, _)| otel_accepts_key(k)))
            .unwrap_or_default()
    }
}

/// Whether `key` is a valid `tracestate` key (Trace Context Level 2).
pub fn is_valid_key(key: &str) -> bool {
    valid_key_bytes(key.as_bytes())
}

/// Whether `value` is a valid `tracestate` value.
pub fn is_valid_value(value: &str) -> bool {
    valid_value_bytes(value.as_bytes())
}

/// Byte classes of the `tracestate` grammar, one table lookup per byte.
const KEY_CHAR: u8 = 1;
const KEY_FIRST: u8 = 2;
const VALUE_CHAR: u8 = 4;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
        if lower_or_digit {
            t[b] |= KEY_FIRST | KEY_CHAR;
        }
        if matches!(c, b'_' | b'-' | b'*' | b'/' | b'@') {
            t[b] |= KEY_CHAR;
        }
        if c >= 0x20 && c <= 0x7e && c != b',' && c != b'=' {
            t[b] |= VALUE_CHAR;
        }
        b += 1;
    }
    t
};

#[inline]
fn valid_key_bytes(key: &[u8]) -> bool {
    match key {
        [first, rest @ ..] if key.len() <= MAX_KEY_LEN => {
            CLASS[usize::from(*first)] & KEY_FIRST != 0
                && rest.iter().all(|&b| CLASS[usize::from(b)] & KEY_CHAR != 0)
        }
        _ => false,
    }
}

#[inline]
fn valid_value_bytes(value: &[u8]) -> bool {
    match value {
        [.., last] if value.len() <= MAX_VALUE_LEN => {
            *last != b' '
                && value
                    .iter()
                    .all(|&b| CLASS[usize::from(b)] & VALUE_CHAR != 0)
        }
        _ => false,
    }
}

/// Whether opentelemetry 0.33's `TraceState` accepts `key` (its private `valid_key`, restated):
/// at most one `@`, at most 13 characters after it, and a lowercase letter or digit right
/// after it. A unit test checks this against `TraceState` itself.
pub fn otel_accepts_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    if bytes.len() > MAX_KEY_LEN {
        return false;
    }
    let mut at = None;
    for (i, &b) in bytes.iter().enumerate() {
        let allowed = b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@');
        if !allowed {
            return false;
        }
        if i == 0 && !(b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return false;
        } else if b == b'@' {
            if at.is_some() || i + 14 < bytes.len() {
                return false;
            }
            at = Some(i);
        } else if at.is_some_and(|a| i == a + 1) && !(b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return false;
        }
    }
    true
}

/// Joins members as `k=v,k2=v2` into a `String` of exact capacity, keeping at most 32 members;
/// `None` when there is none.
fn write_members<'m, I>(members: impl Fn() -> I) -> Option<String>
where
    I: Iterator<Item = (&'m str, &'m str)>,
{
    let mut len = 0;
    let mut count = 0;
    for (k, v) in members().take(MAX_MEMBERS) {
        len += k.len() + 1 + v.len();
        count += 1;
    }
    if count == 0 {
        return None;
    }
    let mut out = String::with_capacity(len + count - 1);
    for (i, (k, v)) in members().take(MAX_MEMBERS).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    Some(out)
}

/// The validated `tracestate` of an extracted span context, kept in the `Context` when
/// opentelemetry's `TraceState` could not hold every member.
///
/// `None` inside clears what an earlier extraction left in the same context.
#[derive(Debug)]
pub(crate) struct Preserved(Option<PreservedState>);

#[derive(Debug)]
struct PreservedState {
    /// The trace the list belongs to: a span of another trace does not send it.
    trace_id: TraceId,
    /// The `TraceState` put into the span context at extraction.
    state: TraceState,
    /// The whole normalized member list.
    raw: Arc<str>,
}

/// Builds the span context's `TraceState` from the `tracestate` lines and, when `TraceState`
/// cannot hold every member, the context value that keeps them.
pub(crate) fn extract<'a>(
    lines: impl IntoIterator<Item = &'a [u8]>,
    trace_id: TraceId,
) -> (TraceState, Option<Preserved>) {
    let mut list = TraceStateList::default();
    if list.parse_into(lines).is_err() {
        report(Problem::TracestateInvalid);
        return (TraceState::NONE, None);
    }
    if list.fits_otel() {
        return (list.to_otel(), None);
    }
    report(Problem::TracestateUnrepresentable);
    let state = list.to_otel();
    let raw: Arc<str> = list.header().unwrap_or_default().into();
    (
        state.clone(),
        Some(Preserved(Some(PreservedState {
            trace_id,
            state,
            raw,
        }))),
    )
}

/// Whether `cx` holds a preserved list (which a new extraction must clear).
pub(crate) fn has_preserved(cx: &Context) -> bool {
    matches!(cx.get::<Preserved>(), Some(Preserved(Some(_))))
}

/// The value that clears a preserved list.
pub(crate) fn cleared() -> Preserved {
    Preserved(None)
}

/// The `tracestate` header to send for `sc` in `cx`, or `None` when there is nothing to send.
///
/// - When `cx` holds the list extracted for this trace and the span context's `TraceState` is
///   still the one put there at extraction, the list is sent unchanged.
/// - When the `TraceState` was changed since (a sampler or the application set a key), its
///   members are sent first, followed by the extracted members it could not hold (nobody could
///   have changed those), within 32 members.
/// - Otherwise the `TraceState`'s members are sent; a member that is not valid W3C is skipped.
pub(crate) fn inject_header(cx: &Context, sc: &SpanContext) -> Option<String> {
    let state = sc.trace_state();
    if let Some(Preserved(Some(p))) = cx.get::<Preserved>()
        && p.trace_id == sc.trace_id()
    {
        if *state == p.state {
            return (!p.raw.is_empty()).then(|| String::from(&*p.raw));
        }
        let kept = TraceStateList::parse([p.raw.as_bytes()]).ok();
        let rest = || {
            kept.iter()
                .flat_map(|list| list.iter())
                .filter(|(k, _)| !otel_accepts_key(k))
        };
        return write_members(|| valid_otel_members(state).chain(rest()));
    }
    write_members(|| valid_otel_members(state))
}

fn valid_otel_members(state: &TraceState) -> impl Iterator<Item = (&str, &str)> {
    state.into_iter().filter(|(k, v)| {
        let ok = is_valid_key(k) && is_valid_value(v);
        if !ok {
            report(Problem::TracestateMemberNotSent);
        }
        ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TraceStateError as E;
    use opentelemetry::trace::{SpanId, TraceContextExt, TraceFlags};
    use proptest::prelude::*;

    fn parse(lines: &[&str]) -> Result<Vec<(String, String)>, TraceStateError> {
        TraceStateList::parse(lines.iter().map(|l| l.as_bytes())).map(|l| {
            l.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
    }

    fn kv(pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, TraceStateError> {
        Ok(pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())
    }

    #[test]
    fn parsing_table() {
        let k256 = format!("a{}", "b".repeat(255));
        let k257 = format!("a{}", "b".repeat(256));
        let v256 = "v".repeat(256);
        let v257 = "v".repeat(257);
        let m32 = (0..32)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let m33 = (0..33)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let k256_member = format!("{k256}=v");
        let k257_member = format!("{k257}=v");
        let v256_member = format!("k={v256}");
        let v257_member = format!("k={v257}");
        type Case<'a> = (
            Vec<&'a str>,
            Result<Vec<(String, String)>, TraceStateError>,
            &'a str,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                vec!["a=1,b=2"],
                kv(&[("a", "1"), ("b", "2")]),
                "two members",
            ),
            (
                vec!["a=1", "b=2"],
                kv(&[("a", "1"), ("b", "2")]),
                "two lines combined in order",
            ),
            (
                vec!["b=2", "a=1"],
                kv(&[("b", "2"), ("a", "1")]),
                "order kept",
            ),
            (vec![""], kv(&[]), "empty header"),
            (vec![" , ,\t,"], kv(&[]), "only empty members"),
            (
                vec!["a=1,,b=2,"],
                kv(&[("a", "1"), ("b", "2")]),
                "empty members skipped",
            ),
            (
                vec![" \ta=1 \t, b=2\t"],
                kv(&[("a", "1"), ("b", "2")]),
                "OWS trimmed",
            ),
            (
                vec!["a= 1"],
                kv(&[("a", " 1")]),
                "leading space kept in value",
            ),
            (vec!["a=1 "], kv(&[("a", "1")]), "trailing space is OWS"),
            (
                vec!["0a=1"],
                kv(&[("0a", "1")]),
                "key may start with a digit",
            ),
            (
                vec!["a_-*/@b=1"],
                kv(&[("a_-*/@b", "1")]),
                "every key character",
            ),
            (vec!["t@v=1"], kv(&[("t@v", "1")]), "tenant@vendor"),
            (
                vec!["t@a@b=1"],
                kv(&[("t@a@b", "1")]),
                "several @ (Level 2)",
            ),
            (vec!["a@=1"], kv(&[("a@", "1")]), "@ last"),
            (
                vec!["t@abcdefghijklmn=1"],
                kv(&[("t@abcdefghijklmn", "1")]),
                "14-char vendor",
            ),
            (
                vec![&k256_member],
                Ok(vec![(k256.clone(), "v".to_owned())]),
                "256-char key",
            ),
            (vec![&k257_member], Err(E::Key), "257-char key"),
            (
                vec![&v256_member],
                Ok(vec![("k".to_owned(), v256.clone())]),
                "256-char value",
            ),
            (vec![&v257_member], Err(E::Value), "257-char value"),
            (
                vec![&m32],
                Ok((0..32).map(|i| (format!("k{i}"), "v".to_owned())).collect()),
                "32 members",
            ),
            (vec![&m33], Err(E::TooManyMembers), "33 members"),
            (
                vec![&m32, "x=1"],
                Err(E::TooManyMembers),
                "33 members over two lines",
            ),
            (vec!["A=1"], Err(E::Key), "uppercase key"),
            (vec!["_a=1"], Err(E::Key), "key starting with _"),
            (vec!["@a=1"], Err(E::Key), "key starting with @"),
            (vec!["a.b=1"], Err(E::Key), "dot in key"),
            (vec!["a =1"], Err(E::Key), "space before ="),
            (vec!["=1"], Err(E::Key), "empty key"),
            (vec!["a"], Err(E::Member), "no ="),
            (vec!["a="], Err(E::Value), "empty value"),
            (vec!["a=b=c"], Err(E::Value), "= in value"),
            (vec!["a=b\tc"], Err(E::Value), "tab in value"),
            (vec!["a=\u{e9}"], Err(E::Value), "non-ASCII value"),
            (vec!["a=1,a=2"], Err(E::DuplicateKey), "duplicate key"),
            (
                vec!["a=1", "a=2"],
                Err(E::DuplicateKey),
                "duplicate key over two lines",
            ),
            (
                vec!["a=1", "B=2"],
                Err(E::Key),
                "one invalid member drops all",
            ),
            (
                vec!["a=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~"],
                kv(&[("a", "!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~")]),
                "printable value characters",
            ),
        ];
        for (lines, want, why) in cases {
            assert_eq!(parse(&lines), want, "{why}: {lines:?}");
        }
    }

    #[test]
    fn header_is_normalized_and_exact() {
        let list = TraceStateList::parse([b" a=1 ,, b=2".as_slice(), b"c=3"]).expect("valid");
        let h = list.header().expect("some");
        assert_eq!(h, "a=1,b=2,c=3");
        assert_eq!(h.capacity(), h.len());
        assert_eq!(
            TraceStateList::parse([b"".as_slice()])
                .expect("valid")
                .header(),
            None
        );
    }

    #[test]
    fn otel_representability_table() {
        let cases = [
            ("a", true),
            ("t@v", true),
            ("t@abcdefghijklm", true),   // 13 after @
            ("t@abcdefghijklmn", false), // 14 after @: Level 1 allows it, TraceState does not
            ("t@a@b", false),
            ("t@_v", false),
            ("a@", true),
        ];
        for (key, want) in cases {
            assert_eq!(otel_accepts_key(key), want, "{key}");
            assert_eq!(
                TraceState::from_key_value([(key, "v")]).is_ok(),
                want,
                "TraceState disagrees on {key}"
            );
        }
    }

    proptest! {
        #[test]
        fn representability_matches_trace_state(key in "[a-z0-9][a-z0-9_*/@-]{0,40}") {
            prop_assert_eq!(
                otel_accepts_key(&key),
                TraceState::from_key_value([(key.as_str(), "v")]).is_ok()
            );
        }
    }

    fn sc(trace: u8, state: TraceState) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes([trace; 16]),
            SpanId::from_bytes([1; 8]),
            TraceFlags::SAMPLED,
            true,
            state,
        )
    }

    fn extracted(header: &str) -> (Context, TraceState) {
        let (state, preserved) = extract([header.as_bytes()], TraceId::from_bytes([1; 16]));
        let mut cx = Context::new();
        if let Some(p) = preserved {
            cx = cx.with_value(p);
        }
        let cx = cx.with_remote_span_context(sc(1, state.clone()));
        (cx, state)
    }

    #[test]
    fn unrepresentable_keys_survive_unchanged() {
        let header = "a=1,t@x@y=2,b=3,t@abcdefghijklmn=4";
        let (cx, state) = extracted(header);
        assert_eq!(state.header(), "a=1,b=3");
        assert!(has_preserved(&cx));
        let span = cx.span();
        assert_eq!(
            inject_header(&cx, span.span_context()).as_deref(),
            Some(header)
        );
    }

    #[test]
    fn a_changed_trace_state_keeps_the_members_it_cannot_hold() {
        let (cx, state) = extracted("a=1,t@x@y=2,b=3");
        let changed = state.insert("ot", "th:8").expect("valid");
        let child = sc(1, changed);
        assert_eq!(
            inject_header(&cx, &child).as_deref(),
            Some("ot=th:8,a=1,b=3,t@x@y=2")
        );
        // A span of another trace does not send the preserved members.
        let other = sc(2, state.clone());
        assert_eq!(inject_header(&cx, &other).as_deref(), Some("a=1,b=3"));
    }

    #[test]
    fn merged_lists_stay_within_32_members() {
        let mut header: Vec<String> = (0..31).map(|i| format!("k{i}=v")).collect();
        header.push("t@x@y=1".to_owned());
        let (cx, state) = extracted(&header.join(","));
        let changed = state.insert("new", "1").expect("valid");
        let out = inject_header(&cx, &sc(1, changed)).expect("some");
        let list = TraceStateList::parse([out.as_bytes()]).expect("valid");
        assert_eq!(list.len(), 32);
        assert_eq!(list.iter().next(), Some(("new", "1")));
    }

    #[test]
    fn representable_lists_are_not_kept_aside() {
        let (cx, state) = extracted("a=1,b=2");
        assert!(!has_preserved(&cx));
        assert_eq!(
            inject_header(&cx, &sc(1, state)).as_deref(),
            Some("a=1,b=2")
        );
    }

    #[test]
    fn invalid_or_empty_state_sends_nothing() {
        let (cx, state) = extracted("a=1,BAD=2");
        assert_eq!(state, TraceState::NONE);
        assert_eq!(inject_header(&cx, &sc(1, state)), None);
        let (cx, state) = extracted(" , ");
        assert_eq!(inject_header(&cx, &sc(1, state)), None);
    }

    #[test]
    fn api_members_that_are_not_valid_w3c_are_skipped() {
        // TraceState accepts values W3C does not (a trailing space, a tab).
        let state = TraceState::from_key_value([("a", "x "), ("b", "ok"), ("c", "t\tab")])
            .expect("TraceState accepts these");
        assert_eq!(
            inject_header(&Context::new(), &sc(1, state)).as_deref(),
            Some("b=ok")
        );
    }
}
