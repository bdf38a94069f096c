//! Lowercase hex encoding and strict decoding of trace ids, span ids and flags, without heap
//! allocation.
//!
//! Encoding returns small fixed-size values ([`TraceIdHex`], [`SpanIdHex`], [`FlagsHex`]) that
//! deref to `&str`. Decoding is strict in the way the W3C Trace Context specification asks:
//! exact length, lowercase hex digits only. Use [`decode_lenient`] for formats (B3, Jaeger) that
//! accept uppercase or shorter ids.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::TraceId;
//! use tracewire_core::hex;
//!
//! let id = hex::parse_trace_id(b"4bf92f3577b34da6a3ce929d0e0e4736").expect("valid");
//! assert_eq!(hex::trace_id(id).as_str(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! // Uppercase is not W3C hex.
//! assert!(hex::parse_trace_id(b"4BF92F3577B34DA6A3CE929D0E0E4736").is_none());
//! ```

use std::fmt;
use std::ops::Deref;

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Maps an ASCII byte to its value as a lowercase hex digit, or `0xff`.
const LOWER: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Maps an ASCII byte to its value as a hex digit of either case, or `0xff`.
const ANY_CASE: [u8; 256] = {
    let mut t = LOWER;
    let mut i = 0;
    while i < 6 {
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

macro_rules! hex_type {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The hex digits as a string slice.
            #[inline]
            #[allow(unsafe_code)]
            pub fn as_str(&self) -> &str {
                // SAFETY: the field is private and only ever written by `encode_into`, which
                // writes ASCII hex digits from `PAIRS`; ASCII is valid UTF-8. Skipping the
                // validation matters on the log-enrichment hot path (one call per field per
                // record).
                unsafe { std::str::from_utf8_unchecked(&self.0) }
            }

            /// The hex digits as bytes.
            #[inline]
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            #[inline]
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $name {
            #[inline]
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }
    };
}

hex_type!(
    /// A trace id as 32 lowercase hex digits.
    TraceIdHex,
    32
);
hex_type!(
    /// A span id as 16 lowercase hex digits.
    SpanIdHex,
    16
);
hex_type!(
    /// Trace flags as 2 lowercase hex digits (`"01"`, `"00"`, ...).
    FlagsHex,
    2
);

/// The two lowercase hex digits of every byte value, so encoding is one lookup per byte.
const PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    t
};

/// Writes `bytes` as lowercase hex into `out`; only the first `2 * bytes.len()` bytes of `out`
/// are written (fewer when `out` is shorter).
#[inline]
pub fn encode_into(bytes: &[u8], out: &mut [u8]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[*b as usize]);
    }
}

/// The 32-digit lowercase hex form of a trace id.
#[inline]
pub fn trace_id(id: TraceId) -> TraceIdHex {
    let mut out = [0u8; 32];
    encode_into(&id.to_bytes(), &mut out);
    TraceIdHex(out)
}

/// The 16-digit lowercase hex form of a span id.
#[inline]
pub fn span_id(id: SpanId) -> SpanIdHex {
    let mut out = [0u8; 16];
    encode_into(&id.to_bytes(), &mut out);
    SpanIdHex(out)
}

/// The 2-digit lowercase hex form of trace flags.
#[inline]
pub fn flags(flags: TraceFlags) -> FlagsHex {
    let mut out = [0u8; 2];
    encode_into(&[flags.to_u8()], &mut out);
    FlagsHex(out)
}

/// Decodes exactly `N * 2` lowercase hex digits into `N` bytes.
#[inline]
pub fn decode_lower<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    decode_with::<N>(digits, &LOWER)
}

/// Decodes exactly `N * 2` hex digits of either case into `N` bytes.
#[inline]
pub fn decode_any_case<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    decode_with::<N>(digits, &ANY_CASE)
}

