//! `install_global` makes the pipeline the global provider and W3C the global propagator, and
//! its guard puts a no-op provider back. Its own test binary, since it touches global state.

use std::collections::HashMap;

use opentelemetry::global;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use tracewire_testing::InMemoryPipeline;

#[test]
fn installs_and_restores_the_global_provider() {
    let pipeline = InMemoryPipeline::new();
    {
        let _guard = pipeline.install_global();
        global::tracer("global").in_span("via global", |cx| {
            let mut headers = HashMap::new();
            global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
            let traceparent = headers.get("traceparent").expect("traceparent injected");
            assert!(traceparent.contains(&cx.span().span_context().trace_id().to_string()));
        });
    }
    global::tracer("global").in_span("after the guard", |_cx| {});
    pipeline.tree().assert_len(1).span("via global");
}
