//! The `tail_sampling` config as Rust types, with the Collector's defaults, a builder, and the
//! checks every config passes (from YAML or from code).

use std::time::Duration;

use super::error::ConfigError;

/// Default `decision_wait` (the Collector's `factory.go`).
pub const DEFAULT_DECISION_WAIT: Duration = Duration::from_secs(30);
/// Default `num_traces` (the Collector's `factory.go`).
pub const DEFAULT_NUM_TRACES: u64 = 50_000;
/// Decision caches default to this many times `num_traces` when the config does not size them
/// (the Collector leaves them off; its README advises sizing them well above `num_traces`).
pub const DEFAULT_DECISION_CACHE_FACTOR: u64 = 10;
/// The longest Go duration (`time.Duration` is an `int64` of nanoseconds).
const MAX_GO_DURATION: Duration = Duration::from_nanos(i64::MAX as u64);
/// Default byte budget of the spans buffered while they wait for their trace's decision.
pub const DEFAULT_MAX_BUFFERED_BYTES: u64 = 64 * 1024 * 1024;

/// The `tail_sampling` processor's config: the Collector's keys, with its defaults.
///
/// Build it from the Collector's YAML ([`TailSamplingConfig::from_yaml_str`],
/// [`TailSamplingConfig::from_yaml_file`]) or in code ([`TailSamplingConfig::builder`], or a
/// struct literal with `..Default::default()` followed by [`TailSamplingConfig::validate`]).
///
/// ```
/// use std::time::Duration;
/// use tracewire_sdk::tail::{PolicyConfig, SpanStatusCode, TailSamplingConfig};
///
/// let config = TailSamplingConfig::builder()
///     .with_decision_wait(Duration::from_secs(10))
///     .with_num_traces(1000)
///     .with_policy(PolicyConfig::status_code("errors", [SpanStatusCode::Error]))
///     .with_policy(PolicyConfig::probabilistic("baseline", 5.0))
///     .build()
///     .expect("valid config");
/// assert_eq!(config.decision_cache.sampled_cache_size(config.num_traces), 10_000);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TailSamplingConfig {
    /// Time from a trace's first span to its decision (`decision_wait`, default 30s).
    pub decision_wait: Duration,
    /// Decide this long after the trace's local root span has ended, when that comes before
    /// `decision_wait` (`decision_wait_after_root_received`; zero, the default, disables it).
    pub decision_wait_after_root_received: Duration,
    /// Most traces buffered at once (`num_traces`, default 50 000).
    pub num_traces: u64,
    /// Expected new traces per second: sizes the buffer up front (`expected_new_traces_per_sec`).
    pub expected_new_traces_per_sec: u64,
    /// Sizes of the caches of decided trace ids that late spans follow (`decision_cache`).
    pub decision_cache: DecisionCacheConfig,
    /// A trace whose protobuf size (as OTLP export sends it, the Collector's measure) exceeds
    /// this many bytes is not sampled and its buffer freed at once (`maximum_trace_size_bytes`;
    /// zero, the default, sets no per-trace limit beyond the processor's own share of its byte
    /// budget).
    pub maximum_trace_size_bytes: u64,
    /// Stop evaluating policies at the first that samples (`sample_on_first_match`).
    pub sample_on_first_match: bool,
    /// On shutdown, drop the traces still waiting instead of deciding them
    /// (`drop_pending_traces_on_shutdown`).
    pub drop_pending_traces_on_shutdown: bool,
    /// The policies (`policies`), evaluated in order, `drop` policies first.
    pub policies: Vec<PolicyConfig>,
}

impl Default for TailSamplingConfig {
    fn default() -> Self {
        Self {
            decision_wait: DEFAULT_DECISION_WAIT,
            decision_wait_after_root_received: Duration::ZERO,
            num_traces: DEFAULT_NUM_TRACES,
            expected_new_traces_per_sec: 0,
            decision_cache: DecisionCacheConfig::default(),
            maximum_trace_size_bytes: 0,
            sample_on_first_match: false,
            drop_pending_traces_on_shutdown: false,
            policies: Vec::new(),
        }
    }
}

