//! How the result of the work in a span becomes the span's status and exception event.
//!
//! # Status rules
//!
//! - The work returned a failure ([`Outcome::failure`] is `Some`, e.g. `Err(e)`): status
//!   `Error` with the error's message (its `Display`) as description, the `error.type` attribute
//!   (the error's type name), and an `exception` event (see [`SpanExt`](crate::SpanExt)).
//! - The work succeeded: status left `Unset`, the specification's rule for instrumentation
//!   ([Recording errors](https://opentelemetry.io/docs/specs/semconv/general/recording-errors/):
//!   "Span Status Code MUST be left unset if the instrumented operation has ended without any
//!   errors"), unless the span was started
//!   [`with_ok_status`](crate::SpanOptions::with_ok_status), as application code that vouches
//!   for its own success may do; then `Ok`.
//! - The work panicked: status `Error` with the panic message, `error.type` = `panic`, an
//!   `exception` event with `exception.type` = `panic`; then the panic keeps unwinding.

use std::any::Any;
use std::error::Error;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanRef, Status};
use tracewire_core::semconv;

use crate::error::{fail, type_name_of};

/// `error.type` and `exception.type` of a panic.
pub const PANIC_TYPE: &str = "panic";

/// The result of the work done inside a span, as far as its status is concerned.
///
/// Implemented for `()` (never a failure) and for `Result<T, E>` with any `E: Error`. Implement
/// it for your own types (an HTTP response whose 5xx is a failure, for instance). Boxed errors
/// and `anyhow::Error` do not implement `Error`: wrap them in [`DynError`]. To return any other
/// value from [`in_span`](crate::in_span), wrap it: `Ok::<_, std::convert::Infallible>(value)`.
pub trait Outcome {
    /// The failure this outcome carries, if it is one.
    fn failure(&self) -> Option<Failure<'_>>;
}

/// A failed outcome: the error, and its type name when known.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    error: &'a (dyn Error + 'a),
    type_name: Option<&'static str>,
}

impl<'a> Failure<'a> {
    /// A failure whose static type is known: `exception.type` and `error.type` are its type
    /// name (`std::any::type_name`; for a reference, `Box`, `Arc` or `Rc`, the pointee's, and
    /// none for a trait object).
    pub fn of<E: Error>(error: &'a E) -> Self {
        Self {
            error,
            type_name: type_name_of::<E>(),
        }
    }

    /// A failure from a trait object: no type name is recorded (`error.type` is `_OTHER`).
    pub fn from_dyn(error: &'a (dyn Error + 'a)) -> Self {
        Self {
            error,
            type_name: None,
        }
    }

    /// Overrides the recorded type name.
    pub fn with_type_name(mut self, type_name: &'static str) -> Self {
        self.type_name = Some(type_name);
        self
    }

    /// The error.
    pub fn error(&self) -> &'a (dyn Error + 'a) {
        self.error
    }

    /// The type name recorded as `exception.type` and `error.type`, when known.
    pub fn type_name(&self) -> Option<&'static str> {
        self.type_name
    }
}

impl Outcome for () {
    fn failure(&self) -> Option<Failure<'_>> {
        None
    }
}

impl<T, E: Error> Outcome for Result<T, E> {
    fn failure(&self) -> Option<Failure<'_>> {
        self.as_ref().err().map(Failure::of)
    }
}

/// A boxed error that implements [`Error`], so that a `Result` carrying a boxed error or an
/// `anyhow::Error` is an [`Outcome`]: `.map_err(DynError::new)`.
///
/// `Result<T, Box<dyn Error + Send + Sync>>` cannot be an `Outcome` itself: `Box<dyn Error>`
/// does not implement `Error`, and Rust's coherence rules forbid a second implementation next
/// to the one for every `E: Error` (the standard library could add `Error` for the box later).
/// `DynError` displays as the inner error and forwards its `source()` chain; its type name is
/// not recorded (`error.type` is `_OTHER`), since the concrete type behind the box is unknown.
///
/// ```
/// use tracewire_api::outcome::{DynError, Outcome as _};
///
/// let parsed: Result<u8, Box<dyn std::error::Error + Send + Sync>> = "x".parse::<u8>().map_err(Into::into);
/// let outcome = parsed.map_err(DynError::new);
/// let failure = outcome.failure().expect("a failure");
/// assert_eq!(failure.error().to_string(), "invalid digit found in string");
/// assert_eq!(failure.type_name(), None);
/// ```
#[derive(Debug)]
pub struct DynError(Box<dyn Error + Send + Sync + 'static>);

impl DynError {
    /// Boxes `error` (any `Error + Send + Sync`, a `String`, an `anyhow::Error`...).
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self(error.into())
    }

    /// The boxed error.
    pub fn into_inner(self) -> Box<dyn Error + Send + Sync + 'static> {
        self.0
    }
}

impl std::fmt::Display for DynError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl Error for DynError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Sets status, `error.type` and the exception event from `outcome`.
pub(crate) fn record_outcome<O: Outcome + ?Sized>(
    span: &SpanRef<'_>,
    outcome: &O,
    ok_status: bool,
) {
    match outcome.failure() {
        Some(failure) => fail(span, failure.error, failure.type_name),
        None if ok_status => span.set_status(Status::Ok),
        None => {}
    }
}

/// The message of a panic payload (`&str` and `String` payloads; others have none).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Status `Error`, `error.type` = `panic`, and an `exception` event for a panic.
pub(crate) fn record_panic(span: &SpanRef<'_>, message: String) {
    if !span.is_recording() {
        return;
    }
    span.set_attribute(KeyValue::new(semconv::attribute::ERROR_TYPE, PANIC_TYPE));
    span.add_event(
        semconv::EXCEPTION_EVENT_NAME,
        vec![
            KeyValue::new(semconv::attribute::EXCEPTION_TYPE, PANIC_TYPE),
            KeyValue::new(semconv::attribute::EXCEPTION_MESSAGE, message.clone()),
        ],
    );
    span.set_status(Status::error(message));
}
