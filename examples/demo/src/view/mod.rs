//! The in-process trace view: the kept traces of a run, assembled from what each service's tail
//! sampler exported and decided, shown in the terminal ([`terminal`]) and as a self-contained
//! HTML page ([`html`]).

pub(crate) mod collect;
pub(crate) mod html;
pub(crate) mod terminal;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::trace::SpanData;
use serde::Serialize;

use crate::load::OrderResult;
use collect::Verdict;

/// The services, upstream first.
pub(crate) const SERVICES: [&str; 3] = ["checkout", "payments", "fulfillment"];

/// What one service exported and decided during the run.
#[derive(Debug)]
pub(crate) struct ServiceOutput {
    pub(crate) name: &'static str,
    pub(crate) spans: Vec<SpanData>,
    pub(crate) decisions: HashMap<TraceId, Verdict>,
}

/// Everything the views show.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) seed: u64,
    pub(crate) orders: usize,
    pub(crate) accepted: usize,
    pub(crate) failed: usize,
    pub(crate) fulfilled: usize,
    pub(crate) head_sampled: usize,
    pub(crate) kafka: String,
    pub(crate) sampling: Sampling,
    pub(crate) services: Vec<ServiceSummary>,
    pub(crate) traces: Vec<TraceReport>,
}

/// The sampling setup, for people.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Sampling {
    pub(crate) head: String,
    pub(crate) tail: Vec<String>,
}

/// One service's tail-sampling results.
#[derive(Debug, Serialize)]
pub(crate) struct ServiceSummary {
    pub(crate) name: &'static str,
    /// Traces of this run the service decided about (it had a part in them).
    pub(crate) decided: usize,
    pub(crate) kept: usize,
    /// Kept traces by the policy that kept them.
    pub(crate) by_policy: BTreeMap<String, usize>,
}

/// One kept trace.
#[derive(Debug, Serialize)]
pub(crate) struct TraceReport {
    pub(crate) trace_id: String,
    pub(crate) order_id: Option<String>,
    pub(crate) root: String,
    pub(crate) start_unix_us: u64,
    pub(crate) duration_us: u64,
    pub(crate) error: bool,
    /// Spans of all three services: HTTP → HTTP → Kafka → consumer.
    pub(crate) complete: bool,
    /// Each service's decision: kept (and by which policy), not kept, or no part in the trace.
    pub(crate) decisions: Vec<ServiceDecision>,
    /// Depth-first, children by start time.
    pub(crate) spans: Vec<SpanReport>,
    pub(crate) logs: Vec<String>,
}

/// One service's decision about one trace.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServiceDecision {
    pub(crate) service: &'static str,
    /// `kept`, `not kept`, or `no part` (the service never saw the trace).
    pub(crate) outcome: &'static str,
    pub(crate) policy: Option<String>,
}

/// One span of a kept trace.
#[derive(Debug, Serialize)]
pub(crate) struct SpanReport {
    pub(crate) span_id: String,
    pub(crate) parent_span_id: Option<String>,
    pub(crate) service: &'static str,
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) depth: usize,
    /// From the trace's start.
    pub(crate) offset_us: u64,
    pub(crate) duration_us: u64,
    /// `unset`, `ok` or `error`.
    pub(crate) status: &'static str,
    pub(crate) status_message: Option<String>,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) events: Vec<EventReport>,
    pub(crate) links: Vec<String>,
}

/// A span event.
#[derive(Debug, Serialize)]
pub(crate) struct EventReport {
    pub(crate) name: String,
    pub(crate) offset_us: u64,
    pub(crate) attributes: Vec<(String, String)>,
}

