//! Per-thread caches of attribute values that repeat from request to request.
//!
//! A service sees the same `Host`, `User-Agent` and routes over and over. Recording each as a
//! fresh `String` costs an allocation when the span starts and a free when it is exported. The
//! first [`MAX_KEPT`] distinct host and user-agent values are kept for the life of the process
//! (at most 64 KiB) and recorded as `&'static str`: no allocation and no reference counting per
//! span. Past that cap, values are shared through an `Arc<str>`. Each thread keeps its last few
//! values, compared byte for byte, so the process-wide store (a mutex) is only consulted on a
//! miss, and a miss costs about what the uncached path costs anyway.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Mutex;

use opentelemetry::StringValue;

/// Keys longer than this are not cached (long, rare values would only evict useful ones).
const MAX_KEY: usize = 256;

/// How many distinct values are kept for the life of the process, at most.
pub(crate) const MAX_KEPT: usize = 256;

/// Values kept for the life of the process.
static KEPT: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// `text` as a value kept for the life of the process while fewer than [`MAX_KEPT`] are, else
/// shared through an `Arc<str>`.
pub(crate) fn keep(text: &str) -> StringValue {
    if text.len() <= MAX_KEY
        && let Ok(mut kept) = KEPT.lock()
    {
        let kept = kept.get_or_insert_with(HashSet::new);
        if let Some(s) = kept.get(text) {
            return StringValue::from(*s);
        }
        if kept.len() < MAX_KEPT {
            let s: &'static str = Box::leak(text.into());
            kept.insert(s);
            return StringValue::from(s);
        }
    }
    StringValue::from(std::sync::Arc::<str>::from(text))
}

/// The last `N` values made from byte keys, replaced round-robin.
pub(crate) struct Recent<V, const N: usize> {
    entries: [Option<(Box<[u8]>, V)>; N],
    next: usize,
}

impl<V: Clone, const N: usize> Recent<V, N> {
    pub(crate) const fn new() -> Self {
        Self {
            entries: [const { None }; N],
            next: 0,
        }
    }

    /// The value for `key`, made with `make` on a miss (and kept when `make` gives one).
    pub(crate) fn get_or_make(
        &mut self,
        key: &[u8],
        make: impl FnOnce() -> Option<V>,
    ) -> Option<V> {
        for (k, v) in self.entries.iter().flatten() {
            if **k == *key {
                return Some(v.clone());
            }
        }
        let value = make()?;
        if key.len() <= MAX_KEY && N > 0 {
            self.entries[self.next] = Some((key.into(), value.clone()));
            self.next = (self.next + 1) % N;
        }
        Some(value)
    }
}

/// A parsed `server.address` and `server.port`.
pub(crate) type HostPort = (StringValue, Option<u16>);

thread_local! {
    static HOSTS: RefCell<Recent<HostPort, 4>> = const { RefCell::new(Recent::new()) };
    static AGENTS: RefCell<Recent<StringValue, 4>> = const { RefCell::new(Recent::new()) };
    static NAMES: RefCell<RecentNames> = const { RefCell::new(RecentNames::new()) };
}

/// The last few span names, by method and route.
struct RecentNames {
    entries: [Option<NameEntry>; 8],
    next: usize,
}

struct NameEntry {
    method: &'static str,
    route: Box<str>,
    name: &'static str,
    route_value: StringValue,
}

impl RecentNames {
    const fn new() -> Self {
        Self {
            entries: [const { None }; 8],
            next: 0,
        }
    }
}

/// `server.address` / `server.port` parsed from a host value, shared when it repeats.
pub(crate) fn host(raw: &[u8], parse: impl FnOnce() -> Option<HostPort>) -> Option<HostPort> {
    HOSTS.with(|c| match c.try_borrow_mut() {
        Ok(mut cache) => cache.get_or_make(raw, parse),
        Err(_) => parse(),
    })
}

/// `user_agent.original`, shared when it repeats.
pub(crate) fn user_agent(raw: &[u8]) -> StringValue {
    let make = || Some(keep(&String::from_utf8_lossy(raw)));
    let value = AGENTS.with(|c| match c.try_borrow_mut() {
        Ok(mut cache) => cache.get_or_make(raw, make),
        Err(_) => make(),
    });
    value.unwrap_or_else(|| StringValue::from(""))
}

/// A span name (borrowed for the process's life) and its route value for `method` and `route`;
/// `make` looks it up in the process-wide cache on a miss.
pub(crate) fn name(
    method: &'static str,
    route: &str,
    make: impl FnOnce() -> Option<(&'static str, StringValue)>,
) -> Option<(&'static str, StringValue)> {
    NAMES.with(|c| {
        let Ok(mut cache) = c.try_borrow_mut() else {
            return make();
        };
        for e in cache.entries.iter().flatten() {
            if *e.route == *route && e.method == method {
                return Some((e.name, e.route_value.clone()));
            }
        }
        let (name, route_value) = make()?;
        if route.len() <= MAX_KEY {
            let at = cache.next;
            cache.entries[at] = Some(NameEntry {
                method,
                route: route.into(),
                name,
                route_value: route_value.clone(),
            });
            cache.next = (at + 1) % 8;
        }
        Some((name, route_value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_values_are_reused_and_replaced_round_robin() {
        let mut cache: Recent<u32, 2> = Recent::new();
        let mut made = 0;
        let mut get = |cache: &mut Recent<u32, 2>, key: &[u8]| {
            cache.get_or_make(key, || {
                made += 1;
                Some(key.len() as u32)
            })
        };
        assert_eq!(get(&mut cache, b"a"), Some(1));
        assert_eq!(get(&mut cache, b"a"), Some(1));
        assert_eq!(get(&mut cache, b"bb"), Some(2));
        assert_eq!(get(&mut cache, b"ccc"), Some(3)); // evicts "a"
        assert_eq!(get(&mut cache, b"a"), Some(1));
        assert_eq!(made, 4);
        // Misses that make nothing keep nothing.
        assert_eq!(cache.get_or_make(b"zz", || None), None);
        // Long keys are not kept.
        let long = vec![b'x'; MAX_KEY + 1];
        let mut n = 0;
        for _ in 0..2 {
            cache.get_or_make(&long, || {
                n += 1;
                Some(0)
            });
        }
        assert_eq!(n, 2);
    }

    #[test]
    fn values_are_kept_up_to_the_cap_then_shared() {
        let a = keep("kept.example");
        let b = keep("kept.example");
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        for i in 0..MAX_KEPT {
            keep(&format!("filler-{i}"));
        }
        // Past the cap: still correct values, no longer one copy for the process.
        let c = keep("late.example");
        let d = keep("late.example");
        assert_eq!((c.as_str(), d.as_str()), ("late.example", "late.example"));
        assert!(!std::ptr::eq(c.as_str(), d.as_str()));
        // Values kept before the cap stay kept.
        assert!(std::ptr::eq(keep("kept.example").as_str(), a.as_str()));
        // Long values are never kept.
        let long = "x".repeat(MAX_KEY + 1);
        assert!(!std::ptr::eq(keep(&long).as_str(), keep(&long).as_str()));
    }

    #[test]
    fn user_agents_are_shared() {
        let a = user_agent(b"curl/8.0");
        let b = user_agent(b"curl/8.0");
        assert_eq!(a.as_str(), "curl/8.0");
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(user_agent(b"caf\xc3\xa9 \xff").as_str(), "café \u{fffd}");
    }
}
