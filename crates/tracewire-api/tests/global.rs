//! Without a tracer, `in_span` uses the global provider's tracer `tracewire-api` (its own test
//! binary, since it installs a global provider).

use opentelemetry::trace::TraceContextExt as _;
use tracewire_api::{SpanOptions, in_span, in_span_future};
use tracewire_testing::InMemoryPipeline;

#[test]
fn the_global_tracer_is_used_by_default() {
    let pipeline = InMemoryPipeline::new();
    let _guard = pipeline.install_global();
    in_span("global closure", |cx| assert!(cx.has_active_span()));
    SpanOptions::new("custom scope")
        .with_global_scope("checkout")
        .in_span(|_| ());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(in_span_future("global future", async {}));

    let tree = pipeline.tree();
    tree.assert_len(3);
    assert_eq!(
        tree.span("global closure")
            .data()
            .instrumentation_scope
            .name(),
        tracewire_api::DEFAULT_SCOPE
    );
    assert_eq!(
        tree.span("custom scope")
            .data()
            .instrumentation_scope
            .name(),
        "checkout"
    );
    tree.span("global future");
}
