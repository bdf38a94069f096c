//! The debug flag of B3 and Jaeger, kept in the `Context` so that it is sent on.
//!
//! The OpenTelemetry propagator specification asks B3 propagators to preserve a received debug
//! flag and send it with later requests, and to set the sampled flag with it; opentelemetry's
//! `TraceFlags` has no debug bit, so the flag is kept as a `Context` value tied to the trace id
//! it came with (a span of another trace does not send it).
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::Context;
//! use tracewire_propagation::{B3Propagator, debug};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("b3", HeaderValue::from_static("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d"));
//! let cx = B3Propagator::new().extract_from_headers(&headers, &Context::new());
//! assert!(debug::is_requested(&cx));
//! ```

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

/// The trace id a debug flag was received with; `None` clears an earlier one.
#[derive(Clone, Copy, Debug)]
struct DebugFlag(Option<TraceId>);

/// Whether the upstream asked for debug (B3 `d` or `X-B3-Flags: 1`, Jaeger flag `0x02`) for the
/// trace of `cx`'s span.
pub fn is_requested(cx: &Context) -> bool {
    is_set_for(cx, cx.span().span_context().trace_id())
}

/// Whether `cx` carries a debug flag for `trace_id`.
pub(crate) fn is_set_for(cx: &Context, trace_id: TraceId) -> bool {
    matches!(cx.get::<DebugFlag>(), Some(DebugFlag(Some(t))) if *t == trace_id)
}

/// `cx` with the debug flag set for `trace_id` when `debug`, or cleared when an earlier
/// extraction left one.
pub(crate) fn mark(cx: &Context, trace_id: TraceId, debug: bool) -> Option<Context> {
    if debug {
        Some(cx.with_value(DebugFlag(Some(trace_id))))
    } else if matches!(cx.get::<DebugFlag>(), Some(DebugFlag(Some(_)))) {
        Some(cx.with_value(DebugFlag(None)))
    } else {
        None
    }
}

/// `cx` with the remote parent a B3 or Jaeger header carried (no `tracestate`), and the debug
/// flag set for its trace when `debug` (cleared when an earlier extraction left one).
pub(crate) fn with_remote_parent(
    cx: &Context,
    trace_id: TraceId,
    span_id: SpanId,
    sampled: bool,
    debug: bool,
) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::NOT_SAMPLED
    };
    let sc = SpanContext::new(trace_id, span_id, flags, true, TraceState::NONE);
    match mark(cx, trace_id, debug) {
        Some(marked) => marked.with_remote_span_context(sc),
        None => cx.with_remote_span_context(sc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_span(cx: &Context, trace: u8) -> Context {
        cx.with_remote_span_context(SpanContext::new(
            TraceId::from_bytes([trace; 16]),
            SpanId::from_bytes([1; 8]),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        ))
    }

    #[test]
    fn the_flag_belongs_to_one_trace() {
        let t = TraceId::from_bytes([1; 16]);
        let cx = mark(&Context::new(), t, true).expect("set");
        assert!(is_requested(&with_span(&cx, 1)));
        assert!(!is_requested(&with_span(&cx, 2)));
        let cleared = mark(&cx, t, false).expect("cleared");
        assert!(!is_requested(&with_span(&cleared, 1)));
        assert!(mark(&Context::new(), t, false).is_none());
    }
}
