//! `in_span` for closures and futures, and the span options they take.
//!
//! The span starts as a child of the current context (or of the parent given with
//! [`SpanOptions::with_parent_context`]), is current while the work runs, and always ends: when
//! the closure returns or panics, when the future completes, panics or is dropped. Its status
//! comes from the work's [`Outcome`] (see the [`outcome`](mod@crate::outcome)
//! module for the rules).
//!
//! # Example
//!
//! ```
//! use opentelemetry::KeyValue;
//! use opentelemetry::trace::SpanKind;
//! use tracewire_api::SpanOptions;
//! use tracewire_testing::InMemoryPipeline;
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("card declined")]
//! struct Declined;
//!
//! let pipeline = InMemoryPipeline::new();
//! let tracer = pipeline.tracer("payments");
//! let charged: Result<u64, Declined> = SpanOptions::new("charge")
//!     .with_tracer(&tracer)
//!     .with_kind(SpanKind::Client)
//!     .with_attributes([KeyValue::new("payment.amount", 42_i64)])
//!     .in_span(|_cx| Err(Declined));
//! assert!(charged.is_err());
//!
//! pipeline
//!     .tree()
//!     .span("charge")
//!     .assert_kind(SpanKind::Client)
//!     .assert_attribute("payment.amount", 42)
//!     .assert_status_error("card declined")
//!     .assert_event("exception")
//!     .assert_attribute("exception.message", "card declined");
//! ```
//!
//! # Futures
//!
//! [`SpanOptions::in_span_future`] starts the span when it is called and returns an
//! [`InSpan`] future, `Send` when the inner future is. The span's context is made current
//! around each poll of the inner future only (with opentelemetry's
//! [`FutureExt::with_context`](opentelemetry::context::FutureExt::with_context)); no
//! `ContextGuard` is ever held across an `.await`.

use std::borrow::Cow;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::{Link, SpanBuilder, SpanKind, TraceContextExt as _, Tracer};
use opentelemetry::{Context, KeyValue, global};
use pin_project_lite::pin_project;

use crate::outcome::{Outcome, panic_message, record_outcome, record_panic};

/// The instrumentation scope of the global tracer used when no tracer is chosen.
pub const DEFAULT_SCOPE: &str = "tracewire-api";

/// Runs `f` in a new span named `name`, from the global tracer provider's tracer
/// [`DEFAULT_SCOPE`]. See [`SpanOptions::in_span`].
///
/// The global tracer is looked up on every call (an allocation); hot paths should pass their
/// own tracer with [`SpanOptions::with_tracer`].
pub fn in_span<R: Outcome>(name: impl Into<Cow<'static, str>>, f: impl FnOnce(&Context) -> R) -> R {
    SpanOptions::new(name).in_span(f)
}

/// Runs `future` in a new span named `name`, from the global tracer provider's tracer
/// [`DEFAULT_SCOPE`]. See [`SpanOptions::in_span_future`].
pub fn in_span_future<F>(name: impl Into<Cow<'static, str>>, future: F) -> InSpan<F>
where
    F: Future,
    F::Output: Outcome,
{
    SpanOptions::new(name).in_span_future(future)
}

/// The global tracer provider's tracer, looked up when a span starts.
#[derive(Debug, Clone, Copy)]
pub struct GlobalTracer {
    scope: &'static str,
}

mod sealed {
    pub trait Sealed {}
    impl<T: opentelemetry::trace::Tracer> Sealed for &T {}
    impl Sealed for super::GlobalTracer {}
}

/// Where a span's tracer comes from: a tracer you hold (`&T`), or the global provider
/// ([`GlobalTracer`]). Sealed.
pub trait TracerChoice: sealed::Sealed {
    /// Starts the span as a child of `parent` and returns `parent` with the span in it.
    #[doc(hidden)]
    fn start_in(&self, builder: SpanBuilder, parent: &Context) -> Context;
}

impl<T> TracerChoice for &T
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    #[inline]
    fn start_in(&self, builder: SpanBuilder, parent: &Context) -> Context {
        let span = self.build_with_context(builder, parent);
        parent.with_span(span)
    }
}

impl TracerChoice for GlobalTracer {
    fn start_in(&self, builder: SpanBuilder, parent: &Context) -> Context {
        let span = global::tracer(self.scope).build_with_context(builder, parent);
        parent.with_span(span)
    }
}

/// How to start a span for [`in_span`](SpanOptions::in_span) and
/// [`in_span_future`](SpanOptions::in_span_future): name, kind, attributes at start (samplers
/// see them), links, parent, tracer, and whether success sets status `Ok`.
#[derive(Debug)]
#[must_use = "the options do nothing until `in_span` or `in_span_future` runs the work"]
pub struct SpanOptions<T = GlobalTracer> {
    builder: SpanBuilder,
    tracer: T,
    parent: Option<Context>,
    ok_status: bool,
}

impl SpanOptions<GlobalTracer> {
    /// A span named `name`, of kind `Internal`, from the global tracer [`DEFAULT_SCOPE`].
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            builder: SpanBuilder::from_name(name),
            tracer: GlobalTracer {
                scope: DEFAULT_SCOPE,
            },
            parent: None,
            ok_status: false,
        }
    }

    /// Uses the global tracer provider's tracer named `scope` (the instrumentation scope).
    pub fn with_global_scope(mut self, scope: &'static str) -> Self {
        self.tracer = GlobalTracer { scope };
        self
    }
}

