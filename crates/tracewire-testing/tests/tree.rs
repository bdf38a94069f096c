//! Trace-tree assertions through the in-memory pipeline: lookups, each assertion's pass and
//! failure, and the rendered tree in failure messages.

use std::panic::{AssertUnwindSafe, catch_unwind};

use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanKind, Status, TraceContextExt as _, Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::Sampler;
use tracewire_testing::{InMemoryPipeline, SpanTree};

/// The message of the panic `f` raises; fails the test when it does not panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the assertion should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .expect("a string panic message")
}

/// checkout (server) → charge (client, 503, exception event, link to `linked`).
fn shop(pipeline: &InMemoryPipeline) -> SpanContext {
    let tracer = pipeline.tracer("shop");
    let linked = tracer.start("earlier");
    let linked_cx = linked.span_context().clone();
    drop(linked);
    let checkout = tracer
        .span_builder("checkout")
        .with_kind(SpanKind::Server)
        .with_attributes([KeyValue::new("http.request.method", "POST")])
        .start(&tracer);
    let cx = Context::current_with_span(checkout);
    let mut charge = tracer
        .span_builder("charge")
        .with_kind(SpanKind::Client)
        .with_links(vec![Link::with_context(linked_cx.clone())])
        .start_with_context(&tracer, &cx);
    charge.set_attribute(KeyValue::new("http.response.status_code", 503_i64));
    charge.set_attribute(KeyValue::new("retry", true));
    charge.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", "PaymentError"),
            KeyValue::new("exception.message", "payment service unavailable"),
        ],
    );
    charge.set_status(Status::error("payment service unavailable"));
    charge.end();
    cx.span().end();
    linked_cx
}

#[test]
fn finds_spans_and_checks_the_tree() {
    let pipeline = InMemoryPipeline::new();
    let linked = shop(&pipeline);
    let tree = pipeline.tree();
    tree.assert_len(3)
        .assert_names(&["checkout", "charge", "earlier"]);
    assert_eq!(tree.trace_ids().len(), 2);
    let checkout = tree
        .span("checkout")
        .assert_root()
        .assert_kind(SpanKind::Server)
        .assert_attribute("http.request.method", "POST")
        .assert_status_unset()
        .assert_no_event("exception")
        .assert_link_count(0);
    let charge = tree
        .span("charge")
        .assert_child_of(checkout)
        .assert_parent_named("checkout")
        .assert_same_trace(checkout)
        .assert_kind(SpanKind::Client)
        .assert_attribute("http.response.status_code", 503)
        .assert_attribute("retry", true)
        .assert_has_attribute("retry")
        .assert_no_attribute("url.full")
        .assert_status_error("payment service unavailable")
        .assert_error()
        .assert_event_count("exception", 1)
        .assert_linked_to(&linked)
        .assert_link_count(1);
    charge
        .assert_event("exception")
        .assert_attribute("exception.type", "PaymentError")
        .assert_attribute_contains("exception.message", "unavailable")
        .assert_no_attribute("exception.stacktrace");
    assert_eq!(checkout.children().len(), 1);
    assert_eq!(checkout.child("charge").span_id(), charge.span_id());
    assert_eq!(charge.parent().map(|p| p.name()), Some("checkout"));
    assert_eq!(charge.i64_attribute("http.response.status_code"), Some(503));
    assert_eq!(charge.str_attribute("http.response.status_code"), None);
    assert_eq!(charge.bool_attribute("retry"), Some(true));
    assert_eq!(tree.roots().len(), 2);
    assert!(tree.by_id(charge.span_id()).is_some());
}

