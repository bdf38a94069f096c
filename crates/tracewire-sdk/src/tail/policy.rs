//! Policy evaluation: each policy type as the Collector evaluates it, and the processor's rule
//! for combining their decisions (`makeDecision` in the Collector's `processor.go`).

use std::collections::HashSet;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Status, TraceId};
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use regex::Regex;

use super::config::{Policy, PolicyConfig, SpanStatusCode, TailSamplingConfig};
use super::error::ConfigError;
use super::hash::{SAMPLING_PERCENTAGE_SALT, SaltedHasher, threshold_for_percentage};

/// One policy's decision about a trace, as the Collector names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The policy samples the trace.
    Sampled,
    /// The policy does not sample the trace.
    NotSampled,
    /// An `invert_match` policy found no match: samples unless another policy says not sampled.
    InvertSampled,
    /// An `invert_match` policy found a match: not sampled, whatever other policies say (except
    /// `drop`, which wins anyway).
    InvertNotSampled,
    /// A `drop` policy matched: the trace is dropped, whatever other policies say.
    Dropped,
}

impl Decision {
    /// Whether the decision counts as sampled in metrics (`sampled="true"`).
    pub fn is_sampled(self) -> bool {
        matches!(self, Decision::Sampled | Decision::InvertSampled)
    }

    /// The `decision` metric attribute: `sampled`, `not_sampled` or `dropped`.
    pub fn metric_name(self) -> &'static str {
        match self {
            Decision::Sampled | Decision::InvertSampled => "sampled",
            Decision::NotSampled | Decision::InvertNotSampled => "not_sampled",
            Decision::Dropped => "dropped",
        }
    }

    fn index(self) -> usize {
        match self {
            Decision::Sampled => 0,
            Decision::NotSampled => 1,
            Decision::InvertSampled => 2,
            Decision::InvertNotSampled => 3,
            Decision::Dropped => 4,
        }
    }
}

/// What the processor does with a trace: the final decision, and the policy that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// [`Decision::Sampled`], [`Decision::NotSampled`] or [`Decision::Dropped`].
    pub decision: Decision,
    /// Index (in evaluation order, see [`PolicySet::policy_name`]) of the policy that sampled or
    /// dropped the trace.
    pub policy: Option<usize>,
}

impl Verdict {
    /// Whether the trace is exported.
    pub fn is_sampled(&self) -> bool {
        self.decision == Decision::Sampled
    }
}

/// One trace's decision, as a [`DecisionObserver`](super::DecisionObserver) sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceDecision<'a> {
    /// The trace.
    pub trace_id: TraceId,
    /// [`Decision::Sampled`], [`Decision::NotSampled`] or [`Decision::Dropped`].
    pub decision: Decision,
    /// The name of the policy that sampled or dropped the trace (none for a trace not sampled,
    /// or one over `maximum_trace_size_bytes`).
    pub policy: Option<&'a str>,
    /// How many of the trace's spans were buffered when it was decided.
    pub spans: usize,
}

/// The data a policy looks at: a trace's buffered spans and the process's resource.
#[derive(Debug, Clone, Copy)]
pub struct TraceView<'a> {
    /// The trace id.
    pub trace_id: TraceId,
    /// The trace's spans, in the order they ended.
    pub spans: &'a [SpanData],
    /// The resource of the spans (the tracer provider's), for attribute policies.
    pub resource: Option<&'a Resource>,
    /// The trace's protobuf size as OTLP export sends it in one batch (for `bytes_limiting`, as
    /// the Collector's `ptrace.ProtoMarshaler.TracesSize`).
    pub size_bytes: u64,
}

/// The compiled policies of a config, and the state of the stateful ones (rate limits).
///
/// ```
/// use opentelemetry::trace::TraceId;
/// use tracewire_sdk::tail::{PolicySet, TailSamplingConfig};
///
/// let mut policies = PolicySet::new(&TailSamplingConfig::article_example()).expect("valid");
/// // An empty trace: neither an error nor slow, so only the 5% baseline can keep it.
/// let verdict = policies.decide(TraceId::from(42u128), &[]);
/// assert!(!verdict.is_sampled() || policies.policy_name(verdict.policy.unwrap()) == "probabilistic");
/// ```
#[derive(Debug)]
pub struct PolicySet {
    policies: Vec<CompiledPolicy>,
    sample_on_first_match: bool,
    epoch: Instant,
    first: [Option<usize>; 5],
}

