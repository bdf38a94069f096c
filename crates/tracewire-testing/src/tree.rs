//! Assertions on exported spans seen as trace trees.
//!
//! A [`SpanTree`] is a snapshot of ended spans (usually from
//! [`InMemoryPipeline::tree`](crate::InMemoryPipeline::tree)). Find spans by name, then chain
//! assertions on the [`SpanView`]: kind, parent and trace, typed attributes, status, events (the
//! `exception` event) and links. Every assertion is `#[track_caller]` and, when it fails, panics
//! with what was expected, what was found, and a rendering of every exported trace as a tree, so
//! the failure explains itself:
//!
//! ```text
//! span `charge` (53995c3f42cd8ad8): expected attribute `payment.amount` = 42 (int), found "42" (string)
//!
//! 2 spans in 1 trace
//! trace 4bf92f3577b34da6a3ce929d0e0e4736
//! └─ checkout  server  span 00f067aa0ba902b7  status unset  0.2 ms
//!    └─ charge  client  span 53995c3f42cd8ad8  status unset  0.1 ms
//!          payment.amount = "42"
//! ```
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
//! use opentelemetry::{Context, KeyValue};
//! use tracewire_testing::InMemoryPipeline;
//!
//! let pipeline = InMemoryPipeline::new();
//! let tracer = pipeline.tracer("shop");
//! tracer.in_span("checkout", |cx| {
//!     let mut charge = tracer.start_with_context("charge", &cx);
//!     charge.set_attribute(KeyValue::new("http.response.status_code", 503_i64));
//!     charge.add_event("exception", vec![KeyValue::new("exception.message", "unavailable")]);
//!     charge.set_status(Status::error("unavailable"));
//!     charge.end();
//! });
//!
//! let tree = pipeline.tree();
//! tree.assert_len(2).assert_single_trace();
//! let checkout = tree.span("checkout").assert_root().assert_status_unset();
//! tree.span("charge")
//!     .assert_child_of(checkout)
//!     .assert_attribute("http.response.status_code", 503)
//!     .assert_status_error("unavailable")
//!     .assert_event("exception")
//!     .assert_attribute("exception.message", "unavailable");
//! ```

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// A snapshot of ended spans, ordered by start time, with tree-aware lookups and assertions.
#[derive(Debug, Clone, Default)]
pub struct SpanTree {
    spans: Vec<SpanData>,
}

impl SpanTree {
    /// A tree over `spans` (any order; they are sorted by start time).
    pub fn new(mut spans: Vec<SpanData>) -> Self {
        spans.sort_by_key(|s| s.start_time);
        Self { spans }
    }

    /// The spans, ordered by start time.
    pub fn spans(&self) -> &[SpanData] {
        &self.spans
    }

