//! [`Metrics`], its instruments ([`ExemplarCounter`], [`ExemplarHistogram`]) and OpenMetrics
//! naming.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Meter;
use prometheus_client::encoding::text;
use prometheus_client::metrics::counter::Atomic as _;
use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::registry::{Metric, Registry, Unit};

use crate::metrics::{ExemplarFilter, ExemplarLabels, MetricsService};

/// A series' labels: OpenMetrics label names and values, sorted by name.
type Labels = Vec<(String, String)>;
type CounterFamily = Family<Labels, CounterWithExemplar<ExemplarLabels>>;
type HistogramFamily = Family<Labels, HistogramWithExemplars<ExemplarLabels>, HistogramConstructor>;

/// The default bucket boundaries of an explicit-bucket histogram, from the OpenTelemetry
/// metrics SDK specification.
pub const DEFAULT_BOUNDARIES: [f64; 15] = [
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// A set of instruments recorded twice: to an OpenMetrics registry with exemplars (served by
/// [`Metrics::service`]) and, when a [`Meter`] is given, to that OpenTelemetry meter (exported
/// through OTLP by the SDK, without exemplars: opentelemetry_sdk 0.33 has none).
///
/// Cheap to clone: clones share the registry.
///
/// # Naming
///
/// OpenTelemetry names are turned into OpenMetrics names as the OpenTelemetry → Prometheus
/// compatibility specification does: characters outside `[a-zA-Z0-9_:]` become `_`, counters
/// get the `_total` suffix and a unit suffix comes from the unit (`s` → `_seconds`, `By` →
/// `_bytes`, `ms` → `_milliseconds`; `1` and `{annotations}` add none; a name that already
/// ends with it gets it once). So `payment.requests`
/// is served as `payment_requests_total`. Attribute keys become label names the same way;
/// the values of keys that become the same label name are joined with `;`, in the order of
/// the keys. The OpenTelemetry side keeps the names as given.
///
/// # Example
///
/// The article's `payment.requests` counter with a `status` attribute:
///
/// ```
/// use opentelemetry::KeyValue;
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// use tracewire_correlate::metrics::{ExemplarFilter, Metrics};
///
/// let metrics = Metrics::builder()
///     .with_meter(opentelemetry::global::meter("payments"))
///     .with_exemplar_filter(ExemplarFilter::TraceBased)
///     .build();
/// let requests = metrics
///     .u64_counter("payment.requests")
///     .with_description("Payment requests by outcome")
///     .build();
///
/// let sc = SpanContext::new(
///     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
///     SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
///     TraceFlags::SAMPLED,
///     false,
///     TraceState::NONE,
/// );
/// let cx = opentelemetry::Context::new().with_remote_span_context(sc);
/// {
///     let _guard = cx.attach();
///     requests.add(1, &[KeyValue::new("status", "ok")]);
/// }
///
/// let text = metrics.encode();
/// let line = text
///     .lines()
///     .find(|l| l.starts_with("payment_requests_total{"))
///     .expect("a series");
/// // The trace id is on the exemplar, after `#`, never a label of the series.
/// assert!(line.starts_with(
///     "payment_requests_total{status=\"ok\"} 1 # \
///      {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"00f067aa0ba902b7\"} 1.0 "
/// ));
/// ```
#[derive(Clone)]
pub struct Metrics {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    meter: Option<Meter>,
    filter: ExemplarFilter,
}

struct State {
    registry: Registry,
    families: HashMap<String, Registered>,
}

#[derive(Clone)]
enum Registered {
    Counter(CounterFamily),
    Histogram(HistogramFamily),
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("meter", &self.shared.meter.is_some())
            .field("filter", &self.shared.filter)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl Metrics {
    /// A registry with no meter and the exemplar filter from `OTEL_METRICS_EXEMPLAR_FILTER`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder.
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder {
            registry: None,
            meter: None,
            filter: None,
        }
    }

    /// The exemplar filter in use.
    pub fn exemplar_filter(&self) -> ExemplarFilter {
        self.shared.filter
    }

    /// Starts a `u64` counter named `name` (an OpenTelemetry instrument name such as
    /// `payment.requests`).
    pub fn u64_counter(&self, name: impl Into<Cow<'static, str>>) -> CounterBuilder<'_> {
        CounterBuilder {
            metrics: self,
            name: name.into(),
            description: None,
            unit: None,
        }
    }

    /// Starts an `f64` histogram named `name`.
    pub fn f64_histogram(&self, name: impl Into<Cow<'static, str>>) -> HistogramBuilder<'_> {
        HistogramBuilder {
            metrics: self,
            name: name.into(),
            description: None,
            unit: None,
            boundaries: None,
        }
    }

    /// The registry's metrics in the OpenMetrics text format, with exemplars, ending in
    /// `# EOF`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = self.try_encode(&mut out) {
            warn_encode(&e);
        }
        out
    }

    /// Encodes the registry into `out`.
    pub(crate) fn try_encode(&self, out: &mut String) -> Result<(), fmt::Error> {
        let state = self.lock();
        text::encode(out, &state.registry)
    }

    /// A tower service answering every `GET` or `HEAD` with [`Metrics::encode`]'s text (for a
    /// `/metrics` route).
    pub fn service(&self) -> MetricsService {
        MetricsService::new(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere while registering; the registry is still
        // consistent (registration is one push).
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a family under `name`, or returns the one already there. `None` when the name
    /// is taken by an instrument of another kind.
    fn register(
        &self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        make: impl FnOnce() -> Registered,
    ) -> Option<Registered> {
        // The encoder appends the unit: a name that already ends with it (`x_seconds`, unit
        // `s`) would be served as `x_seconds_seconds`.
        let (name, key) = match &unit {
            Some(u) => {
                let name = name
                    .strip_suffix(u.as_str())
                    .and_then(|stem| stem.strip_suffix('_'))
                    .filter(|stem| !stem.is_empty())
                    .unwrap_or(name);
                (name, format!("{name}_{}", u.as_str()))
            }
            None => (name, name.to_owned()),
        };
        let mut state = self.lock();
        let state = &mut *state;
        match state.families.entry(key) {
            Entry::Occupied(e) => Some(e.get().clone()),
            Entry::Vacant(e) => {
                let family = make();
                // prometheus-client ends every help text with a period, and writes it as given:
                // the escapes OpenMetrics asks for are ours to make.
                let help = escape_help(help.trim_end_matches('.'));
                let registry = &mut state.registry;
                match &family {
                    Registered::Counter(f) => add(registry, name, help, unit, f.clone()),
                    Registered::Histogram(f) => add(registry, name, help, unit, f.clone()),
                }
                Some(e.insert(family).clone())
            }
        }
    }
}

/// Registers `metric` in `registry`, with its unit when it has one.
fn add(registry: &mut Registry, name: &str, help: String, unit: Option<Unit>, metric: impl Metric) {
    match unit {
        Some(u) => registry.register_with_unit(name, help, u, metric),
        None => registry.register(name, help, metric),
    }
}

/// A description as an OpenMetrics `# HELP` text: a backslash, a double quote and a line
/// feed are escaped (`\\`, `\"`, `\n`), so that a description can never end the line early
/// or make the exposition unparsable.
fn escape_help(help: &str) -> String {
    let mut out = String::with_capacity(help.len());
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cold]
fn warn_encode(e: &fmt::Error) {
    tracing::warn!(
        target: "tracewire::correlate",
        error = %e,
        "encoding the OpenMetrics registry failed; serving what was encoded"
    );
}

/// Builds [`Metrics`].
#[derive(Debug)]
pub struct MetricsBuilder {
    registry: Option<Registry>,
    meter: Option<Meter>,
    filter: Option<ExemplarFilter>,
}

impl MetricsBuilder {
    /// Records every measurement to `meter` too (for OTLP export), without exemplars.
    pub fn with_meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Uses `filter` instead of the one `OTEL_METRICS_EXEMPLAR_FILTER` names.
    pub fn with_exemplar_filter(mut self, filter: ExemplarFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Registers the instruments in `registry` (for a prefix, constant labels, or metrics of
    /// your own served alongside) instead of a new one.
    pub fn with_registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Builds the registry.
    pub fn build(self) -> Metrics {
        Metrics {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    registry: self.registry.unwrap_or_default(),
                    families: HashMap::new(),
                }),
                meter: self.meter,
                filter: self.filter.unwrap_or_else(ExemplarFilter::from_env),
            }),
        }
    }
}

/// Builds an [`ExemplarCounter`].
#[derive(Debug)]
pub struct CounterBuilder<'a> {
    metrics: &'a Metrics,
    name: Cow<'static, str>,
    description: Option<Cow<'static, str>>,
    unit: Option<Cow<'static, str>>,
}