#[derive(Debug)]
struct CompiledPolicy {
    name: String,
    evaluator: Evaluator,
}

impl PolicySet {
    /// Compiles the config's policies, `drop` policies first (as the Collector orders them).
    ///
    /// # Errors
    ///
    /// The config's [`TailSamplingConfig::validate`] errors.
    pub fn new(config: &TailSamplingConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let (drops, others): (Vec<&PolicyConfig>, Vec<&PolicyConfig>) = config
            .policies
            .iter()
            .partition(|p| matches!(p.policy, Policy::Drop(_)));
        let policies = drops
            .into_iter()
            .chain(others)
            .map(|p| CompiledPolicy {
                name: p.name.clone(),
                evaluator: Evaluator::compile(&p.policy),
            })
            .collect();
        Ok(Self {
            policies,
            sample_on_first_match: config.sample_on_first_match,
            epoch: Instant::now(),
            first: [None; 5],
        })
    }

    /// The number of top-level policies.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether there is no policy (never true for a validated config).
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The name of the policy at `index` in evaluation order.
    pub fn policy_name(&self, index: usize) -> &str {
        self.policies.get(index).map_or("", |p| p.name.as_str())
    }

    /// Decides a trace from its spans, now, without a resource.
    pub fn decide(&mut self, trace_id: TraceId, spans: &[SpanData]) -> Verdict {
        let view = TraceView {
            trace_id,
            spans,
            resource: None,
            size_bytes: super::size::trace_wire_bytes(
                super::size::resource_wire_bytes(None),
                spans.first().map_or(0, |s| {
                    super::size::scope_wire_bytes(&s.instrumentation_scope)
                }),
                spans.iter().map(super::size::span_wire_bytes).sum(),
            ),
        };
        self.decide_at(&view, Instant::now(), |_, _| {})
    }

    /// Decides a trace at `now`, calling `each(policy_index, decision)` for every policy
    /// evaluated (for per-policy metrics).
    pub fn decide_at(
        &mut self,
        trace: &TraceView<'_>,
        now: Instant,
        mut each: impl FnMut(usize, Decision),
    ) -> Verdict {
        let clock = Clock {
            now,
            epoch: self.epoch,
        };
        self.first = [None; 5];
        for (i, p) in self.policies.iter_mut().enumerate() {
            let d = p.evaluator.evaluate(trace, &clock);
            each(i, d);
            self.first[d.index()].get_or_insert(i);
            // Break early on a drop, and on the first sample when asked to.
            if d == Decision::Dropped || (self.sample_on_first_match && d == Decision::Sampled) {
                break;
            }
        }
        let first = |d: Decision| self.first[d.index()];
        if let Some(i) = first(Decision::Dropped) {
            Verdict {
                decision: Decision::Dropped,
                policy: Some(i),
            }
        } else if first(Decision::InvertNotSampled).is_some() {
            Verdict {
                decision: Decision::NotSampled,
                policy: None,
            }
        } else if let Some(i) = first(Decision::Sampled) {
            Verdict {
                decision: Decision::Sampled,
                policy: Some(i),
            }
        } else if let (Some(i), None) =
            (first(Decision::InvertSampled), first(Decision::NotSampled))
        {
            Verdict {
                decision: Decision::Sampled,
                policy: Some(i),
            }
        } else {
            Verdict {
                decision: Decision::NotSampled,
                policy: None,
            }
        }
    }
}

struct Clock {
    now: Instant,
    epoch: Instant,
}

impl Clock {
    fn seconds(&self) -> f64 {
        self.now.saturating_duration_since(self.epoch).as_secs_f64()
    }

    fn whole_second(&self) -> u64 {
        self.now.saturating_duration_since(self.epoch).as_secs()
    }
}