    /// How many spans the snapshot holds.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the snapshot holds no span.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Every span, ordered by start time.
    pub fn iter(&self) -> impl Iterator<Item = SpanView<'_>> {
        self.spans.iter().map(|data| SpanView { tree: self, data })
    }

    /// The one span named `name`.
    ///
    /// # Panics
    ///
    /// When no span or more than one span has that name (use [`all`](Self::all) then).
    #[track_caller]
    pub fn span(&self, name: &str) -> SpanView<'_> {
        let found = self.all(name);
        match found.len() {
            1 => found[0],
            0 => self.fail(format_args!("no span named `{name}`")),
            n => self.fail(format_args!(
                "{n} spans named `{name}`, expected one (use `all`)"
            )),
        }
    }

    /// The first span (by start time) named `name`.
    pub fn find(&self, name: &str) -> Option<SpanView<'_>> {
        self.iter().find(|s| s.name() == name)
    }

    /// Every span named `name`, by start time.
    pub fn all(&self, name: &str) -> Vec<SpanView<'_>> {
        self.iter().filter(|s| s.name() == name).collect()
    }

    /// The first span (by start time) for which `predicate` holds.
    pub fn find_by(&self, mut predicate: impl FnMut(&SpanData) -> bool) -> Option<SpanView<'_>> {
        self.iter().find(|s| predicate(s.data))
    }

    /// The span with this span id.
    pub fn by_id(&self, span_id: SpanId) -> Option<SpanView<'_>> {
        self.iter().find(|s| s.span_id() == span_id)
    }

    /// Spans whose parent is not in the snapshot: real roots, and children of remote or
    /// unexported parents.
    pub fn roots(&self) -> Vec<SpanView<'_>> {
        self.iter().filter(|s| s.parent().is_none()).collect()
    }

    /// The distinct trace ids, in order of their first span's start.
    pub fn trace_ids(&self) -> Vec<TraceId> {
        let mut seen = HashSet::new();
        self.spans
            .iter()
            .map(|s| s.span_context.trace_id())
            .filter(|t| seen.insert(*t))
            .collect()
    }

    /// Asserts that the snapshot holds `n` spans.
    #[track_caller]
    pub fn assert_len(&self, n: usize) -> &Self {
        if self.len() != n {
            self.fail(format_args!("expected {n} spans, found {}", self.len()));
        }
        self
    }

    /// Asserts that every span belongs to one trace (and that there is at least one span).
    #[track_caller]
    pub fn assert_single_trace(&self) -> &Self {
        let n = self.trace_ids().len();
        if n != 1 {
            self.fail(format_args!(
                "expected spans of exactly one trace, found {n} traces"
            ));
        }
        self
    }

    /// Asserts that the span names are exactly `names`, in any order (with repeats counted).
    #[track_caller]
    pub fn assert_names(&self, names: &[&str]) -> &Self {
        let mut expected: Vec<&str> = names.to_vec();
        let mut found: Vec<&str> = self.spans.iter().map(|s| s.name.as_ref()).collect();
        expected.sort_unstable();
        found.sort_unstable();
        if expected != found {
            self.fail(format_args!(
                "expected spans named {expected:?}, found {found:?}"
            ));
        }
        self
    }

    /// The snapshot rendered as one tree per trace (what failed assertions print).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let traces = self.trace_ids();
        let _ = writeln!(
            out,
            "{} span{} in {} trace{}",
            self.len(),
            if self.len() == 1 { "" } else { "s" },
            traces.len(),
            if traces.len() == 1 { "" } else { "s" },
        );
        for trace in traces {
            let _ = writeln!(out, "trace {trace}");
            let roots: Vec<SpanView<'_>> = self
                .roots()
                .into_iter()
                .filter(|s| s.trace_id() == trace)
                .collect();
            let n = roots.len();
            for (i, root) in roots.into_iter().enumerate() {
                render_span(&mut out, root, "", i + 1 == n);
            }
        }
        out
    }

    #[track_caller]
    fn fail(&self, what: fmt::Arguments<'_>) -> ! {
        panic!("{what}\n\n{}", self.render())
    }
}

impl fmt::Display for SpanTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

fn render_span(out: &mut String, span: SpanView<'_>, prefix: &str, last: bool) {
    let d = span.data;
    let duration = d
        .end_time
        .duration_since(d.start_time)
        .map(|t| t.as_secs_f64() * 1e3)
        .unwrap_or(0.0);
    let _ = write!(
        out,
        "{prefix}{} {}  {}  span {}",
        if last { "└─" } else { "├─" },
        d.name,
        kind_name(&d.span_kind),
        d.span_context.span_id(),
    );
    if span.parent().is_none() && d.parent_span_id != SpanId::INVALID {
        let _ = write!(
            out,
            "  parent {} ({})",
            d.parent_span_id,
            if d.parent_span_is_remote {
                "remote"
            } else {
                "not exported"
            }
        );
    }
    let _ = writeln!(out, "  status {}  {duration:.1} ms", status_text(&d.status));
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    let children = span.children();
    let detail_prefix = format!(
        "{child_prefix}{}   ",
        if children.is_empty() { " " } else { "│" }
    );
    if !d.attributes.is_empty() {
        let _ = writeln!(out, "{detail_prefix}{}", kvs(&d.attributes));
    }
    for e in d.events.iter() {
        let _ = writeln!(
            out,
            "{detail_prefix}event {}: {}",
            e.name,
            kvs(&e.attributes)
        );
    }
    for l in d.links.iter() {
        let _ = write!(
            out,
            "{detail_prefix}link → trace {} span {}",
            l.span_context.trace_id(),
            l.span_context.span_id(),
        );
        if !l.attributes.is_empty() {
            let _ = write!(out, ": {}", kvs(&l.attributes));
        }
        out.push('\n');
    }
    let n = children.len();
    for (i, child) in children.into_iter().enumerate() {
        render_span(out, child, &child_prefix, i + 1 == n);
    }
}