/// `decision_cache`: how many decided trace ids are remembered, so that spans arriving after
/// their trace's decision follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecisionCacheConfig {
    /// Sampled trace ids remembered (`sampled_cache_size`); `None` means 10 × `num_traces`,
    /// `Some(0)` turns the cache off, as in the Collector, where a decided trace's id then stays
    /// in memory with its decision until `num_traces` newer traces push it out (the processor
    /// keeps that many decisions).
    pub sampled: Option<u64>,
    /// Not-sampled trace ids remembered (`non_sampled_cache_size`); `None` means
    /// 10 × `num_traces`, `Some(0)` as for `sampled`.
    pub non_sampled: Option<u64>,
}

impl DecisionCacheConfig {
    /// The effective size of the sampled cache for a given `num_traces`.
    pub fn sampled_cache_size(&self, num_traces: u64) -> u64 {
        self.sampled
            .unwrap_or(num_traces.saturating_mul(DEFAULT_DECISION_CACHE_FACTOR))
    }

    /// The effective size of the not-sampled cache for a given `num_traces`.
    pub fn non_sampled_cache_size(&self, num_traces: u64) -> u64 {
        self.non_sampled
            .unwrap_or(num_traces.saturating_mul(DEFAULT_DECISION_CACHE_FACTOR))
    }
}

/// One named policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyConfig {
    /// The policy's name, unique among its siblings; metrics carry it as the `policy` attribute.
    pub name: String,
    /// What the policy does.
    pub policy: Policy,
}

/// The policy types of the Collector's `tail_sampling` processor that can run in-process.
///
/// `ottl_condition` is not here: OTTL is the Collector's language, and a config that uses it is
/// rejected with an error saying so.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Policy {
    /// `always_sample`: samples every trace.
    AlwaysSample,
    /// `latency`: the trace's duration (earliest start to latest end) is above `threshold_ms`
    /// (and at most `upper_threshold_ms` when set).
    Latency(LatencyPolicy),
    /// `status_code`: a span has one of the status codes.
    StatusCode(StatusCodePolicy),
    /// `probabilistic`: a share of traces, by the trace id's hash.
    Probabilistic(ProbabilisticPolicy),
    /// `string_attribute`: a span or resource attribute has one of the values (exact or regex).
    StringAttribute(StringAttributePolicy),
    /// `numeric_attribute`: a span or resource integer attribute lies in a range.
    NumericAttribute(NumericAttributePolicy),
    /// `boolean_attribute`: a span or resource boolean attribute has the value.
    BooleanAttribute(BooleanAttributePolicy),
    /// `rate_limiting`: a token bucket of spans per second.
    RateLimiting(RateLimitingPolicy),
    /// `bytes_limiting`: a token bucket of bytes per second.
    BytesLimiting(BytesLimitingPolicy),
    /// `span_count`: the trace's span count lies in a range.
    SpanCount(SpanCountPolicy),
    /// `trace_state`: a span's W3C tracestate has one of the values under a key.
    TraceState(TraceStatePolicy),
    /// `trace_flags`: a span carries the sampled flag (an upstream head sampler kept the trace).
    TraceFlags,
    /// `and`: every sub-policy samples.
    And(Vec<PolicyConfig>),
    /// `not`: inverts the sub-policy's sampled / not sampled.
    Not(Box<PolicyConfig>),
    /// `drop`: every sub-policy samples, and the trace is then dropped whatever other policies say.
    Drop(Vec<PolicyConfig>),
    /// `composite`: sub-policies in order, each within its share of a spans-per-second budget.
    Composite(CompositePolicy),
}

impl Policy {
    /// Whether this policy, or one nested in it, reads the trace's protobuf size
    /// (`bytes_limiting`).
    pub(crate) fn reads_trace_size(&self) -> bool {
        match self {
            Policy::BytesLimiting(_) => true,
            Policy::And(subs) | Policy::Drop(subs) => {
                subs.iter().any(|p| p.policy.reads_trace_size())
            }
            Policy::Not(sub) => sub.policy.reads_trace_size(),
            Policy::Composite(c) => c.sub_policies.iter().any(|p| p.policy.reads_trace_size()),
            _ => false,
        }
    }

