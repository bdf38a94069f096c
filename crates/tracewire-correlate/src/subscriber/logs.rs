//! [`logs_layer`]: `tracing` events as OpenTelemetry log records carrying their span's context.

use opentelemetry::logs::{Logger, LoggerProvider};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;

use crate::subscriber::WithOtelContext;

/// The layer [`logs_layer`] returns.
pub type LogsLayer<P, L> = WithOtelContext<OpenTelemetryTracingBridge<P, L>>;

/// A layer that exports `tracing` events as OpenTelemetry log records through `provider`, each
/// carrying the trace context of the event's `tracing` span.
///
/// It is opentelemetry-appender-tracing's bridge (level → severity, message → body, fields →
/// attributes, target) wrapped in [`WithOtelContext`]: the bridge leaves the trace context to
/// the logger, which takes it from the current OpenTelemetry context, and the wrapper makes that
/// the context of the event's span. `provider` is any [`LoggerProvider`] of the OpenTelemetry
/// API; with the SDK's `SdkLoggerProvider` the records go to its processors and exporters.
///
/// Put this layer next to tracing-opentelemetry's layer in the same subscriber.
///
/// # Example
///
/// ```
/// use opentelemetry::trace::TracerProvider as _;
/// use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
/// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let spans = InMemorySpanExporter::default();
/// let tracer_provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
/// let logs = InMemoryLogExporter::default();
/// let logger_provider = SdkLoggerProvider::builder().with_simple_exporter(logs.clone()).build();
///
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("example")))
///     .with(tracewire_correlate::subscriber::logs_layer(&logger_provider));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info_span!("checkout").in_scope(|| tracing::info!(order = 7, "order placed"));
/// });
///
/// let span = &spans.get_finished_spans().expect("spans")[0];
/// let record = &logs.get_emitted_logs().expect("logs")[0].record;
/// let tc = record.trace_context().expect("trace context");
/// assert_eq!(tc.trace_id, span.span_context.trace_id());
/// assert_eq!(tc.span_id, span.span_context.span_id());
/// ```
pub fn logs_layer<P, L>(provider: &P) -> LogsLayer<P, L>
where
    P: LoggerProvider<Logger = L> + Send + Sync,
    L: Logger + Send + Sync,
{
    WithOtelContext::new(OpenTelemetryTracingBridge::new(provider))
}
