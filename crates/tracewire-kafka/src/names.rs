//! Process-wide interned names derived from topics (`send orders`, `process orders`, the topic as
//! an attribute value) and partition ids as strings, so the hot path does not allocate them for
//! every message.
//!
//! A service talks to a handful of topics: the first [`MAX_TOPICS`] distinct topics are interned
//! for the life of the process (a few kilobytes at most); beyond that, names are allocated per
//! message as before, so a service with unbounded topic names cannot grow memory without bound.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use opentelemetry::{StringValue, Value};

/// How many distinct topics are interned.
const MAX_TOPICS: usize = 1024;

/// Partition ids below this are pre-formatted.
const STATIC_PARTITIONS: i32 = 1024;

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

/// The interned names of `topic`, or `None` when the cache is full.
pub(crate) fn topic(topic: &str) -> Option<&'static TopicNames> {
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
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let names: &'static TopicNames = Box::leak(Box::new(TopicNames {
        topic: leak(topic.to_owned()),
        send: leak(format!("send {topic}")),
        process: leak(format!("process {topic}")),
        poll: leak(format!("poll {topic}")),
    }));
    map.insert(names.topic, names);
    Some(names)
}

/// The topic as an attribute value.
pub(crate) fn topic_value(topic: &str) -> StringValue {
    match self::topic(topic) {
        Some(n) => StringValue::from(n.topic),
        None => StringValue::from(topic.to_owned()),
    }
}

/// `{operation} {topic}` as a span name.
pub(crate) fn span_name(operation: &'static str, topic: &str) -> Cow<'static, str> {
    match (self::topic(topic), operation) {
        (Some(n), "send") => Cow::Borrowed(n.send),
        (Some(n), "process") => Cow::Borrowed(n.process),
        (Some(n), "poll") => Cow::Borrowed(n.poll),
        _ => Cow::Owned(format!("{operation} {topic}")),
    }
}

/// The partition id as the string `messaging.destination.partition.id` wants.
pub(crate) fn partition(partition: i32) -> Value {
    static TABLE: OnceLock<Box<[Box<str>]>> = OnceLock::new();
    if (0..STATIC_PARTITIONS).contains(&partition) {
        let table = TABLE.get_or_init(|| {
            (0..STATIC_PARTITIONS)
                .map(|p| p.to_string().into_boxed_str())
                .collect()
        });
        if let Some(s) = usize::try_from(partition).ok().and_then(|i| table.get(i)) {
            let s: &'static str = s;
            return Value::String(StringValue::from(s));
        }
    }
    let mut buf = itoa::Buffer::new();
    Value::String(buf.format(partition).to_owned().into())
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
        assert_eq!(span_name("process", "orders"), "process orders");
        assert_eq!(span_name("commit", "orders"), "commit orders");
        assert_eq!(topic_value("orders").as_str(), "orders");
    }

    #[test]
    fn partitions() {
        for p in [0, 1, 1023, 1024, 99_999, -1, i32::MIN] {
            assert_eq!(partition(p), Value::String(p.to_string().into()));
        }
    }
}
