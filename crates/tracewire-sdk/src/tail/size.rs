//! How many bytes a buffered span holds: the `SpanData` itself plus what it owns on the heap.
//!
//! Strings are counted whether they are owned or `'static` (an over-estimate for static names),
//! so the processor's byte budget is an upper bound on what the buffered spans really hold.
//!
//! The `*_wire_bytes` functions give the other measure, the one the Collector's
//! `maximum_trace_size_bytes` and `bytes_limiting` use: the protobuf size of the trace as OTLP
//! export sends it.

use std::mem::size_of;

use opentelemetry::trace::{Event, Link, TraceState};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// Bytes a buffered span holds, counted as described in the module docs.
pub(crate) fn span_bytes(span: &SpanData) -> u64 {
    let mut n = size_of::<SpanData>();
    n += span.name.len();
    n += attributes_bytes(&span.attributes);
    n += span.events.events.capacity() * size_of::<Event>();
    for e in span.events.iter() {
        n += e.name.len() + attributes_bytes(&e.attributes);
    }
    n += span.links.links.capacity() * size_of::<Link>();
    for l in span.links.iter() {
        n += attributes_bytes(&l.attributes);
    }
    if let opentelemetry::trace::Status::Error { description } = &span.status {
        n += description.len();
    }
    if span.span_context.trace_state() != &TraceState::NONE {
        n += span.span_context.trace_state().header().len() * 2;
    }
    let scope = &span.instrumentation_scope;
    n += scope.name().len();
    n += scope.version().map_or(0, str::len);
    n += scope.schema_url().map_or(0, str::len);
    n += scope.attributes().map(kv_bytes).sum::<usize>();
    n as u64
}

fn attributes_bytes(attributes: &[KeyValue]) -> usize {
    std::mem::size_of_val(attributes) + attributes.iter().map(kv_heap).sum::<usize>()
}

fn kv_bytes(kv: &KeyValue) -> usize {
    size_of::<KeyValue>() + kv_heap(kv)
}

fn kv_heap(kv: &KeyValue) -> usize {
    kv.key.as_str().len() + value_heap(&kv.value)
}

fn value_heap(v: &Value) -> usize {
    match v {
        Value::String(s) => s.as_str().len(),
        Value::Array(a) => match a {
            Array::Bool(v) => v.len(),
            Array::I64(v) => v.len() * 8,
            Array::F64(v) => v.len() * 8,
            Array::String(v) => v
                .iter()
                .map(|s| size_of::<opentelemetry::StringValue>() + s.as_str().len())
                .sum(),
            _ => 0,
        },
        _ => 0,
    }
}

/// Bytes of a protobuf varint holding `v`.
fn varint_len(v: u64) -> u64 {
    u64::from((64 - (v | 1).leading_zeros()).div_ceil(7))
}

/// A length-delimited field with a one-byte tag: tag, length, body.
fn len_field(body: u64) -> u64 {
    1 + varint_len(body) + body
}

/// A string field, omitted when empty (proto3).
fn str_field(s: &str) -> u64 {
    if s.is_empty() {
        0
    } else {
        len_field(s.len() as u64)
    }
}

/// A `uint32` field with a one-byte tag, omitted when zero.
fn u32_field(v: u32) -> u64 {
    if v == 0 {
        0
    } else {
        1 + varint_len(u64::from(v))
    }
}

/// A `fixed64` timestamp field with a one-byte tag, omitted when zero.
fn time_field(t: std::time::SystemTime) -> u64 {
    let nanos = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    if nanos == 0 { 0 } else { 9 }
}

/// The body of an OTLP `AnyValue` holding `v`.
fn any_value_wire(v: &Value) -> u64 {
    match v {
        Value::Bool(_) => 2,
        Value::I64(i) => 1 + varint_len(*i as u64),
        Value::F64(_) => 9,
        Value::String(s) => len_field(s.as_str().len() as u64),
        Value::Array(a) => {
            let values: u64 = match a {
                Array::Bool(v) => v.len() as u64 * len_field(2),
                Array::I64(v) => v.iter().map(|i| len_field(1 + varint_len(*i as u64))).sum(),
                Array::F64(v) => v.len() as u64 * len_field(9),
                Array::String(v) => v
                    .iter()
                    .map(|s| len_field(len_field(s.as_str().len() as u64)))
                    .sum(),
                _ => 0,
            };
            len_field(values)
        }
        _ => 0,
    }
}