#[inline]
fn decode_with<const N: usize>(digits: &[u8], table: &[u8; 256]) -> Option<[u8; N]> {
    if digits.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0u8;
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let hi = table[pair[0] as usize];
        let lo = table[pair[1] as usize];
        bad |= hi | lo;
        out[i] = (hi << 4) | (lo & 0x0f);
    }
    // Valid digits are < 16, the marker is 0xff: any marker sets the high bits.
    (bad & 0xf0 == 0).then_some(out)
}

/// Decodes up to `N * 2` hex digits of either case, right-aligned (left-padded with zeros), as
/// B3 and Jaeger allow for shorter ids. Empty input and input longer than `N * 2` digits are
/// rejected.
pub fn decode_lenient<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.is_empty() || digits.len() > N * 2 {
        return None;
    }
    let mut padded = [b'0'; 64];
    let width = N * 2;
    if width > padded.len() {
        return None;
    }
    padded[width - digits.len()..width].copy_from_slice(digits);
    decode_any_case::<N>(&padded[..width])
}

/// Parses a W3C trace id: exactly 32 lowercase hex digits, not all zero.
#[inline]
pub fn parse_trace_id(digits: &[u8]) -> Option<TraceId> {
    let id = TraceId::from_bytes(decode_lower::<16>(digits)?);
    (id != TraceId::INVALID).then_some(id)
}

/// Parses a W3C span (parent) id: exactly 16 lowercase hex digits, not all zero.
#[inline]
pub fn parse_span_id(digits: &[u8]) -> Option<SpanId> {
    let id = SpanId::from_bytes(decode_lower::<8>(digits)?);
    (id != SpanId::INVALID).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lowercase() {
        let id = TraceId::from_bytes([
            0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
            0x47, 0x36,
        ]);
        assert_eq!(trace_id(id).as_str(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            span_id(SpanId::from_bytes([
                0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7
            ]))
            .as_str(),
            "00f067aa0ba902b7"
        );
        assert_eq!(flags(TraceFlags::new(0x03)).as_str(), "03");
        assert_eq!(format!("{}", flags(TraceFlags::SAMPLED)), "01");
    }

    #[test]
    fn strict_decoding_table() {
        let cases: &[(&[u8], bool)] = &[
            (b"4bf92f3577b34da6a3ce929d0e0e4736", true),
            (b"4bf92f3577b34da6a3ce929d0e0e473", false),
            (b"4bf92f3577b34da6a3ce929d0e0e47366", false),
            (b"4BF92F3577B34DA6A3CE929D0E0E4736", false),
            (b"4bf92f3577b34da6a3ce929d0e0e473g", false),
            (b"00000000000000000000000000000000", false),
            (b"4bf92f3577b34da6a3ce929d0e0e47 6", false),
            (b"", false),
        ];
        for (input, ok) in cases {
            assert_eq!(
                parse_trace_id(input).is_some(),
                *ok,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert!(parse_span_id(b"0000000000000000").is_none());
        assert!(parse_span_id(b"00f067aa0ba902b7").is_some());
        assert!(parse_span_id(b"00F067AA0BA902B7").is_none());
    }

    #[test]
    fn lenient_decoding_pads_and_accepts_uppercase() {
        assert_eq!(decode_lenient::<8>(b"A"), Some([0, 0, 0, 0, 0, 0, 0, 0x0a]));
        assert_eq!(decode_lenient::<2>(b"fFfF"), Some([0xff, 0xff]));
        assert_eq!(decode_lenient::<2>(b"fffff"), None);
        assert_eq!(decode_lenient::<2>(b""), None);
        assert_eq!(decode_lenient::<2>(b"zz"), None);
    }

    #[test]
    fn every_byte_value_is_handled() {
        for b in 0u8..=255 {
            let input = [b, b'0'];
            let lower = decode_lower::<1>(&input);
            assert_eq!(
                lower.is_some(),
                b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
            );
            let any = decode_any_case::<1>(&input);
            assert_eq!(any.is_some(), b.is_ascii_hexdigit());
        }
    }
}
