//! A keyed hasher for the worker's maps, whose keys are trace ids (random 128-bit numbers) or
//! their 64-bit fingerprints: one multiply per half instead of SipHash's rounds.
//!
//! Trace ids can come from upstream services (`traceparent`), so the hash is keyed with random
//! per-process keys: without them, colliding ids cannot be chosen in advance. The worker's maps
//! are the only users; a slower worker would drop spans at its queue, never block a request.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

const M1: u64 = 0x9e37_79b9_7f4a_7c15;
const M2: u64 = 0xc2b2_ae3d_27d4_eb4f;
const M3: u64 = 0x1656_67b1_9e37_79f9;

/// Builds [`IdHasher`]s with keys drawn once per map from the standard library's random source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdHashBuilder {
    k0: u64,
    k1: u64,
}

impl Default for IdHashBuilder {
    fn default() -> Self {
        let random = RandomState::new();
        Self {
            k0: random.hash_one(0x5eed_u64),
            k1: random.hash_one(0xface_u64) | 1,
        }
    }
}

impl BuildHasher for IdHashBuilder {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher {
            k0: self.k0,
            k1: self.k1,
            h: 0,
        }
    }
}

/// See the module docs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdHasher {
    k0: u64,
    k1: u64,
    h: u64,
}

impl IdHasher {
    #[inline]
    fn mix(&mut self, lo: u64, hi: u64) {
        let a = (lo ^ self.k0).wrapping_mul(M1);
        let b = (hi ^ self.k1 ^ self.h).wrapping_mul(M2);
        let x = a ^ b.rotate_left(31);
        self.h = (x ^ (x >> 29)).wrapping_mul(M3);
    }
}

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.h ^ (self.h >> 32)
    }

    #[inline]
    fn write_u128(&mut self, v: u128) {
        self.mix(v as u64, (v >> 64) as u64);
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v, 0);
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by the worker's keys; kept correct for any other.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word), chunk.len() as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn spreads_sequential_and_random_ids() {
        let b = IdHashBuilder::default();
        let buckets: HashSet<u64> = (0..10_000u128).map(|i| b.hash_one(i) & 0xffff).collect();
        assert!(buckets.len() > 8_000, "{}", buckets.len());
        let other = IdHashBuilder::default();
        assert_ne!(
            b.hash_one(42u128),
            other.hash_one(42u128),
            "keys differ per map"
        );
    }
}
