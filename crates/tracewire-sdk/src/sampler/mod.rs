//! Head sampling: a rule sampler configured in code or from a YAML file, and the standard
//! samplers from `OTEL_TRACES_SAMPLER`.
//!
//! # Example: the article's sampler
//!
//! Always sample payments, never health checks, 10% of the rest, and follow the parent's
//! decision when there is one:
//!
//! ```
//! use opentelemetry::trace::{SpanKind, TraceId};
//! use opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
//! use tracewire_sdk::sampler::{Rule, RuleSampler};
//!
//! let sampler = RuleSampler::builder()
//!     .rule(Rule::span_name_prefix("payment.").always())
//!     .rule(Rule::span_name("health-check").never())
//!     .default_ratio(0.1)
//!     .build();
//!
//! let decide = |name: &str| {
//!     let id = TraceId::from_bytes([0xff; 16]); // a trace id no ratio below 1 picks
//!     sampler.should_sample(None, id, name, &SpanKind::Server, &[], &[]).decision
//! };
//! assert_eq!(decide("payment.charge"), SamplingDecision::RecordAndSample);
//! assert_eq!(decide("health-check"), SamplingDecision::Drop);
//! assert_eq!(decide("GET /orders"), SamplingDecision::Drop);
//! ```
//!
//! The same sampler from YAML (see [`RuleSampler::from_yaml`] for the whole format):
//!
//! ```
//! use tracewire_sdk::sampler::RuleSampler;
//!
//! let sampler = RuleSampler::from_yaml(r#"
//! rules:
//!   - span_name: { prefix: "payment." }
//!     sample: always
//!   - span_name: health-check
//!     sample: never
//! default: 0.1
//! "#)?;
//! assert_eq!(sampler.rules().len(), 2);
//! # Ok::<(), tracewire_sdk::sampler::ConfigError>(())
//! ```
//!
//! # Decisions
//!
//! Rules are tried in order; the first whose conditions all hold decides, and when none does the
//! default decides (`always` unless set). A rule or the default gives:
//!
//! - `always`: record and sample ([`SamplingDecision::RecordAndSample`]);
//! - `never`: drop ([`SamplingDecision::Drop`]);
//! - a ratio in `[0, 1]`: sample the traces whose trace id falls under the ratio, with exactly the
//!   arithmetic of the SDK's `TraceIdRatioBased` (so every service with the same ratio keeps the
//!   same traces); the others are dropped, or recorded without being sampled when
//!   [`record_unsampled`](RuleSamplerBuilder::record_unsampled) is set;
//! - `record_only`: record the span without sampling it ([`SamplingDecision::RecordOnly`]).
//!
//! # Parent-based wrapping
//!
//! By default (as with the SDK's `ParentBased`), a span with a valid parent follows the parent
//! and rules apply to root spans only. Each of the four parent cases can be set to
//! [`ParentPolicy::Inherit`] (the default), `Always`, `Never`, `RecordOnly` or `Rules` (apply the
//! rules as for a root). `Inherit` samples when the parent is sampled; when it is not, a local
//! parent that is still *recording* (a record-only decision) gives `RecordOnly`, so a whole
//! record-only trace stays visible to span processors, and anything else is dropped.
//!
//! # Composing with the in-process tail sampler
//!
//! Span processors see every *recording* span, sampled or not, but exporters only get sampled
//! ones. A tail sampler (a span processor) can therefore only keep traces the head sampler
//! recorded. Two compositions work:
//!
//! - head `always` (the default) and the tail sampler decides: every span is recorded and
//!   propagated as sampled, the tail sampler keeps or drops whole local traces;
//! - head rules with [`record_unsampled`](RuleSamplerBuilder::record_unsampled) (or
//!   `record_only` rules): traces the head does not pick are still recorded (flag `00`
//!   downstream), so the tail sampler can keep, say, their errors. Downstream services, which
//!   see the unsampled flag, drop their part unless their own `remote_parent_not_sampled` policy
//!   says otherwise.
//!
//! `never` always drops: a dropped span is not recording and no processor sees it.

mod file;

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, Key, KeyValue, Value};
pub use opentelemetry_sdk::trace::SamplingDecision;
use opentelemetry_sdk::trace::{Sampler, SamplingResult, ShouldSample};
use regex::Regex;
use tracewire_core::env::{EnvSource, OtelEnv, warn_once};

pub use file::ConfigError;

/// What a rule (or the default) gives.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Record and sample.
    Always,
    /// Drop.
    Never,
    /// Sample this share of traces, by trace id (clamped to `[0, 1]`).
    Ratio(f64),
    /// Record without sampling.
    RecordOnly,
}

