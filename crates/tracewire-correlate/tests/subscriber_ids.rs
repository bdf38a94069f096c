//! tracing-subscriber: JSON and text lines, exported log records and exported spans agree on
//! the ids of the event's span.

mod common;

use common::{Buf, Logs, Traces, hex_ids};
use opentelemetry::trace::TraceContextExt;
use tracewire_correlate::FieldNames;
use tracewire_correlate::subscriber::{OtelContextExt, TraceIdsFormat, logs_layer};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

fn subscriber(traces: &Traces, logs: &Logs, out: &Buf, activation: bool) -> impl Subscriber {
    let out = out.clone();
    tracing_subscriber::registry()
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(traces.tracer())
                .with_context_activation(activation),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(TraceIdsFormat::default_json())
                .with_writer(move || out.clone())
                .with_otel_context(),
        )
        .with(logs_layer(&logs.provider))
}

fn assert_same_ids(
    line: &serde_json::Value,
    record: &opentelemetry_sdk::logs::SdkLogRecord,
    span: &opentelemetry_sdk::trace::SpanData,
) {
    let (trace_id, span_id, flags) = hex_ids(span);
    assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
    assert_eq!(line["span_id"], span_id.as_str(), "{line}");
    assert_eq!(line["trace_flags"], flags.as_str(), "{line}");
    let tc = record.trace_context().expect("trace context");
    assert_eq!(tc.trace_id, span.span_context.trace_id());
    assert_eq!(tc.span_id, span.span_context.span_id());
    assert_eq!(tc.trace_flags, Some(span.span_context.trace_flags()));
}

#[test]
fn json_line_log_record_and_span_have_the_same_ids() {
    let (traces, logs, out) = (Traces::new(true), Logs::new(), Buf::default());
    tracing::subscriber::with_default(subscriber(&traces, &logs, &out, true), || {
        tracing::info_span!("checkout").in_scope(|| tracing::info!(order = 7, "order placed"));
    });
    let line = &out.json_lines()[0];
    assert_same_ids(line, &logs.records()[0], &traces.span("checkout"));
    // The ids are top-level keys, next to the formatter's own.
    assert_eq!(line["fields"]["message"], "order placed");
    assert_eq!(line["level"], "INFO");
}

#[test]
fn a_subscriber_built_once_logs_each_requests_ids() {
    let (traces, logs, out) = (Traces::new(true), Logs::new(), Buf::default());
    tracing::subscriber::with_default(subscriber(&traces, &logs, &out, true), || {
        for name in ["request-1", "request-2"] {
            let span = tracing::info_span!("request", otel.name = name);
            let _entered = span.enter();
            tracing::info!("handling");
        }
    });
    let lines = out.json_lines();
    let records = logs.records();
    assert_eq!((lines.len(), records.len()), (2, 2));
    for (i, name) in ["request-1", "request-2"].into_iter().enumerate() {
        assert_same_ids(&lines[i], &records[i], &traces.span(name));
    }
    assert_ne!(lines[0]["trace_id"], lines[1]["trace_id"]);
}

#[test]
fn nested_spans_log_the_innermost_span() {
    let (traces, logs, out) = (Traces::new(true), Logs::new(), Buf::default());
    tracing::subscriber::with_default(subscriber(&traces, &logs, &out, true), || {
        tracing::info_span!("outer").in_scope(|| {
            tracing::info_span!("inner").in_scope(|| tracing::warn!("deep"));
            tracing::info!("shallow");
        });
    });
    let (lines, records) = (out.json_lines(), logs.records());
    assert_same_ids(&lines[0], &records[0], &traces.span("inner"));
    assert_same_ids(&lines[1], &records[1], &traces.span("outer"));
    assert_eq!(lines[0]["trace_id"], lines[1]["trace_id"]);
}

#[test]
fn unsampled_spans_still_give_ids_with_flags_00() {
    let (traces, logs, out) = (Traces::new(false), Logs::new(), Buf::default());
    let (trace_id, span_id) =
        tracing::subscriber::with_default(subscriber(&traces, &logs, &out, true), || {
            let span = tracing::info_span!("dropped");
            let _entered = span.enter();
            tracing::info!("not sampled");
            let sc = span.context().span().span_context().clone();
            (sc.trace_id(), sc.span_id())
        });
    assert!(traces.spans().is_empty(), "not sampled, not exported");
    let line = &out.json_lines()[0];
    assert_eq!(line["trace_id"], trace_id.to_string().as_str());
    assert_eq!(line["span_id"], span_id.to_string().as_str());
    assert_eq!(line["trace_flags"], "00");
    let tc = logs.records()[0]
        .trace_context()
        .cloned()
        .expect("trace context");
    assert_eq!((tc.trace_id, tc.span_id), (trace_id, span_id));
    assert_eq!(tc.trace_flags.map(|f| f.to_u8()), Some(0));
}