fn kvs(attributes: &[KeyValue]) -> String {
    let mut s = String::new();
    for (i, kv) in attributes.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        let _ = write!(s, "{} = {}", kv.key, value_text(&kv.value));
    }
    s
}

/// A value as a test reads it: strings quoted, floats with a decimal point.
fn value_text(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::I64(i) => i.to_string(),
        Value::F64(f) => format!("{f:?}"),
        Value::String(s) => format!("{:?}", s.as_str()),
        Value::Array(Array::Bool(a)) => format!("{a:?}"),
        Value::Array(Array::I64(a)) => format!("{a:?}"),
        Value::Array(Array::F64(a)) => format!("{a:?}"),
        Value::Array(Array::String(a)) => {
            let items: Vec<&str> = a.iter().map(StringValue::as_str).collect();
            format!("{items:?}")
        }
        other => format!("{other:?}"),
    }
}

/// A value with its type, for failure messages where `200` and `"200"` must not look alike.
fn typed(v: &Value) -> String {
    let ty = match v {
        Value::Bool(_) => "bool",
        Value::I64(_) => "int",
        Value::F64(_) => "double",
        Value::String(_) => "string",
        _ => "array",
    };
    format!("{} ({ty})", value_text(v))
}

fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

fn status_text(status: &Status) -> String {
    match status {
        Status::Unset => "unset".to_owned(),
        Status::Ok => "ok".to_owned(),
        Status::Error { description } => format!("error {description:?}"),
    }
}

fn find_attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// A value an attribute is compared with: integers become `I64`, floats `F64`, strings
/// `String`, so `assert_attribute("http.response.status_code", 200)` checks for an integer
/// attribute and fails on the string `"200"`.
pub trait ExpectedValue {
    /// The OpenTelemetry value to compare with.
    fn into_value(self) -> Value;
}

macro_rules! expected_int {
    ($($t:ty),*) => {$(
        impl ExpectedValue for $t {
            fn into_value(self) -> Value {
                Value::I64(i64::from(self))
            }
        }
    )*};
}
expected_int!(i8, i16, i32, i64, u8, u16, u32);

impl ExpectedValue for f64 {
    fn into_value(self) -> Value {
        Value::F64(self)
    }
}

impl ExpectedValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl ExpectedValue for &str {
    fn into_value(self) -> Value {
        Value::String(self.to_owned().into())
    }
}

impl ExpectedValue for String {
    fn into_value(self) -> Value {
        Value::String(self.into())
    }
}

impl ExpectedValue for StringValue {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}

impl ExpectedValue for Array {
    fn into_value(self) -> Value {
        Value::Array(self)
    }
}

impl ExpectedValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

/// One span of a [`SpanTree`], with lookups and chainable assertions.
#[derive(Debug, Clone, Copy)]
pub struct SpanView<'a> {
    tree: &'a SpanTree,
    data: &'a SpanData,
}

