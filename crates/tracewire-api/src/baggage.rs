//! Baggage helpers: set entries for the scope of a closure or future, read one downstream.
//!
//! Baggage is the W3C way to carry a few key-value pairs (the article's `user.id`,
//! `session.region`, `request.source`, keys in [`tracewire_core::semconv`]) along a request,
//! across HTTP and Kafka when a baggage propagator is installed. Setting entries keeps the
//! entries already in the context (extracted from upstream, for instance) and overrides those
//! with the same key; the opentelemetry API's limits apply (64 entries, 8192 bytes): the
//! entries set here count first, and the context's entries beyond the limits are dropped.
//!
//! Baggage is not copied onto spans by these helpers: it is request context, and may carry
//! what a trace backend should not store. Copy an entry onto a span explicitly when you want it
//! there.
//!
//! # Example
//!
//! ```
//! use opentelemetry::KeyValue;
//! use tracewire_api::baggage::{baggage_value, with_baggage};
//! use tracewire_core::semconv::{BAGGAGE_REQUEST_SOURCE, BAGGAGE_SESSION_REGION, BAGGAGE_USER_ID};
//!
//! let region = with_baggage(
//!     [
//!         KeyValue::new(BAGGAGE_USER_ID, "u-42"),
//!         KeyValue::new(BAGGAGE_SESSION_REGION, "eu-west-1"),
//!         KeyValue::new(BAGGAGE_REQUEST_SOURCE, "web"),
//!     ],
//!     || {
//!         // Downstream, in code that knows nothing of who set it:
//!         assert_eq!(baggage_value(BAGGAGE_USER_ID).as_deref(), Some("u-42"));
//!         baggage_value(BAGGAGE_SESSION_REGION)
//!     },
//! );
//! assert_eq!(region.as_deref(), Some("eu-west-1"));
//! assert_eq!(baggage_value(BAGGAGE_USER_ID), None);
//! ```

use std::future::Future;

use opentelemetry::baggage::{Baggage, BaggageExt as _};
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::{Context, KeyValue};

/// `cx` with `entries` added to its baggage (entries with the same key are replaced).
///
/// `entries` go in first: at the limits, the entries of `cx` are the ones dropped, and an
/// entry of `cx` is never kept in place of an entry with the same key set here.
pub fn context_with_baggage(cx: &Context, entries: impl IntoIterator<Item = KeyValue>) -> Context {
    let mut baggage = Baggage::new();
    let mut keys = Vec::new();
    for entry in entries {
        keys.push(entry.key.clone());
        let _ = baggage.insert(entry.key, entry.value);
    }
    for (key, (value, metadata)) in cx.baggage() {
        if !keys.contains(key) {
            let _ = baggage.insert_with_metadata(key.clone(), value.clone(), metadata.clone());
        }
    }
    cx.with_baggage(baggage)
}

/// Runs `f` with `entries` added to the current context's baggage.
pub fn with_baggage<R>(entries: impl IntoIterator<Item = KeyValue>, f: impl FnOnce() -> R) -> R {
    let cx = Context::map_current(|cx| context_with_baggage(cx, entries));
    let _guard = cx.attach();
    f()
}

/// Runs `future` with `entries` added to the baggage of the context current now; the context
/// is current whenever the future is polled.
pub fn with_baggage_future<F: Future>(
    entries: impl IntoIterator<Item = KeyValue>,
    future: F,
) -> WithContext<F> {
    let cx = Context::map_current(|cx| context_with_baggage(cx, entries));
    future.with_context(cx)
}

/// The value of baggage entry `key` in the current context.
pub fn baggage_value(key: &str) -> Option<String> {
    Context::map_current(|cx| cx.baggage().get(key).map(|v| v.as_str().to_owned()))
}

/// Calls `f` with the value of baggage entry `key` in the current context, without copying the
/// value.
pub fn map_baggage_value<R>(key: &str, f: impl FnOnce(Option<&str>) -> R) -> R {
    // A clone of the current context (reference counts only), so that `f` may attach contexts
    // of its own.
    let cx = Context::current();
    f(cx.baggage().get(key).map(|v| v.as_str()))
}