impl CounterBuilder<'_> {
    /// Sets the description (the OpenMetrics `# HELP` text).
    pub fn with_description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the unit, in UCUM as OpenTelemetry uses it (`s`, `By`, `{request}`).
    pub fn with_unit(mut self, unit: impl Into<Cow<'static, str>>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Registers the counter (or returns the one already registered under this name).
    ///
    /// A name already taken by a histogram keeps the histogram: this counter then records to
    /// the meter only, and a warning is logged.
    pub fn build(self) -> ExemplarCounter {
        let shared = &self.metrics.shared;
        let name = counter_name(&self.name);
        let unit = self.unit.as_deref().and_then(openmetrics_unit);
        let help = self.description.as_deref().unwrap_or("");
        let family = match self
            .metrics
            .register(&name, help, unit, || Registered::Counter(Family::default()))
        {
            Some(Registered::Counter(f)) => Some(f),
            _ => {
                warn_kind(&self.name);
                None
            }
        };
        let otel = shared.meter.as_ref().map(|meter| {
            let mut b = meter.u64_counter(self.name.clone());
            if let Some(d) = self.description.clone() {
                b = b.with_description(d);
            }
            if let Some(u) = self.unit.clone() {
                b = b.with_unit(u);
            }
            b.build()
        });
        ExemplarCounter {
            family,
            otel,
            filter: shared.filter,
        }
    }
}