    /// The policy's `type` in the Collector's config.
    pub fn type_name(&self) -> &'static str {
        match self {
            Policy::AlwaysSample => "always_sample",
            Policy::Latency(_) => "latency",
            Policy::StatusCode(_) => "status_code",
            Policy::Probabilistic(_) => "probabilistic",
            Policy::StringAttribute(_) => "string_attribute",
            Policy::NumericAttribute(_) => "numeric_attribute",
            Policy::BooleanAttribute(_) => "boolean_attribute",
            Policy::RateLimiting(_) => "rate_limiting",
            Policy::BytesLimiting(_) => "bytes_limiting",
            Policy::SpanCount(_) => "span_count",
            Policy::TraceState(_) => "trace_state",
            Policy::TraceFlags => "trace_flags",
            Policy::And(_) => "and",
            Policy::Not(_) => "not",
            Policy::Drop(_) => "drop",
            Policy::Composite(_) => "composite",
        }
    }

    fn is_leaf(&self) -> bool {
        !matches!(
            self,
            Policy::And(_) | Policy::Not(_) | Policy::Drop(_) | Policy::Composite(_)
        )
    }
}

/// `latency` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LatencyPolicy {
    /// Lower bound in milliseconds, exclusive (`threshold_ms`).
    pub threshold_ms: i64,
    /// Upper bound in milliseconds, inclusive; zero means none (`upper_threshold_ms`).
    pub upper_threshold_ms: i64,
    /// tracewire extension (the article's config): sample only this share of the matching traces,
    /// by the trace id's hash with the salt [`SAMPLING_PERCENTAGE_SALT`](super::SAMPLING_PERCENTAGE_SALT).
    /// `None` keeps every match.
    pub sampling_percentage: Option<f64>,
}

/// A span status code, as the `status_code` policy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanStatusCode {
    /// `UNSET`.
    Unset,
    /// `OK`.
    Ok,
    /// `ERROR`.
    Error,
}

impl SpanStatusCode {
    /// Parses the Collector's spelling (`OK`, `ERROR`, `UNSET`).
    pub fn from_collector_name(name: &str) -> Option<Self> {
        match name {
            "OK" => Some(Self::Ok),
            "ERROR" => Some(Self::Error),
            "UNSET" => Some(Self::Unset),
            _ => None,
        }
    }
}

/// `status_code` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusCodePolicy {
    /// The codes that match (`status_codes`); at least one.
    pub status_codes: Vec<SpanStatusCode>,
    /// tracewire extension (the article's config): sample only this share of the matching traces,
    /// by the trace id's hash with the salt [`SAMPLING_PERCENTAGE_SALT`](super::SAMPLING_PERCENTAGE_SALT).
    /// `None` keeps every match.
    pub sampling_percentage: Option<f64>,
}

/// `probabilistic` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProbabilisticPolicy {
    /// The hash salt (`hash_salt`); empty means the Collector's default salt.
    pub hash_salt: String,
    /// Percentage of traces sampled (`sampling_percentage`); 100 or more samples all.
    pub sampling_percentage: f64,
}

/// `string_attribute` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringAttributePolicy {
    /// The attribute key (`key`).
    pub key: String,
    /// Values, or regular expressions when `enabled_regex_matching` (`values`).
    pub values: Vec<String>,
    /// Match values as regular expressions with Go's meaning (unanchored, as `MatchString`;
    /// `\d`, `\w`, `\s` and `\b` are ASCII).
    pub enabled_regex_matching: bool,
    /// Accepted for compatibility (`cache_max_size`); the Rust regex engine needs no result cache.
    pub cache_max_size: u64,
    /// Sample traces where no span or resource matches (`invert_match`, deprecated upstream).
    pub invert_match: bool,
}

