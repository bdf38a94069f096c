//! The `exception` event: type, message, the source chain in `exception.stacktrace`; the
//! `SpanExt` methods and their owned-span counterparts.

use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
use opentelemetry_sdk::trace::Sampler;
use tracewire_api::error::{record_exception, set_error};
use tracewire_api::{SpanExt as _, SpanOptions};
use tracewire_testing::InMemoryPipeline;

#[derive(Debug, thiserror::Error)]
#[error("payment failed")]
struct PaymentFailed(#[source] CardDeclined);

#[derive(Debug, thiserror::Error)]
#[error("card declined")]
struct CardDeclined(#[source] std::io::Error);

fn failure() -> PaymentFailed {
    PaymentFailed(CardDeclined(std::io::Error::other("issuer unavailable")))
}

const CHAIN: &str = "payment failed\n\nCaused by:\n    0: card declined\n    1: issuer unavailable";

#[test]
fn in_span_records_the_chain() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let _ = SpanOptions::new("pay")
        .with_tracer(&tracer)
        .in_span(|_| Err::<(), _>(failure()));
    pipeline
        .tree()
        .span("pay")
        .assert_status_error("payment failed")
        .assert_attribute("error.type", "exception_event::PaymentFailed")
        .assert_event_count("exception", 1)
        .assert_event("exception")
        .assert_attribute("exception.type", "exception_event::PaymentFailed")
        .assert_attribute("exception.message", "payment failed")
        .assert_attribute("exception.stacktrace", CHAIN);
}

#[test]
fn record_exception_adds_the_event_and_leaves_the_status() {
    let pipeline = InMemoryPipeline::new();
    pipeline.tracer("t").in_span("retried", |cx| {
        cx.span().record_exception(&failure());
        // Through a trait object the type is unknown.
        let dyn_err: &dyn std::error::Error = &CardDeclined(std::io::Error::other("x"));
        cx.span().record_exception(dyn_err);
    });
    let tree = pipeline.tree();
    let span = tree
        .span("retried")
        .assert_status_unset()
        .assert_no_attribute("error.type")
        .assert_event_count("exception", 2);
    let events = span.events();
    assert_eq!(
        span.assert_event("exception")
            .str_attribute("exception.stacktrace"),
        Some(CHAIN)
    );
    let second = &events[1];
    assert!(
        second
            .attributes
            .iter()
            .all(|kv| kv.key.as_str() != "exception.type")
    );
}

#[test]
fn set_error_marks_the_span_failed() {
    let pipeline = InMemoryPipeline::new();
    pipeline
        .tracer("t")
        .in_span("failed", |cx| cx.span().set_error(&failure()));
    pipeline
        .tree()
        .span("failed")
        .assert_status_error("payment failed")
        .assert_attribute("error.type", "exception_event::PaymentFailed")
        .assert_event("exception")
        .assert_attribute("exception.stacktrace", CHAIN);
}

#[test]
fn owned_spans_have_the_same_functions() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let mut span = tracer.start("owned");
    record_exception(
        &mut span,
        &CardDeclined(std::io::Error::other("issuer unavailable")),
    );
    set_error(&mut span, &failure());
    span.end();
    pipeline
        .tree()
        .span("owned")
        .assert_status_error("payment failed")
        .assert_event_count("exception", 2);
}

#[test]
fn unsampled_spans_record_nothing() {
    let pipeline = InMemoryPipeline::builder()
        .with_sampler(Sampler::AlwaysOff)
        .build();
    let tracer = pipeline.tracer("t");
    let _ = SpanOptions::new("dropped")
        .with_tracer(&tracer)
        .in_span(|cx| {
            cx.span().set_error(&failure());
            Err::<(), _>(failure())
        });
    assert!(pipeline.spans().is_empty());
}

#[test]
fn set_error_with_a_dyn_error_records_no_type_name() {
    // The same rule as `in_span` with a `Result<_, DynError>`: the boxed error's concrete type
    // is unknown, so `error.type` is `_OTHER` rather than the wrapper's name.
    let pipeline = InMemoryPipeline::new();
    pipeline.tracer("t").in_span("boxed", |cx| {
        let err = tracewire_api::DynError::new("no route");
        cx.span().set_error(&err);
        cx.span().record_exception(&err);
    });
    let tree = pipeline.tree();
    let span = tree
        .span("boxed")
        .assert_status_error("no route")
        .assert_attribute("error.type", "_OTHER")
        .assert_event_count("exception", 2);
    for event in span.events() {
        assert!(
            event
                .attributes
                .iter()
                .all(|kv| kv.key.as_str() != "exception.type"),
            "{event:?}"
        );
    }
}

/// An error whose `Display` writes part of its message, then fails.
#[derive(Debug)]
struct FailingDisplay;

impl std::fmt::Display for FailingDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("half a message")?;
        Err(std::fmt::Error)
    }
}

impl std::error::Error for FailingDisplay {}

#[test]
fn a_failing_display_does_not_turn_the_error_into_a_panic() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        SpanOptions::new("odd error")
            .with_tracer(&tracer)
            .in_span(|_| Err::<(), _>(FailingDisplay))
    }));
    assert!(
        matches!(result, Ok(Err(FailingDisplay))),
        "the Err is returned"
    );
    tracer.in_span("set by hand", |cx| {
        cx.span().set_error(&FailingDisplay);
        cx.span().record_exception(&FailingDisplay);
    });
    let mut owned = tracer.start("owned");
    set_error(&mut owned, &FailingDisplay);
    record_exception(&mut owned, &FailingDisplay);
    owned.end();
    let tree = pipeline.tree();
    for name in ["odd error", "set by hand", "owned"] {
        tree.span(name)
            .assert_status_error("half a message")
            .assert_event("exception")
            .assert_attribute("exception.message", "half a message");
    }
}
