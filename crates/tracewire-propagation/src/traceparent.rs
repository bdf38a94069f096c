//! The W3C `traceparent` header: strict parsing (Level 1 and Level 2) and formatting.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::TraceFlags;
//! use tracewire_propagation::traceparent::{TraceParent, TraceParentError};
//!
//! let tp = TraceParent::parse(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")?;
//! assert_eq!(tp.flags, TraceFlags::new(0x03)); // sampled + random (Level 2)
//! assert_eq!(tp.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
//!
//! // A future version may append fields; they are ignored and version 00 is sent on.
//! let future = TraceParent::parse(b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-81-future")?;
//! assert_eq!(future.flags, TraceFlags::SAMPLED); // unknown flag bits are zeroed
//! assert!(future.to_string().starts_with("00-"));
//!
//! assert_eq!(
//!     TraceParent::parse(b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
//!     Err(TraceParentError::TraceId)
//! );
//! # Ok::<(), TraceParentError>(())
//! ```
//!
//! # Rules
//!
//! From [Trace Context](https://www.w3.org/TR/trace-context/#traceparent-header) and
//! [Trace Context Level 2](https://www.w3.org/TR/trace-context-2/#traceparent-header):
//!
//! - optional white space (spaces and tabs) around the value is not part of it;
//! - `version` is two lowercase hex digits and `ff` is invalid;
//! - version `00` is exactly 55 characters;
//! - a higher version is at least 55 characters, and if longer, character 56 is `-` (and the
//!   rest ASCII); only the version-00 fields are read from it;
//! - `trace-id` is 32 and `parent-id` 16 lowercase hex digits, neither all zeros;
//! - `trace-flags` is two lowercase hex digits; the sampled (`0x01`) and random (`0x02`, Level 2)
//!   flags are kept and every other bit is zeroed, since the specification asks vendors to set
//!   unknown flags to zero;
//! - the header is always sent as version `00`, lowercase.
//!
//! That exactly one `traceparent` header must be present (none, or two or more, means no
//! parent) is enforced by [`TraceContextPropagator`](crate::TraceContextPropagator).

use std::fmt;

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use tracewire_core::hex;

use crate::swar;

/// The random trace flag of Trace Context Level 2: the trace id's rightmost 7 bytes are random.
pub const RANDOM: TraceFlags = TraceFlags::new(0x02);

/// The trace flags tracewire keeps from a `traceparent`: sampled and random.
pub const KNOWN_FLAGS: u8 = 0x03;

/// Length of a version-00 `traceparent`.
pub const LEN: usize = 55;

/// A parsed `traceparent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace id (never all zeros).
    pub trace_id: TraceId,
    /// The caller's span id (never all zeros).
    pub parent_id: SpanId,
    /// The trace flags, only sampled (`0x01`) and random (`0x02`) kept.
    pub flags: TraceFlags,
}

/// Why a `traceparent` value was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceParentError {
    /// Shorter than 55 characters.
    #[error("traceparent is shorter than 55 characters")]
    TooShort,
    /// The version is not two lowercase hex digits followed by `-`, or is `ff`.
    #[error("traceparent version is not two lowercase hex digits other than ff, followed by '-'")]
    Version,
    /// Version `00` with anything after the flags.
    #[error("a version 00 traceparent is longer than 55 characters")]
    TrailingData,
    /// A higher version whose 56th character is not `-`, or with non-ASCII bytes after it.
    #[error(
        "the flags of a higher-version traceparent are not followed by '-', or are followed by non-ASCII bytes"
    )]
    FutureFormat,
    /// A field separator is not `-`.
    #[error("traceparent fields are not separated by '-'")]
    Separator,
    /// The trace id is not 32 lowercase hex digits or is all zeros.
    #[error("traceparent trace-id is not 32 lowercase hex digits, or is all zeros")]
    TraceId,
    /// The parent id is not 16 lowercase hex digits or is all zeros.
    #[error("traceparent parent-id is not 16 lowercase hex digits, or is all zeros")]
    ParentId,
    /// The flags are not two lowercase hex digits.
    #[error("traceparent trace-flags are not two lowercase hex digits")]
    Flags,
}

