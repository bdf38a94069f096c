//! Recording errors on spans: the `exception` event with the error's source chain.
//!
//! [`SpanExt`] adds two methods to the span of a context ([`SpanRef`], what
//! `Context::current().span()` returns); [`record_exception`] and [`set_error`] do the same for
//! an owned span of any type.
//!
//! # The exception event
//!
//! Following the [exception conventions](https://opentelemetry.io/docs/specs/semconv/exceptions/exceptions-spans/),
//! the event is named `exception` and carries:
//!
//! - `exception.type`: the error's type name (`std::any::type_name`, e.g.
//!   `std::io::error::Error`; for a reference, `Box`, `Arc` or `Rc`, the type it points to);
//!   omitted when only a trait object is known (`&dyn Error`, `Arc<dyn Error>`,
//!   `Box<dyn Error>`, [`DynError`]), since a Rust trait object does not know its concrete
//!   type's name;
//! - `exception.message`: the error's own message (its `Display`), without its causes;
//! - `exception.stacktrace`, only when the error has a `source()`: the error and its chain of
//!   causes in the form Rust users know from `anyhow` and `eyre`:
//!
//!   ```text
//!   payment failed
//!
//!   Caused by:
//!       0: card declined
//!       1: issuer unavailable
//!   ```
//!
//! Why there: the conventions define `exception.message` as *the* exception's message and
//! leave `exception.stacktrace` to each language ("a stacktrace as a string in the natural
//! representation for the language runtime"). Rust errors carry their causes, not a backtrace,
//! and the chain is the natural representation of where an error came from (Java's stack
//! traces list their `Caused by:` chain the same way). Keeping the message clean keeps it
//! usable for grouping errors; the chain stays one click away. At most 32 causes are written,
//! so a `source()` cycle cannot loop.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
//! use tracewire_api::SpanExt as _;
//! use tracewire_testing::InMemoryPipeline;
//!
//! let pipeline = InMemoryPipeline::new();
//! pipeline.tracer("io").in_span("read config", |cx| {
//!     let err = std::io::Error::new(std::io::ErrorKind::NotFound, "config.yaml missing");
//!     cx.span().set_error(&err);
//! });
//! pipeline
//!     .tree()
//!     .span("read config")
//!     .assert_status_error("config.yaml missing")
//!     .assert_attribute("error.type", "std::io::error::Error")
//!     .assert_event("exception")
//!     .assert_attribute("exception.type", "std::io::error::Error")
//!     .assert_attribute("exception.message", "config.yaml missing")
//!     .assert_no_attribute("exception.stacktrace");
//! ```

use std::error::Error;
use std::fmt::Write as _;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, SpanRef, Status};
use tracewire_core::semconv;

use crate::outcome::DynError;

/// How many causes the chain in `exception.stacktrace` lists at most.
const MAX_CAUSES: usize = 32;

mod sealed {
    pub trait Sealed {}
    impl Sealed for opentelemetry::trace::SpanRef<'_> {}
}

/// Error recording on the span of a context (sealed; implemented for [`SpanRef`]).
///
/// The methods are not named `record_error`: `SpanRef` has an inherent `record_error` (only
/// `exception.message`), which Rust would pick over an extension method of the same name.
pub trait SpanExt: sealed::Sealed {
    /// Adds an `exception` event for `error` (type, message, source chain), as the
    /// specification's *Record Exception* does; the status is not changed.
    fn record_exception<E: Error + ?Sized>(&self, error: &E);

    /// Marks the span failed by `error`: status `Error` with the error's message, the
    /// `error.type` attribute, and the `exception` event of
    /// [`record_exception`](SpanExt::record_exception). What `in_span` does with an `Err`.
    fn set_error<E: Error + ?Sized>(&self, error: &E);
}

