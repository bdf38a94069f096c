//! The in-process view's inputs: the spans each service's tail sampler kept (an exporter), and
//! what it decided about every trace and why (a decision observer).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tracewire_sdk::tail::{Decision, DecisionObserver};

/// Spans kept in memory at most, per service; more are counted, not kept.
const MAX_SPANS: usize = 200_000;
/// Decisions kept in memory at most, per service.
const MAX_DECISIONS: usize = 1_000_000;

/// An exporter that keeps the spans one service exported (those its tail sampler kept).
#[derive(Debug, Clone)]
pub(crate) struct SpanSink {
    spans: Arc<Mutex<Vec<SpanData>>>,
}

impl SpanSink {
    pub(crate) fn new() -> Self {
        Self {
            spans: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The spans exported so far.
    pub(crate) fn spans(&self) -> Vec<SpanData> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl SpanExporter for SpanSink {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if let Ok(mut spans) = self.spans.lock() {
            let room = MAX_SPANS.saturating_sub(spans.len());
            spans.extend(batch.into_iter().take(room));
        }
        Ok(())
    }
}

/// One service's tail-sampling decision about one trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Whether the service exported its part of the trace.
    pub(crate) kept: bool,
    /// The policy that kept (or dropped) it.
    pub(crate) policy: Option<String>,
}

/// What one service's tail sampler decided, trace by trace.
#[derive(Debug, Clone, Default)]
pub(crate) struct DecisionLog {
    inner: Arc<Mutex<HashMap<TraceId, Verdict>>>,
}

impl DecisionLog {
    /// The observer to give the tail sampler (called on its worker thread).
    pub(crate) fn observer(&self) -> DecisionObserver {
        let inner = Arc::clone(&self.inner);
        Arc::new(move |decision| {
            if let Ok(mut map) = inner.lock()
                && map.len() < MAX_DECISIONS
            {
                map.insert(
                    decision.trace_id,
                    Verdict {
                        kept: decision.decision == Decision::Sampled,
                        policy: decision.policy.map(str::to_owned),
                    },
                );
            }
        })
    }

    /// Every decision so far.
    pub(crate) fn snapshot(&self) -> HashMap<TraceId, Verdict> {
        self.inner.lock().map(|m| m.clone()).unwrap_or_default()
    }
}