impl Report {
    /// Assembles the kept traces of the run's orders from each service's output.
    pub(crate) fn build(
        orders: &[OrderResult],
        outputs: &[ServiceOutput],
        fulfilled: usize,
        kafka: String,
        sampling: Sampling,
        seed: u64,
    ) -> Self {
        let ours: HashMap<TraceId, &OrderResult> = orders
            .iter()
            .filter_map(|o| o.trace_id.map(|t| (t, o)))
            .collect();

        let services = outputs
            .iter()
            .map(|out| {
                let mut by_policy = BTreeMap::new();
                let mut decided = 0;
                let mut kept = 0;
                for (trace, verdict) in &out.decisions {
                    if !ours.contains_key(trace) {
                        continue;
                    }
                    decided += 1;
                    if verdict.kept {
                        kept += 1;
                        let policy = verdict.policy.clone().unwrap_or_else(|| "?".to_owned());
                        *by_policy.entry(policy).or_insert(0) += 1;
                    }
                }
                ServiceSummary {
                    name: out.name,
                    decided,
                    kept,
                    by_policy,
                }
            })
            .collect();

        let mut by_trace: HashMap<TraceId, Vec<(&'static str, &SpanData)>> = HashMap::new();
        for out in outputs {
            for span in &out.spans {
                let id = span.span_context.trace_id();
                if ours.contains_key(&id) {
                    by_trace.entry(id).or_default().push((out.name, span));
                }
            }
        }
        let mut traces: Vec<TraceReport> = by_trace
            .into_iter()
            .map(|(id, spans)| {
                let decisions = SERVICES
                    .iter()
                    .map(|service| decision_of(service, id, outputs))
                    .collect();
                trace_report(id, &spans, decisions, ours.get(&id).copied())
            })
            .collect();
        traces.sort_by_key(|t| t.start_unix_us);

        Report {
            seed,
            orders: orders.len(),
            accepted: orders.iter().filter(|o| o.accepted()).count(),
            failed: orders.iter().filter(|o| !o.accepted()).count(),
            fulfilled,
            head_sampled: orders.iter().filter(|o| o.head_sampled).count(),
            kafka,
            sampling,
            services,
            traces,
        }
    }

    /// The trace to show first: a kept error trace (the one with most spans), else the first.
    pub(crate) fn featured_error(&self) -> Option<&TraceReport> {
        self.traces
            .iter()
            .filter(|t| t.error)
            .max_by_key(|t| (t.spans.len(), std::cmp::Reverse(t.start_unix_us)))
    }

    /// A kept trace across the whole system, HTTP → HTTP → Kafka → consumer: the one with most
    /// spans, then the shortest (the least consumer lag, so the bars are easiest to read).
    pub(crate) fn featured_complete(&self) -> Option<&TraceReport> {
        self.traces
            .iter()
            .filter(|t| t.complete)
            .max_by_key(|t| (t.spans.len(), std::cmp::Reverse(t.duration_us)))
    }
}

fn decision_of(service: &'static str, id: TraceId, outputs: &[ServiceOutput]) -> ServiceDecision {
    let verdict = outputs
        .iter()
        .find(|o| o.name == service)
        .and_then(|o| o.decisions.get(&id));
    match verdict {
        Some(v) => ServiceDecision {
            service,
            outcome: if v.kept { "kept" } else { "not kept" },
            policy: v.policy.clone(),
        },
        None => ServiceDecision {
            service,
            outcome: "no part",
            policy: None,
        },
    }
}

fn unix_us(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn trace_report(
    id: TraceId,
    spans: &[(&'static str, &SpanData)],
    decisions: Vec<ServiceDecision>,
    order: Option<&OrderResult>,
) -> TraceReport {
    let start = spans
        .iter()
        .map(|(_, s)| s.start_time)
        .min()
        .unwrap_or(UNIX_EPOCH);
    let end = spans.iter().map(|(_, s)| s.end_time).max().unwrap_or(start);
    let start_us = unix_us(start);

    // Depth-first from the spans whose parent is not in the trace, children by start time.
    let ids: HashSet<SpanId> = spans
        .iter()
        .map(|(_, s)| s.span_context.span_id())
        .collect();
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, (_, s)) in spans.iter().enumerate() {
        if s.parent_span_id != SpanId::INVALID && ids.contains(&s.parent_span_id) {
            children.entry(s.parent_span_id).or_default().push(i);
        } else {
            roots.push(i);
        }
    }
    let by_start = |a: &usize, b: &usize| spans[*a].1.start_time.cmp(&spans[*b].1.start_time);
    roots.sort_by(by_start);
    for list in children.values_mut() {
        list.sort_by(by_start);
    }
    let mut ordered = Vec::with_capacity(spans.len());
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|i| (*i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        ordered.push((i, depth));
        if let Some(kids) = children.get(&spans[i].1.span_context.span_id()) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }

    let span_reports: Vec<SpanReport> = ordered
        .into_iter()
        .map(|(i, depth)| span_report(spans[i].0, spans[i].1, depth, start_us))
        .collect();
    let services: HashSet<&str> = spans.iter().map(|(svc, _)| *svc).collect();
    let root = roots
        .first()
        .map_or_else(String::new, |i| spans[*i].1.name.to_string());
    TraceReport {
        trace_id: id.to_string(),
        order_id: order.map(|o| o.order.order_id.clone()),
        root,
        start_unix_us: start_us,
        duration_us: unix_us(end).saturating_sub(start_us),
        error: span_reports.iter().any(|s| s.status == "error"),
        complete: SERVICES.iter().all(|s| services.contains(s))
            && spans.iter().any(|(_, s)| s.span_kind == SpanKind::Consumer),
        decisions,
        spans: span_reports,
        logs: Vec::new(),
    }
}

fn span_report(service: &'static str, s: &SpanData, depth: usize, start_us: u64) -> SpanReport {
    let offset = unix_us(s.start_time).saturating_sub(start_us);
    let (status, status_message) = match &s.status {
        Status::Unset => ("unset", None),
        Status::Ok => ("ok", None),
        Status::Error { description } => (
            "error",
            (!description.is_empty()).then(|| description.to_string()),
        ),
    };
    SpanReport {
        span_id: s.span_context.span_id().to_string(),
        parent_span_id: (s.parent_span_id != SpanId::INVALID).then(|| s.parent_span_id.to_string()),
        service,
        name: s.name.to_string(),
        kind: kind_name(&s.span_kind),
        depth,
        offset_us: offset,
        duration_us: unix_us(s.end_time).saturating_sub(unix_us(s.start_time)),
        status,
        status_message,
        attributes: attributes(&s.attributes),
        events: s
            .events
            .iter()
            .map(|e| EventReport {
                name: e.name.to_string(),
                offset_us: unix_us(e.timestamp).saturating_sub(start_us),
                attributes: attributes(&e.attributes),
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| format!("{}-{}", l.span_context.trace_id(), l.span_context.span_id()))
            .collect(),
    }
}

/// The span kind as the OpenTelemetry specification writes it.
pub(crate) fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

fn attributes(kvs: &[KeyValue]) -> Vec<(String, String)> {
    kvs.iter()
        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(
        trace: u128,
        id: u64,
        parent: u64,
        name: &'static str,
        at_ms: u64,
        ms: u64,
    ) -> SpanData {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: if name.starts_with("process o") {
                SpanKind::Consumer
            } else {
                SpanKind::Internal
            },
            name: name.into(),
            start_time: t0 + Duration::from_millis(at_ms),
            end_time: t0 + Duration::from_millis(at_ms + ms),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: if name == "process-payment" {
                Status::error("declined")
            } else {
                Status::Unset
            },
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    #[test]
    fn traces_are_assembled_across_services() {
        let out = |name, spans, kept: &[u128]| ServiceOutput {
            name,
            spans,
            decisions: kept
                .iter()
                .map(|t| {
                    (
                        TraceId::from(*t),
                        Verdict {
                            kept: true,
                            policy: Some("probabilistic".into()),
                        },
                    )
                })
                .collect(),
        };
        let outputs = [
            out(
                "checkout",
                vec![
                    span(1, 1, 0, "POST /orders", 0, 10),
                    span(1, 2, 1, "POST", 1, 8),
                ],
                &[1],
            ),
            out(
                "payments",
                vec![
                    span(1, 4, 3, "process-payment", 3, 4),
                    span(1, 3, 2, "POST /payments", 2, 6),
                ],
                &[1],
            ),
            out(
                "fulfillment",
                vec![span(1, 5, 4, "process orders", 8, 3)],
                &[1],
            ),
        ];
        let order = |n: u32, trace: u128| OrderResult {
            order: crate::load::order(1, n),
            status: Some(201),
            trace_id: Some(TraceId::from(trace)),
            head_sampled: false,
            latency: Duration::ZERO,
        };
        let sampling = Sampling {
            head: String::new(),
            tail: Vec::new(),
        };
        let report = Report::build(
            &[order(0, 1), order(1, 2)],
            &outputs,
            2,
            String::new(),
            sampling,
            1,
        );
        assert_eq!(report.traces.len(), 1);
        let trace = &report.traces[0];
        let names: Vec<(&str, usize)> = trace
            .spans
            .iter()
            .map(|s| (s.name.as_str(), s.depth))
            .collect();
        assert_eq!(
            names,
            [
                ("POST /orders", 0),
                ("POST", 1),
                ("POST /payments", 2),
                ("process-payment", 3),
                ("process orders", 4)
            ]
        );
        assert!(trace.complete && trace.error);
        assert_eq!(trace.duration_us, 11_000);
        assert_eq!(trace.spans[3].offset_us, 3_000);
        assert_eq!(report.services[0].kept, 1);
        assert_eq!(
            report.featured_complete().map(|t| t.trace_id.as_str()),
            Some(trace.trace_id.as_str())
        );
    }
}