impl SpanExt for SpanRef<'_> {
    fn record_exception<E: Error + ?Sized>(&self, error: &E) {
        if self.is_recording() {
            self.add_event(
                semconv::EXCEPTION_EVENT_NAME,
                exception_attributes(error, type_name_of::<E>(), None),
            );
        }
    }

    fn set_error<E: Error + ?Sized>(&self, error: &E) {
        fail(self, error, type_name_of::<E>());
    }
}

/// [`SpanExt::set_error`] with the type name given: `error.type`, the `exception` event, and
/// status `Error` with the error's message. `in_span` records an `Err` with it too.
pub(crate) fn fail<E: Error + ?Sized>(
    span: &SpanRef<'_>,
    error: &E,
    type_name: Option<&'static str>,
) {
    if span.is_recording() {
        let (error_type, exception, status) = failure(error, type_name);
        span.set_attribute(error_type);
        span.add_event(semconv::EXCEPTION_EVENT_NAME, exception);
        span.set_status(status);
    }
}

/// What marking a span failed writes, for [`fail`] and [`set_error`] (whose spans take it by
/// `&self` and `&mut self`): the `error.type` attribute, the attributes of the `exception`
/// event, and status `Error` with the error's message.
fn failure<E: Error + ?Sized>(
    error: &E,
    type_name: Option<&'static str>,
) -> (KeyValue, Vec<KeyValue>, Status) {
    let message = message_of(error);
    let error_type = KeyValue::new(
        semconv::attribute::ERROR_TYPE,
        type_name.unwrap_or(semconv::OTHER),
    );
    let exception = exception_attributes(error, type_name, Some(message.clone()));
    (error_type, exception, Status::error(message))
}

/// [`SpanExt::record_exception`] for an owned span of any type.
pub fn record_exception<S: Span + ?Sized, E: Error + ?Sized>(span: &mut S, error: &E) {
    if span.is_recording() {
        span.add_event(
            semconv::EXCEPTION_EVENT_NAME,
            exception_attributes(error, type_name_of::<E>(), None),
        );
    }
}

/// [`SpanExt::set_error`] for an owned span of any type.
pub fn set_error<S: Span + ?Sized, E: Error + ?Sized>(span: &mut S, error: &E) {
    if span.is_recording() {
        let (error_type, exception, status) = failure(error, type_name_of::<E>());
        span.set_attribute(error_type);
        span.add_event(semconv::EXCEPTION_EVENT_NAME, exception);
        span.set_status(status);
    }
}

/// The type name of `E`, unless it is a trait object or [`DynError`] (whose names say nothing
/// about the error behind them). A reference, `Box`, `Arc` or `Rc` (errors when what they
/// point to is one) is seen through: `Result<_, Arc<dyn Error>>` records no type name, and
/// `Result<_, Box<MyError>>` records `MyError`'s.
pub(crate) fn type_name_of<E: ?Sized>() -> Option<&'static str> {
    const POINTERS: [&str; 3] = ["alloc::boxed::Box<", "alloc::sync::Arc<", "alloc::rc::Rc<"];
    let mut name = std::any::type_name::<E>();
    loop {
        if let Some(inner) = name.strip_prefix('&') {
            name = inner.strip_prefix("mut ").unwrap_or(inner);
        } else if let Some(inner) = POINTERS
            .iter()
            .find_map(|pointer| name.strip_prefix(pointer)?.strip_suffix('>'))
        {
            name = inner;
        } else {
            break;
        }
    }
    let trait_object = name.trim_start_matches('(').starts_with("dyn ");
    (!trait_object && name != std::any::type_name::<DynError>()).then_some(name)
}

/// The error's message (its `Display`). Not `to_string()`, which panics when `Display` returns
/// an error: recording an `Err` must not turn it into a panic; the message is then what was
/// written before the error.
fn message_of<E: Error + ?Sized>(error: &E) -> String {
    let mut message = String::new();
    let _ = write!(message, "{error}");
    message
}

