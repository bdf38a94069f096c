//! [`WithOtelContext`]: runs a layer's `on_event` inside the OpenTelemetry context of the
//! event's `tracing` span.

use std::any::TypeId;
use std::sync::OnceLock;

use opentelemetry::Context;
use opentelemetry::trace::{SpanId, TraceContextExt};
use tracing::dispatcher::WeakDispatch;
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::LookupSpan;

/// A layer wrapper that makes the OpenTelemetry context of the event's `tracing` span current
/// while the inner layer handles the event.
///
/// tracing-opentelemetry keeps each `tracing` span's OpenTelemetry span in the span's
/// extensions, and by default makes its context current when the span is entered. That misses
/// events whose span is not the entered one (`tracing::info!(parent: &span, ...)`), layers
/// built with `with_context_activation(false)`, and contexts entered by other means: there
/// `Context::current()` is not the event's span. This wrapper looks up the event's span (its
/// explicit parent, or the current span), asks tracing-opentelemetry for that span's context,
/// and, when it differs from the current one, attaches it around the inner layer's `on_event`.
/// Anything that reads `Context::current()` then sees the event's span: the
/// [`TraceIdsFormat`](crate::subscriber::TraceIdsFormat) formatter, the OpenTelemetry SDK's
/// logger (which sets a log record's trace context from the current context), any other layer.
///
/// Events outside any `tracing` span, or in spans tracing-opentelemetry does not know, keep the
/// current context (an OpenTelemetry span made with the API directly still counts).
///
/// Every other `Layer` method is passed to the inner layer unchanged, including filtering and
/// downcasting.
///
/// # Example
///
/// ```
/// use opentelemetry::trace::TracerProvider as _;
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracewire_correlate::subscriber::{OtelContextExt, TraceIdsFormat};
///
/// let provider = SdkTracerProvider::builder().build();
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("example")))
///     .with(
///         tracing_subscriber::fmt::layer()
///             .json()
///             .event_format(TraceIdsFormat::default_json())
///             .with_writer(std::io::sink)
///             .with_otel_context(),
///     );
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request");
///     // Not entered: only the wrapper finds this event's span.
///     tracing::info!(parent: &span, "logged with the request's ids");
/// });
/// ```
#[derive(Debug)]
pub struct WithOtelContext<L> {
    inner: L,
    dispatch: OnceLock<WeakDispatch>,
}

impl<L> WithOtelContext<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> Self {
        Self {
            inner,
            dispatch: OnceLock::new(),
        }
    }

    /// The inner layer.
    pub fn get_ref(&self) -> &L {
        &self.inner
    }

    /// The OpenTelemetry context of the event's span, when it is not the current one.
    fn event_context<S>(&self, event: &Event<'_>, ctx: &LayerContext<'_, S>) -> Option<Context>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        // The SDK's own log records are made with telemetry suppressed, so that exporting logs
        // does not log about exporting logs; a context attached here must not lift that.
        if Context::is_current_telemetry_suppressed() {
            return None;
        }
        let span = ctx.event_span(event)?;
        let current = Context::map_current(|c| c.span().span_context().span_id());
        // Fast path: the span's OpenTelemetry span id, cached by an earlier event, is the
        // current one (tracing-opentelemetry made it current on entry), or there is none.
        let cached = span.extensions().get::<OtelSpanId>().copied();
        if let Some(OtelSpanId(cached)) = cached
            && (cached == current || cached == SpanId::INVALID)
        {
            return None;
        }
        let dispatch = self.dispatch.get()?.upgrade()?;
        let cx = tracing_opentelemetry::get_otel_context(&span.id(), &dispatch);
        let span_id = cx
            .as_ref()
            .map(|cx| cx.span().span_context().clone())
            .filter(|sc| sc.is_valid())
            .map_or(SpanId::INVALID, |sc| sc.span_id());
        let mut extensions = span.extensions_mut();
        if extensions.get_mut::<OtelSpanId>().is_none() {
            extensions.insert(OtelSpanId(span_id));
        }
        drop(extensions);
        (span_id != current && span_id != SpanId::INVALID)
            .then_some(cx)
            .flatten()
    }
}

/// The OpenTelemetry span id of a `tracing` span ([`SpanId::INVALID`] when it has none),
/// kept in the span's extensions from its first event on. Ids never change once the
/// OpenTelemetry span is started, which looking it up does.
#[derive(Clone, Copy, Debug)]
struct OtelSpanId(SpanId);

/// Adds [`with_otel_context`](OtelContextExt::with_otel_context) to every layer.
pub trait OtelContextExt: Sized + sealed::Sealed {
    /// Wraps the layer in [`WithOtelContext`].
    fn with_otel_context(self) -> WithOtelContext<Self> {
        WithOtelContext::new(self)
    }
}

impl<L> OtelContextExt for L {}

mod sealed {
    pub trait Sealed {}
    impl<L> Sealed for L {}
}

// === impl WithOtelContext ===

impl<S, L> Layer<S> for WithOtelContext<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: LayerContext<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_record(&self, span: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        self.inner.on_record(span, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        match self.event_context(event, &ctx) {
            Some(cx) => {
                let _guard = cx.attach();
                self.inner.on_event(event, ctx);
            }
            None => self.inner.on_event(event, ctx),
        }
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded unchanged; the inner layer upholds `downcast_raw`'s contract (a
        // returned pointer points to a value of the type `id` names, living as long as `self`).
        unsafe { self.inner.downcast_raw(id) }
    }
}
