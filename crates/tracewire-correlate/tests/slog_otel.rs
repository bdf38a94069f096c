//! slog → OpenTelemetry logs: severity, body, attributes, timestamps and trace context.

mod common;

use std::sync::Mutex;
use std::time::SystemTime;

use common::{Buf, Logs, Traces, hex_ids};
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry_sdk::logs::SdkLogRecord;
use slog::{Drain, o};
use tracewire_core::semconv::attribute;
use tracewire_correlate::slog::{OtelLogsDrain, TraceIdsDrain};

fn attr<'a>(record: &'a SdkLogRecord, key: &str) -> Option<&'a AnyValue> {
    record
        .attributes_iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

#[test]
fn severity_text_and_number_follow_the_data_model() {
    let logs = Logs::new();
    let log = slog::Logger::root(OtelLogsDrain::new(&logs.provider), o!());
    slog::crit!(log, "c");
    slog::error!(log, "e");
    slog::warn!(log, "w");
    slog::info!(log, "i");
    let got: Vec<_> = logs
        .records()
        .iter()
        .map(|r| (r.severity_number(), r.severity_text()))
        .collect();
    // Debug and trace are compiled out by slog's default static max level in some builds; the
    // mapping of every level is checked on `severity_of` below.
    let want = [
        (Some(Severity::Fatal), Some("CRITICAL")),
        (Some(Severity::Error), Some("ERROR")),
        (Some(Severity::Warn), Some("WARNING")),
        (Some(Severity::Info), Some("INFO")),
    ];
    assert_eq!(got, want);
}

#[test]
fn every_level_maps_to_its_severity() {
    use slog::Level;
    for (level, severity, text) in [
        (Level::Critical, Severity::Fatal, "CRITICAL"),
        (Level::Error, Severity::Error, "ERROR"),
        (Level::Warning, Severity::Warn, "WARNING"),
        (Level::Info, Severity::Info, "INFO"),
        (Level::Debug, Severity::Debug, "DEBUG"),
        (Level::Trace, Severity::Trace, "TRACE"),
    ] {
        assert_eq!(tracewire_correlate::slog::severity_of(level), severity);
        assert_eq!(level.as_str(), text);
    }
}

#[test]
fn body_attributes_and_timestamps() {
    let logs = Logs::new();
    let log = slog::Logger::root(
        OtelLogsDrain::new(&logs.provider),
        o!("service" => "payments", "version" => 3u32),
    );
    let before = SystemTime::now();
    let order = 42;
    slog::info!(log, "order {} placed", order;
        "amount" => 12.5f64, "paid" => true, "count" => 7i64, "big" => u64::MAX,
        "user" => "u-1", "note" => %format_args!("x{}", 1), "none" => None::<u8>,
        "blob" => &b"\x00\xff"[..]);
    let after = SystemTime::now();

    let r = &logs.records()[0];
    assert_eq!(r.body(), Some(&AnyValue::String("order 42 placed".into())));
    assert_eq!(attr(r, "amount"), Some(&AnyValue::Double(12.5)));
    assert_eq!(attr(r, "paid"), Some(&AnyValue::Boolean(true)));
    assert_eq!(attr(r, "count"), Some(&AnyValue::Int(7)));
    assert_eq!(
        attr(r, "big"),
        Some(&AnyValue::String(u64::MAX.to_string().into()))
    );
    assert_eq!(attr(r, "user"), Some(&AnyValue::String("u-1".into())));
    assert_eq!(attr(r, "note"), Some(&AnyValue::String("x1".into())));
    assert_eq!(attr(r, "none"), None);
    assert_eq!(
        attr(r, "blob"),
        Some(&AnyValue::Bytes(Box::new(vec![0x00, 0xff])))
    );
    // Logger values too.
    assert_eq!(
        attr(r, "service"),
        Some(&AnyValue::String("payments".into()))
    );
    assert_eq!(attr(r, "version"), Some(&AnyValue::Int(3)));
    let ts = r.timestamp().expect("timestamp");
    assert!(before <= ts && ts <= after);
    assert_eq!(r.observed_timestamp(), Some(ts));
    assert_eq!(r.target().map(|t| t.as_ref()), Some(module_path!()));
    assert!(r.trace_context().is_none(), "outside any span");
    assert_eq!(attr(r, attribute::CODE_FILE_PATH), None, "off by default");
}

#[test]
fn code_location_when_enabled() {
    let logs = Logs::new();
    let drain = OtelLogsDrain::builder(&logs.provider)
        .with_code_location(true)
        .build();
    let log = slog::Logger::root(drain, o!());
    let line = line!() + 1;
    slog::info!(log, "here");
    let r = &logs.records()[0];
    assert_eq!(
        attr(r, attribute::CODE_FILE_PATH),
        Some(&AnyValue::String(file!().into()))
    );
    assert_eq!(
        attr(r, attribute::CODE_LINE_NUMBER),
        Some(&AnyValue::Int(i64::from(line)))
    );
}