#[test]
fn failures_explain_themselves_with_the_whole_tree() {
    let pipeline = InMemoryPipeline::new();
    shop(&pipeline);
    let tree = pipeline.tree();

    let msg = panic_message(|| {
        tree.span("charge")
            .assert_attribute("http.response.status_code", "503");
    });
    assert!(
        msg.contains(
            "expected attribute `http.response.status_code` = \"503\" (string), found 503 (int)"
        ),
        "{msg}"
    );
    // The rendering shows both traces, the hierarchy, attributes, events and links.
    assert!(msg.contains("3 spans in 2 traces"), "{msg}");
    assert!(msg.contains("└─ checkout  server"), "{msg}");
    assert!(msg.contains("   └─ charge  client"), "{msg}");
    assert!(
        msg.contains("status error \"payment service unavailable\""),
        "{msg}"
    );
    assert!(msg.contains("event exception: exception.type = "), "{msg}");
    assert!(msg.contains("link → trace "), "{msg}");

    type Case<'a> = (Box<dyn Fn() + 'a>, &'static str);
    let cases: Vec<Case<'_>> = vec![
        (
            Box::new(|| _ = tree.span("missing")),
            "no span named `missing`",
        ),
        (
            Box::new(|| _ = tree.span("charge").assert_root()),
            "expected a root span",
        ),
        (
            Box::new(|| _ = tree.span("checkout").assert_kind(SpanKind::Client)),
            "expected kind Client, found Server",
        ),
        (
            Box::new(|| _ = tree.span("checkout").assert_child_of(tree.span("charge"))),
            "expected parent span id",
        ),
        (
            Box::new(|| _ = tree.span("charge").assert_status_ok()),
            "expected status ok, found error",
        ),
        (
            Box::new(|| _ = tree.span("checkout").assert_error()),
            "expected status error, found unset",
        ),
        (
            Box::new(|| _ = tree.span("checkout").assert_event("exception")),
            "expected an event `exception`, found none",
        ),
        (
            Box::new(|| {
                _ = tree
                    .span("checkout")
                    .assert_linked_to(&SpanContext::empty_context())
            }),
            "expected a link to trace",
        ),
        (
            Box::new(|| {
                _ = tree
                    .span("charge")
                    .assert_event("exception")
                    .assert_attribute("exception.type", "Other");
            }),
            "event `exception`: expected attribute `exception.type`",
        ),
        (
            Box::new(|| _ = tree.assert_len(1)),
            "expected 1 spans, found 3",
        ),
        (
            Box::new(|| _ = tree.assert_single_trace()),
            "found 2 traces",
        ),
        (
            Box::new(|| _ = tree.span("checkout").child("nope")),
            "expected one child named `nope`, found 0",
        ),
    ];
    for (assertion, expected) in cases {
        let msg = panic_message(assertion);
        assert!(msg.contains(expected), "expected {expected:?} in:\n{msg}");
        assert!(msg.contains("trace "), "no tree rendered in:\n{msg}");
    }
}

#[test]
fn reset_forgets_spans_and_the_sampler_is_configurable() {
    let pipeline = InMemoryPipeline::new();
    pipeline.tracer("t").start("one").end();
    assert_eq!(pipeline.spans().len(), 1);
    pipeline.reset();
    assert!(pipeline.exporter().is_empty());
    pipeline.tracer("t").start("two").end();
    pipeline.tree().assert_len(1).span("two");

    let dropping = InMemoryPipeline::builder()
        .with_sampler(Sampler::AlwaysOff)
        .build();
    dropping.tracer("t").start("dropped").end();
    assert!(dropping.spans().is_empty());
}

#[test]
fn remote_and_missing_parents_are_shown_as_such() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let remote = SpanContext::new(
        opentelemetry::trace::TraceId::from_bytes([7; 16]),
        opentelemetry::trace::SpanId::from_bytes([9; 8]),
        opentelemetry::trace::TraceFlags::SAMPLED,
        true,
        Default::default(),
    );
    let cx = Context::new().with_remote_span_context(remote.clone());
    tracer.start_with_context("server", &cx).end();
    let tree = pipeline.tree();
    let server = tree.span("server").assert_parent_context(&remote);
    assert!(server.parent().is_none());
    assert!(
        tree.render().contains("parent 0909090909090909 (remote)"),
        "{tree}"
    );
    let empty = SpanTree::default();
    assert!(empty.is_empty());
    assert!(empty.render().starts_with("0 spans in 0 traces"));
}
