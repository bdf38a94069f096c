//! How many bytes a buffered span holds: the `SpanData` itself plus what it owns on the heap.
//!
//! Strings are counted whether they are owned or `'static` (an over-estimate for static names),
//! so the processor's byte budget is an upper bound on what the buffered spans really hold.

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
