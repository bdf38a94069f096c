//! A panic inside `in_span` (closure or future) sets Error, records the panic, ends the span,
//! and keeps unwinding; a future dropped unfinished ends its span.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use opentelemetry::trace::TraceContextExt as _;
use tracewire_api::SpanOptions;
use tracewire_testing::InMemoryPipeline;

/// A current-thread runtime with timers, for the `in_span_future` tests.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

#[test]
fn closure_panics_are_recorded_then_resumed() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let caught = catch_unwind(AssertUnwindSafe(|| {
        SpanOptions::new("boom")
            .with_tracer(&tracer)
            .in_span(|_| -> () { panic!("inventory corrupted") })
    }));
    let payload = caught.expect_err("the panic goes on");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"inventory corrupted"));
    // The context was restored while unwinding.
    assert!(!opentelemetry::Context::current().has_active_span());
    pipeline
        .tree()
        .span("boom")
        .assert_status_error("inventory corrupted")
        .assert_attribute("error.type", "panic")
        .assert_event("exception")
        .assert_attribute("exception.type", "panic")
        .assert_attribute("exception.message", "inventory corrupted");
}

#[test]
fn formatted_panic_messages_are_kept() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let order = 17;
    let _ = catch_unwind(AssertUnwindSafe(|| {
        SpanOptions::new("boom")
            .with_tracer(&tracer)
            .in_span(|_| -> () { panic!("order {order} corrupted") })
    }));
    pipeline
        .tree()
        .span("boom")
        .assert_status_error("order 17 corrupted");
}

#[test]
fn future_panics_are_recorded_then_resumed() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let runtime = runtime();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(
            SpanOptions::new("async boom")
                .with_tracer(&tracer)
                .in_span_future(async {
                    tokio::task::yield_now().await;
                    panic!("async inventory corrupted")
                }),
        )
    }));
    let payload: Box<dyn std::any::Any + Send> = match caught {
        Ok(()) => panic!("the panic should go on"),
        Err(p) => p,
    };
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"async inventory corrupted")
    );
    pipeline
        .tree()
        .assert_len(1)
        .span("async boom")
        .assert_status_error("async inventory corrupted")
        .assert_event("exception")
        .assert_attribute("exception.type", "panic");
}

#[test]
fn cancelled_futures_end_their_span_unset() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let runtime = runtime();
    runtime.block_on(async {
        let slow = SpanOptions::new("slow")
            .with_tracer(&tracer)
            .in_span_future(async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
        let timed_out = tokio::time::timeout(Duration::from_millis(1), slow).await;
        assert!(timed_out.is_err());
    });
    pipeline.tree().span("slow").assert_status_unset();
}

#[test]
fn futures_dropped_during_a_panic_record_an_error() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let _pending = SpanOptions::new("abandoned")
            .with_tracer(&tracer)
            .in_span_future(std::future::pending::<()>());
        panic!("elsewhere");
    }));
    pipeline
        .tree()
        .span("abandoned")
        .assert_error()
        .assert_attribute("error.type", "panic");
}

#[test]
fn cancelled_futures_end_the_spans_inside_them_first() {
    // Dropping the outer future drops the inner one (ending its span) before the outer span
    // ends: a child never ends after its parent.
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let runtime = runtime();
    runtime.block_on(async {
        let outer = SpanOptions::new("outer")
            .with_tracer(&tracer)
            .in_span_future(async {
                SpanOptions::new("inner")
                    .with_tracer(&tracer)
                    .in_span_future(std::future::pending::<()>())
                    .await
            });
        let timed_out = tokio::time::timeout(Duration::from_millis(1), outer).await;
        assert!(timed_out.is_err());
    });
    let ended: Vec<String> = pipeline
        .spans()
        .iter()
        .map(|span| span.name.to_string())
        .collect();
    assert_eq!(ended, ["inner", "outer"], "spans in the order they ended");
    let tree = pipeline.tree();
    let outer = tree.span("outer");
    tree.span("inner").assert_child_of(outer);
}