/// A repeated `KeyValue` field (any field number below 16): each entry's tag, length and body.
fn attributes_wire<'a>(attributes: impl Iterator<Item = (&'a str, &'a Value)>) -> u64 {
    attributes
        .map(|(k, v)| len_field(str_field(k) + len_field(any_value_wire(v))))
        .sum()
}

/// The `flags` of a span or link as opentelemetry-otlp sets them: never zero (the
/// "has is_remote" bit is always set), so always present.
const SPAN_FLAGS_WIRE: u64 = 2 + 4;
const LINK_FLAGS_WIRE: u64 = 1 + 4;

/// The protobuf bytes of one span inside its `ScopeSpans` (tag, length and the `Span` message),
/// as opentelemetry-otlp encodes it for OTLP export: the unit the Collector's
/// `maximum_trace_size_bytes` and `bytes_limiting` count (`ptrace.ProtoMarshaler`).
pub(crate) fn span_wire_bytes(span: &SpanData) -> u64 {
    let mut n = len_field(16) + len_field(8); // trace_id, span_id
    n += str_field(&span.span_context.trace_state().header());
    if span.parent_span_id != opentelemetry::trace::SpanId::INVALID {
        n += len_field(8);
    }
    n += SPAN_FLAGS_WIRE;
    n += str_field(&span.name);
    n += 2; // kind: never SPAN_KIND_UNSPECIFIED from the SDK
    n += time_field(span.start_time) + time_field(span.end_time);
    n += attributes_wire(
        span.attributes
            .iter()
            .map(|kv| (kv.key.as_str(), &kv.value)),
    );
    n += u32_field(span.dropped_attributes_count);
    for e in span.events.iter() {
        let body = time_field(e.timestamp)
            + str_field(&e.name)
            + attributes_wire(e.attributes.iter().map(|kv| (kv.key.as_str(), &kv.value)))
            + u32_field(e.dropped_attributes_count);
        n += len_field(body);
    }
    n += u32_field(span.events.dropped_count);
    for l in span.links.iter() {
        let body = len_field(16)
            + len_field(8)
            + str_field(&l.span_context.trace_state().header())
            + attributes_wire(l.attributes.iter().map(|kv| (kv.key.as_str(), &kv.value)))
            + u32_field(l.dropped_attributes_count)
            + LINK_FLAGS_WIRE;
        n += len_field(body);
    }
    n += u32_field(span.links.dropped_count);
    let status = match &span.status {
        opentelemetry::trace::Status::Unset => 0,
        opentelemetry::trace::Status::Ok => 2,
        opentelemetry::trace::Status::Error { description } => 2 + str_field(description),
    };
    n += len_field(status); // status is always present
    len_field(n)
}

/// The protobuf bytes a `ScopeSpans` spends on its scope (the `scope` field and `schema_url`).
pub(crate) fn scope_wire_bytes(scope: &opentelemetry::InstrumentationScope) -> u64 {
    let body = str_field(scope.name())
        + str_field(scope.version().unwrap_or_default())
        + attributes_wire(scope.attributes().map(|kv| (kv.key.as_str(), &kv.value)));
    len_field(body) + str_field(scope.schema_url().unwrap_or_default())
}

/// The protobuf bytes a `ResourceSpans` spends on its resource (the `resource` field and
/// `schema_url`).
pub(crate) fn resource_wire_bytes(resource: Option<&opentelemetry_sdk::Resource>) -> u64 {
    resource.map_or(len_field(0), |r| {
        len_field(attributes_wire(r.iter().map(|(k, v)| (k.as_str(), v))))
            + str_field(r.schema_url().unwrap_or_default())
    })
}

/// The protobuf size of a trace sent as one `ResourceSpans` holding one `ScopeSpans`: the
/// export request (`TracesData`) of its spans in one batch, as `ProtoMarshaler.TracesSize`
/// counts it.
pub(crate) fn trace_wire_bytes(resource: u64, scope: u64, spans: u64) -> u64 {
    len_field(resource + len_field(scope + spans))
}