/// `numeric_attribute` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumericAttributePolicy {
    /// The attribute key (`key`).
    pub key: String,
    /// Inclusive lower bound (`min_value`; 0 in YAML means none, as in the Collector).
    pub min_value: Option<i64>,
    /// Inclusive upper bound (`max_value`; 0 in YAML means none, as in the Collector).
    pub max_value: Option<i64>,
    /// Sample traces where no span or resource has a value in the range (`invert_match`).
    pub invert_match: bool,
}

/// `boolean_attribute` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BooleanAttributePolicy {
    /// The attribute key (`key`).
    pub key: String,
    /// The value that matches (`value`).
    pub value: bool,
    /// Sample traces where no span or resource has the value (`invert_match`).
    pub invert_match: bool,
}

/// `rate_limiting` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateLimitingPolicy {
    /// Refill rate of the bucket, in spans per second (`spans_per_second`).
    pub spans_per_second: i64,
    /// Size of the bucket (`burst_capacity`); zero means twice `spans_per_second`.
    pub burst_capacity: i64,
}

/// `bytes_limiting` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BytesLimitingPolicy {
    /// Refill rate of the bucket, in bytes per second (`bytes_per_second`).
    pub bytes_per_second: i64,
    /// Size of the bucket (`burst_capacity`); zero means twice `bytes_per_second`.
    pub burst_capacity: i64,
}

/// `span_count` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanCountPolicy {
    /// Inclusive minimum (`min_spans`).
    pub min_spans: i32,
    /// Inclusive maximum; zero means none (`max_spans`).
    pub max_spans: i32,
}

/// `trace_state` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceStatePolicy {
    /// The tracestate key (`key`).
    pub key: String,
    /// The values that match (`values`).
    pub values: Vec<String>,
}

/// `composite` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompositePolicy {
    /// The total budget, in spans per second (`max_total_spans_per_second`).
    pub max_total_spans_per_second: i64,
    /// Accepted for compatibility (`policy_order`): as in the Collector, sub-policies are
    /// evaluated in the order of `composite_sub_policy`.
    pub policy_order: Vec<String>,
    /// The sub-policies (`composite_sub_policy`): leaf policies or `and`.
    pub sub_policies: Vec<PolicyConfig>,
    /// Each sub-policy's share of the budget (`rate_allocation`); a sub-policy without one gets
    /// no budget, as in the Collector.
    pub rate_allocation: Vec<RateAllocation>,
}

/// One `rate_allocation` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateAllocation {
    /// The sub-policy's name (`policy`).
    pub policy: String,
    /// Its percentage of the budget (`percent`); zero or less means an equal share.
    pub percent: i64,
}

// === impl PolicyConfig ===

impl PolicyConfig {
    /// A named policy.
    pub fn new(name: impl Into<String>, policy: Policy) -> Self {
        Self {
            name: name.into(),
            policy,
        }
    }

    /// `always_sample`.
    pub fn always_sample(name: impl Into<String>) -> Self {
        Self::new(name, Policy::AlwaysSample)
    }

    /// `status_code` keeping every trace with a span of one of `codes`.
    pub fn status_code(
        name: impl Into<String>,
        codes: impl IntoIterator<Item = SpanStatusCode>,
    ) -> Self {
        Self::new(
            name,
            Policy::StatusCode(StatusCodePolicy {
                status_codes: codes.into_iter().collect(),
                sampling_percentage: None,
            }),
        )
    }

    /// `latency` keeping every trace longer than `threshold_ms`.
    pub fn latency(name: impl Into<String>, threshold_ms: i64) -> Self {
        Self::new(
            name,
            Policy::Latency(LatencyPolicy {
                threshold_ms,
                ..LatencyPolicy::default()
            }),
        )
    }

    /// `probabilistic` with the default salt.
    pub fn probabilistic(name: impl Into<String>, sampling_percentage: f64) -> Self {
        Self::new(
            name,
            Policy::Probabilistic(ProbabilisticPolicy {
                hash_salt: String::new(),
                sampling_percentage,
            }),
        )
    }

    /// `string_attribute` with exact values.
    pub fn string_attribute<I, S>(
        name: impl Into<String>,
        key: impl Into<String>,
        values: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(
            name,
            Policy::StringAttribute(StringAttributePolicy {
                key: key.into(),
                values: values.into_iter().map(Into::into).collect(),
                ..StringAttributePolicy::default()
            }),
        )
    }