/// The attributes of the `exception` event for `error`.
pub(crate) fn exception_attributes<E: Error + ?Sized>(
    error: &E,
    type_name: Option<&'static str>,
    message: Option<String>,
) -> Vec<KeyValue> {
    let message = message.unwrap_or_else(|| message_of(error));
    let mut attributes = Vec::with_capacity(3);
    if let Some(t) = type_name {
        attributes.push(KeyValue::new(semconv::attribute::EXCEPTION_TYPE, t));
    }
    if let Some(chain) = cause_chain(&message, error.source()) {
        attributes.push(KeyValue::new(
            semconv::attribute::EXCEPTION_STACKTRACE,
            chain,
        ));
    }
    attributes.push(KeyValue::new(
        semconv::attribute::EXCEPTION_MESSAGE,
        message,
    ));
    attributes
}

/// `message` followed by its causes, or `None` without causes.
fn cause_chain(message: &str, first: Option<&(dyn Error + 'static)>) -> Option<String> {
    let mut cause = first?;
    let mut out = String::with_capacity(message.len() + 64);
    out.push_str(message);
    out.push_str("\n\nCaused by:");
    for i in 0..MAX_CAUSES {
        let _ = write!(out, "\n    {i}: {cause}");
        match cause.source() {
            Some(next) => cause = next,
            None => return Some(out),
        }
    }
    out.push_str("\n    ...");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<Chain>>);

    impl std::fmt::Display for Chain {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Chain {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }

    fn chain(names: &[&'static str]) -> Chain {
        names
            .iter()
            .rev()
            .fold(None, |next, name| Some(Chain(name, next.map(Box::new))))
            .expect("at least one name")
    }

    #[test]
    fn chains_are_rendered_like_anyhow() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["alone"], None),
            (&["top", "cause"], Some("top\n\nCaused by:\n    0: cause")),
            (
                &["top", "a", "b"],
                Some("top\n\nCaused by:\n    0: a\n    1: b"),
            ),
        ];
        for (names, expected) in cases {
            let err = chain(names);
            assert_eq!(
                cause_chain(&err.to_string(), err.source()).as_deref(),
                *expected
            );
        }
    }

    #[test]
    fn long_chains_are_cut() {
        let names: Vec<&'static str> = std::iter::repeat_n("x", MAX_CAUSES + 5).collect();
        let err = chain(&names);
        let text = cause_chain("x", err.source()).expect("chain");
        assert!(text.ends_with("\n    ..."));
        assert_eq!(text.matches("\n    ").count(), MAX_CAUSES + 1);
    }

    #[test]
    fn trait_objects_have_no_type_name() {
        assert_eq!(type_name_of::<dyn Error>(), None);
        assert_eq!(type_name_of::<dyn Error + Send + Sync>(), None);
        assert_eq!(type_name_of::<std::fmt::Error>(), Some("core::fmt::Error"));
    }

    #[test]
    fn pointers_to_errors_are_seen_through() {
        use std::rc::Rc;
        use std::sync::Arc;
        assert_eq!(type_name_of::<&dyn Error>(), None);
        assert_eq!(type_name_of::<&(dyn Error + Send + Sync)>(), None);
        assert_eq!(type_name_of::<&mut dyn Error>(), None);
        assert_eq!(type_name_of::<Arc<dyn Error + Send + Sync>>(), None);
        assert_eq!(type_name_of::<Rc<dyn Error>>(), None);
        assert_eq!(type_name_of::<Box<dyn Error>>(), None);
        assert_eq!(type_name_of::<&DynError>(), None);
        assert_eq!(type_name_of::<Arc<DynError>>(), None);
        assert_eq!(
            type_name_of::<&Box<std::fmt::Error>>(),
            Some("core::fmt::Error")
        );
        assert_eq!(
            type_name_of::<Arc<std::io::Error>>(),
            Some("std::io::error::Error")
        );
    }
}