impl<T: TracerChoice> SpanOptions<T> {
    /// Starts the span with `tracer` instead.
    pub fn with_tracer<U>(self, tracer: &U) -> SpanOptions<&U>
    where
        U: Tracer,
        U::Span: Send + Sync + 'static,
    {
        SpanOptions {
            builder: self.builder,
            tracer,
            parent: self.parent,
            ok_status: self.ok_status,
        }
    }

    /// Sets the span kind (default `Internal`).
    pub fn with_kind(mut self, kind: SpanKind) -> Self {
        self.builder.span_kind = Some(kind);
        self
    }

    /// Adds attributes, set when the span starts (samplers see them).
    pub fn with_attributes(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        match &mut self.builder.attributes {
            Some(existing) => existing.extend(attributes),
            None => self.builder.attributes = Some(attributes.into_iter().collect()),
        }
        self
    }

    /// Adds one attribute, set when the span starts.
    pub fn with_attribute(self, attribute: KeyValue) -> Self {
        self.with_attributes([attribute])
    }

    /// Adds links to other spans (a batch's messages, a triggering trace).
    pub fn with_links(mut self, links: impl IntoIterator<Item = Link>) -> Self {
        match &mut self.builder.links {
            Some(existing) => existing.extend(links),
            None => self.builder.links = Some(links.into_iter().collect()),
        }
        self
    }

    /// Starts the span as a child of `parent` (for instance a context extracted from a
    /// message) instead of the current context.
    pub fn with_parent_context(mut self, parent: Context) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Sets status `Ok` when the work succeeds (default: left `Unset`, the rule for
    /// instrumentation libraries; application code may vouch for its own success).
    pub fn with_ok_status(mut self) -> Self {
        self.ok_status = true;
        self
    }

    fn start(self) -> (Context, bool) {
        let Self {
            builder,
            tracer,
            parent,
            ok_status,
        } = self;
        let cx = match parent {
            Some(parent) => tracer.start_in(builder, &parent),
            None => Context::map_current(|parent| tracer.start_in(builder, parent)),
        };
        (cx, ok_status)
    }

    /// Runs `f` in the span: the span is current while `f` runs, and `f` gets its context.
    /// The span's status comes from `f`'s result; the span ends before this returns.
    ///
    /// # Panics
    ///
    /// When `f` panics: the span records the panic and ends, then the panic resumes.
    pub fn in_span<R: Outcome>(self, f: impl FnOnce(&Context) -> R) -> R {
        let (cx, ok_status) = self.start();
        let guard = cx.clone().attach();
        let result = catch_unwind(AssertUnwindSafe(|| f(&cx)));
        drop(guard);
        let span = cx.span();
        match result {
            Ok(outcome) => {
                record_outcome(&span, &outcome, ok_status);
                span.end();
                outcome
            }
            Err(payload) => {
                record_panic(&span, panic_message(&*payload));
                span.end();
                resume_unwind(payload)
            }
        }
    }

    /// Runs `future` in the span, which starts now: its context is current whenever the
    /// future is polled; the span's status comes from the output; it ends when the future
    /// completes, panics, or is dropped unfinished.
    ///
    /// The span's parent (and the baggage the future sees) is the context current *when this
    /// is called*, as with `tracing`'s `Instrument`. So
    /// `with_baggage_future(entries, in_span_future(..))` runs the work without `entries`:
    /// build the span inside the baggage scope instead (set the baggage on a context and pass
    /// it with [`SpanOptions::with_parent_context`], or nest the calls the other way round).
    pub fn in_span_future<F>(self, future: F) -> InSpan<F>
    where
        F: Future,
        F::Output: Outcome,
    {
        let (cx, ok_status) = self.start();
        InSpan {
            inner: future.with_context(cx.clone()),
            span: EndOnDrop {
                cx,
                ok_status,
                done: false,
            },
        }
    }
}

pin_project! {
    /// The future of [`SpanOptions::in_span_future`]: the inner future in its span.
    ///
    /// When the inner future panics while polled, the span records the panic and ends, and the
    /// panic resumes. When it is dropped unfinished (cancelled), the inner future is dropped
    /// first (so the spans it started end before this one), then the span ends with the status
    /// it has; if the thread is panicking at that moment (a panic elsewhere is unwinding through
    /// the owner of this future), the span records an error first.
    #[must_use = "futures do nothing unless polled"]
    pub struct InSpan<F> {
        // Fields drop in declaration order: the inner future before the span ends.
        #[pin]
        inner: WithContext<F>,
        span: EndOnDrop,
    }
}

/// The span of an [`InSpan`], ended when it is dropped unless the future finished.
struct EndOnDrop {
    cx: Context,
    ok_status: bool,
    done: bool,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        if !self.done {
            let span = self.cx.span();
            if std::thread::panicking() {
                record_panic(&span, "dropped while the thread was panicking".to_owned());
            }
            span.end();
        }
    }
}

impl<F> std::fmt::Debug for InSpan<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InSpan")
            .field("span_context", self.span.cx.span().span_context())
            .field("done", &self.span.done)
            .finish_non_exhaustive()
    }
}

impl<F> InSpan<F> {
    /// The span's context (what the inner future sees as current).
    pub fn context(&self) -> &Context {
        &self.span.cx
    }
}

impl<F> Future for InSpan<F>
where
    F: Future,
    F::Output: Outcome,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let state = this.span;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(task))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(outcome)) => {
                if !state.done {
                    state.done = true;
                    let span = state.cx.span();
                    record_outcome(&span, &outcome, state.ok_status);
                    span.end();
                }
                Poll::Ready(outcome)
            }
            Err(payload) => {
                if !state.done {
                    state.done = true;
                    let span = state.cx.span();
                    record_panic(&span, panic_message(&*payload));
                    span.end();
                }
                resume_unwind(payload)
            }
        }
    }
}
