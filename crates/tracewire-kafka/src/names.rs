//! Process-wide interned names derived from topics (`send orders`, `process orders`, the topic as
//! an attribute value), client attribute values and partition ids as strings, so the hot path
//! neither allocates nor reference-counts them for every message.
//!
//! A service talks to a handful of topics: the first [`MAX_TOPICS`] distinct topics are interned
//! for the life of the process (a few kilobytes at most); beyond that, names are allocated per
//! message as before, so a service with unbounded topic names cannot grow memory without bound.
//! Each thread keeps the last few topics it used in front of the shared map, so a send finds its
//! topic without a lock or a hash of the name. Client values (broker host, client id, consumer
//! group) are interned the same way, up to [`MAX_VALUES`].

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use opentelemetry::{StringValue, Value};

/// How many distinct topics are interned.
const MAX_TOPICS: usize = 1024;

/// How many distinct client attribute values are interned.
const MAX_VALUES: usize = 1024;

/// Partition ids below this are pre-formatted.
const STATIC_PARTITIONS: i32 = 1024;

/// Topics each thread remembers in front of the shared map.
const RECENT: usize = 8;

/// The names derived from one topic.
#[derive(Debug)]
pub(crate) struct TopicNames {
    pub(crate) topic: &'static str,
    pub(crate) send: &'static str,
    pub(crate) process: &'static str,
    pub(crate) poll: &'static str,
}

fn cache() -> &'static RwLock<HashMap<&'static str, &'static TopicNames>> {
    static CACHE: OnceLock<RwLock<HashMap<&'static str, &'static TopicNames>>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

thread_local! {
    /// The topics this thread used last, by a cheap hash of the name.
    static RECENT_TOPICS: [Cell<Option<&'static TopicNames>>; RECENT] =
        const { [const { Cell::new(None) }; RECENT] };
}

/// The slot of `topic` among the recent topics: its length and last byte are enough to tell a
/// service's few topics apart most of the time, and a collision only costs a shared-map lookup.
fn recent_slot(topic: &str) -> usize {
    let last = topic.as_bytes().last().copied().unwrap_or(0);
    (topic.len().wrapping_mul(31) ^ usize::from(last)) % RECENT
}

/// The interned names of `topic`, or `None` when the cache is full.
pub(crate) fn topic(topic: &str) -> Option<&'static TopicNames> {
    let slot = recent_slot(topic);
    if let Ok(Some(names)) = RECENT_TOPICS.try_with(|r| r[slot].get())
        && names.topic == topic
    {
        return Some(names);
    }
    let names = shared_topic(topic)?;
    let _ = RECENT_TOPICS.try_with(|r| r[slot].set(Some(names)));
    Some(names)
}

fn shared_topic(topic: &str) -> Option<&'static TopicNames> {
    let cache = cache();
    if let Ok(map) = cache.read()
        && let Some(names) = map.get(topic)
    {
        return Some(names);
    }
    let mut map = cache.write().ok()?;
    if let Some(names) = map.get(topic) {
        return Some(names);
    }
    if map.len() >= MAX_TOPICS {
        return None;
    }
    let names: &'static TopicNames = Box::leak(Box::new(TopicNames {
        topic: leak(topic.to_owned()),
        send: leak(format!("send {topic}")),
        process: leak(format!("process {topic}")),
        poll: leak(format!("poll {topic}")),
    }));
    map.insert(names.topic, names);
    Some(names)
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A topic looked up once for everything a span or metric takes from it: its interned names
/// (the usual case) or, past the interning limit, its own string.
#[derive(Debug)]
pub(crate) enum Topic {
    Interned(&'static TopicNames),
    Owned(StringValue),
}

impl Topic {
    pub(crate) fn of(topic: &str) -> Self {
        match self::topic(topic) {
            Some(n) => Self::Interned(n),
            None => Self::Owned(StringValue::from(topic.to_owned())),
        }
    }

    /// The topic as an attribute value.
    pub(crate) fn value(&self) -> StringValue {
        match self {
            Self::Interned(n) => StringValue::from(n.topic),
            Self::Owned(s) => s.clone(),
        }
    }

    /// `{operation} {topic}` as a span name.
    pub(crate) fn span_name(&self, operation: &'static str) -> Cow<'static, str> {
        match (self, operation) {
            (Self::Interned(n), "send") => Cow::Borrowed(n.send),
            (Self::Interned(n), "process") => Cow::Borrowed(n.process),
            (Self::Interned(n), "poll") => Cow::Borrowed(n.poll),
            (Self::Interned(n), _) => Cow::Owned(format!("{operation} {}", n.topic)),
            (Self::Owned(s), _) => Cow::Owned(format!("{operation} {}", s.as_str())),
        }
    }
}

/// A client attribute value (broker host, client id, consumer group) as a static string while
/// fewer than [`MAX_VALUES`] distinct ones exist, so cloning it per span or metric point touches
/// no reference count; a shared string beyond that.
pub(crate) fn intern(value: &str) -> StringValue {
    static VALUES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let values = VALUES.get_or_init(|| Mutex::new(HashSet::new()));
    if let Ok(mut set) = values.lock() {
        if let Some(s) = set.get(value) {
            return StringValue::from(*s);
        }
        if set.len() < MAX_VALUES {
            let s = leak(value.to_owned());
            set.insert(s);
            return StringValue::from(s);
        }
    }
    StringValue::from(Arc::<str>::from(value))
}

/// The partition id as the string `messaging.destination.partition.id` wants.
pub(crate) fn partition(partition: i32) -> Value {
    static TABLE: OnceLock<Box<[&'static str]>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..STATIC_PARTITIONS)
            .map(|p| leak(p.to_string()))
            .collect()
    });
    // A negative id wraps to a huge index and misses the table like a large one.
    match table.get(partition as u32 as usize) {
        Some(s) => Value::String(StringValue::from(*s)),
        None => {
            let mut buf = itoa::Buffer::new();
            Value::String(buf.format(partition).to_owned().into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_names() {
        let a = topic("orders").expect("interned");
        let b = topic("orders").expect("interned");
        assert!(std::ptr::eq(a, b));
        assert_eq!(a.send, "send orders");
        assert_eq!(Topic::of("orders").span_name("process"), "process orders");
        assert_eq!(Topic::of("orders").span_name("commit"), "commit orders");
        assert_eq!(Topic::of("orders").value().as_str(), "orders");
        // Topics sharing a recent slot (same length, same last byte) still resolve correctly.
        for _ in 0..2 {
            for t in ["ab-1", "cd-1", "orders"] {
                assert_eq!(topic(t).map(|n| n.topic), Some(t));
                assert_eq!(Topic::of(t).span_name("send"), format!("send {t}"));
            }
        }
    }

    #[test]
    fn interned_values() {
        let a = intern("broker-1.internal");
        let b = intern("broker-1.internal");
        assert_eq!(a.as_str(), "broker-1.internal");
        assert!(std::ptr::eq(a.as_str(), b.as_str()), "one string for both");
    }

    #[test]
    fn partitions() {
        for p in [0, 1, 1023, 1024, 99_999, -1, i32::MIN] {
            assert_eq!(partition(p), Value::String(p.to_string().into()));
        }
    }
}
