//! Strict lowercase hex decoding eight digits at a time in a `u64` ("SIMD within a register"):
//! the `traceparent` ids are 48 of the 55 characters of the header parsed on every request.

/// Bit 7 of every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// 1 in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Bit 7 set in each byte of `x` (all bytes < 0x80) that is at least `k` (`k` <= 0x80).
#[inline(always)]
const fn at_least(x: u64, k: u8) -> u64 {
    x.wrapping_add(ONES.wrapping_mul((0x80 - k) as u64)) & HIGH
}

/// Decodes the 8 digits at `digits[at..at + 8]` (little-endian load) into 4 bytes, returned as
/// a big-endian `u32`, and whether all 8 are lowercase hex digits. Branch-free, so a caller can
/// decode several words and check validity once.
#[inline(always)]
pub(crate) fn decode8(digits: [u8; 8]) -> (u32, bool) {
    let x = u64::from_le_bytes(digits);
    let ascii = x & HIGH == 0;
    let digit = at_least(x, b'0') & !at_least(x, b'9' + 1);
    let letter = at_least(x, b'a') & !at_least(x, b'f' + 1);
    let valid = ascii & (digit | letter == HIGH);
    // A digit's value is its low nibble; a letter's is its low nibble plus 9.
    let v = (x & 0x0f0f_0f0f_0f0f_0f0f) + (letter >> 7) * 9;
    // Pair the nibbles: each 16-bit lane gets (first << 4) | second in its low byte.
    let w = ((v & 0x00ff_00ff_00ff_00ff) << 4) | ((v >> 8) & 0x00ff_00ff_00ff_00ff);
    // Gather the four low bytes, first digit pair in the most significant byte.
    let le =
        (w & 0xff) | ((w >> 8) & 0xff00) | ((w >> 16) & 0x00ff_0000) | ((w >> 24) & 0xff00_0000);
    ((le as u32).swap_bytes(), valid)
}

/// Loads 8 bytes at `at` of a fixed-size array (bounds known at compile time at the call sites).
#[inline(always)]
pub(crate) fn load8<const L: usize>(v: &[u8; L], at: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&v[at..at + 8]);
    out
}

/// Decodes 32 lowercase hex digits at `at` into a `u128`.
#[inline(always)]
pub(crate) fn decode32<const L: usize>(v: &[u8; L], at: usize) -> Option<u128> {
    let (a, va) = decode8(load8(v, at));
    let (b, vb) = decode8(load8(v, at + 8));
    let (c, vc) = decode8(load8(v, at + 16));
    let (d, vd) = decode8(load8(v, at + 24));
    (va & vb & vc & vd).then_some(
        (u128::from(a) << 96) | (u128::from(b) << 64) | (u128::from(c) << 32) | u128::from(d),
    )
}

/// Decodes 16 lowercase hex digits at `at` into a `u64`.
#[inline(always)]
pub(crate) fn decode16<const L: usize>(v: &[u8; L], at: usize) -> Option<u64> {
    let (a, va) = decode8(load8(v, at));
    let (b, vb) = decode8(load8(v, at + 8));
    (va & vb).then_some((u64::from(a) << 32) | u64::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(d: &[u8]) -> Option<Vec<u8>> {
        match d.len() {
            32 => tracewire_core::hex::decode_lower::<16>(d).map(|a| a.to_vec()),
            16 => tracewire_core::hex::decode_lower::<8>(d).map(|a| a.to_vec()),
            8 => tracewire_core::hex::decode_lower::<4>(d).map(|a| a.to_vec()),
            _ => None,
        }
    }

    #[test]
    fn every_byte_in_every_position() {
        for pos in 0..8 {
            for b in 0u8..=255 {
                let mut d = *b"0123abcd";
                d[pos] = b;
                let (v, ok) = decode8(d);
                let want = table(&d);
                assert_eq!(ok, want.is_some(), "byte {b:#x} at {pos}");
                if let Some(want) = want {
                    assert_eq!(v.to_be_bytes().to_vec(), want);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_table_decoder(digits in proptest::collection::vec(any::<u8>(), 32)) {
            let arr: [u8; 32] = digits.clone().try_into().expect("32");
            prop_assert_eq!(decode32(&arr, 0).map(|v| v.to_be_bytes().to_vec()), table(&digits));
            prop_assert_eq!(decode16(&arr, 8).map(|v| v.to_be_bytes().to_vec()), table(&digits[8..24]));
        }

        #[test]
        fn agrees_on_hex_of_either_case(digits in "[0-9a-fA-F]{32}") {
            let arr: [u8; 32] = digits.as_bytes().try_into().expect("32");
            prop_assert_eq!(decode32(&arr, 0).map(|v| v.to_be_bytes().to_vec()), table(digits.as_bytes()));
        }
    }
}