/// Compiles a regular expression with Go's meaning (the Collector's `regexp.MustCompile`): Go's
/// Perl classes and word boundaries are ASCII (`\d` is `[0-9]`, `\w` is `[0-9A-Za-z_]`, `\s` is
/// `[\t\n\f\r ]`), the Rust crate's are Unicode, so they are spelled out before compiling. A `[`,
/// `&` or `~` inside a class is a literal in Go and an operator in Rust, so it is escaped.
pub(crate) fn go_regex(pattern: &str) -> Result<Regex, regex::Error> {
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    const SPACE: &str = "\\t\\n\\f\\r ";
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Inside a class: Some(number of items seen so far).
    let mut class: Option<usize> = None;
    while let Some(c) = chars.next() {
        match (c, class) {
            ('\\', _) => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let set = match e.to_ascii_lowercase() {
                    'd' => Some(DIGIT),
                    'w' => Some(WORD),
                    's' => Some(SPACE),
                    _ => None,
                };
                match (set, e.is_ascii_uppercase(), class) {
                    (Some(set), false, None) => out.push_str(&format!("[{set}]")),
                    (Some(set), true, None) => out.push_str(&format!("[^{set}]")),
                    (Some(set), false, Some(_)) => out.push_str(set),
                    (Some(set), true, Some(_)) => out.push_str(&format!("[^{set}]")),
                    (None, _, None) if e == 'b' || e == 'B' => {
                        out.push_str("(?-u:\\");
                        out.push(e);
                        out.push(')');
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
                if let Some(n) = class.as_mut() {
                    *n += 1;
                }
            }
            ('[', None) => {
                out.push('[');
                class = Some(0);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            ('[', Some(n)) => {
                if chars.peek() == Some(&':') {
                    // An ASCII class, `[:alpha:]`: the same in both.
                    out.push('[');
                    for a in chars.by_ref() {
                        out.push(a);
                        if a == ']' {
                            break;
                        }
                    }
                } else {
                    out.push_str("\\[");
                }
                class = Some(n + 1);
            }
            (']', Some(n)) if n > 0 => {
                out.push(']');
                class = None;
            }
            ('&' | '~', Some(n)) => {
                out.push('\\');
                out.push(c);
                class = Some(n + 1);
            }
            (c, Some(n)) => {
                out.push(c);
                class = Some(n + 1);
            }
            (c, None) => out.push(c),
        }
    }
    Regex::new(&out)
}

#[derive(Debug)]
enum StringMatcher {
    Exact(HashSet<String>),
    Regex(Vec<Regex>),
}

impl StringMatcher {
    fn matches(&self, s: &str) -> bool {
        match self {
            StringMatcher::Exact(set) => set.contains(s),
            StringMatcher::Regex(list) => list.iter().any(|r| r.is_match(s)),
        }
    }
}

#[derive(Debug)]
enum Evaluator {
    Always,
    Latency {
        lower_ms: i64,
        upper_ms: i64,
        share: Option<Share>,
    },
    Status {
        codes: [bool; 3],
        share: Option<Share>,
    },
    Probabilistic {
        hasher: SaltedHasher,
        threshold: u64,
    },
    StringAttr {
        key: Key,
        matcher: StringMatcher,
        invert: bool,
    },
    NumericAttr {
        key: Key,
        min: i64,
        max: i64,
        invert: bool,
    },
    BoolAttr {
        key: Key,
        value: bool,
        invert: bool,
    },
    RateLimiting(TokenBucket),
    BytesLimiting(TokenBucket),
    SpanCount {
        min: i64,
        max: i64,
    },
    TraceState {
        key: String,
        values: HashSet<String>,
    },
    TraceFlags,
    And(Vec<Evaluator>),
    Not(Box<Evaluator>),
    Drop(Vec<Evaluator>),
    Composite(Composite),
}

fn status_index(code: SpanStatusCode) -> usize {
    match code {
        SpanStatusCode::Unset => 0,
        SpanStatusCode::Ok => 1,
        SpanStatusCode::Error => 2,
    }
}

/// The `sampling_percentage` extension: the extension's hash, with its own salt (a draw
/// independent of `probabilistic` policies), and the threshold.
#[derive(Debug, Clone, Copy)]
struct Share {
    hasher: SaltedHasher,
    threshold: u64,
}

fn share(p: Option<f64>) -> Option<Share> {
    // 100% or more keeps every match: no hash needed.
    p.map(threshold_for_percentage)
        .filter(|t| *t != u64::MAX)
        .map(|threshold| Share {
            hasher: SaltedHasher::new(SAMPLING_PERCENTAGE_SALT),
            threshold,
        })
}

fn in_share(trace_id: TraceId, share: &Option<Share>) -> bool {
    share
        .as_ref()
        .is_none_or(|s| s.hasher.hash(trace_id) <= s.threshold)
}

impl Evaluator {
    fn compile(policy: &Policy) -> Self {
        match policy {
            Policy::AlwaysSample => Evaluator::Always,
            Policy::Latency(l) => Evaluator::Latency {
                lower_ms: l.threshold_ms,
                upper_ms: l.upper_threshold_ms,
                share: share(l.sampling_percentage),
            },
            Policy::StatusCode(s) => {
                let mut codes = [false; 3];
                for c in &s.status_codes {
                    codes[status_index(*c)] = true;
                }
                Evaluator::Status {
                    codes,
                    share: share(s.sampling_percentage),
                }
            }
            Policy::Probabilistic(p) => Evaluator::Probabilistic {
                hasher: SaltedHasher::new(&p.hash_salt),
                threshold: threshold_for_percentage(p.sampling_percentage),
            },
            Policy::StringAttribute(s) => Evaluator::StringAttr {
                key: Key::new(s.key.clone()),
                matcher: if s.enabled_regex_matching {
                    // Validation compiled each of them already.
                    StringMatcher::Regex(s.values.iter().filter_map(|v| go_regex(v).ok()).collect())
                } else {
                    StringMatcher::Exact(
                        s.values.iter().filter(|v| !v.is_empty()).cloned().collect(),
                    )
                },
                invert: s.invert_match,
            },
            Policy::NumericAttribute(n) => Evaluator::NumericAttr {
                key: Key::new(n.key.clone()),
                min: n.min_value.unwrap_or(i64::MIN),
                max: n.max_value.unwrap_or(i64::MAX),
                invert: n.invert_match,
            },
            Policy::BooleanAttribute(b) => Evaluator::BoolAttr {
                key: Key::new(b.key.clone()),
                value: b.value,
                invert: b.invert_match,
            },
            Policy::RateLimiting(r) => Evaluator::RateLimiting(TokenBucket::new(
                r.spans_per_second,
                if r.burst_capacity > 0 {
                    r.burst_capacity
                } else {
                    r.spans_per_second.saturating_mul(2)
                },
            )),
            Policy::BytesLimiting(r) => Evaluator::BytesLimiting(TokenBucket::new(
                r.bytes_per_second,
                if r.burst_capacity > 0 {
                    r.burst_capacity
                } else {
                    r.bytes_per_second.saturating_mul(2)
                },
            )),
            Policy::SpanCount(s) => Evaluator::SpanCount {
                min: i64::from(s.min_spans),
                max: i64::from(s.max_spans),
            },
            Policy::TraceState(t) => Evaluator::TraceState {
                key: t.key.clone(),
                values: t
                    .values
                    .iter()
                    // A key=value member cannot exceed 256 characters (the Collector's filter).
                    .filter(|v| !v.is_empty() && t.key.len() + v.len() < 256)
                    .cloned()
                    .collect(),
            },
            Policy::TraceFlags => Evaluator::TraceFlags,
            Policy::And(subs) => {
                Evaluator::And(subs.iter().map(|s| Evaluator::compile(&s.policy)).collect())
            }
            Policy::Not(sub) => Evaluator::Not(Box::new(Evaluator::compile(&sub.policy))),
            Policy::Drop(subs) => {
                Evaluator::Drop(subs.iter().map(|s| Evaluator::compile(&s.policy)).collect())
            }
            Policy::Composite(c) => Evaluator::Composite(Composite::compile(c)),
        }
    }

    fn evaluate(&mut self, trace: &TraceView<'_>, clock: &Clock) -> Decision {
        let sampled = |b: bool| {
            if b {
                Decision::Sampled
            } else {
                Decision::NotSampled
            }
        };
        match self {
            Evaluator::Always => Decision::Sampled,
            Evaluator::Latency {
                lower_ms,
                upper_ms,
                share,
            } => sampled(
                latency_matches(trace.spans, *lower_ms, *upper_ms)
                    && in_share(trace.trace_id, share),
            ),
            Evaluator::Status { codes, share } => sampled(
                trace
                    .spans
                    .iter()
                    .any(|s| codes[status_index(status_code(&s.status))])
                    && in_share(trace.trace_id, share),
            ),
            Evaluator::Probabilistic { hasher, threshold } => {
                sampled(hasher.hash(trace.trace_id) <= *threshold)
            }
            Evaluator::StringAttr {
                key,
                matcher,
                invert,
            } => {
                let resource_match = trace
                    .resource
                    .and_then(|r| resource_attribute(r, key))
                    .is_some_and(|v| matcher.matches(str_of(v)));
                // Spans: the value must be a non-empty string (pdata's `Str()` is "" otherwise).
                let span_match = || {
                    trace.spans.iter().any(|s| {
                        attribute(&s.attributes, key).is_some_and(|v| {
                            let s = str_of(v);
                            !s.is_empty() && matcher.matches(s)
                        })
                    })
                };
                attribute_decision(resource_match || span_match(), *invert)
            }
            Evaluator::NumericAttr {
                key,
                min,
                max,
                invert,
            } => {
                let in_range = |v: &Value| {
                    let n = int_of(v);
                    n >= *min && n <= *max
                };
                let resource_match = trace
                    .resource
                    .and_then(|r| resource_attribute(r, key))
                    .is_some_and(in_range);
                let span_match = || {
                    trace
                        .spans
                        .iter()
                        .any(|s| attribute(&s.attributes, key).is_some_and(in_range))
                };
                attribute_decision(resource_match || span_match(), *invert)
            }
            Evaluator::BoolAttr { key, value, invert } => {
                let is = |v: &Value| bool_of(v) == *value;
                let resource_match = trace
                    .resource
                    .and_then(|r| resource_attribute(r, key))
                    .is_some_and(is);
                let span_match = || {
                    trace
                        .spans
                        .iter()
                        .any(|s| attribute(&s.attributes, key).is_some_and(is))
                };
                attribute_decision(resource_match || span_match(), *invert)
            }
            Evaluator::RateLimiting(bucket) => {
                sampled(bucket.allow(trace.spans.len() as i64, clock.seconds()))
            }
            Evaluator::BytesLimiting(bucket) => {
                sampled(bucket.allow(trace.size_bytes as i64, clock.seconds()))
            }
            Evaluator::SpanCount { min, max } => {
                let n = trace.spans.len() as i64;
                // At least `min`, and at most `max` unless `max` is zero (no maximum).
                sampled(n >= *min && (*max == 0 || n <= *max))
            }
            Evaluator::TraceState { key, values } => sampled(trace.spans.iter().any(|s| {
                s.span_context
                    .trace_state()
                    .get(key)
                    .is_some_and(|v| values.contains(v))
            })),
            Evaluator::TraceFlags => {
                sampled(trace.spans.iter().any(|s| s.span_context.is_sampled()))
            }
            Evaluator::And(subs) => {
                for sub in subs {
                    let d = sub.evaluate(trace, clock);
                    if matches!(d, Decision::NotSampled | Decision::InvertNotSampled) {
                        return Decision::NotSampled;
                    }
                }
                Decision::Sampled
            }
            Evaluator::Drop(subs) => {
                for sub in subs {
                    let d = sub.evaluate(trace, clock);
                    if matches!(d, Decision::NotSampled | Decision::InvertNotSampled) {
                        return Decision::NotSampled;
                    }
                }
                Decision::Dropped
            }
            Evaluator::Not(sub) => match sub.evaluate(trace, clock) {
                Decision::Sampled => Decision::NotSampled,
                Decision::NotSampled => Decision::Sampled,
                other => other,
            },
            Evaluator::Composite(c) => c.evaluate(trace, clock),
        }
    }
}

fn attribute_decision(matched: bool, invert: bool) -> Decision {
    match (matched, invert) {
        (true, false) => Decision::Sampled,
        (false, false) => Decision::NotSampled,
        (true, true) => Decision::InvertNotSampled,
        (false, true) => Decision::InvertSampled,
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &Key) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == *key)
        .map(|kv| &kv.value)
}

fn resource_attribute<'a>(resource: &'a Resource, key: &Key) -> Option<&'a Value> {
    resource.get_ref(key)
}

