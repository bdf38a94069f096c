//! The Collector's trace-id hash: FNV-1a 64 over the salt then the trace id, compared with a
//! threshold computed exactly as Go's `math/big` computes it.
//!
//! A service and a Collector tier configured with the same salt and percentage keep exactly the
//! same traces; `tests/tail_probabilistic.rs` checks the count over 100 000 synthetic ids.

use opentelemetry::trace::TraceId;

/// The salt the Collector uses when `hash_salt` is empty (`defaultHashSalt` in its
/// `internal/sampling/probabilistic.go`).
pub const DEFAULT_HASH_SALT: &str = "default-hash-seed";

/// The salt of the `sampling_percentage` extension under `status_code` and `latency` (see
/// [`crate::tail`]): a draw independent of `probabilistic` policies with the default salt, so that
/// policies combine (50% of slow traces ∪ 5% of all traces keeps 52.5% of slow traces).
pub const SAMPLING_PERCENTAGE_SALT: &str = "tracewire-sampling-percentage";

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 of `bytes`, continuing from `state` (start with [`fnv1a64`]'s offset basis).
#[inline]
fn fnv1a64_continue(mut state: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        state ^= u64::from(b);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

/// FNV-1a 64 of `bytes` (the `hash/fnv` `New64a` hash of Go's standard library).
///
/// ```
/// use tracewire_sdk::tail::fnv1a64;
///
/// assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
/// assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_continue(FNV_OFFSET, bytes)
}

/// The Collector's `hashTraceID(salt, traceID)`: FNV-1a 64 over the salt's bytes, then the 16
/// bytes of the trace id (big-endian, as on the wire).
pub fn hash_trace_id(salt: &str, trace_id: TraceId) -> u64 {
    let state = fnv1a64_continue(FNV_OFFSET, salt.as_bytes());
    fnv1a64_continue(state, &trace_id.to_bytes())
}

/// A pre-hashed salt: hashing a trace id then costs 16 multiplications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaltedHasher {
    state: u64,
}

impl SaltedHasher {
    pub(crate) fn new(salt: &str) -> Self {
        let salt = if salt.is_empty() {
            DEFAULT_HASH_SALT
        } else {
            salt
        };
        Self {
            state: fnv1a64_continue(FNV_OFFSET, salt.as_bytes()),
        }
    }

    #[inline]
    pub(crate) fn hash(&self, trace_id: TraceId) -> u64 {
        fnv1a64_continue(self.state, &trace_id.to_bytes())
    }
}

/// The Collector's `calculateThreshold(samplingPercentage / 100)`: `MaxUint64 × ratio` computed
/// as Go's `big.Float` does (the product rounded to a 64-bit mantissa, nearest-even, then
/// truncated to an integer), so thresholds agree to the last unit. A trace is sampled when its
/// hash is `<=` the threshold. Ratios at or above 1 give `u64::MAX`; zero, negative or NaN ratios
/// give 0.
///
/// ```
/// use tracewire_sdk::tail::threshold_for_ratio;
///
/// assert_eq!(threshold_for_ratio(1.0), u64::MAX);
/// assert_eq!(threshold_for_ratio(0.5), u64::MAX / 2);
/// assert_eq!(threshold_for_ratio(0.0), 0);
/// ```
pub fn threshold_for_ratio(ratio: f64) -> u64 {
    if ratio.is_nan() || ratio <= 0.0 {
        return 0;
    }
    if ratio.is_infinite() {
        return u64::MAX;
    }
    // ratio = mantissa × 2^exp, exactly.
    let bits = ratio.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if raw_exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), raw_exp - 1075)
    };
    // The exact product (2^64 - 1) × mantissa fits in 117 bits.
    let product = u128::from(u64::MAX) * u128::from(mantissa);
    let width = 128 - product.leading_zeros() as i32;
    // Round to 64 significant bits, ties to even (big.Float's default mode).
    let (mut q, mut shift) = if width > 64 {
        let shift = width - 64;
        let q = product >> shift;
        let rem = product & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let q = if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        };
        (q, shift)
    } else {
        (product, 0)
    };
    if q == 1u128 << 64 {
        q >>= 1;
        shift += 1;
    }
    // Value = q × 2^(shift + exp); Uint64() truncates toward zero and saturates.
    let e = shift + exp;
    if e >= 0 {
        if e >= 64 || (q << e) > u128::from(u64::MAX) {
            u64::MAX
        } else {
            (q << e) as u64
        }
    } else if -e >= 128 {
        0
    } else {
        (q >> (-e)) as u64
    }
}

/// The threshold for a percentage (`sampling_percentage`), as the Collector computes it.
pub(crate) fn threshold_for_percentage(percentage: f64) -> u64 {
    threshold_for_ratio(percentage / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_vectors() {
        // From the FNV reference test suite (also the `fnv` crate's tests).
        let cases: &[(&[u8], u64)] = &[
            (b"", 0xcbf29ce484222325),
            (b"a", 0xaf63dc4c8601ec8c),
            (b"b", 0xaf63df4c8601f1a5),
            (b"foobar", 0x85944171f73967e8),
            (b"\0", 0xaf63bd4c8601b7df),
            (b"a\0", 0x089be207b544f1e4),
        ];
        for (input, want) in cases {
            assert_eq!(fnv1a64(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn salted_hash_is_fnv_of_salt_then_id() {
        let id = TraceId::from_bytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        let mut bytes = DEFAULT_HASH_SALT.as_bytes().to_vec();
        bytes.extend_from_slice(&id.to_bytes());
        assert_eq!(hash_trace_id(DEFAULT_HASH_SALT, id), fnv1a64(&bytes));
        assert_eq!(SaltedHasher::new("").hash(id), fnv1a64(&bytes));
        assert_ne!(SaltedHasher::new("other").hash(id), fnv1a64(&bytes));
    }

    #[test]
    fn thresholds_match_big_float() {
        // Values computed by hand from the exact product rounded to 64 bits.
        assert_eq!(threshold_for_ratio(1.0), u64::MAX);
        assert_eq!(threshold_for_ratio(2.0), u64::MAX);
        assert_eq!(threshold_for_ratio(0.5), (1u64 << 63) - 1);
        assert_eq!(threshold_for_ratio(0.25), (1u64 << 62) - 1);
        assert_eq!(threshold_for_ratio(-1.0), 0);
        assert_eq!(threshold_for_ratio(f64::NAN), 0);
        // 0.05 is not dyadic: the f64 is 0.05000000000000000277..., and the result is within
        // one unit of the exact floor of (2^64 - 1) times that f64 (0x1999999999999a × 2^-57).
        let exact = ((u128::from(u64::MAX) * 0x0019_9999_9999_999a) >> 57) as u64;
        let t = threshold_for_ratio(0.05);
        assert!(t.abs_diff(exact) <= 1, "{t} vs {exact}");
        assert_eq!(t, 922_337_203_685_477_631);
        // Monotone in the ratio.
        let mut last = 0;
        for p in 0..=1000 {
            let t = threshold_for_percentage(f64::from(p) / 10.0);
            assert!(t >= last);
            last = t;
        }
        assert_eq!(last, u64::MAX);
    }
}