impl TraceParent {
    /// A `traceparent` for the given ids; flags other than sampled and random are zeroed.
    pub fn new(trace_id: TraceId, parent_id: SpanId, flags: TraceFlags) -> Self {
        Self {
            trace_id,
            parent_id,
            flags: TraceFlags::new(flags.to_u8() & KNOWN_FLAGS),
        }
    }

    /// Parses a `traceparent` value by the rules in the [module docs](self).
    ///
    /// # Errors
    ///
    /// [`TraceParentError`] says which rule the value broke.
    pub fn parse(value: &[u8]) -> Result<Self, TraceParentError> {
        let v = trim_ows(value);
        let Some(h) = v.first_chunk::<LEN>() else {
            return Err(TraceParentError::TooShort);
        };
        let [version] = hex::decode_lower::<1>(&h[0..2]).ok_or(TraceParentError::Version)?;
        if version == 0xff || h[2] != b'-' {
            return Err(TraceParentError::Version);
        }
        if v.len() > LEN {
            if version == 0 {
                return Err(TraceParentError::TrailingData);
            }
            // The fields of a future version are not parsed, but a header value is ASCII (so the
            // value reads the same through every carrier).
            if v[LEN] != b'-' || !v[LEN..].is_ascii() {
                return Err(TraceParentError::FutureFormat);
            }
        }
        if h[35] != b'-' || h[52] != b'-' {
            return Err(TraceParentError::Separator);
        }
        let trace_id = swar::decode32(h, 3)
            .filter(|id| *id != 0)
            .ok_or(TraceParentError::TraceId)?;
        let parent_id = swar::decode16(h, 36)
            .filter(|id| *id != 0)
            .ok_or(TraceParentError::ParentId)?;
        let [flags] = hex::decode_lower::<1>(&h[53..55]).ok_or(TraceParentError::Flags)?;
        Ok(Self {
            trace_id: TraceId::from(trace_id),
            parent_id: SpanId::from(parent_id),
            flags: TraceFlags::new(flags & KNOWN_FLAGS),
        })
    }

    /// The version-00 header value, 55 lowercase characters.
    pub fn to_bytes(&self) -> [u8; LEN] {
        let mut out = [0u8; LEN];
        out[0] = b'0';
        out[1] = b'0';
        out[2] = b'-';
        hex::encode_into(&self.trace_id.to_bytes(), &mut out[3..35]);
        out[35] = b'-';
        hex::encode_into(&self.parent_id.to_bytes(), &mut out[36..52]);
        out[52] = b'-';
        hex::encode_into(&[self.flags.to_u8() & KNOWN_FLAGS], &mut out[53..55]);
        out
    }

    /// The version-00 header value as a `String` of exactly 55 bytes' capacity (so turning it
    /// into a header value does not copy or re-allocate).
    pub fn to_header(&self) -> String {
        let bytes = self.to_bytes();
        let mut s = String::with_capacity(LEN);
        // Every byte is an ASCII hex digit or '-'.
        s.push_str(std::str::from_utf8(&bytes).unwrap_or_default());
        s
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        f.write_str(std::str::from_utf8(&bytes).unwrap_or_default())
    }
}