/// pdata's `Value.Str()`: the string, or "" for other types.
fn str_of(v: &Value) -> &str {
    match v {
        Value::String(s) => s.as_str(),
        _ => "",
    }
}

/// pdata's `Value.Int()`: the integer, or 0 for other types.
fn int_of(v: &Value) -> i64 {
    match v {
        Value::I64(i) => *i,
        _ => 0,
    }
}

/// pdata's `Value.Bool()`: the boolean, or false for other types.
fn bool_of(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn status_code(s: &Status) -> SpanStatusCode {
    match s {
        Status::Unset => SpanStatusCode::Unset,
        Status::Ok => SpanStatusCode::Ok,
        Status::Error { .. } => SpanStatusCode::Error,
    }
}

/// Nanoseconds since the Unix epoch (pdata's timestamps), 0 before it.
fn nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The Collector's latency check: walking the spans in order with a running earliest start and
/// latest end, the trace matches at the first span where the duration so far (whole
/// milliseconds, truncated as Go's `Duration.Milliseconds`) is above `lower` (and at most
/// `upper` when set).
fn latency_matches(spans: &[SpanData], lower: i64, upper: i64) -> bool {
    // In nanoseconds: whole milliseconds > lower  <=>  d >= (lower + 1) ms, and
    // whole milliseconds <= upper  <=>  d < (upper + 1) ms (for d >= 0).
    let above = lower.saturating_add(1).saturating_mul(1_000_000);
    let below = upper.saturating_add(1).saturating_mul(1_000_000);
    let mut min = 0i64;
    let mut max = 0i64;
    let mut extend = |s: &SpanData| {
        let (start, end) = (nanos(s.start_time), nanos(s.end_time));
        if min == 0 || start < min {
            min = start;
        }
        if max == 0 || end > max {
            max = end;
        }
        max.saturating_sub(min)
    };
    if upper == 0 {
        // The running duration only grows: the whole trace's extent decides.
        let mut d = 0;
        for s in spans {
            d = extend(s);
        }
        !spans.is_empty() && d >= above
    } else {
        spans.iter().any(|s| {
            let d = extend(s);
            d >= above && d < below
        })
    }
}

/// `golang.org/x/time/rate.Limiter` as `AllowN` uses it: tokens refill continuously at `rate` per
/// second up to `burst`; the bucket starts full; a request of `n` passes when `n <= burst` and
/// the bucket holds `n` tokens.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Option<f64>,
}

