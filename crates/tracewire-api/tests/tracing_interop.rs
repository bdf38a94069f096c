//! With tracing-opentelemetry installed, `in_span` and `tracing` spans share one trace in both
//! directions.

use tracewire_api::SpanOptions;
use tracewire_testing::InMemoryPipeline;

#[test]
fn in_span_inside_a_tracing_span_is_its_child() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("api");
    tracing::subscriber::with_default(pipeline.subscriber(), || {
        tracing::info_span!("tracing request").in_scope(|| {
            SpanOptions::new("in_span work")
                .with_tracer(&tracer)
                .in_span(|_| ());
        });
    });
    let tree = pipeline.tree();
    tree.assert_single_trace();
    let request = tree.span("tracing request");
    tree.span("in_span work").assert_child_of(request);
}

#[test]
fn a_tracing_span_inside_in_span_is_its_child() {
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("api");
    tracing::subscriber::with_default(pipeline.subscriber(), || {
        SpanOptions::new("in_span request")
            .with_tracer(&tracer)
            .in_span(|_| {
                tracing::info_span!("tracing work").in_scope(|| {});
            });
    });
    let tree = pipeline.tree();
    tree.assert_single_trace();
    let request = tree.span("in_span request");
    tree.span("tracing work").assert_child_of(request);
}

#[tokio::test]
async fn both_directions_hold_in_async_code() {
    use tracing::Instrument as _;
    let pipeline = InMemoryPipeline::new();
    let tracer = pipeline.tracer("api");
    let _default = tracing::subscriber::set_default(pipeline.subscriber());
    async {
        SpanOptions::new("in_span async")
            .with_tracer(&tracer)
            .in_span_future(async {
                tokio::task::yield_now().await;
                async { tokio::task::yield_now().await }
                    .instrument(tracing::info_span!("tracing leaf"))
                    .await;
            })
            .await;
    }
    .instrument(tracing::info_span!("tracing root"))
    .await;
    let tree = pipeline.tree();
    tree.assert_len(3).assert_single_trace();
    let root = tree.span("tracing root");
    let middle = tree.span("in_span async").assert_child_of(root);
    tree.span("tracing leaf").assert_child_of(middle);
}
