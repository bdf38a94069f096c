//! The tail sampler in tracewire's own setup: what
//! [`TracewireBuilder::with_tail_sampling`](crate::TracewireBuilder::with_tail_sampling) runs.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::{DecisionObserver, TailSamplingConfig, TailSamplingProcessor};
use crate::ProcessorContext;
use crate::batch::BatchProcessor;
use crate::export::BoxSpanExporter;

/// The export pipeline with tail sampling: the tail sampler, or, when its config is not valid,
/// the batch processor (head-sampled traces are all exported; reported once).
#[derive(Debug)]
pub(crate) enum TailPipeline {
    Tail(TailSamplingProcessor),
    Batch(BatchProcessor),
    Off,
}

pub(crate) fn pipeline(
    exporters: BoxSpanExporter,
    cx: &ProcessorContext,
    config: TailSamplingConfig,
    observer: Option<DecisionObserver>,
) -> TailPipeline {
    if let Err(err) = config.validate() {
        tracing::warn!(%err, "tail sampling is off: its config is not valid; exporting every recorded trace the head sampler sampled");
        return match BatchProcessor::builder(exporters)
            .with_settings(cx.batch)
            .with_diagnostics(cx.diagnostics.clone())
            .try_build()
        {
            Ok(batch) => TailPipeline::Batch(batch),
            Err(err) => {
                tracing::error!(%err, "cannot start the export thread: spans are not exported");
                TailPipeline::Off
            }
        };
    }
    let diagnostics = cx.diagnostics.clone();
    let exporters = Counted {
        inner: exporters,
        diagnostics: cx.diagnostics.clone(),
    };
    let mut builder = TailSamplingProcessor::builder(exporters, config)
        .with_max_export_batch_size(cx.batch.max_export_batch_size)
        .with_drop_observer(Arc::new(move |n, reason| {
            diagnostics.record_dropped_spans(n, reason);
        }));
    if let Some(observer) = observer {
        builder = builder.with_decision_observer(observer);
    }
    match builder.build() {
        Ok(p) => TailPipeline::Tail(p),
        Err(err) => {
            tracing::error!(%err, "cannot start tail sampling: spans are not exported");
            TailPipeline::Off
        }
    }
}

/// The configured exporters, counting what they export and what fails in the guard's
/// [`Diagnostics`](crate::Diagnostics), as the batch processor does.
#[derive(Debug)]
struct Counted {
    inner: BoxSpanExporter,
    diagnostics: crate::Diagnostics,
}

impl SpanExporter for Counted {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        let result = self.inner.export(batch).await;
        self.diagnostics.record_export(n, &result);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl SpanProcessor for TailPipeline {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        match self {
            TailPipeline::Tail(p) => p.on_start(span, cx),
            TailPipeline::Batch(p) => p.on_start(span, cx),
            TailPipeline::Off => {}
        }
    }

    fn on_end(&self, span: SpanData) {
        match self {
            TailPipeline::Tail(p) => p.on_end(span),
            TailPipeline::Batch(p) => p.on_end(span),
            TailPipeline::Off => {}
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        match self {
            TailPipeline::Tail(p) => p.force_flush(),
            TailPipeline::Batch(p) => p.force_flush(),
            TailPipeline::Off => Ok(()),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match self {
            TailPipeline::Tail(p) => p.shutdown_with_timeout(timeout),
            TailPipeline::Batch(p) => p.shutdown_with_timeout(timeout),
            TailPipeline::Off => Ok(()),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        match self {
            TailPipeline::Tail(p) => p.set_resource(resource),
            TailPipeline::Batch(p) => p.set_resource(resource),
            TailPipeline::Off => {}
        }
    }
}
