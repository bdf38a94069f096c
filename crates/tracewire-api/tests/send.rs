//! `in_span_future` keeps the future `Send` (a compile-time check) and the span's context
//! follows the task across threads and awaits.

use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt as _;
use tracewire_api::SpanOptions;
use tracewire_testing::InMemoryPipeline;

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_stay_send_and_keep_their_context_across_awaits() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("t");
    let inner_tracer = tracer.clone();
    let future = SpanOptions::new("handler")
        .with_tracer(&tracer)
        .in_span_future(async move {
            let before = Context::current().span().span_context().span_id();
            tokio::time::sleep(Duration::from_millis(1)).await;
            tokio::task::yield_now().await;
            let after = Context::current().span().span_context().span_id();
            assert_eq!(before, after);
            SpanOptions::new("db query")
                .with_tracer(&inner_tracer)
                .in_span_future(async { Ok::<_, std::io::Error>(()) })
                .await
        });
    // Compile-time: the future is `Send`, so it can be spawned on a multi-thread runtime.
    let handle = tokio::spawn(assert_send(future));
    handle.await.expect("task").expect("query");
    assert!(!Context::current().has_active_span());

    let tree = pipeline.tree();
    let handler = tree.span("handler");
    tree.span("db query").assert_child_of(handler);
}
