//! The counting processor records spans and counts them, exporting nothing.

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use tracewire_testing::CountingProcessor;

#[test]
fn counts_started_and_ended_spans() {
    let (provider, counter) = CountingProcessor::provider();
    let tracer = provider.tracer("bench");
    let span = tracer.start("a");
    assert_eq!((counter.started(), counter.ended()), (1, 0));
    drop(span);
    tracer.start("b").end();
    assert_eq!((counter.started(), counter.ended()), (2, 2));
    counter.reset();
    assert_eq!((counter.started(), counter.ended()), (0, 0));
}