/// How a string (a span name or an attribute value) is matched.
#[derive(Clone, Debug)]
pub enum Match {
    /// Equal to the string.
    Exact(String),
    /// Starts with the string.
    Prefix(String),
    /// The regular expression finds a match (anchor it with `^...$` for a whole match).
    Regex(Regex),
    /// Attributes only: the key is present, whatever its value.
    Present,
}

impl Match {
    fn is_match(&self, s: &str) -> bool {
        match self {
            Match::Exact(e) => s == e,
            Match::Prefix(p) => s.starts_with(p.as_str()),
            Match::Regex(r) => r.is_match(s),
            Match::Present => true,
        }
    }

    fn value_matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Match::Present, _) => true,
            (_, Value::String(s)) => self.is_match(s.as_str()),
            (_, other) => {
                let s: Cow<'_, str> = other.as_str();
                self.is_match(&s)
            }
        }
    }
}

/// One rule: conditions on the span at its start, and a decision.
#[derive(Clone, Debug)]
pub struct Rule {
    label: Option<String>,
    name: Option<Match>,
    kind: Option<SpanKind>,
    attributes: Vec<(Key, Match)>,
    decision: Decision,
}

impl Rule {
    /// A rule that matches every span (add conditions with the `with_*` methods); its decision is
    /// `always` until set.
    pub fn any() -> Self {
        Rule {
            label: None,
            name: None,
            kind: None,
            attributes: Vec::new(),
            decision: Decision::Always,
        }
    }

    /// Matches spans named exactly `name`.
    pub fn span_name(name: impl Into<String>) -> Self {
        Rule::any().with_span_name(Match::Exact(name.into()))
    }

    /// Matches spans whose name starts with `prefix`.
    pub fn span_name_prefix(prefix: impl Into<String>) -> Self {
        Rule::any().with_span_name(Match::Prefix(prefix.into()))
    }

    /// Matches spans whose name the regular expression matches.
    ///
    /// # Errors
    ///
    /// When `pattern` is not a valid regular expression.
    pub fn span_name_regex(pattern: &str) -> Result<Self, regex::Error> {
        Ok(Rule::any().with_span_name(Match::Regex(Regex::new(pattern)?)))
    }

    /// Sets the span-name condition.
    pub fn with_span_name(mut self, m: Match) -> Self {
        self.name = Some(m);
        self
    }

    /// Adds the condition that the span has this kind.
    pub fn with_kind(mut self, kind: SpanKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Adds a condition on an attribute given at span start (`http.route`, `url.path`,
    /// `messaging.destination.name`, any key). Non-string values are compared in their string
    /// form. A missing attribute never matches.
    pub fn with_attribute(mut self, key: impl Into<Key>, m: Match) -> Self {
        self.attributes.push((key.into(), m));
        self
    }

    /// Adds the condition that the attribute equals `value`.
    pub fn with_attribute_eq(self, key: impl Into<Key>, value: impl Into<String>) -> Self {
        self.with_attribute(key, Match::Exact(value.into()))
    }

    /// Names the rule (for logs and for [`RuleSampler::rules`]).
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the decision.
    pub fn with_decision(mut self, decision: Decision) -> Self {
        self.decision = normalize(decision);
        self
    }

    /// Decision: always sample.
    pub fn always(self) -> Self {
        self.with_decision(Decision::Always)
    }

    /// Decision: drop.
    pub fn never(self) -> Self {
        self.with_decision(Decision::Never)
    }

    /// Decision: sample this share of traces (clamped to `[0, 1]`; NaN is 0).
    pub fn ratio(self, ratio: f64) -> Self {
        self.with_decision(Decision::Ratio(ratio))
    }

    /// Decision: record without sampling.
    pub fn record_only(self) -> Self {
        self.with_decision(Decision::RecordOnly)
    }

    /// The rule's label, if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The rule's decision.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    fn matches(&self, name: &str, kind: &SpanKind, attributes: &[KeyValue]) -> bool {
        if let Some(k) = &self.kind
            && k != kind
        {
            return false;
        }
        if let Some(m) = &self.name
            && !m.is_match(name)
        {
            return false;
        }
        self.attributes.iter().all(|(key, m)| {
            attributes
                .iter()
                .find(|kv| &kv.key == key)
                .is_some_and(|kv| m.value_matches(&kv.value))
        })
    }
}

fn normalize(decision: Decision) -> Decision {
    match decision {
        Decision::Ratio(r) if r.is_nan() => Decision::Ratio(0.0),
        Decision::Ratio(r) => Decision::Ratio(r.clamp(0.0, 1.0)),
        d => d,
    }
}

/// What a parent-based sampler does in one of the four parent cases.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ParentPolicy {
    /// Follow the parent: sampled parent → sample; unsampled but recording local parent →
    /// record only; otherwise drop.
    #[default]
    Inherit,
    /// Sample.
    Always,
    /// Drop.
    Never,
    /// Record without sampling.
    RecordOnly,
    /// Apply the rules as for a root span.
    Rules,
}