    /// tracewire extension: keep only `percentage` of the traces this `latency` or `status_code`
    /// policy matches (no effect on other types).
    pub fn with_sampling_percentage(mut self, percentage: f64) -> Self {
        match &mut self.policy {
            Policy::Latency(p) => p.sampling_percentage = Some(percentage),
            Policy::StatusCode(p) => p.sampling_percentage = Some(percentage),
            _ => {}
        }
        self
    }
}

// === impl TailSamplingConfig ===

impl TailSamplingConfig {
    /// A builder starting from the Collector's defaults.
    pub fn builder() -> TailSamplingConfigBuilder {
        TailSamplingConfigBuilder {
            config: Self::default(),
        }
    }

    /// The article's config: errors kept, 50% of traces slower than 500 ms, 5% of the rest;
    /// `decision_wait` 30s, `num_traces` 10 000, `expected_new_traces_per_sec` 100.
    pub fn article_example() -> Self {
        Self {
            num_traces: 10_000,
            expected_new_traces_per_sec: 100,
            policies: vec![
                PolicyConfig::status_code("error-sampling", [SpanStatusCode::Error])
                    .with_sampling_percentage(100.0),
                PolicyConfig::latency("latency-sampling", 500).with_sampling_percentage(50.0),
                PolicyConfig::probabilistic("probabilistic", 5.0),
            ],
            ..Self::default()
        }
    }

    /// Checks the config: at least one policy, unique non-empty names, valid percentages, regexes,
    /// status codes and ranges, and sub-policies of the kinds the Collector allows.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field (for instance `policies[2].latency.threshold_ms`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.decision_wait.is_zero() {
            return Err(ConfigError::new(
                "decision_wait",
                "must be greater than zero (for instance \"30s\")",
            ));
        }
        // The Collector's durations are Go's (at most i64::MAX nanoseconds); longer ones from
        // code would overflow the clock when a trace's deadline is computed.
        for (field, wait) in [
            ("decision_wait", self.decision_wait),
            (
                "decision_wait_after_root_received",
                self.decision_wait_after_root_received,
            ),
        ] {
            if wait > MAX_GO_DURATION {
                return Err(ConfigError::new(
                    field,
                    "must be at most 2562047h47m16.854775807s, Go's longest duration",
                ));
            }
        }
        if self.num_traces == 0 {
            return Err(ConfigError::new(
                "num_traces",
                "must be greater than zero (the Collector's default is 50000)",
            ));
        }
        if self.policies.is_empty() {
            return Err(ConfigError::new(
                "policies",
                "at least one policy is required",
            ));
        }
        validate_policy_list(&self.policies, PolicyLevel::Top).map_err(|e| e.under("policies"))
    }
}

/// Where a list of policies sits, which decides the kinds it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyLevel {
    /// `policies`: every kind.
    Top,
    /// `and_sub_policy`, `drop_sub_policy`, `not_sub_policy`: leaf policies.
    Leaf,
    /// `composite_sub_policy`: leaf policies and `and`.
    CompositeSub,
}

pub(crate) fn validate_policy_list(
    list: &[PolicyConfig],
    level: PolicyLevel,
) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for (i, p) in list.iter().enumerate() {
        let here = |e: ConfigError| e.under(&format!("[{i}]"));
        if !seen.insert(p.name.as_str()) {
            return Err(here(ConfigError::new(
                "name",
                format!("duplicate policy name {:?}", p.name),
            )));
        }
        validate_policy(p, level).map_err(here)?;
    }
    Ok(())
}

