//! A `tracing` subscriber whose OpenTelemetry layer writes to a given tracer (feature `tracing`).
//!
//! The subscriber is a `tracing-subscriber` registry with tracing-opentelemetry's layer (context
//! activation on, its default: entering a `tracing` span makes its OpenTelemetry context
//! current, and a `tracing` span opened inside an OpenTelemetry context is its child). Install it
//! for one test with `tracing::subscriber::set_default` or `with_default`, never globally.
//!
//! # Example
//!
//! ```
//! use tracewire_testing::InMemoryPipeline;
//!
//! let pipeline = InMemoryPipeline::new();
//! tracing::subscriber::with_default(pipeline.subscriber(), || {
//!     let outer = tracing::info_span!("outer");
//!     let _entered = outer.enter();
//!     tracing::info_span!("inner").in_scope(|| {});
//! });
//! let tree = pipeline.tree();
//! let outer = tree.span("outer");
//! tree.span("inner").assert_child_of(outer);
//! ```

use opentelemetry_sdk::trace::SdkTracer;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Layered, SubscriberExt as _};

/// The subscriber type [`subscriber`] returns.
pub type TestSubscriber = Layered<OpenTelemetryLayer<Registry, SdkTracer>, Registry>;

/// A registry with tracing-opentelemetry's layer on `tracer`.
pub fn subscriber(tracer: SdkTracer) -> TestSubscriber {
    tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer))
}