/// Trims optional white space (spaces and horizontal tabs) on both sides.
#[inline]
pub(crate) fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// `start..end` within `bytes` with optional white space trimmed on both sides: the bounds
/// [`trim_ows`] would give, for callers that keep positions in a larger line.
#[inline]
pub(crate) fn ows_bounds(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    while end > start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TraceParentError as E;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    fn ok(flags: u8) -> Result<TraceParent, TraceParentError> {
        Ok(TraceParent {
            trace_id: TraceId::from_hex(TRACE).expect("hex"),
            parent_id: SpanId::from_hex(SPAN).expect("hex"),
            flags: TraceFlags::new(flags),
        })
    }

    #[test]
    fn parsing_table() {
        let cases: Vec<(String, Result<TraceParent, TraceParentError>, &str)> = vec![
            (format!("00-{TRACE}-{SPAN}-01"), ok(1), "sampled"),
            (format!("00-{TRACE}-{SPAN}-00"), ok(0), "not sampled"),
            (
                format!("00-{TRACE}-{SPAN}-02"),
                ok(2),
                "random flag kept (Level 2)",
            ),
            (format!("00-{TRACE}-{SPAN}-03"), ok(3), "sampled and random"),
            (
                format!("00-{TRACE}-{SPAN}-ff"),
                ok(3),
                "unknown flags zeroed",
            ),
            (
                format!("00-{TRACE}-{SPAN}-08"),
                ok(0),
                "unknown flag zeroed",
            ),
            (format!(" \t00-{TRACE}-{SPAN}-01 \t"), ok(1), "OWS trimmed"),
            (
                format!("00-{TRACE}-{SPAN}-01-"),
                Err(E::TrailingData),
                "v00 longer than 55",
            ),
            (
                format!("00-{TRACE}-{SPAN}-01x"),
                Err(E::TrailingData),
                "v00 trailing char",
            ),
            (format!("00-{TRACE}-{SPAN}-0"), Err(E::TooShort), "54 chars"),
            (String::new(), Err(E::TooShort), "empty"),
            (
                format!("01-{TRACE}-{SPAN}-01"),
                ok(1),
                "higher version, 55 chars",
            ),
            (
                format!("cc-{TRACE}-{SPAN}-01-what-the-future-holds"),
                ok(1),
                "higher version with more fields",
            ),
            (
                format!("cc-{TRACE}-{SPAN}-01-"),
                ok(1),
                "higher version, dash then nothing",
            ),
            (
                format!("cc-{TRACE}-{SPAN}-01.what"),
                Err(E::FutureFormat),
                "higher version, no dash after flags",
            ),
            (format!("fe-{TRACE}-{SPAN}-09"), ok(1), "version fe"),
            (
                format!("ff-{TRACE}-{SPAN}-01"),
                Err(E::Version),
                "version ff",
            ),
            (
                format!("0A-{TRACE}-{SPAN}-01"),
                Err(E::Version),
                "uppercase version",
            ),
            (
                format!("0g-{TRACE}-{SPAN}-01"),
                Err(E::Version),
                "non-hex version",
            ),
            (
                format!("000{TRACE}-{SPAN}-01"),
                Err(E::Version),
                "no dash after version",
            ),
            (
                format!("00-{TRACE}x{SPAN}-01"),
                Err(E::Separator),
                "bad separator 1",
            ),
            (
                format!("00-{TRACE}-{SPAN}x01"),
                Err(E::Separator),
                "bad separator 2",
            ),
            (
                format!("00-{}-{SPAN}-01", TRACE.to_uppercase()),
                Err(E::TraceId),
                "uppercase trace id",
            ),
            (
                format!("00-{}-{SPAN}-01", "0".repeat(32)),
                Err(E::TraceId),
                "zero trace id",
            ),
            (
                format!("00-{}g-{SPAN}-01", &TRACE[..31]),
                Err(E::TraceId),
                "non-hex trace id",
            ),
            (
                format!("00-{TRACE}-{}-01", SPAN.to_uppercase()),
                Err(E::ParentId),
                "uppercase parent id",
            ),
            (
                format!("00-{TRACE}-{}-01", "0".repeat(16)),
                Err(E::ParentId),
                "zero parent id",
            ),
            (
                format!("00-{TRACE}-{SPAN}-0A"),
                Err(E::Flags),
                "uppercase flags",
            ),
            (
                format!("00-{TRACE}-{SPAN}-zz"),
                Err(E::Flags),
                "non-hex flags",
            ),
            (
                format!("00-{TRACE}0-{}-01", &SPAN[1..]),
                Err(E::Separator),
                "field lengths shifted",
            ),
        ];
        for (input, want, why) in cases {
            assert_eq!(
                TraceParent::parse(input.as_bytes()),
                want,
                "{why}: {input:?}"
            );
        }
    }

    #[test]
    fn formats_version_00_lowercase() {
        let tp = TraceParent::new(
            TraceId::from_hex(TRACE).expect("hex"),
            SpanId::from_hex(SPAN).expect("hex"),
            TraceFlags::new(0xff),
        );
        let header = tp.to_header();
        assert_eq!(header, format!("00-{TRACE}-{SPAN}-03"));
        assert_eq!(header.capacity(), LEN);
        assert_eq!(tp.to_string(), header);
        assert_eq!(TraceParent::parse(header.as_bytes()), Ok(tp));
    }

    #[test]
    fn trims_only_spaces_and_tabs() {
        assert_eq!(trim_ows(b" \ta b\t "), b"a b");
        assert_eq!(trim_ows(b"\n x"), b"\n x");
        assert_eq!(trim_ows(b"   "), b"");
    }
}