/// Checks one policy; the error's field is relative to the policy (`latency.threshold_ms`).
pub(crate) fn validate_policy(p: &PolicyConfig, level: PolicyLevel) -> Result<(), ConfigError> {
    if p.name.is_empty() {
        return Err(ConfigError::new("name", "policy name cannot be empty"));
    }
    let allowed = match level {
        PolicyLevel::Top => true,
        PolicyLevel::Leaf => p.policy.is_leaf(),
        PolicyLevel::CompositeSub => p.policy.is_leaf() || matches!(p.policy, Policy::And(_)),
    };
    if !allowed {
        return Err(ConfigError::new(
            "type",
            format!(
                "a `{}` policy cannot be nested here: sub-policies of and, not and drop are leaf policies, and composite sub-policies are leaf policies or and",
                p.policy.type_name()
            ),
        ));
    }
    let ty = p.policy.type_name();
    let field = |f: &str| format!("{ty}.{f}");
    match &p.policy {
        Policy::AlwaysSample | Policy::TraceFlags => {}
        Policy::Latency(l) => {
            if l.threshold_ms < 0 {
                return Err(ConfigError::new(
                    field("threshold_ms"),
                    "must not be negative",
                ));
            }
            if l.upper_threshold_ms != 0 && l.upper_threshold_ms < l.threshold_ms {
                return Err(ConfigError::new(
                    field("upper_threshold_ms"),
                    "must be zero (no upper bound) or at least threshold_ms",
                ));
            }
            check_percentage_opt(l.sampling_percentage, &field("sampling_percentage"))?;
        }
        Policy::StatusCode(s) => {
            if s.status_codes.is_empty() {
                return Err(ConfigError::new(
                    field("status_codes"),
                    "expected at least one status code to filter on (OK, ERROR, UNSET)",
                ));
            }
            check_percentage_opt(s.sampling_percentage, &field("sampling_percentage"))?;
        }
        Policy::Probabilistic(pr) => {
            check_percentage(pr.sampling_percentage, &field("sampling_percentage"))?;
        }
        Policy::StringAttribute(s) => {
            if s.key.is_empty() {
                return Err(ConfigError::new(field("key"), "expected an attribute key"));
            }
            if s.enabled_regex_matching {
                for (i, v) in s.values.iter().enumerate() {
                    if let Err(e) = super::policy::go_regex(v) {
                        return Err(ConfigError::new(
                            format!("{}[{i}]", field("values")),
                            format!("invalid regular expression {v:?}: {e}"),
                        ));
                    }
                }
            }
        }
        Policy::NumericAttribute(n) => {
            if n.key.is_empty() {
                return Err(ConfigError::new(field("key"), "expected an attribute key"));
            }
            if n.min_value.is_none() && n.max_value.is_none() {
                return Err(ConfigError::new(
                    field("min_value"),
                    "at least one of min_value or max_value must be set (and non-zero)",
                ));
            }
            if let (Some(lo), Some(hi)) = (n.min_value, n.max_value)
                && lo > hi
            {
                return Err(ConfigError::new(
                    field("max_value"),
                    format!("must be at least min_value ({lo})"),
                ));
            }
        }
        Policy::BooleanAttribute(b) => {
            if b.key.is_empty() {
                return Err(ConfigError::new(field("key"), "expected an attribute key"));
            }
        }
        Policy::RateLimiting(r) => {
            if r.spans_per_second <= 0 {
                return Err(ConfigError::new(
                    field("spans_per_second"),
                    "must be greater than zero",
                ));
            }
            if r.burst_capacity < 0 {
                return Err(ConfigError::new(
                    field("burst_capacity"),
                    "must not be negative",
                ));
            }
        }
        Policy::BytesLimiting(r) => {
            if r.bytes_per_second <= 0 {
                return Err(ConfigError::new(
                    field("bytes_per_second"),
                    "must be greater than zero",
                ));
            }
            if r.burst_capacity < 0 {
                return Err(ConfigError::new(
                    field("burst_capacity"),
                    "must not be negative",
                ));
            }
        }
        Policy::SpanCount(s) => {
            if s.min_spans < 0 || s.max_spans < 0 {
                return Err(ConfigError::new(field("min_spans"), "must not be negative"));
            }
            if s.max_spans != 0 && s.max_spans < s.min_spans {
                return Err(ConfigError::new(
                    field("max_spans"),
                    "must be zero (no maximum) or at least min_spans",
                ));
            }
        }
        Policy::TraceState(t) => {
            if t.key.is_empty() {
                return Err(ConfigError::new(field("key"), "expected a tracestate key"));
            }
        }
        Policy::And(subs) => {
            if subs.is_empty() {
                return Err(ConfigError::new(
                    "and.and_sub_policy",
                    "expected at least one sub-policy",
                ));
            }
            validate_policy_list(subs, PolicyLevel::Leaf)
                .map_err(|e| e.under("and.and_sub_policy"))?;
        }
        Policy::Drop(subs) => {
            if subs.is_empty() {
                return Err(ConfigError::new(
                    "drop.drop_sub_policy",
                    "expected at least one sub-policy",
                ));
            }
            validate_policy_list(subs, PolicyLevel::Leaf)
                .map_err(|e| e.under("drop.drop_sub_policy"))?;
        }
        Policy::Not(sub) => {
            validate_policy(sub, PolicyLevel::Leaf).map_err(|e| e.under("not.not_sub_policy"))?;
        }
        Policy::Composite(c) => {
            if c.max_total_spans_per_second <= 0 {
                return Err(ConfigError::new(
                    "composite.max_total_spans_per_second",
                    "must be greater than zero",
                ));
            }
            if c.sub_policies.is_empty() {
                return Err(ConfigError::new(
                    "composite.composite_sub_policy",
                    "expected at least one sub-policy",
                ));
            }
            validate_policy_list(&c.sub_policies, PolicyLevel::CompositeSub)
                .map_err(|e| e.under("composite.composite_sub_policy"))?;
            let names: std::collections::HashSet<&str> =
                c.sub_policies.iter().map(|s| s.name.as_str()).collect();
            for (i, r) in c.rate_allocation.iter().enumerate() {
                if !names.contains(r.policy.as_str()) {
                    return Err(ConfigError::new(
                        format!("composite.rate_allocation[{i}].policy"),
                        format!(
                            "{:?} is not the name of a composite_sub_policy entry",
                            r.policy
                        ),
                    ));
                }
            }
            for (i, name) in c.policy_order.iter().enumerate() {
                if !names.contains(name.as_str()) {
                    return Err(ConfigError::new(
                        format!("composite.policy_order[{i}]"),
                        format!("{name:?} is not the name of a composite_sub_policy entry"),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_percentage(p: f64, field: &str) -> Result<(), ConfigError> {
    if !p.is_finite() || p < 0.0 {
        return Err(ConfigError::new(
            field,
            format!("expected a percentage between 0 and 100, found {p}"),
        ));
    }
    Ok(())
}

fn check_percentage_opt(p: Option<f64>, field: &str) -> Result<(), ConfigError> {
    p.map_or(Ok(()), |p| check_percentage(p, field))
}

/// Builds a [`TailSamplingConfig`] from the Collector's defaults.
#[derive(Debug, Clone)]
pub struct TailSamplingConfigBuilder {
    config: TailSamplingConfig,
}

impl TailSamplingConfigBuilder {
    /// Sets `decision_wait`.
    pub fn with_decision_wait(mut self, wait: Duration) -> Self {
        self.config.decision_wait = wait;
        self
    }

    /// Sets `decision_wait_after_root_received`.
    pub fn with_decision_wait_after_root_received(mut self, wait: Duration) -> Self {
        self.config.decision_wait_after_root_received = wait;
        self
    }

    /// Sets `num_traces`.
    pub fn with_num_traces(mut self, num_traces: u64) -> Self {
        self.config.num_traces = num_traces;
        self
    }

    /// Sets `expected_new_traces_per_sec`.
    pub fn with_expected_new_traces_per_sec(mut self, per_sec: u64) -> Self {
        self.config.expected_new_traces_per_sec = per_sec;
        self
    }

    /// Sets `decision_cache.sampled_cache_size` and `decision_cache.non_sampled_cache_size`.
    pub fn with_decision_cache(mut self, sampled: u64, non_sampled: u64) -> Self {
        self.config.decision_cache = DecisionCacheConfig {
            sampled: Some(sampled),
            non_sampled: Some(non_sampled),
        };
        self
    }

    /// Sets `maximum_trace_size_bytes`.
    pub fn with_maximum_trace_size_bytes(mut self, bytes: u64) -> Self {
        self.config.maximum_trace_size_bytes = bytes;
        self
    }

    /// Sets `sample_on_first_match`.
    pub fn with_sample_on_first_match(mut self, on: bool) -> Self {
        self.config.sample_on_first_match = on;
        self
    }

    /// Sets `drop_pending_traces_on_shutdown`.
    pub fn with_drop_pending_traces_on_shutdown(mut self, on: bool) -> Self {
        self.config.drop_pending_traces_on_shutdown = on;
        self
    }

    /// Appends a policy.
    pub fn with_policy(mut self, policy: PolicyConfig) -> Self {
        self.config.policies.push(policy);
        self
    }

    /// Checks and returns the config.
    ///
    /// # Errors
    ///
    /// As [`TailSamplingConfig::validate`].
    pub fn build(self) -> Result<TailSamplingConfig, ConfigError> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_collectors() {
        let c = TailSamplingConfig::default();
        assert_eq!(c.decision_wait, Duration::from_secs(30));
        assert_eq!(c.num_traces, 50_000);
        assert_eq!(c.decision_cache.sampled_cache_size(c.num_traces), 500_000);
        assert_eq!(
            DecisionCacheConfig {
                sampled: Some(0),
                non_sampled: None
            }
            .sampled_cache_size(10),
            0
        );
    }

    #[test]
    fn validation_names_the_field() {
        let cases: Vec<(TailSamplingConfig, &str)> = vec![
            (TailSamplingConfig::default(), "policies"),
            (
                TailSamplingConfig {
                    policies: vec![
                        PolicyConfig::always_sample("a"),
                        PolicyConfig::always_sample("a"),
                    ],
                    ..Default::default()
                },
                "policies[1].name",
            ),
            (
                TailSamplingConfig {
                    policies: vec![PolicyConfig::new(
                        "s",
                        Policy::StatusCode(StatusCodePolicy::default()),
                    )],
                    ..Default::default()
                },
                "policies[0].status_code.status_codes",
            ),
            (
                TailSamplingConfig {
                    policies: vec![PolicyConfig::new(
                        "and",
                        Policy::And(vec![PolicyConfig::new(
                            "inner",
                            Policy::Drop(vec![PolicyConfig::always_sample("x")]),
                        )]),
                    )],
                    ..Default::default()
                },
                "policies[0].and.and_sub_policy[0].type",
            ),
            (
                TailSamplingConfig {
                    policies: vec![PolicyConfig::new(
                        "re",
                        Policy::StringAttribute(StringAttributePolicy {
                            key: "k".into(),
                            values: vec!["ok".into(), "(".into()],
                            enabled_regex_matching: true,
                            ..Default::default()
                        }),
                    )],
                    ..Default::default()
                },
                "policies[0].string_attribute.values[1]",
            ),
            (
                TailSamplingConfig {
                    policies: vec![PolicyConfig::new(
                        "c",
                        Policy::Composite(CompositePolicy {
                            max_total_spans_per_second: 10,
                            sub_policies: vec![PolicyConfig::always_sample("all")],
                            rate_allocation: vec![RateAllocation {
                                policy: "nope".into(),
                                percent: 50,
                            }],
                            ..Default::default()
                        }),
                    )],
                    ..Default::default()
                },
                "policies[0].composite.rate_allocation[0].policy",
            ),
        ];
        let cases = cases.into_iter().chain([
            (
                TailSamplingConfig {
                    decision_wait: Duration::MAX,
                    ..TailSamplingConfig::article_example()
                },
                "decision_wait",
            ),
            (
                TailSamplingConfig {
                    decision_wait_after_root_received: Duration::MAX,
                    ..TailSamplingConfig::article_example()
                },
                "decision_wait_after_root_received",
            ),
        ]);
        for (config, field) in cases {
            let err = config.validate().expect_err(field);
            assert_eq!(err.field(), Some(field), "{err}");
        }
        TailSamplingConfig::article_example()
            .validate()
            .expect("the article's config is valid");
    }
}