/// Builds an [`ExemplarHistogram`].
#[derive(Debug)]
pub struct HistogramBuilder<'a> {
    metrics: &'a Metrics,
    name: Cow<'static, str>,
    description: Option<Cow<'static, str>>,
    unit: Option<Cow<'static, str>>,
    boundaries: Option<Vec<f64>>,
}

impl HistogramBuilder<'_> {
    /// Sets the description (the OpenMetrics `# HELP` text).
    pub fn with_description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the unit, in UCUM as OpenTelemetry uses it (`s`, `ms`, `By`).
    pub fn with_unit(mut self, unit: impl Into<Cow<'static, str>>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Sets the bucket boundaries (default: [`DEFAULT_BOUNDARIES`]), used on both sides.
    /// Non-finite values are dropped and the rest sorted.
    pub fn with_boundaries(mut self, boundaries: Vec<f64>) -> Self {
        self.boundaries = Some(boundaries);
        self
    }

    /// Registers the histogram (or returns the one already registered under this name).
    ///
    /// A name already taken by a counter keeps the counter: this histogram then records to the
    /// meter only, and a warning is logged.
    pub fn build(self) -> ExemplarHistogram {
        let shared = &self.metrics.shared;
        let mut boundaries = self
            .boundaries
            .clone()
            .unwrap_or_else(|| DEFAULT_BOUNDARIES.to_vec());
        boundaries.retain(|b| b.is_finite());
        boundaries.sort_by(f64::total_cmp);
        boundaries.dedup();
        let name = openmetrics_name(&self.name);
        let unit = self.unit.as_deref().and_then(openmetrics_unit);
        let help = self.description.as_deref().unwrap_or("");
        let constructor = HistogramConstructor {
            boundaries: boundaries.clone().into(),
        };
        let family = match self.metrics.register(&name, help, unit, || {
            Registered::Histogram(Family::new_with_constructor(constructor))
        }) {
            Some(Registered::Histogram(f)) => Some(f),
            _ => {
                warn_kind(&self.name);
                None
            }
        };
        let otel = shared.meter.as_ref().map(|meter| {
            let mut b = meter
                .f64_histogram(self.name.clone())
                .with_boundaries(boundaries);
            if let Some(d) = self.description.clone() {
                b = b.with_description(d);
            }
            if let Some(u) = self.unit.clone() {
                b = b.with_unit(u);
            }
            b.build()
        });
        ExemplarHistogram {
            family,
            otel,
            filter: shared.filter,
        }
    }
}

