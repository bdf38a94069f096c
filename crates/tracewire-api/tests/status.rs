//! Status from the outcome: `Ok` leaves `Unset` (or sets `Ok` on request), `Err` sets `Error`
//! with the message and `error.type`; span options (kind, attributes, links, parent) apply.

use std::convert::Infallible;

use opentelemetry::trace::{
    Link, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use tracewire_api::SpanOptions;
use tracewire_api::outcome::{DynError, Failure, Outcome};
use tracewire_testing::InMemoryPipeline;

#[derive(Debug, thiserror::Error)]
#[error("out of stock: {0}")]
struct OutOfStock(&'static str);

#[test]
fn ok_leaves_status_unset_by_default() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let r: Result<u32, OutOfStock> = SpanOptions::new("ok")
        .with_tracer(&tracer)
        .in_span(|_| Ok(7));
    assert_eq!(r.expect("ok"), 7);
    SpanOptions::new("unit")
        .with_tracer(&tracer)
        .in_span(|_| ());
    let tree = pipeline.tree();
    tree.span("ok")
        .assert_status_unset()
        .assert_no_event("exception")
        .assert_no_attribute("error.type");
    tree.span("unit").assert_status_unset();
}

#[test]
fn ok_sets_status_ok_when_asked() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let _ = SpanOptions::new("vouched")
        .with_tracer(&tracer)
        .with_ok_status()
        .in_span(|_| Ok::<_, Infallible>(()));
    let _ = SpanOptions::new("vouched but failed")
        .with_tracer(&tracer)
        .with_ok_status()
        .in_span(|_| Err::<(), _>(OutOfStock("sku-1")));
    let tree = pipeline.tree();
    tree.span("vouched").assert_status_ok();
    tree.span("vouched but failed")
        .assert_status_error("out of stock: sku-1");
}

#[test]
fn err_sets_error_with_message_and_type() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let r = SpanOptions::new("reserve")
        .with_tracer(&tracer)
        .in_span(|_| Err::<(), _>(OutOfStock("sku-1")));
    assert!(r.is_err());
    pipeline
        .tree()
        .span("reserve")
        .assert_status_error("out of stock: sku-1")
        .assert_attribute("error.type", "status::OutOfStock");
}

#[test]
fn boxed_errors_go_through_dyn_error() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let _ = SpanOptions::new("boxed").with_tracer(&tracer).in_span(|_| {
        let r: Result<(), Box<dyn std::error::Error + Send + Sync>> = Err("no route".into());
        r.map_err(DynError::new)
    });
    pipeline
        .tree()
        .span("boxed")
        .assert_status_error("no route")
        .assert_attribute("error.type", "_OTHER")
        .assert_event("exception")
        .assert_attribute("exception.message", "no route")
        .assert_no_attribute("exception.type");
}

/// A response type whose 5xx status is a failure.
struct Response(u16);

#[derive(Debug, thiserror::Error)]
#[error("server error")]
struct ServerError;

impl Outcome for Response {
    fn failure(&self) -> Option<Failure<'_>> {
        (self.0 >= 500).then(|| Failure::of(&ServerError))
    }
}

#[test]
fn custom_outcomes_decide_for_themselves() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    SpanOptions::new("404")
        .with_tracer(&tracer)
        .in_span(|_| Response(404));
    SpanOptions::new("503")
        .with_tracer(&tracer)
        .in_span(|_| Response(503));
    let tree = pipeline.tree();
    tree.span("404").assert_status_unset();
    tree.span("503").assert_status_error("server error");
}

#[test]
fn options_set_kind_attributes_links_and_parent() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let linked = SpanContext::new(
        TraceId::from_bytes([1; 16]),
        SpanId::from_bytes([2; 8]),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let remote_parent = SpanContext::new(
        TraceId::from_bytes([3; 16]),
        SpanId::from_bytes([4; 8]),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    SpanOptions::new("process orders")
        .with_tracer(&tracer)
        .with_kind(SpanKind::Consumer)
        .with_attributes([KeyValue::new("messaging.system", "kafka")])
        .with_attribute(KeyValue::new("messaging.batch.message_count", 2_i64))
        .with_links([Link::with_context(linked.clone())])
        .with_parent_context(Context::new().with_remote_span_context(remote_parent.clone()))
        .in_span(|cx| {
            // The span is current inside, and `cx` is its context.
            assert_eq!(
                Context::current().span().span_context(),
                cx.span().span_context()
            );
        });
    pipeline
        .tree()
        .span("process orders")
        .assert_kind(SpanKind::Consumer)
        .assert_attribute("messaging.system", "kafka")
        .assert_attribute("messaging.batch.message_count", 2)
        .assert_linked_to(&linked)
        .assert_parent_context(&remote_parent);
}

#[test]
fn nested_spans_are_children_of_the_current_one() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    SpanOptions::new("outer").with_tracer(&tracer).in_span(|_| {
        SpanOptions::new("inner")
            .with_tracer(&tracer)
            .in_span(|_| ());
        tracer.in_span("raw otel inner", |_| ());
    });
    // Once the closure returned, the outer span is no longer current.
    assert!(!Context::current().has_active_span());
    let tree = pipeline.tree();
    let outer = tree.span("outer").assert_root();
    tree.span("inner").assert_child_of(outer);
    tree.span("raw otel inner").assert_child_of(outer);
}

#[tokio::test]
async fn futures_follow_the_same_rules() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let ok = SpanOptions::new("async ok")
        .with_tracer(&tracer)
        .in_span_future(async { Ok::<_, OutOfStock>(1) })
        .await;
    let err = SpanOptions::new("async err")
        .with_tracer(&tracer)
        .with_ok_status()
        .in_span_future(async {
            tokio::task::yield_now().await;
            Err::<(), _>(OutOfStock("sku-2"))
        })
        .await;
    assert!(ok.is_ok() && err.is_err());
    let tree = pipeline.tree();
    tree.span("async ok").assert_status_unset();
    tree.span("async err")
        .assert_status_error("out of stock: sku-2")
        .assert_event("exception");
}

#[test]
fn errors_behind_pointers_record_the_pointee_type() {
    // `&dyn Error` and `Arc<dyn Error>` are errors whose concrete type is unknown: `_OTHER`
    // and no `exception.type`, not the pointer's name; `Box<E>` records `E`.
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let shared: std::sync::Arc<dyn std::error::Error + Send + Sync> =
        std::sync::Arc::new(OutOfStock("sku-3"));
    let _ = SpanOptions::new("arc")
        .with_tracer(&tracer)
        .in_span(|_| Err::<(), _>(shared.clone()));
    let borrowed = OutOfStock("sku-4");
    let _ = SpanOptions::new("ref")
        .with_tracer(&tracer)
        .in_span(|_| Err::<(), &dyn std::error::Error>(&borrowed));
    let _ = SpanOptions::new("box")
        .with_tracer(&tracer)
        .in_span(|_| Err::<(), _>(Box::new(OutOfStock("sku-5"))));
    let tree = pipeline.tree();
    for name in ["arc", "ref"] {
        tree.span(name)
            .assert_attribute("error.type", "_OTHER")
            .assert_event("exception")
            .assert_no_attribute("exception.type");
    }
    let expected = std::any::type_name::<OutOfStock>();
    tree.span("box")
        .assert_attribute("error.type", expected)
        .assert_event("exception")
        .assert_attribute("exception.type", expected);
}