impl<'a> SpanView<'a> {
    /// The exported span.
    pub fn data(&self) -> &'a SpanData {
        self.data
    }

    /// The tree this span belongs to.
    pub fn tree(&self) -> &'a SpanTree {
        self.tree
    }

    /// The span's name.
    pub fn name(&self) -> &'a str {
        &self.data.name
    }

    /// The span's kind.
    pub fn kind(&self) -> &'a SpanKind {
        &self.data.span_kind
    }

    /// The span's own context.
    pub fn span_context(&self) -> &'a SpanContext {
        &self.data.span_context
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.data.span_context.trace_id()
    }

    /// The span id.
    pub fn span_id(&self) -> SpanId {
        self.data.span_context.span_id()
    }

    /// The parent's span id (`SpanId::INVALID` for a root).
    pub fn parent_span_id(&self) -> SpanId {
        self.data.parent_span_id
    }

    /// The span's status.
    pub fn status(&self) -> &'a Status {
        &self.data.status
    }

    /// The span's attributes.
    pub fn attributes(&self) -> &'a [KeyValue] {
        &self.data.attributes
    }

    /// The value of attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&'a Value> {
        find_attribute(&self.data.attributes, key)
    }

    /// The value of attribute `key` when it is a string.
    pub fn str_attribute(&self, key: &str) -> Option<&'a str> {
        match self.attribute(key)? {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The value of attribute `key` when it is an integer.
    pub fn i64_attribute(&self, key: &str) -> Option<i64> {
        match self.attribute(key)? {
            Value::I64(i) => Some(*i),
            _ => None,
        }
    }

    /// The value of attribute `key` when it is a float.
    pub fn f64_attribute(&self, key: &str) -> Option<f64> {
        match self.attribute(key)? {
            Value::F64(f) => Some(*f),
            _ => None,
        }
    }

    /// The value of attribute `key` when it is a boolean.
    pub fn bool_attribute(&self, key: &str) -> Option<bool> {
        match self.attribute(key)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The span's events.
    pub fn events(&self) -> &'a [Event] {
        &self.data.events
    }

    /// The first event named `name`.
    pub fn event(&self, name: &str) -> Option<EventView<'a>> {
        self.data
            .events
            .iter()
            .find(|e| e.name == name)
            .map(|event| EventView { span: *self, event })
    }

    /// The span's links.
    pub fn links(&self) -> &'a [Link] {
        &self.data.links
    }

    /// The parent span, when it is in the snapshot.
    pub fn parent(&self) -> Option<SpanView<'a>> {
        if self.data.parent_span_id == SpanId::INVALID {
            return None;
        }
        self.tree
            .iter()
            .find(|s| s.span_id() == self.data.parent_span_id && s.trace_id() == self.trace_id())
    }

    /// The children in the snapshot, by start time.
    pub fn children(&self) -> Vec<SpanView<'a>> {
        self.tree
            .iter()
            .filter(|s| s.parent_span_id() == self.span_id() && s.trace_id() == self.trace_id())
            .collect()
    }

    /// The one child named `name`.
    ///
    /// # Panics
    ///
    /// When there is no such child, or more than one.
    #[track_caller]
    pub fn child(&self, name: &str) -> SpanView<'a> {
        let found: Vec<_> = self
            .children()
            .into_iter()
            .filter(|c| c.name() == name)
            .collect();
        match found.len() {
            1 => found[0],
            n => self.fail(format_args!("expected one child named `{name}`, found {n}")),
        }
    }

    /// Asserts the span's kind.
    #[track_caller]
    pub fn assert_kind(self, kind: SpanKind) -> Self {
        if self.data.span_kind != kind {
            self.fail(format_args!(
                "expected kind {kind:?}, found {:?}",
                self.data.span_kind
            ));
        }
        self
    }

    /// Asserts that the span has no parent at all (a new trace).
    #[track_caller]
    pub fn assert_root(self) -> Self {
        if self.data.parent_span_id != SpanId::INVALID {
            self.fail(format_args!(
                "expected a root span, found parent span id {}",
                self.data.parent_span_id
            ));
        }
        self
    }

    /// Asserts that `parent` is this span's parent: same trace id, and this span's parent span
    /// id is `parent`'s span id.
    #[track_caller]
    pub fn assert_child_of(self, parent: SpanView<'_>) -> Self {
        self.assert_parent_context(parent.span_context())
    }

    /// Asserts that this span's parent is `parent` (for instance a remote parent extracted from
    /// a header): same trace id, and this span's parent span id is `parent`'s span id.
    #[track_caller]
    pub fn assert_parent_context(self, parent: &SpanContext) -> Self {
        if self.trace_id() != parent.trace_id() {
            self.fail(format_args!(
                "expected trace id {} (the parent's), found {}",
                parent.trace_id(),
                self.trace_id()
            ));
        }
        if self.data.parent_span_id != parent.span_id() {
            self.fail(format_args!(
                "expected parent span id {}, found {}",
                parent.span_id(),
                self.data.parent_span_id
            ));
        }
        self
    }

    /// Asserts that the parent is a span named `name` in the snapshot.
    #[track_caller]
    pub fn assert_parent_named(self, name: &str) -> Self {
        match self.parent() {
            Some(p) if p.name() == name => self,
            Some(p) => self.fail(format_args!(
                "expected parent `{name}`, found `{}`",
                p.name()
            )),
            None => self.fail(format_args!(
                "expected parent `{name}`, found no parent in the snapshot"
            )),
        }
    }

    /// Asserts that `other` has the same trace id.
    #[track_caller]
    pub fn assert_same_trace(self, other: SpanView<'_>) -> Self {
        if self.trace_id() != other.trace_id() {
            self.fail(format_args!(
                "expected the trace of `{}` ({}), found {}",
                other.name(),
                other.trace_id(),
                self.trace_id()
            ));
        }
        self
    }

    /// Asserts that attribute `key` has value `expected`, type included.
    #[track_caller]
    pub fn assert_attribute(self, key: &str, expected: impl ExpectedValue) -> Self {
        let expected = expected.into_value();
        match self.attribute(key) {
            Some(v) if *v == expected => self,
            Some(v) => self.fail(format_args!(
                "expected attribute `{key}` = {}, found {}",
                typed(&expected),
                typed(v)
            )),
            None => self.fail(format_args!(
                "expected attribute `{key}` = {}, found no such attribute",
                typed(&expected)
            )),
        }
    }

    /// Asserts that string attribute `key` contains `needle`.
    #[track_caller]
    pub fn assert_attribute_contains(self, key: &str, needle: &str) -> Self {
        match self.attribute(key) {
            Some(Value::String(s)) if s.as_str().contains(needle) => self,
            Some(v) => self.fail(format_args!(
                "expected string attribute `{key}` containing {needle:?}, found {}",
                typed(v)
            )),
            None => self.fail(format_args!(
                "expected string attribute `{key}` containing {needle:?}, found no such attribute"
            )),
        }
    }

    /// Asserts that attribute `key` is present, whatever its value.
    #[track_caller]
    pub fn assert_has_attribute(self, key: &str) -> Self {
        if self.attribute(key).is_none() {
            self.fail(format_args!("expected attribute `{key}`, found none"));
        }
        self
    }

    /// Asserts that attribute `key` is absent.
    #[track_caller]
    pub fn assert_no_attribute(self, key: &str) -> Self {
        if let Some(v) = self.attribute(key) {
            self.fail(format_args!(
                "expected no attribute `{key}`, found {}",
                typed(v)
            ));
        }
        self
    }

    /// Asserts the status exactly.
    #[track_caller]
    pub fn assert_status(self, expected: &Status) -> Self {
        if self.data.status != *expected {
            self.fail(format_args!(
                "expected status {}, found {}",
                status_text(expected),
                status_text(&self.data.status)
            ));
        }
        self
    }

    /// Asserts that the status is Unset.
    #[track_caller]
    pub fn assert_status_unset(self) -> Self {
        self.assert_status(&Status::Unset)
    }

    /// Asserts that the status is Ok.
    #[track_caller]
    pub fn assert_status_ok(self) -> Self {
        self.assert_status(&Status::Ok)
    }

    /// Asserts that the status is Error with exactly this description.
    #[track_caller]
    pub fn assert_status_error(self, description: &str) -> Self {
        match &self.data.status {
            Status::Error { description: d } if d == description => self,
            other => self.fail(format_args!(
                "expected status error {description:?}, found {}",
                status_text(other)
            )),
        }
    }

    /// Asserts that the status is Error, whatever its description.
    #[track_caller]
    pub fn assert_error(self) -> Self {
        match &self.data.status {
            Status::Error { .. } => self,
            other => self.fail(format_args!(
                "expected status error, found {}",
                status_text(other)
            )),
        }
    }

    /// Asserts that an event named `name` was recorded and returns the first one.
    #[track_caller]
    pub fn assert_event(self, name: &str) -> EventView<'a> {
        match self.event(name) {
            Some(e) => e,
            None => self.fail(format_args!("expected an event `{name}`, found none")),
        }
    }

    /// Asserts that no event named `name` was recorded.
    #[track_caller]
    pub fn assert_no_event(self, name: &str) -> Self {
        if self.event(name).is_some() {
            self.fail(format_args!("expected no event `{name}`, found one"));
        }
        self
    }

    /// Asserts the number of events named `name`.
    #[track_caller]
    pub fn assert_event_count(self, name: &str, n: usize) -> Self {
        let found = self.data.events.iter().filter(|e| e.name == name).count();
        if found != n {
            self.fail(format_args!("expected {n} events `{name}`, found {found}"));
        }
        self
    }

    /// Asserts that the span links to `target` (trace id and span id).
    #[track_caller]
    pub fn assert_linked_to(self, target: &SpanContext) -> Self {
        let linked = self.data.links.iter().any(|l| {
            l.span_context.trace_id() == target.trace_id()
                && l.span_context.span_id() == target.span_id()
        });
        if !linked {
            self.fail(format_args!(
                "expected a link to trace {} span {}, found none",
                target.trace_id(),
                target.span_id()
            ));
        }
        self
    }

    /// Asserts the number of links.
    #[track_caller]
    pub fn assert_link_count(self, n: usize) -> Self {
        if self.data.links.len() != n {
            self.fail(format_args!(
                "expected {n} links, found {}",
                self.data.links.len()
            ));
        }
        self
    }

    #[track_caller]
    fn fail(&self, what: fmt::Arguments<'_>) -> ! {
        self.tree.fail(format_args!(
            "span `{}` ({}): {what}",
            self.name(),
            self.span_id()
        ))
    }
}