/// Parent-based wrapping: a policy per parent case, as the SDK's `ParentBased` has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ParentBased {
    /// The parent came from another process and is sampled.
    pub remote_parent_sampled: ParentPolicy,
    /// The parent came from another process and is not sampled.
    pub remote_parent_not_sampled: ParentPolicy,
    /// The parent is in this process and sampled.
    pub local_parent_sampled: ParentPolicy,
    /// The parent is in this process and not sampled.
    pub local_parent_not_sampled: ParentPolicy,
}

/// A head sampler driven by rules on the span's name, kind and start attributes.
///
/// See the [module docs](self) for the decisions and an example.
#[derive(Clone, Debug)]
pub struct RuleSampler {
    rules: Arc<[Rule]>,
    default: Decision,
    record_unsampled: bool,
    parent_based: Option<ParentBased>,
}

/// Builds a [`RuleSampler`].
#[derive(Clone, Debug)]
pub struct RuleSamplerBuilder {
    rules: Vec<Rule>,
    default: Decision,
    record_unsampled: bool,
    parent_based: Option<ParentBased>,
}

impl RuleSampler {
    /// A builder: no rules, default `always`, parent-based with [`ParentPolicy::Inherit`]
    /// everywhere.
    pub fn builder() -> RuleSamplerBuilder {
        RuleSamplerBuilder {
            rules: Vec::new(),
            default: Decision::Always,
            record_unsampled: false,
            parent_based: Some(ParentBased::default()),
        }
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The decision when no rule matches.
    pub fn default_decision(&self) -> Decision {
        self.default
    }

    /// The parent-based policies, or `None` when rules apply to every span.
    pub fn parent_based(&self) -> Option<ParentBased> {
        self.parent_based
    }

    /// Whether traces a ratio does not pick are recorded (`RecordOnly`) instead of dropped.
    pub fn records_unsampled(&self) -> bool {
        self.record_unsampled
    }

    fn apply(&self, decision: Decision, trace_id: TraceId) -> SamplingDecision {
        match decision {
            Decision::Always => SamplingDecision::RecordAndSample,
            Decision::Never => SamplingDecision::Drop,
            Decision::RecordOnly => SamplingDecision::RecordOnly,
            Decision::Ratio(r) => {
                if ratio_picks(r, trace_id) {
                    SamplingDecision::RecordAndSample
                } else if self.record_unsampled {
                    SamplingDecision::RecordOnly
                } else {
                    SamplingDecision::Drop
                }
            }
        }
    }

    fn by_rules(
        &self,
        trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
    ) -> SamplingDecision {
        let decision = self
            .rules
            .iter()
            .find(|r| r.matches(name, kind, attributes))
            .map_or(self.default, |r| r.decision);
        self.apply(decision, trace_id)
    }
}

impl RuleSamplerBuilder {
    /// Appends a rule.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Sets the decision when no rule matches.
    pub fn default_decision(mut self, decision: Decision) -> Self {
        self.default = normalize(decision);
        self
    }

    /// Sets the default to a ratio (clamped to `[0, 1]`).
    pub fn default_ratio(self, ratio: f64) -> Self {
        self.default_decision(Decision::Ratio(ratio))
    }

    /// Records (`RecordOnly`) the traces a ratio does not pick, instead of dropping them, so an
    /// in-process tail sampler sees them.
    pub fn record_unsampled(mut self, yes: bool) -> Self {
        self.record_unsampled = yes;
        self
    }

    /// Sets the parent-based policies; `None` applies the rules to every span, parent or not.
    pub fn parent_based(mut self, parent_based: Option<ParentBased>) -> Self {
        self.parent_based = parent_based;
        self
    }

    /// Builds the sampler.
    pub fn build(self) -> RuleSampler {
        RuleSampler {
            rules: self.rules.into(),
            default: self.default,
            record_unsampled: self.record_unsampled,
            parent_based: self.parent_based,
        }
    }
}

/// Whether a ratio picks `trace_id`: the SDK's `TraceIdRatioBased` arithmetic (the lower 63 bits
/// of the trace id's last 8 bytes against `ratio * 2^63`).
pub fn ratio_picks(ratio: f64, trace_id: TraceId) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    let upper = (ratio.max(0.0) * (1u64 << 63) as f64) as u64;
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[8..]);
    (u64::from_be_bytes(low) >> 1) < upper
}