/// Which instrument's labels are built (each kind reserves its own label names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reserved {
    Counter,
    Histogram,
}

#[cold]
fn warn_reserved(key: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            target: "tracewire::correlate",
            attribute = key,
            "an attribute whose label name OpenMetrics reserves (`__…`, or `le` on a histogram) is left out of /metrics; the OpenTelemetry meter still gets it"
        );
    });
}

#[cold]
fn warn_kind(name: &str) {
    tracing::warn!(
        target: "tracewire::correlate",
        instrument = name,
        "an instrument of another kind is registered under this name; this one is not served on /metrics"
    );
}

/// Makes the histograms of a family.
#[derive(Clone, Debug)]
struct HistogramConstructor {
    boundaries: Arc<[f64]>,
}

impl MetricConstructor<HistogramWithExemplars<ExemplarLabels>> for HistogramConstructor {
    fn new_metric(&self) -> HistogramWithExemplars<ExemplarLabels> {
        HistogramWithExemplars::new(self.boundaries.iter().copied())
    }
}

/// A monotonic `u64` counter with exemplars. Made by [`Metrics::u64_counter`].
#[derive(Clone)]
pub struct ExemplarCounter {
    family: Option<CounterFamily>,
    otel: Option<opentelemetry::metrics::Counter<u64>>,
    filter: ExemplarFilter,
}

impl fmt::Debug for ExemplarCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExemplarCounter")
            .field("served", &self.family.is_some())
            .field("meter", &self.otel.is_some())
            .finish()
    }
}

impl ExemplarCounter {
    /// Adds `value` to the series of `attributes`. When the exemplar filter lets the
    /// measurement through, it becomes the series' exemplar (trace id, span id, value, time);
    /// otherwise the previous exemplar stays.
    pub fn add(&self, value: u64, attributes: &[KeyValue]) {
        if let Some(otel) = &self.otel {
            otel.add(value, attributes);
        }
        let Some(family) = &self.family else {
            return;
        };
        let counter = family.get_or_create(&labels(attributes, Reserved::Counter));
        match self.filter.exemplar() {
            Some(exemplar) => {
                counter.inc_by(value, Some(exemplar), Some(SystemTime::now()));
            }
            // `inc_by` with no exemplar would erase the last one: add to the value only.
            None => {
                counter.inner().inc_by(value);
            }
        }
    }
}

/// An `f64` histogram with exemplars (one per bucket). Made by [`Metrics::f64_histogram`].
#[derive(Clone)]
pub struct ExemplarHistogram {
    family: Option<HistogramFamily>,
    otel: Option<opentelemetry::metrics::Histogram<f64>>,
    filter: ExemplarFilter,
}

impl fmt::Debug for ExemplarHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExemplarHistogram")
            .field("served", &self.family.is_some())
            .field("meter", &self.otel.is_some())
            .finish()
    }
}

impl ExemplarHistogram {
    /// Records `value` in the series of `attributes`. When the exemplar filter lets the
    /// measurement through, it becomes the exemplar of its bucket.
    pub fn record(&self, value: f64, attributes: &[KeyValue]) {
        if let Some(otel) = &self.otel {
            otel.record(value, attributes);
        }
        let Some(family) = &self.family else {
            return;
        };
        let histogram = family.get_or_create(&labels(attributes, Reserved::Histogram));
        match self.filter.exemplar() {
            Some(exemplar) => histogram.observe(value, Some(exemplar), Some(SystemTime::now())),
            None => histogram.observe(value, None, None),
        }
    }
}

