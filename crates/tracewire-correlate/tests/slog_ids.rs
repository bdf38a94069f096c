//! slog: every record made inside a span carries that span's trace_id, span_id and trace_flags.

mod common;

use std::sync::Mutex;

use common::{Buf, Traces, hex_ids};
use opentelemetry::Context;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
};
use slog::{Drain, info, o};
use tracewire_correlate::FieldNames;
use tracewire_correlate::slog::{TraceIdsDrain, TraceIdsKv};

fn json_logger(out: &Buf) -> slog::Logger {
    let json = slog_json::Json::new(out.clone()).build().fuse();
    slog::Logger::root(
        TraceIdsDrain::new(Mutex::new(json)).fuse(),
        o!("service" => "payments"),
    )
}

#[test]
fn a_logger_built_once_logs_each_requests_ids() {
    let traces = Traces::new(true);
    let tracer = traces.tracer();
    let out = Buf::default();
    let log = json_logger(&out);

    tracer.in_span("request-1", |_| info!(log, "first request"; "n" => 1));
    tracer.in_span("request-2", |_| info!(log, "second request"; "n" => 2));

    let lines = out.json_lines();
    assert_eq!(lines.len(), 2);
    for (line, name) in lines.iter().zip(["request-1", "request-2"]) {
        let (trace_id, span_id, flags) = hex_ids(&traces.span(name));
        assert_eq!(line["trace_id"], trace_id.as_str(), "{name}");
        assert_eq!(line["span_id"], span_id.as_str(), "{name}");
        assert_eq!(line["trace_flags"], flags.as_str(), "{name}");
        assert_eq!(flags, "01");
    }
    assert_ne!(lines[0]["trace_id"], lines[1]["trace_id"]);
    assert_eq!(lines[1]["n"], 2);
    assert_eq!(lines[1]["service"], "payments");
}

#[test]
fn fields_are_left_out_outside_any_span() {
    let out = Buf::default();
    let log = json_logger(&out);
    info!(log, "no request");
    // A context with an invalid span context is no span.
    let _guard = Context::new()
        .with_remote_span_context(SpanContext::empty_context())
        .attach();
    info!(log, "still none");
    for line in out.json_lines() {
        let obj = line.as_object().expect("object");
        for key in ["trace_id", "span_id", "trace_flags"] {
            assert!(!obj.contains_key(key), "{key} in {line}");
        }
    }
}

#[test]
fn unsampled_spans_still_give_ids_with_flags_00() {
    let traces = Traces::new(false);
    let out = Buf::default();
    let log = json_logger(&out);
    let (trace_id, span_id) = traces.tracer().in_span("dropped", |cx| {
        info!(log, "not sampled");
        let sc = cx.span().span_context().clone();
        (sc.trace_id().to_string(), sc.span_id().to_string())
    });
    let line = &out.json_lines()[0];
    assert_eq!(line["trace_id"], trace_id.as_str());
    assert_eq!(line["span_id"], span_id.as_str());
    assert_eq!(line["trace_flags"], "00");
    assert!(traces.spans().is_empty(), "the span was not sampled");
}

#[test]
fn ids_are_lowercase_hex_of_the_right_length() {
    let out = Buf::default();
    let log = json_logger(&out);
    let sc = SpanContext::new(
        TraceId::from_bytes([0xAB; 16]),
        SpanId::from_bytes([0x0C; 8]),
        TraceFlags::new(0x03),
        true,
        TraceState::NONE,
    );
    let _guard = Context::new().with_remote_span_context(sc).attach();
    info!(log, "remote parent");
    let line = &out.json_lines()[0];
    assert_eq!(line["trace_id"], "abababababababababababababababab");
    assert_eq!(line["span_id"], "0c0c0c0c0c0c0c0c");
    // Every flag bit is kept, in W3C form.
    assert_eq!(line["trace_flags"], "03");
}

#[test]
fn names_are_configurable() {
    let traces = Traces::new(true);
    let out = Buf::default();
    let json = slog_json::Json::new(out.clone()).build().fuse();
    let names = FieldNames::SPEC
        .with_trace_id("dd.trace_id")
        .with_span_id("dd.span_id")
        .with_trace_flags("sampled_flags");
    let log = slog::Logger::root(
        TraceIdsDrain::new(Mutex::new(json))
            .with_names(names)
            .fuse(),
        o!(),
    );
    traces.tracer().in_span("named", |_| info!(log, "hello"));
    let (trace_id, span_id, _) = hex_ids(&traces.span("named"));
    let line = &out.json_lines()[0];
    assert_eq!(line["dd.trace_id"], trace_id.as_str());
    assert_eq!(line["dd.span_id"], span_id.as_str());
    assert_eq!(line["sampled_flags"], "01");
    assert!(line.get("trace_id").is_none());
}

#[test]
fn the_drain_in_front_of_slog_async_logs_the_callers_ids() {
    let traces = Traces::new(true);
    let out = Buf::default();
    let json = slog_json::Json::new(out.clone()).build().fuse();
    let async_drain = slog_async::Async::new(json).build();
    let (trace_id, span_id) = {
        let log = slog::Logger::root(TraceIdsDrain::new(async_drain.fuse()).fuse(), o!());
        let ids = traces.tracer().in_span("async", |cx| {
            info!(log, "handed to another thread");
            let sc = cx.span().span_context().clone();
            (sc.trace_id().to_string(), sc.span_id().to_string())
        });
        // Dropping the last logger flushes and joins the async thread.
        drop(log);
        ids
    };
    let line = &out.json_lines()[0];
    assert_eq!(line["trace_id"], trace_id.as_str());
    assert_eq!(line["span_id"], span_id.as_str());
}

#[test]
fn the_kv_source_reads_ids_when_serialized() {
    let traces = Traces::new(true);
    let out = Buf::default();
    let json = slog_json::Json::new(out.clone()).build().fuse();
    let log = slog::Logger::root(Mutex::new(json).fuse(), o!(TraceIdsKv::new()));
    info!(log, "outside");
    traces.tracer().in_span("kv", |_| info!(log, "inside"));
    let (trace_id, _, _) = hex_ids(&traces.span("kv"));
    let lines = out.json_lines();
    assert!(lines[0].get("trace_id").is_none());
    assert_eq!(lines[1]["trace_id"], trace_id.as_str());
    assert_eq!(lines[1]["trace_flags"], "01");
}