#[test]
fn json_line_log_record_and_span_have_the_same_ids() {
    let traces = Traces::new(true);
    let logs = Logs::new();
    let out = Buf::default();
    let json = slog_json::Json::new(out.clone()).build().fuse();
    let drain = slog::Duplicate::new(
        TraceIdsDrain::new(Mutex::new(json)).fuse(),
        OtelLogsDrain::new(&logs.provider),
    )
    .fuse();
    let log = slog::Logger::root(drain, o!());

    traces
        .tracer()
        .in_span("charge", |_| slog::info!(log, "charging"; "amount" => 5));

    let span = traces.span("charge");
    let (trace_id, span_id, flags) = hex_ids(&span);
    let line = &out.json_lines()[0];
    assert_eq!(line["trace_id"], trace_id.as_str());
    assert_eq!(line["span_id"], span_id.as_str());
    assert_eq!(line["trace_flags"], flags.as_str());
    let record = &logs.records()[0];
    let tc = record.trace_context().expect("trace context");
    assert_eq!(tc.trace_id, span.span_context.trace_id());
    assert_eq!(tc.span_id, span.span_context.span_id());
    assert_eq!(tc.trace_flags, Some(span.span_context.trace_flags()));
    // The ids are the record's trace context, not attributes.
    assert_eq!(attr(record, "trace_id"), None);
}

#[test]
fn unsampled_span_context_is_exported_with_flags_00() {
    let traces = Traces::new(false);
    let logs = Logs::new();
    let log = slog::Logger::root(OtelLogsDrain::new(&logs.provider), o!());
    let sc = traces.tracer().in_span("dropped", |cx| {
        slog::info!(log, "x");
        cx.span().span_context().clone()
    });
    let tc = logs.records()[0]
        .trace_context()
        .cloned()
        .expect("trace context");
    assert_eq!(tc.trace_id, sc.trace_id());
    assert_eq!(tc.span_id, sc.span_id());
    assert_eq!(tc.trace_flags.map(|f| f.to_u8()), Some(0));
}

#[test]
fn ids_written_by_trace_ids_drain_survive_slog_async() {
    let traces = Traces::new(true);
    let logs = Logs::new();
    let async_drain = slog_async::Async::new(OtelLogsDrain::new(&logs.provider)).build();
    let log = slog::Logger::root(TraceIdsDrain::new(async_drain.fuse()).fuse(), o!());
    let sc = traces.tracer().in_span("async", |cx| {
        slog::info!(log, "on another thread"; "k" => "v");
        cx.span().span_context().clone()
    });
    drop(log);
    let records = logs.records();
    let tc = records[0].trace_context().expect("trace context");
    assert_eq!(tc.trace_id, sc.trace_id());
    assert_eq!(tc.span_id, sc.span_id());
    assert_eq!(tc.trace_flags, Some(sc.trace_flags()));
    assert_eq!(attr(&records[0], "trace_id"), None);
    assert_eq!(attr(&records[0], "k"), Some(&AnyValue::String("v".into())));
}

#[test]
fn invalid_trace_fields_stay_plain_attributes() {
    let logs = Logs::new();
    let log = slog::Logger::root(OtelLogsDrain::new(&logs.provider), o!());
    slog::info!(log, "user supplied"; "trace_id" => "not-hex", "span_id" => "00f067aa0ba902b7");
    let r = &logs.records()[0];
    assert!(r.trace_context().is_none());
    assert_eq!(
        attr(r, "trace_id"),
        Some(&AnyValue::String("not-hex".into()))
    );
    assert_eq!(
        attr(r, "span_id"),
        Some(&AnyValue::String("00f067aa0ba902b7".into()))
    );
}

#[test]
fn a_lone_id_field_inside_a_span_stays_an_attribute() {
    let traces = Traces::new(true);
    let logs = Logs::new();
    let log = slog::Logger::root(OtelLogsDrain::new(&logs.provider), o!());
    // A valid trace id alone (no span id) is not a trace context: the record takes the current
    // span's, and the field stays what the caller logged, an attribute.
    let other = "4bf92f3577b34da6a3ce929d0e0e4736";
    let sc = traces.tracer().in_span("current", |cx| {
        slog::info!(log, "refund for an earlier trace"; "trace_id" => other);
        cx.span().span_context().clone()
    });
    let r = &logs.records()[0];
    let tc = r.trace_context().expect("trace context");
    assert_eq!((tc.trace_id, tc.span_id), (sc.trace_id(), sc.span_id()));
    assert_eq!(attr(r, "trace_id"), Some(&AnyValue::String(other.into())));
}