#[test]
fn events_with_an_explicit_parent_get_that_parents_ids() {
    let (traces, logs, out) = (Traces::new(true), Logs::new(), Buf::default());
    tracing::subscriber::with_default(subscriber(&traces, &logs, &out, true), || {
        let background = tracing::info_span!("background");
        tracing::info_span!("current").in_scope(|| {
            tracing::info!(parent: &background, "about the background job");
        });
        // And with no span entered at all.
        tracing::info!(parent: &background, "again");
    });
    let (lines, records) = (out.json_lines(), logs.records());
    let background = traces.span("background");
    assert_same_ids(&lines[0], &records[0], &background);
    assert_same_ids(&lines[1], &records[1], &background);
}

#[test]
fn works_without_context_activation() {
    let (traces, logs, out) = (Traces::new(true), Logs::new(), Buf::default());
    tracing::subscriber::with_default(subscriber(&traces, &logs, &out, false), || {
        tracing::info_span!("quiet").in_scope(|| {
            assert!(
                !opentelemetry::Context::current().has_active_span(),
                "tracing-opentelemetry did not make the span current"
            );
            tracing::info!("still correlated");
        });
    });
    assert_same_ids(
        &out.json_lines()[0],
        &logs.records()[0],
        &traces.span("quiet"),
    );
}

#[test]
fn instrumented_futures_keep_their_ids_across_awaits() {
    use tracing::Instrument;
    let (traces, logs, out) = (Traces::new(true), Logs::new(), Buf::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(subscriber(&traces, &logs, &out, true), || {
        runtime.block_on(async {
            let a = async {
                tracing::info!("a before");
                tokio::task::yield_now().await;
                tracing::info!("a after");
            }
            .instrument(tracing::info_span!("task-a"));
            let b = async {
                tracing::info!("b before");
                tokio::task::yield_now().await;
                tracing::info!("b after");
            }
            .instrument(tracing::info_span!("task-b"));
            tokio::join!(a, b);
        });
    });
    let (lines, records) = (out.json_lines(), logs.records());
    assert_eq!(lines.len(), 4);
    for (line, record) in lines.iter().zip(&records) {
        let message = line["fields"]["message"].as_str().expect("message");
        let task = if message.starts_with('a') {
            "task-a"
        } else {
            "task-b"
        };
        assert_same_ids(line, record, &traces.span(task));
    }
}

#[test]
fn no_span_no_ids() {
    let (traces, logs, out) = (Traces::new(true), Logs::new(), Buf::default());
    tracing::subscriber::with_default(subscriber(&traces, &logs, &out, true), || {
        tracing::info!("startup");
    });
    let line = &out.json_lines()[0];
    for key in ["trace_id", "span_id", "trace_flags"] {
        assert!(line.get(key).is_none(), "{key} in {line}");
    }
    assert!(logs.records()[0].trace_context().is_none());
}

#[test]
fn text_lines_end_with_the_ids() {
    let traces = Traces::new(true);
    let out = Buf::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(traces.tracer()))
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(TraceIdsFormat::text(
                    tracing_subscriber::fmt::format()
                        .without_time()
                        .with_ansi(false),
                ))
                .with_writer(move || writer.clone())
                .with_otel_context(),
        );
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outside");
        tracing::info_span!("req").in_scope(|| tracing::info!(user = "u-1", "inside"));
    });
    let (trace_id, span_id, _) = hex_ids(&traces.span("req"));
    let text = out.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!(" INFO {}: outside", module_path!()));
    assert_eq!(
        lines[1],
        format!(
            " INFO req: {}: inside user=\"u-1\" trace_id={trace_id} span_id={span_id} trace_flags=01",
            module_path!()
        )
    );
    assert!(text.ends_with('\n'));
}

#[test]
fn json_names_are_configurable() {
    let traces = Traces::new(true);
    let out = Buf::default();
    let writer = out.clone();
    let names = FieldNames::SPEC
        .with_trace_id("traceId")
        .with_span_id("spanId")
        .with_trace_flags("traceFlags");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(traces.tracer()))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(TraceIdsFormat::default_json().with_names(names))
                .with_writer(move || writer.clone()),
        );
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("named").in_scope(|| tracing::info!("x"));
    });
    let (trace_id, span_id, _) = hex_ids(&traces.span("named"));
    let line = &out.json_lines()[0];
    assert_eq!(line["traceId"], trace_id.as_str());
    assert_eq!(line["spanId"], span_id.as_str());
    assert_eq!(line["traceFlags"], "01");
    assert!(line.get("trace_id").is_none());
}
