//! The decision caches: bounded sets of recently decided trace ids, so that spans arriving after
//! their trace's decision follow it.
//!
//! The Collector uses LRU caches; this one forgets the oldest insertion first (FIFO) and stores a
//! 64-bit fingerprint of the trace id with the decision's time, about 30 bytes an entry. With
//! caches sized well above `num_traces` (the default is 10×), the two orders forget the same
//! traces in practice: an entry leaves after that many later decisions either way.

use std::collections::{HashMap, VecDeque};

use opentelemetry::trace::TraceId;

use super::idhash::IdHashBuilder;

/// A bounded set of decided trace ids with the second (since the processor started) of their
/// decision.
#[derive(Debug)]
pub(crate) struct DecisionCache {
    capacity: usize,
    map: HashMap<u64, u32, IdHashBuilder>,
    order: VecDeque<u64>,
}

/// Trace ids are random, so folding the two halves keeps them well spread; a collision between
/// two of the cached ids (one in 2^64 per pair) would make a late span follow the other trace's
/// decision, which is harmless.
fn fingerprint(id: TraceId) -> u64 {
    let v = u128::from_be_bytes(id.to_bytes());
    (v as u64) ^ ((v >> 64) as u64).rotate_left(17)
}

impl DecisionCache {
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            map: HashMap::with_hasher(IdHashBuilder::default()),
            order: VecDeque::new(),
        }
    }

    pub(crate) fn insert(&mut self, id: TraceId, second: u32) {
        if self.capacity == 0 {
            return;
        }
        let key = fingerprint(id);
        if self.map.insert(key, second).is_some() {
            return;
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.map.remove(&old);
        }
        self.order.push_back(key);
    }

    /// The second of the decision, if the trace is cached.
    pub(crate) fn get(&self, id: TraceId) -> Option<u32> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(&fingerprint(id)).copied()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Bytes held (the map's buckets and the order ring).
    pub(crate) fn bytes(&self) -> u64 {
        (self.map.capacity() * (std::mem::size_of::<(u64, u32)>() + 1)
            + self.order.capacity() * std::mem::size_of::<u64>()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_first() {
        let mut c = DecisionCache::new(3);
        for i in 1..=4u128 {
            c.insert(TraceId::from(i), i as u32);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(TraceId::from(1u128)), None);
        assert_eq!(c.get(TraceId::from(4u128)), Some(4));
        c.insert(TraceId::from(4u128), 9);
        assert_eq!(c.len(), 3, "re-inserting does not grow");
        let mut off = DecisionCache::new(0);
        off.insert(TraceId::from(1u128), 0);
        assert_eq!(off.get(TraceId::from(1u128)), None);
    }
}