/// One event of a span, with assertions on its attributes.
#[derive(Debug, Clone, Copy)]
pub struct EventView<'a> {
    span: SpanView<'a>,
    event: &'a Event,
}

impl<'a> EventView<'a> {
    /// The span that recorded the event.
    pub fn span(&self) -> SpanView<'a> {
        self.span
    }

    /// The event.
    pub fn event(&self) -> &'a Event {
        self.event
    }

    /// The event's name.
    pub fn name(&self) -> &'a str {
        &self.event.name
    }

    /// The value of attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&'a Value> {
        find_attribute(&self.event.attributes, key)
    }

    /// The value of attribute `key` when it is a string.
    pub fn str_attribute(&self, key: &str) -> Option<&'a str> {
        match self.attribute(key)? {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Asserts that attribute `key` has value `expected`, type included.
    #[track_caller]
    pub fn assert_attribute(self, key: &str, expected: impl ExpectedValue) -> Self {
        let expected = expected.into_value();
        match self.attribute(key) {
            Some(v) if *v == expected => self,
            Some(v) => self.fail(format_args!(
                "expected attribute `{key}` = {}, found {}",
                typed(&expected),
                typed(v)
            )),
            None => self.fail(format_args!(
                "expected attribute `{key}` = {}, found no such attribute",
                typed(&expected)
            )),
        }
    }

    /// Asserts that string attribute `key` contains `needle`.
    #[track_caller]
    pub fn assert_attribute_contains(self, key: &str, needle: &str) -> Self {
        match self.attribute(key) {
            Some(Value::String(s)) if s.as_str().contains(needle) => self,
            Some(v) => self.fail(format_args!(
                "expected string attribute `{key}` containing {needle:?}, found {}",
                typed(v)
            )),
            None => self.fail(format_args!(
                "expected string attribute `{key}` containing {needle:?}, found no such attribute"
            )),
        }
    }

    /// Asserts that attribute `key` is present, whatever its value.
    #[track_caller]
    pub fn assert_has_attribute(self, key: &str) -> Self {
        if self.attribute(key).is_none() {
            self.fail(format_args!("expected attribute `{key}`, found none"));
        }
        self
    }

    /// Asserts that attribute `key` is absent.
    #[track_caller]
    pub fn assert_no_attribute(self, key: &str) -> Self {
        if let Some(v) = self.attribute(key) {
            self.fail(format_args!(
                "expected no attribute `{key}`, found {}",
                typed(v)
            ));
        }
        self
    }

    #[track_caller]
    fn fail(&self, what: fmt::Arguments<'_>) -> ! {
        self.span
            .fail(format_args!("event `{}`: {what}", self.event.name))
    }
}