/// The OpenMetrics labels of a set of attributes, sorted by name so that the same attributes
/// in another order land in the same series.
///
/// A label name appears once, as OpenMetrics requires (Prometheus rejects the whole scrape
/// otherwise): a key given twice keeps its last value, and the values of keys that become the
/// same label name (`http.method` and `http_method`) are joined with `;` in the order of the
/// original keys, as the OpenTelemetry → Prometheus compatibility specification asks.
///
/// Label names OpenMetrics reserves are left out (the OpenTelemetry side keeps the attribute),
/// with one warning per process: names starting with `__`, and `le` on a histogram, whose
/// bucket lines carry their own `le` (a second one makes the scrape invalid).
fn labels(attributes: &[KeyValue], kind: Reserved) -> Labels {
    let mut named: Vec<(String, &str, String)> = attributes
        .iter()
        .filter_map(|kv| {
            let key = kv.key.as_str();
            let name = label_name(key);
            if name.starts_with("__") || (kind == Reserved::Histogram && name == "le") {
                warn_reserved(key);
                return None;
            }
            Some((name, key, kv.value.as_str().into_owned()))
        })
        .collect();
    // Stable: a repeated key stays in the order it was given, so its last value is last.
    named.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    named.dedup_by(|later, kept| {
        let same = later.1 == kept.1;
        if same {
            std::mem::swap(&mut later.2, &mut kept.2);
        }
        same
    });
    let mut labels: Labels = Vec::with_capacity(named.len());
    for (name, _, value) in named {
        match labels.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(';');
                joined.push_str(&value);
            }
            _ => labels.push((name, value)),
        }
    }
    labels
}

/// An OpenTelemetry instrument name as an OpenMetrics metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn openmetrics_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A counter's OpenMetrics name without the `_total` suffix the encoder adds.
fn counter_name(name: &str) -> String {
    let out = openmetrics_name(name);
    match out.strip_suffix("_total") {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => out,
    }
}

