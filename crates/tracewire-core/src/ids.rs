//! The ids of a span context as a small `Copy` type.

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};

use crate::hex::{self, FlagsHex, SpanIdHex, TraceIdHex};

/// The trace id, span id and trace flags of a valid span context.
///
/// Cheap to copy and to read from the current context; the hex forms are computed on demand
/// without heap allocation. Logging and metrics correlation read these at the moment a record
/// is made.
///
/// # Example
///
/// ```
/// use tracewire_core::TraceIds;
///
/// // Outside any span there are no ids.
/// assert_eq!(TraceIds::current(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceIds {
    /// The trace id (never [`TraceId::INVALID`]).
    pub trace_id: TraceId,
    /// The span id (never [`SpanId::INVALID`]).
    pub span_id: SpanId,
    /// The W3C trace flags (bit 0: sampled; bit 1: random).
    pub trace_flags: TraceFlags,
}

impl TraceIds {
    /// The ids of the current context's span, or `None` when it has no valid span context.
    #[inline]
    pub fn current() -> Option<Self> {
        Context::map_current(Self::from_context)
    }

    /// The ids of `cx`'s span, or `None` when it has no valid span context.
    #[inline]
    pub fn from_context(cx: &Context) -> Option<Self> {
        if !cx.has_active_span() {
            return None;
        }
        Self::from_span_context(cx.span().span_context())
    }

    /// The ids of a span context, or `None` when it is not valid.
    #[inline]
    pub fn from_span_context(sc: &SpanContext) -> Option<Self> {
        sc.is_valid().then(|| Self {
            trace_id: sc.trace_id(),
            span_id: sc.span_id(),
            trace_flags: sc.trace_flags(),
        })
    }

    /// Whether the sampled flag is set.
    #[inline]
    pub fn is_sampled(&self) -> bool {
        self.trace_flags.is_sampled()
    }

    /// The trace id as 32 lowercase hex digits.
    #[inline]
    pub fn trace_id_hex(&self) -> TraceIdHex {
        hex::trace_id(self.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    #[inline]
    pub fn span_id_hex(&self) -> SpanIdHex {
        hex::span_id(self.span_id)
    }

    /// The trace flags as 2 lowercase hex digits.
    #[inline]
    pub fn trace_flags_hex(&self) -> FlagsHex {
        hex::flags(self.trace_flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceState;

    fn sc(trace: u8, span: u8, flags: u8) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes([trace; 16]),
            SpanId::from_bytes([span; 8]),
            TraceFlags::new(flags),
            true,
            TraceState::NONE,
        )
    }

    #[test]
    fn reads_the_current_context() {
        let cx = Context::new().with_remote_span_context(sc(0xab, 0xcd, 0));
        let _guard = cx.attach();
        let ids = TraceIds::current().expect("ids");
        assert_eq!(
            ids.trace_id_hex().as_str(),
            "abababababababababababababababab"
        );
        assert_eq!(ids.span_id_hex().as_str(), "cdcdcdcdcdcdcdcd");
        assert_eq!(ids.trace_flags_hex().as_str(), "00");
        assert!(!ids.is_sampled());
    }

    #[test]
    fn invalid_contexts_give_none() {
        assert_eq!(TraceIds::from_span_context(&sc(0, 1, 1)), None);
        assert_eq!(TraceIds::from_span_context(&sc(1, 0, 1)), None);
        assert_eq!(TraceIds::from_context(&Context::new()), None);
    }
}