impl TokenBucket {
    fn new(rate: i64, burst: i64) -> Self {
        Self {
            rate: rate as f64,
            burst: burst as f64,
            tokens: burst as f64,
            last: None,
        }
    }

    fn allow(&mut self, n: i64, now: f64) -> bool {
        let last = self.last.unwrap_or(now).min(now);
        let tokens = (self.tokens + (now - last) * self.rate).min(self.burst);
        let left = tokens - n as f64;
        // Go converts the wait to whole nanoseconds: a deficit below one nanosecond's refill passes.
        let wait_ns = if left < 0.0 {
            (-left / self.rate * 1e9) as i64
        } else {
            0
        };
        let ok = (n as f64) <= self.burst && wait_ns <= 0;
        if ok {
            self.last = Some(now);
            self.tokens = left;
        }
        ok
    }
}

/// The Collector's composite policy: sub-policies in order; the first that samples decides,
/// within its allocated spans per second (and the total) in the current second.
#[derive(Debug)]
struct Composite {
    max_total: i64,
    subs: Vec<(Evaluator, i64, i64)>,
    current_second: Option<u64>,
}

impl Composite {
    fn compile(c: &super::config::CompositePolicy) -> Self {
        let total = c.max_total_spans_per_second as f64;
        let default_share = total / c.sub_policies.len().max(1) as f64;
        let allocation = |name: &str| -> i64 {
            // The last entry for a name wins, as when the Collector fills its map.
            let mut sps = 0.0;
            for r in c.rate_allocation.iter().filter(|r| r.policy == name) {
                sps = if r.percent > 0 {
                    (r.percent as f64 / 100.0) * total
                } else {
                    default_share
                };
            }
            sps as i64
        };
        Self {
            max_total: c.max_total_spans_per_second,
            subs: c
                .sub_policies
                .iter()
                .map(|s| (Evaluator::compile(&s.policy), allocation(&s.name), 0))
                .collect(),
            current_second: None,
        }
    }