/// An attribute key as an OpenMetrics label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn label_name(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The OpenMetrics unit suffix of a UCUM unit, or `None` for dimensionless units and
/// annotations.
pub(crate) fn openmetrics_unit(unit: &str) -> Option<Unit> {
    let unit = unit.trim();
    if unit.is_empty() || unit == "1" || (unit.starts_with('{') && unit.ends_with('}')) {
        return None;
    }
    Some(match unit {
        "s" => Unit::Seconds,
        "By" => Unit::Bytes,
        "m" => Unit::Meters,
        "V" => Unit::Volts,
        "A" => Unit::Amperes,
        "J" => Unit::Joules,
        "g" => Unit::Grams,
        "Cel" => Unit::Celsius,
        "ms" => Unit::Other("milliseconds".to_owned()),
        "us" => Unit::Other("microseconds".to_owned()),
        "ns" => Unit::Other("nanoseconds".to_owned()),
        "min" => Unit::Other("minutes".to_owned()),
        "h" => Unit::Other("hours".to_owned()),
        "KiBy" => Unit::Other("kibibytes".to_owned()),
        "MiBy" => Unit::Other("mebibytes".to_owned()),
        other => {
            let name = label_name(other);
            let name = name.trim_matches('_');
            if name.is_empty() {
                return None;
            }
            Unit::Other(name.to_owned())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table() {
        for (otel, counter, other) in [
            ("payment.requests", "payment_requests", "payment_requests"),
            (
                "http.server.request.duration",
                "http_server_request_duration",
                "http_server_request_duration",
            ),
            ("jobs_total", "jobs", "jobs_total"),
            ("_total", "_total", "_total"),
            ("9lives", "_9lives", "_9lives"),
            ("a-b/c d", "a_b_c_d", "a_b_c_d"),
            ("ns:metric", "ns:metric", "ns:metric"),
            ("", "_", "_"),
        ] {
            assert_eq!(counter_name(otel), counter, "{otel}");
            assert_eq!(openmetrics_name(otel), other, "{otel}");
        }
    }

    #[test]
    fn label_names_table() {
        for (key, want) in [
            ("status", "status"),
            ("http.request.method", "http_request_method"),
            ("1st", "_1st"),
            ("a:b", "a_b"),
            ("", "_"),
        ] {
            assert_eq!(label_name(key), want, "{key}");
        }
    }

    #[test]
    fn units_table() {
        for (ucum, want) in [
            ("s", Some("seconds")),
            ("ms", Some("milliseconds")),
            ("By", Some("bytes")),
            ("1", None),
            ("{request}", None),
            ("", None),
            ("widgets", Some("widgets")),
            ("%", None),
        ] {
            assert_eq!(
                openmetrics_unit(ucum).as_ref().map(Unit::as_str),
                want,
                "{ucum}"
            );
        }
    }

    #[test]
    fn label_names_are_unique() {
        type Case<'a> = (&'a [KeyValue], &'a [(&'a str, &'a str)]);
        let kv = KeyValue::new;
        let cases: &[Case<'_>] = &[
            (
                &[kv("http_method", "b"), kv("http.method", "a")],
                &[("http_method", "a;b")],
            ),
            (
                &[kv("a-b", "2"), kv("a.b", "3"), kv("a b", "1"), kv("z", "z")],
                &[("a_b", "1;2;3"), ("z", "z")],
            ),
            (
                &[kv("status", "ok"), kv("status", "error")],
                &[("status", "error")],
            ),
            (
                &[kv("a.b", "1"), kv("a_b", "2"), kv("a.b", "3")],
                &[("a_b", "3;2")],
            ),
        ];
        for (attributes, want) in cases {
            let want: Labels = want
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(
                labels(attributes, Reserved::Counter),
                want,
                "{attributes:?}"
            );
        }
    }

    #[test]
    fn help_texts_are_escaped() {
        let metrics = Metrics::builder()
            .with_exemplar_filter(ExemplarFilter::AlwaysOff)
            .build();
        metrics
            .u64_counter("jobs")
            .with_description("Jobs by \"state\"\nfrom C:\\queue")
            .build()
            .add(1, &[]);
        let text = metrics.encode();
        assert!(
            text.contains("# HELP jobs Jobs by \\\"state\\\"\\nfrom C:\\\\queue.\n"),
            "{text}"
        );
        // Every line of the exposition is a comment or a sample: none is a piece of the help.
        for line in text.lines() {
            assert!(
                line.starts_with('#') || line.starts_with("jobs"),
                "{line:?}"
            );
        }
    }

    #[test]
    fn a_unit_already_in_the_name_is_not_added_twice() {
        let metrics = Metrics::builder()
            .with_exemplar_filter(ExemplarFilter::AlwaysOff)
            .build();
        metrics
            .f64_histogram("job.duration_seconds")
            .with_unit("s")
            .build()
            .record(0.5, &[]);
        metrics
            .u64_counter("queue.bytes_total")
            .with_unit("By")
            .build()
            .add(3, &[]);
        metrics
            .u64_counter("io.time")
            .with_unit("s")
            .build()
            .add(1, &[]);
        let text = metrics.encode();
        for want in [
            "# UNIT job_duration_seconds seconds\n",
            "job_duration_seconds_count 1\n",
            "# UNIT queue_bytes bytes\n",
            "queue_bytes_total 3\n",
            "io_time_seconds_total 1\n",
        ] {
            assert!(text.contains(want), "no {want:?} in:\n{text}");
        }
        assert!(!text.contains("seconds_seconds"), "{text}");
        assert!(!text.contains("bytes_bytes"), "{text}");
    }

    #[test]
    fn reserved_label_names_are_left_out() {
        let attributes = [
            KeyValue::new("le", "x"),
            KeyValue::new("__name__", "y"),
            KeyValue::new("status", "ok"),
        ];
        let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
        assert_eq!(
            labels(&attributes, Reserved::Histogram),
            [pair("status", "ok")]
        );
        assert_eq!(
            labels(&attributes, Reserved::Counter),
            [pair("le", "x"), pair("status", "ok")]
        );
        // The exposition of a histogram recorded with them has one `le` per bucket line.
        let metrics = Metrics::builder()
            .with_exemplar_filter(ExemplarFilter::AlwaysOff)
            .build();
        metrics
            .f64_histogram("latency")
            .with_boundaries(vec![1.0])
            .build()
            .record(0.5, &attributes);
        let text = metrics.encode();
        for line in text.lines().filter(|l| l.starts_with("latency_bucket")) {
            assert_eq!(line.matches("le=").count(), 1, "{line}");
            assert!(!line.contains("__name__"), "{line}");
        }
    }

    #[test]
    fn labels_are_sorted_and_renamed() {
        let got = labels(
            &[
                KeyValue::new("status", "ok"),
                KeyValue::new("http.method", "GET"),
                KeyValue::new("code", 200),
            ],
            Reserved::Counter,
        );
        assert_eq!(
            got,
            [
                ("code".to_owned(), "200".to_owned()),
                ("http_method".to_owned(), "GET".to_owned()),
                ("status".to_owned(), "ok".to_owned()),
            ]
        );
    }
}