impl ShouldSample for RuleSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let parent =
            parent_context.filter(|cx| cx.has_active_span() && cx.span().span_context().is_valid());
        let (decision, trace_state) = match parent {
            None => (
                self.by_rules(trace_id, name, span_kind, attributes),
                TraceState::NONE,
            ),
            Some(cx) => {
                let span = cx.span();
                let sc = span.span_context();
                let decision = match self.parent_based {
                    None => self.by_rules(trace_id, name, span_kind, attributes),
                    Some(pb) => {
                        let policy = match (sc.is_remote(), sc.is_sampled()) {
                            (true, true) => pb.remote_parent_sampled,
                            (true, false) => pb.remote_parent_not_sampled,
                            (false, true) => pb.local_parent_sampled,
                            (false, false) => pb.local_parent_not_sampled,
                        };
                        match policy {
                            ParentPolicy::Always => SamplingDecision::RecordAndSample,
                            ParentPolicy::Never => SamplingDecision::Drop,
                            ParentPolicy::RecordOnly => SamplingDecision::RecordOnly,
                            ParentPolicy::Rules => {
                                self.by_rules(trace_id, name, span_kind, attributes)
                            }
                            ParentPolicy::Inherit if sc.is_sampled() => {
                                SamplingDecision::RecordAndSample
                            }
                            ParentPolicy::Inherit if !sc.is_remote() && span.is_recording() => {
                                SamplingDecision::RecordOnly
                            }
                            ParentPolicy::Inherit => SamplingDecision::Drop,
                        }
                    }
                };
                (decision, sc.trace_state().clone())
            }
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state,
        }
    }
}

/// The custom `OTEL_TRACES_SAMPLER` value that loads a [`RuleSampler`] from the YAML file named
/// by `OTEL_TRACES_SAMPLER_ARG`.
pub const RULES_SAMPLER_NAME: &str = "tracewire_rules";

/// The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` select, or `None` when the
/// variable is unset (the default is `parentbased_always_on`).
///
/// Every standard value is supported: `always_on`, `always_off`, `traceidratio`,
/// `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` (with the
/// SDK's own samplers, so decisions are exactly the SDK's). The ratio comes from the argument; a
/// missing or bad argument (not a number in `[0, 1]`) warns once and the default `1.0` is used.
/// `jaeger_remote`, `parentbased_jaeger_remote` and `xray` need a remote sampling service that
/// this crate does not speak: they warn and fall back to `parentbased_always_on`, as does an
/// unknown value. `tracewire_rules` loads a [`RuleSampler`] from the YAML file the argument
/// names; an unreadable or invalid file warns (with the file, line and field) and falls back
/// too.
pub fn sampler_from_env<S: EnvSource>(env: &OtelEnv<S>) -> Option<Box<dyn ShouldSample>> {
    let name = env.string("OTEL_TRACES_SAMPLER")?.to_ascii_lowercase();
    let ratio = || -> f64 {
        let Some(arg) = env.string("OTEL_TRACES_SAMPLER_ARG") else {
            return 1.0;
        };
        match arg.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => r,
            _ => {
                warn_once(
                    "OTEL_TRACES_SAMPLER_ARG",
                    Some(&arg),
                    "a ratio between 0 and 1; using 1.0",
                );
                1.0
            }
        }
    };
    let fallback =
        || -> Box<dyn ShouldSample> { Box::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn))) };
    let sampler: Box<dyn ShouldSample> = match name.as_str() {
        "always_on" => Box::new(Sampler::AlwaysOn),
        "always_off" => Box::new(Sampler::AlwaysOff),
        "traceidratio" => Box::new(Sampler::TraceIdRatioBased(ratio())),
        "parentbased_always_on" => fallback(),
        "parentbased_always_off" => Box::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))),
        "parentbased_traceidratio" => Box::new(Sampler::ParentBased(Box::new(
            Sampler::TraceIdRatioBased(ratio()),
        ))),
        "jaeger_remote" | "parentbased_jaeger_remote" | "xray" => {
            warn_once(
                "OTEL_TRACES_SAMPLER",
                Some(&name),
                "a sampler this SDK implements (remote samplers are not); using parentbased_always_on",
            );
            fallback()
        }
        RULES_SAMPLER_NAME => match env.string("OTEL_TRACES_SAMPLER_ARG") {
            Some(path) => match RuleSampler::from_file(&path) {
                Ok(s) => Box::new(s),
                Err(e) => {
                    tracing::warn!(target: "tracewire::sdk", error = %e, "invalid head sampling rules; using parentbased_always_on");
                    fallback()
                }
            },
            None => {
                warn_once(
                    "OTEL_TRACES_SAMPLER_ARG",
                    None,
                    "the path of a rules file for tracewire_rules; using parentbased_always_on",
                );
                fallback()
            }
        },
        _ => {
            warn_once(
                "OTEL_TRACES_SAMPLER",
                Some(&name),
                "one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, tracewire_rules; using parentbased_always_on",
            );
            fallback()
        }
    };
    Some(sampler)
}

#[cfg(test)]
mod tests;
