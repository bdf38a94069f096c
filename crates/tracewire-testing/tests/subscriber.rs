//! The `tracing` subscriber helper: tracing spans land in the pipeline, in the OpenTelemetry
//! context's trace, both ways round.

use opentelemetry::trace::Tracer as _;
use tracewire_testing::InMemoryPipeline;

#[test]
fn tracing_spans_and_otel_spans_share_one_trace() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("otel");
    tracing::subscriber::with_default(pipeline.subscriber(), || {
        let outer = tracing::info_span!("tracing outer");
        outer.in_scope(|| {
            tracer.in_span("otel middle", |_cx| {
                tracing::info_span!("tracing inner").in_scope(|| {});
            });
        });
    });
    let tree = pipeline.tree();
    tree.assert_len(3).assert_single_trace();
    let outer = tree.span("tracing outer").assert_root();
    let middle = tree.span("otel middle").assert_child_of(outer);
    tree.span("tracing inner").assert_child_of(middle);
}