    fn evaluate(&mut self, trace: &TraceView<'_>, clock: &Clock) -> Decision {
        let second = clock.whole_second();
        if self.current_second != Some(second) {
            self.current_second = Some(second);
            for sub in &mut self.subs {
                sub.2 = 0;
            }
        }
        let spans = trace.spans.len() as i64;
        for (evaluator, allocated, sampled) in &mut self.subs {
            let d = evaluator.evaluate(trace, clock);
            if d.is_sampled() {
                let if_sampled = *sampled + spans;
                if if_sampled <= *allocated && if_sampled <= self.max_total {
                    *sampled = if_sampled;
                    return Decision::Sampled;
                }
                return Decision::NotSampled;
            }
        }
        Decision::NotSampled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_have_gos_ascii_perl_classes() {
        let is = |p: &str, s: &str| go_regex(p).expect("valid").is_match(s);
        // Go: \d, \w, \s and \b are ASCII; the Rust crate's defaults are Unicode.
        assert!(is(r"^\d+$", "500"));
        assert!(
            !is(r"^\d+$", "\u{663}\u{660}\u{660}"),
            "Arabic-Indic digits are not \\d in Go"
        );
        assert!(!is(r"^/\w+$", "/caf\u{e9}"));
        assert!(is(r"^/\w+$", "/cafe_1"));
        assert!(
            !is(r"^a\sb$", "a\u{a0}b"),
            "a no-break space is not \\s in Go"
        );
        assert!(!is(r"^a\sb$", "a\u{b}b"), "nor a vertical tab");
        assert!(is(r"^a\sb$", "a\tb"));
        assert!(is(r"^\D$", "\u{663}"));
        assert!(is(r"^\W\S$", "\u{e9}\u{a0}"));
        assert!(
            is(r"\bcaf", "\u{e9}caf"),
            "\\b is an ASCII word boundary in Go"
        );
        assert!(!is(r"x\B", "x\u{e9}"));
        // Inside classes, and negated classes inside classes.
        assert!(is(r"^[\d.]+$", "1.5"));
        assert!(!is(r"^[\d.]+$", "\u{663}"));
        assert!(is(r"^[^\D]$", "7"));
        assert!(!is(r"^[^\D]$", "\u{663}"));
        assert!(is(r"^[\w-]+$", "a-b_c"));
        // `[`, `&&` and `~~` inside a class are literals in Go.
        assert!(is(r"^[[]$", "["));
        assert!(is(r"^[a&&b]+$", "a&b"));
        assert!(is(r"^[~~a]$", "~"));
        assert!(is(r"^[[:alpha:]]+$", "abc"));
        assert!(is(r"^[]a]+$", "]a"));
        assert!(is(r"^[^]a]$", "b"));
        assert!(is(r"^\p{Greek}+$", "\u{3b1}\u{3b2}"));
        assert!(is(r"(?i)^\w+$", "ABC"));
        assert!(is(r"^a\\d$", "a\\d"), "an escaped backslash stays one");
        assert!(go_regex("(").is_err());
    }

    #[test]
    fn token_bucket_behaves_like_x_time_rate() {
        let mut b = TokenBucket::new(10, 20);
        assert!(b.allow(20, 0.0), "starts full");
        assert!(!b.allow(1, 0.0));
        assert!(b.allow(5, 0.5), "refills 10 per second");
        assert!(!b.allow(1, 0.5));
        assert!(!b.allow(21, 100.0), "never more than the burst");
        assert!(b.allow(20, 100.0));
    }

    #[test]
    fn latency_is_exclusive_of_the_lower_bound() {
        use opentelemetry::InstrumentationScope;
        use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceState};
        use std::time::Duration;
        let span = |start_ms: u64, end_ms: u64| SpanData {
            span_context: SpanContext::new(
                TraceId::from(1u128),
                SpanId::from(1u64),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: UNIX_EPOCH + Duration::from_millis(1_000_000 + start_ms),
            end_time: UNIX_EPOCH + Duration::from_millis(1_000_000 + end_ms),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: Default::default(),
            links: Default::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        };
        assert!(!latency_matches(&[span(0, 500)], 500, 0));
        assert!(latency_matches(&[span(0, 501)], 500, 0));
        // The trace's extent counts, across spans.
        assert!(latency_matches(&[span(0, 300), span(200, 600)], 500, 0));
        assert!(!latency_matches(&[span(0, 500)], 500, 1000));
        assert!(latency_matches(&[span(0, 1000)], 500, 1000));
        assert!(!latency_matches(&[span(0, 1001)], 500, 1000));
    }
}
