//! Loading the `tail_sampling` section from the Collector's YAML, keeping the line and the field
//! of every error.
//!
//! The section is accepted in three places: as the bare processor body, under a top-level
//! `tail_sampling` key, or under `processors: tail_sampling:` of a whole Collector config (whose
//! other sections are skipped). Deserialization streams through `serde_norway`, so each error
//! carries the position and path of the value that caused it; checks that need a whole policy
//! are made inside that policy's visitor and so point at the policy.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
    value::MapAccessDeserializer,
};

use super::config::{
    BooleanAttributePolicy, BytesLimitingPolicy, CompositePolicy, DecisionCacheConfig,
    LatencyPolicy, NumericAttributePolicy, Policy, PolicyConfig, PolicyLevel, ProbabilisticPolicy,
    RateAllocation, RateLimitingPolicy, SpanCountPolicy, SpanStatusCode, StatusCodePolicy,
    StringAttributePolicy, TailSamplingConfig, TraceStatePolicy, validate_policy,
};
use super::duration::parse_go_duration;
use super::error::ConfigError;

/// Separates a field (relative to the value being deserialized) from the message in errors raised
/// by our visitors, so that the field can be joined to serde_norway's path afterwards.
const REL: char = '\u{1f}';

fn rel_error<E: de::Error>(field: &str, message: impl fmt::Display) -> E {
    E::custom(format!("{REL}{field}{REL}{message}"))
}

fn config_to_de<E: de::Error>(err: ConfigError) -> E {
    rel_error(err.field().unwrap_or(""), err.message())
}

/// The Collector's policy types, and the one that cannot run in-process.
const POLICY_TYPES: &[&str] = &[
    "always_sample",
    "latency",
    "status_code",
    "probabilistic",
    "string_attribute",
    "numeric_attribute",
    "boolean_attribute",
    "rate_limiting",
    "bytes_limiting",
    "span_count",
    "trace_state",
    "trace_flags",
    "and",
    "not",
    "drop",
    "composite",
];

const OTTL_MESSAGE: &str = "ottl_condition policies cannot run in-process: OTTL is the Collector's own language. Express the condition with string_attribute, numeric_attribute, boolean_attribute, status_code or latency (combined with and / not / drop), or run this policy in a Collector tier";

// === entry points ===

/// Where the processor's section sits in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Placement {
    Bare,
    TopLevel(String),
    Processors(String),
}

pub(crate) fn from_str(yaml: &str, name: Option<&str>) -> Result<TailSamplingConfig, ConfigError> {
    // First pass: the shape of the document (syntax errors come out here, with their line).
    let doc: serde_norway::Value = serde_norway::from_str(yaml).map_err(convert)?;
    let placement = placement(&doc, name)?;
    // Second pass: stream the section itself, so errors keep their position.
    let de = serde_norway::Deserializer::from_str(yaml);
    let body = DocSeed {
        placement: &placement,
    }
    .deserialize(de)
    .map_err(convert)?;
    Ok(body)
}

pub(crate) fn from_file(
    path: &Path,
    name: Option<&str>,
) -> Result<TailSamplingConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new("", format!("cannot read the config file: {e}")).in_file(path)
    })?;
    from_str(&text, name).map_err(|e| e.in_file(path))
}

fn is_tail_sampling_key(key: &str) -> bool {
    key == "tail_sampling" || key.starts_with("tail_sampling/")
}

fn placement(doc: &serde_norway::Value, name: Option<&str>) -> Result<Placement, ConfigError> {
    let map = match doc {
        serde_norway::Value::Mapping(m) => m,
        serde_norway::Value::Null => {
            return Err(ConfigError::new(
                "",
                "the document is empty: expected the tail_sampling processor's keys (decision_wait, num_traces, policies, ...)",
            ));
        }
        _ => {
            return Err(ConfigError::new(
                "",
                "expected a mapping: the tail_sampling processor's keys, or a Collector config with processors.tail_sampling",
            ));
        }
    };
    let keys: Vec<&str> = map.keys().filter_map(|k| k.as_str()).collect();
    let pick = |candidates: Vec<&str>, where_: &str| -> Result<String, ConfigError> {
        if let Some(name) = name {
            return candidates
                .iter()
                .find(|k| **k == name)
                .map(|k| (*k).to_owned())
                .ok_or_else(|| {
                    ConfigError::new(
                        where_,
                        format!("no processor named {name:?}; found {candidates:?}"),
                    )
                });
        }
        match candidates.as_slice() {
            [one] => Ok((*one).to_owned()),
            [] => Err(ConfigError::new(
                where_,
                "no tail_sampling processor in this Collector config",
            )),
            many => Err(ConfigError::new(
                where_,
                format!(
                    "several tail_sampling processors ({many:?}): name the one to load (from_yaml_str_named)"
                ),
            )),
        }
    };
    if keys.contains(&"processors") {
        let processors = map.get("processors");
        let inner: Vec<&str> = match processors {
            Some(serde_norway::Value::Mapping(m)) => m
                .keys()
                .filter_map(|k| k.as_str())
                .filter(|k| is_tail_sampling_key(k))
                .collect(),
            _ => Vec::new(),
        };
        return Ok(Placement::Processors(pick(inner, "processors")?));
    }
    let top: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| is_tail_sampling_key(k))
        .collect();
    if !top.is_empty() {
        return Ok(Placement::TopLevel(pick(top, "")?));
    }
    Ok(Placement::Bare)
}

/// Turns a serde_norway error into a [`ConfigError`] with line, column and field.
fn convert(err: serde_norway::Error) -> ConfigError {
    let location = err.location();
    let mut text = err.to_string();
    if let Some(at) = text.rfind(" at line ") {
        text.truncate(at);
    }
    // serde_norway prefixes `path: ` when the error has a path other than the root.
    let (path, message) = match text.split_once(": ") {
        Some((p, m)) if is_path(p) => (p.to_owned(), m.to_owned()),
        _ => (String::new(), text),
    };
    let (field, message) = match message.strip_prefix(REL) {
        Some(rest) => match rest.split_once(REL) {
            Some((rel, msg)) => (join_path(&path, rel), msg.to_owned()),
            None => (path, rest.to_owned()),
        },
        None => (path, message),
    };
    // An unknown key: the field is the key itself.
    let field = match message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
    {
        Some((key, _)) => join_path(&field, key),
        None => field,
    };
    let mut out = ConfigError::new(field, message);
    if let Some(loc) = location {
        out = out.at(loc.line(), loc.column());
    }
    out
}

fn is_path(p: &str) -> bool {
    !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.[]/-?".contains(c))
}

fn join_path(path: &str, rel: &str) -> String {
    match (path.is_empty(), rel.is_empty()) {
        (_, true) => path.to_owned(),
        (true, false) => rel.to_owned(),
        (false, false) if rel.starts_with('[') => format!("{path}{rel}"),
        (false, false) => format!("{path}.{rel}"),
    }
}

// === the document ===

struct DocSeed<'a> {
    placement: &'a Placement,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = TailSamplingConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.placement {
            Placement::Bare => d.deserialize_map(BodyVisitor),
            Placement::TopLevel(key) => d.deserialize_map(PickVisitor { key, then: None }),
            Placement::Processors(key) => d.deserialize_map(PickVisitor {
                key: "processors",
                then: Some(key),
            }),
        }
    }
}

/// Skips every entry of a mapping but `key`, whose value is the body (or, with `then`, another
/// mapping to pick from).
struct PickVisitor<'a> {
    key: &'a str,
    then: Option<&'a str>,
}

impl<'de> Visitor<'de> for PickVisitor<'_> {
    type Value = TailSamplingConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a mapping with a `{}` key", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.key && found.is_none() {
                found = Some(match self.then {
                    None => map.next_value_seed(BodySeed)?,
                    Some(inner) => map.next_value_seed(PickSeed { key: inner })?,
                });
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        found.ok_or_else(|| de::Error::missing_field("tail_sampling"))
    }
}

struct PickSeed<'a> {
    key: &'a str,
}

impl<'de> DeserializeSeed<'de> for PickSeed<'_> {
    type Value = TailSamplingConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(PickVisitor {
            key: self.key,
            then: None,
        })
    }
}

struct BodySeed;

impl<'de> DeserializeSeed<'de> for BodySeed {
    type Value = TailSamplingConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(BodyVisitor)
    }
}

// === the processor's body ===

/// The processor's keys, as the Collector's `Config` struct (and `config.go`) spells them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBody {
    #[serde(default, deserialize_with = "positive_duration")]
    decision_wait: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    decision_wait_after_root_received: Option<Duration>,
    #[serde(default, deserialize_with = "positive_u64")]
    num_traces: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    expected_new_traces_per_sec: Option<u64>,
    #[serde(default)]
    decision_cache: Option<RawDecisionCache>,
    #[serde(default, deserialize_with = "lenient_u64")]
    maximum_trace_size_bytes: Option<u64>,
    #[serde(default)]
    sample_on_first_match: Option<bool>,
    #[serde(default)]
    drop_pending_traces_on_shutdown: Option<bool>,
    #[serde(default, deserialize_with = "block_on_overflow")]
    block_on_overflow: Option<bool>,
    #[serde(default, deserialize_with = "sampling_strategy")]
    sampling_strategy: Option<()>,
    #[serde(default, deserialize_with = "num_shards")]
    num_shards: Option<u64>,
    #[serde(default)]
    tail_storage: Option<Unsupported<TailStorage>>,
    #[serde(default)]
    policies: Option<TopPolicies>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecisionCache {
    #[serde(default, deserialize_with = "lenient_u64")]
    sampled_cache_size: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    non_sampled_cache_size: Option<u64>,
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = TailSamplingConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the tail_sampling processor's keys (decision_wait, num_traces, policies, ...)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let raw = RawBody::deserialize(MapAccessDeserializer::new(map))?;
        let _ = (raw.block_on_overflow, raw.sampling_strategy, raw.num_shards);
        let _ = raw.tail_storage;
        let policies = raw
            .policies
            .map(|p| p.0)
            .ok_or_else(|| rel_error("policies", "at least one policy is required"))?;
        let defaults = TailSamplingConfig::default();
        let config = TailSamplingConfig {
            decision_wait: raw.decision_wait.unwrap_or(defaults.decision_wait),
            decision_wait_after_root_received: raw
                .decision_wait_after_root_received
                .unwrap_or_default(),
            num_traces: raw.num_traces.unwrap_or(defaults.num_traces),
            expected_new_traces_per_sec: raw.expected_new_traces_per_sec.unwrap_or(0),
            decision_cache: raw
                .decision_cache
                .map_or_else(DecisionCacheConfig::default, |c| DecisionCacheConfig {
                    sampled: c.sampled_cache_size,
                    non_sampled: c.non_sampled_cache_size,
                }),
            maximum_trace_size_bytes: raw.maximum_trace_size_bytes.unwrap_or(0),
            sample_on_first_match: raw.sample_on_first_match.unwrap_or(false),
            drop_pending_traces_on_shutdown: raw.drop_pending_traces_on_shutdown.unwrap_or(false),
            policies,
        };
        config.validate().map_err(config_to_de)?;
        Ok(config)
    }
}

// === policies ===

struct TopPolicies(Vec<PolicyConfig>);
struct LeafPolicies(Vec<PolicyConfig>);
struct CompositeSubPolicies(Vec<PolicyConfig>);
struct LeafPolicy(PolicyConfig);

impl<'de> Deserialize<'de> for TopPolicies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(PolicyListVisitor(PolicyLevel::Top))
            .map(Self)
    }
}

impl<'de> Deserialize<'de> for LeafPolicies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(PolicyListVisitor(PolicyLevel::Leaf))
            .map(Self)
    }
}

impl<'de> Deserialize<'de> for CompositeSubPolicies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(PolicyListVisitor(PolicyLevel::CompositeSub))
            .map(Self)
    }
}

impl<'de> Deserialize<'de> for LeafPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut seen = HashSet::new();
        PolicySeed {
            level: PolicyLevel::Leaf,
            seen: &mut seen,
        }
        .deserialize(d)
        .map(Self)
    }
}

struct PolicyListVisitor(PolicyLevel);

impl<'de> Visitor<'de> for PolicyListVisitor {
    type Value = Vec<PolicyConfig>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of policies, each with a name and a type")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        while let Some(p) = seq.next_element_seed(PolicySeed {
            level: self.0,
            seen: &mut seen,
        })? {
            out.push(p);
        }
        if out.is_empty() {
            return Err(de::Error::custom("expected at least one policy"));
        }
        Ok(out)
    }
}

struct PolicySeed<'a> {
    level: PolicyLevel,
    seen: &'a mut HashSet<String>,
}

impl<'de> DeserializeSeed<'de> for PolicySeed<'_> {
    type Value = PolicyConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(PolicyVisitor {
            level: self.level,
            seen: self.seen,
        })
    }
}

/// A policy's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PolicyType(&'static str);

impl<'de> Deserialize<'de> for PolicyType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PolicyType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a policy type")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PolicyType, E> {
                if s == "ottl_condition" {
                    return Err(E::custom(OTTL_MESSAGE));
                }
                POLICY_TYPES
                    .iter()
                    .find(|t| **t == s)
                    .map(|t| PolicyType(t))
                    .ok_or_else(|| {
                        E::custom(format!(
                            "unknown policy type {s:?}, expected one of: {}",
                            POLICY_TYPES.join(", ")
                        ))
                    })
            }
        }
        d.deserialize_str(V)
    }
}

/// A policy's settings block, once its type is known.
enum Block {
    Latency(RawLatency),
    StatusCode(RawStatusCode),
    Probabilistic(RawProbabilistic),
    StringAttribute(RawStringAttribute),
    NumericAttribute(RawNumericAttribute),
    BooleanAttribute(RawBooleanAttribute),
    RateLimiting(RawRateLimiting),
    BytesLimiting(RawBytesLimiting),
    SpanCount(RawSpanCount),
    TraceState(RawTraceState),
    And(RawAnd),
    Not(RawNot),
    Drop(RawDrop),
    Composite(RawComposite),
    Empty,
}

struct BlockSeed(&'static str);

impl<'de> DeserializeSeed<'de> for BlockSeed {
    type Value = Block;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Ok(match self.0 {
            "latency" => Block::Latency(Deserialize::deserialize(d)?),
            "status_code" => Block::StatusCode(Deserialize::deserialize(d)?),
            "probabilistic" => Block::Probabilistic(Deserialize::deserialize(d)?),
            "string_attribute" => Block::StringAttribute(Deserialize::deserialize(d)?),
            "numeric_attribute" => Block::NumericAttribute(Deserialize::deserialize(d)?),
            "boolean_attribute" => Block::BooleanAttribute(Deserialize::deserialize(d)?),
            "rate_limiting" => Block::RateLimiting(Deserialize::deserialize(d)?),
            "bytes_limiting" => Block::BytesLimiting(Deserialize::deserialize(d)?),
            "span_count" => Block::SpanCount(Deserialize::deserialize(d)?),
            "trace_state" => Block::TraceState(Deserialize::deserialize(d)?),
            "and" => Block::And(Deserialize::deserialize(d)?),
            "not" => Block::Not(Deserialize::deserialize(d)?),
            "drop" => Block::Drop(Deserialize::deserialize(d)?),
            "composite" => Block::Composite(Deserialize::deserialize(d)?),
            // always_sample and trace_flags take no settings; an empty block is fine.
            _ => {
                let _ = Option::<EmptyBlock>::deserialize(d)?;
                Block::Empty
            }
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBlock {}

/// Keys of a policy entry besides `name` and `type`: one block per policy type, plus the
/// article's `config`.
const BLOCK_KEYS: &[&str] = &[
    "latency",
    "status_code",
    "probabilistic",
    "string_attribute",
    "numeric_attribute",
    "boolean_attribute",
    "rate_limiting",
    "bytes_limiting",
    "span_count",
    "trace_state",
    "and",
    "not",
    "drop",
    "composite",
];

/// Every key a policy entry may have.
const POLICY_KEYS: &[&str] = &[
    "name",
    "type",
    "config",
    "latency",
    "status_code",
    "probabilistic",
    "string_attribute",
    "numeric_attribute",
    "boolean_attribute",
    "rate_limiting",
    "bytes_limiting",
    "span_count",
    "trace_state",
    "and",
    "not",
    "drop",
    "composite",
    "ottl_condition",
];

/// A key of a policy entry, rejected where it is written when it is not one of [`POLICY_KEYS`].
struct PolicyKey(String);

impl<'de> Deserialize<'de> for PolicyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PolicyKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a policy key (name, type, or the type's settings)")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<PolicyKey, E> {
                if POLICY_KEYS.contains(&key) {
                    Ok(PolicyKey(key.to_owned()))
                } else {
                    Err(E::unknown_field(key, POLICY_KEYS))
                }
            }
        }
        d.deserialize_identifier(V)
    }
}

struct PolicyVisitor<'a> {
    level: PolicyLevel,
    seen: &'a mut HashSet<String>,
}

impl<'de> Visitor<'de> for PolicyVisitor<'_> {
    type Value = PolicyConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a policy: a mapping with `name`, `type` and the type's settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut name: Option<String> = None;
        let mut ty: Option<PolicyType> = None;
        // The block for the policy's own type, from its `<type>:` key or the article's `config:`.
        let mut block: Option<(String, Block)> = None;
        // Blocks seen before `type`, kept to be read once the type is known.
        let mut pending: Vec<(String, serde_norway::Value)> = Vec::new();
        while let Some(PolicyKey(key)) = map.next_key::<PolicyKey>()? {
            match key.as_str() {
                "name" => name = Some(map.next_value::<LenientString>()?.0),
                "type" => ty = Some(map.next_value::<PolicyType>()?),
                "ottl_condition" => {
                    map.next_value::<Unsupported<Ottl>>()?;
                }
                k if k == "config" || BLOCK_KEYS.contains(&k) => match ty {
                    Some(PolicyType(t)) if k == "config" || k == t => {
                        if let Some((prev, _)) = &block {
                            return Err(rel_error(
                                k,
                                format!("the settings are given twice, under `{prev}` and `{k}`"),
                            ));
                        }
                        block = Some((key.clone(), map.next_value_seed(BlockSeed(t))?));
                    }
                    Some(PolicyType(t)) => {
                        tracing::warn!(
                            policy = name.as_deref().unwrap_or(""),
                            "tail_sampling: ignoring the `{k}` block of a `{t}` policy, as the Collector does"
                        );
                        map.next_value::<IgnoredAny>()?;
                    }
                    None => pending.push((key.clone(), map.next_value()?)),
                },
                other => return Err(de::Error::unknown_field(other, POLICY_KEYS)),
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
        let PolicyType(t) = ty.ok_or_else(|| de::Error::missing_field("type"))?;
        for (k, value) in pending {
            if k == "config" || k == t {
                if let Some((prev, _)) = &block {
                    return Err(rel_error(
                        &k,
                        format!("the settings are given twice, under `{prev}` and `{k}`"),
                    ));
                }
                let b = BlockSeed(t)
                    .deserialize(value)
                    .map_err(|e| rel_error::<A::Error>(&k, strip_location(&e)))?;
                block = Some((k, b));
            } else {
                tracing::warn!(
                    policy = name.as_str(),
                    "tail_sampling: ignoring the `{k}` block of a `{t}` policy, as the Collector does"
                );
            }
        }
        let block_key = block.as_ref().map_or(t.to_owned(), |(k, _)| k.clone());
        let policy = build_policy(t, block.map(|(_, b)| b))
            .map_err(|(field, msg)| rel_error::<A::Error>(&join_path(&block_key, field), msg))?;
        let config = PolicyConfig { name, policy };
        validate_policy(&config, self.level).map_err(config_to_de)?;
        if !self.seen.insert(config.name.clone()) {
            return Err(rel_error(
                "name",
                format!("duplicate policy name {:?}", config.name),
            ));
        }
        Ok(config)
    }
}

fn strip_location(e: &serde_norway::Error) -> String {
    let mut s = e.to_string();
    if let Some(at) = s.rfind(" at line ") {
        s.truncate(at);
    }
    s
}

/// Builds the policy from its block; an error is `(field within the block, message)`.
fn build_policy(t: &str, block: Option<Block>) -> Result<Policy, (&'static str, String)> {
    let block = block.unwrap_or(Block::Empty);
    Ok(match (t, block) {
        ("always_sample", _) => Policy::AlwaysSample,
        ("trace_flags", _) => Policy::TraceFlags,
        ("latency", b) => {
            let r = match b {
                Block::Latency(r) => r,
                _ => RawLatency::default(),
            };
            Policy::Latency(LatencyPolicy {
                threshold_ms: r.threshold_ms,
                upper_threshold_ms: r.upper_threshold_ms,
                sampling_percentage: r.sampling_percentage,
            })
        }
        ("status_code", b) => {
            let r = match b {
                Block::StatusCode(r) => r,
                _ => RawStatusCode::default(),
            };
            let codes = match (r.status_codes, r.status_code) {
                (Some(_), Some(_)) => {
                    return Err((
                        "status_code",
                        "give `status_codes` (the Collector's key) or `status_code` (the article's spelling), not both".to_owned(),
                    ));
                }
                (Some(c), None) | (None, Some(c)) => c.0,
                (None, None) => Vec::new(),
            };
            Policy::StatusCode(StatusCodePolicy {
                status_codes: codes,
                sampling_percentage: r.sampling_percentage,
            })
        }
        ("probabilistic", b) => {
            let r = match b {
                Block::Probabilistic(r) => r,
                _ => RawProbabilistic::default(),
            };
            Policy::Probabilistic(ProbabilisticPolicy {
                hash_salt: r.hash_salt,
                sampling_percentage: r.sampling_percentage,
            })
        }
        ("string_attribute", b) => {
            let r = match b {
                Block::StringAttribute(r) => r,
                _ => RawStringAttribute::default(),
            };
            Policy::StringAttribute(StringAttributePolicy {
                key: r.key,
                values: r.values.into_iter().map(|v| v.0).collect(),
                enabled_regex_matching: r.enabled_regex_matching,
                cache_max_size: r.cache_max_size,
                invert_match: r.invert_match,
            })
        }
        ("numeric_attribute", b) => {
            let r = match b {
                Block::NumericAttribute(r) => r,
                _ => RawNumericAttribute::default(),
            };
            // As in the Collector, zero means "no bound".
            Policy::NumericAttribute(NumericAttributePolicy {
                key: r.key,
                min_value: (r.min_value != 0).then_some(r.min_value),
                max_value: (r.max_value != 0).then_some(r.max_value),
                invert_match: r.invert_match,
            })
        }
        ("boolean_attribute", b) => {
            let r = match b {
                Block::BooleanAttribute(r) => r,
                _ => RawBooleanAttribute::default(),
            };
            Policy::BooleanAttribute(BooleanAttributePolicy {
                key: r.key,
                value: r.value,
                invert_match: r.invert_match,
            })
        }
        ("rate_limiting", b) => {
            let r = match b {
                Block::RateLimiting(r) => r,
                _ => RawRateLimiting::default(),
            };
            Policy::RateLimiting(RateLimitingPolicy {
                spans_per_second: r.spans_per_second,
                burst_capacity: r.burst_capacity,
            })
        }
        ("bytes_limiting", b) => {
            let r = match b {
                Block::BytesLimiting(r) => r,
                _ => RawBytesLimiting::default(),
            };
            Policy::BytesLimiting(BytesLimitingPolicy {
                bytes_per_second: r.bytes_per_second,
                burst_capacity: r.burst_capacity,
            })
        }
        ("span_count", b) => {
            let r = match b {
                Block::SpanCount(r) => r,
                _ => RawSpanCount::default(),
            };
            Policy::SpanCount(SpanCountPolicy {
                min_spans: r.min_spans,
                max_spans: r.max_spans,
            })
        }
        ("trace_state", b) => {
            let r = match b {
                Block::TraceState(r) => r,
                _ => RawTraceState::default(),
            };
            Policy::TraceState(TraceStatePolicy {
                key: r.key,
                values: r.values.into_iter().map(|v| v.0).collect(),
            })
        }
        ("and", b) => match b {
            Block::And(r) => Policy::And(r.and_sub_policy.0),
            _ => return Err(("and_sub_policy", "expected at least one sub-policy".into())),
        },
        ("drop", b) => match b {
            Block::Drop(r) => Policy::Drop(r.drop_sub_policy.0),
            _ => return Err(("drop_sub_policy", "expected at least one sub-policy".into())),
        },
        ("not", b) => match b {
            Block::Not(r) => Policy::Not(Box::new(r.not_sub_policy.0)),
            _ => return Err(("not_sub_policy", "expected one sub-policy".into())),
        },
        ("composite", b) => match b {
            Block::Composite(r) => Policy::Composite(CompositePolicy {
                max_total_spans_per_second: r.max_total_spans_per_second,
                policy_order: r.policy_order.into_iter().map(|v| v.0).collect(),
                sub_policies: r.composite_sub_policy.0,
                rate_allocation: r
                    .rate_allocation
                    .into_iter()
                    .map(|a| RateAllocation {
                        policy: a.policy.0,
                        percent: a.percent,
                    })
                    .collect(),
            }),
            _ => {
                return Err((
                    "composite_sub_policy",
                    "expected at least one sub-policy".into(),
                ));
            }
        },
        (other, _) => return Err(("", format!("unknown policy type {other:?}"))),
    })
}

// === blocks ===

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    #[serde(default, deserialize_with = "lenient_i64")]
    threshold_ms: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    upper_threshold_ms: i64,
    /// tracewire extension, from the article's config.
    #[serde(default, deserialize_with = "percentage_opt")]
    sampling_percentage: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStatusCode {
    #[serde(default)]
    status_codes: Option<StatusCodes>,
    /// The article's spelling: `status_code: ERROR`.
    #[serde(default)]
    status_code: Option<StatusCodes>,
    /// tracewire extension, from the article's config.
    #[serde(default, deserialize_with = "percentage_opt")]
    sampling_percentage: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProbabilistic {
    #[serde(default, deserialize_with = "lenient_string")]
    hash_salt: String,
    #[serde(default, deserialize_with = "percentage")]
    sampling_percentage: f64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStringAttribute {
    #[serde(default, deserialize_with = "lenient_string")]
    key: String,
    #[serde(default)]
    values: Vec<LenientString>,
    #[serde(default)]
    enabled_regex_matching: bool,
    #[serde(default, deserialize_with = "lenient_u64_plain")]
    cache_max_size: u64,
    #[serde(default)]
    invert_match: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNumericAttribute {
    #[serde(default, deserialize_with = "lenient_string")]
    key: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    min_value: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    max_value: i64,
    #[serde(default)]
    invert_match: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBooleanAttribute {
    #[serde(default, deserialize_with = "lenient_string")]
    key: String,
    #[serde(default)]
    value: bool,
    #[serde(default)]
    invert_match: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRateLimiting {
    #[serde(default, deserialize_with = "lenient_i64")]
    spans_per_second: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    burst_capacity: i64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBytesLimiting {
    #[serde(default, deserialize_with = "lenient_i64")]
    bytes_per_second: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    burst_capacity: i64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpanCount {
    #[serde(default, deserialize_with = "lenient_i32")]
    min_spans: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    max_spans: i32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTraceState {
    #[serde(default, deserialize_with = "lenient_string")]
    key: String,
    #[serde(default)]
    values: Vec<LenientString>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnd {
    and_sub_policy: LeafPolicies,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrop {
    drop_sub_policy: LeafPolicies,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNot {
    not_sub_policy: LeafPolicy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComposite {
    #[serde(default, deserialize_with = "lenient_i64")]
    max_total_spans_per_second: i64,
    #[serde(default)]
    policy_order: Vec<LenientString>,
    composite_sub_policy: CompositeSubPolicies,
    #[serde(default)]
    rate_allocation: Vec<RawRateAllocation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateAllocation {
    policy: LenientString,
    #[serde(default, deserialize_with = "lenient_i64")]
    percent: i64,
}

/// One status code or a list of them, each checked where it is written.
struct StatusCodes(Vec<SpanStatusCode>);

struct StatusCode(SpanStatusCode);

fn status_code<E: de::Error>(s: &str) -> Result<SpanStatusCode, E> {
    SpanStatusCode::from_collector_name(s).ok_or_else(|| {
        E::custom(format!(
            "unknown status code {s:?}, supported: OK, ERROR, UNSET"
        ))
    })
}

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatusCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code: OK, ERROR or UNSET")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StatusCode, E> {
                status_code(s).map(StatusCode)
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for StatusCodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusCodes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code (OK, ERROR, UNSET) or a list of them")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                status_code(s).map(|c| StatusCodes(vec![c]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(StatusCode(c)) = seq.next_element()? {
                    out.push(c);
                }
                Ok(StatusCodes(out))
            }
        }
        d.deserialize_any(V)
    }
}

// === keys the Collector has that cannot work in-process ===

trait UnsupportedMessage {
    const MESSAGE: &'static str;
}

struct Ottl;
impl UnsupportedMessage for Ottl {
    const MESSAGE: &'static str = OTTL_MESSAGE;
}

struct TailStorage;
impl UnsupportedMessage for TailStorage {
    const MESSAGE: &'static str = "tail_storage names a Collector extension (a disk-backed buffer); in-process, spans are buffered in memory within num_traces and the processor's byte budget: remove the key";
}

/// A value whose presence is an error, raised at the value's position.
struct Unsupported<M>(std::marker::PhantomData<M>);

impl<'de, M: UnsupportedMessage> Deserialize<'de> for Unsupported<M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<M>(std::marker::PhantomData<M>);
        impl<'de, M: UnsupportedMessage> Visitor<'de> for V<M> {
            type Value = Unsupported<M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(M::MESSAGE)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Err(E::custom(M::MESSAGE))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Err(E::custom(M::MESSAGE))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Err(E::custom(M::MESSAGE))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Err(E::custom(M::MESSAGE))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Err(E::custom(M::MESSAGE))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Err(E::custom(M::MESSAGE))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(de::Error::custom(M::MESSAGE))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(de::Error::custom(M::MESSAGE))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

fn block_on_overflow<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, on: bool) -> Result<bool, E> {
            if on {
                return Err(E::custom(
                    "block_on_overflow: true cannot work in-process: it would block the threads that end spans. When num_traces is reached, the oldest trace is decided early instead (counted in otelcol_processor_tail_sampling_sampling_trace_dropped_too_early)",
                ));
            }
            Ok(false)
        }
    }
    d.deserialize_bool(V).map(Some)
}

fn sampling_strategy<'de, D: Deserializer<'de>>(d: D) -> Result<Option<()>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("trace-complete")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
            match s {
                "trace-complete" => Ok(()),
                "span-ingest" => Err(E::custom(
                    "sampling_strategy: span-ingest is not supported in-process; use trace-complete (the default)",
                )),
                other => Err(E::custom(format!(
                    "unknown sampling_strategy {other:?}, expected trace-complete"
                ))),
            }
        }
    }
    d.deserialize_str(V).map(Some)
}

fn num_shards<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    int(
        d,
        IntVisitor {
            min: 0,
            max: 1,
            what: "an integer",
            message: Some(
                "num_shards must be 1 in-process: one decision thread serves the processor",
            ),
        },
    )
    .map(Some)
}

// === lenient scalars ===
//
// Each check happens inside the visitor, so that serde_norway gives the error the position and
// path of the value.

/// A string, also accepting a number or a boolean written without quotes (`values: [200]`).
struct LenientString(String);

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(s.to_owned())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
}

impl<'de> Deserialize<'de> for LenientString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringVisitor).map(LenientString)
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(StringVisitor)
}

/// An integer within bounds, also accepting Go-style digit separators (`100_000`, as in the
/// Collector's README).
struct IntVisitor {
    min: i128,
    max: i128,
    what: &'static str,
    message: Option<&'static str>,
}

impl IntVisitor {
    fn range(min: i128, max: i128, what: &'static str) -> Self {
        Self {
            min,
            max,
            what,
            message: None,
        }
    }

    fn check<E: de::Error>(&self, v: i128) -> Result<i128, E> {
        if v < self.min || v > self.max {
            return Err(E::custom(match self.message {
                Some(m) => m.to_owned(),
                None => format!("{v} is out of range for {}", self.what),
            }));
        }
        Ok(v)
    }
}

impl Visitor<'_> for IntVisitor {
    type Value = i128;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.check(i128::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.check(i128::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format!("expected {}, found {v}", self.what)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let digits: String = s.chars().filter(|c| *c != '_').collect();
        let ok =
            !digits.is_empty() && !s.starts_with('_') && !s.ends_with('_') && !s.contains("__");
        match digits.parse::<i128>() {
            Ok(v) if ok => self.check(v),
            _ => Err(E::custom(format!("expected {}, found {s:?}", self.what))),
        }
    }
}

fn int<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D, v: IntVisitor) -> Result<T, D::Error> {
    let n = d.deserialize_any(v)?;
    // In range by the visitor's check.
    T::try_from(n).map_err(|_| de::Error::custom("integer out of range"))
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    int(
        d,
        IntVisitor::range(i128::from(i64::MIN), i128::from(i64::MAX), "an integer"),
    )
}

fn lenient_i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    int(
        d,
        IntVisitor::range(
            i128::from(i32::MIN),
            i128::from(i32::MAX),
            "a 32-bit integer",
        ),
    )
}

fn lenient_u64_plain<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    int(
        d,
        IntVisitor::range(0, i128::from(u64::MAX), "a non-negative integer"),
    )
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient_u64_plain(d).map(Some)
}

fn positive_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    int(
        d,
        IntVisitor {
            min: 1,
            max: i128::from(u64::MAX),
            what: "a positive integer",
            message: Some("must be greater than zero (the Collector's default is 50000)"),
        },
    )
    .map(Some)
}

struct PercentVisitor;

impl PercentVisitor {
    fn check<E: de::Error>(v: f64) -> Result<f64, E> {
        if !v.is_finite() || v < 0.0 {
            return Err(E::custom(format!(
                "expected a percentage between 0 and 100, found {v}"
            )));
        }
        Ok(v)
    }
}

impl Visitor<'_> for PercentVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a percentage (a number such as 5 or 0.1)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Self::check(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Self::check(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Self::check(v)
    }
}

fn percentage<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(PercentVisitor)
}

fn percentage_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    percentage(d).map(Some)
}

struct DurationVisitor {
    positive: bool,
}

impl DurationVisitor {
    fn check<E: de::Error>(&self, v: Duration) -> Result<Duration, E> {
        if self.positive && v.is_zero() {
            return Err(E::custom(
                "must be greater than zero (for instance \"30s\")",
            ));
        }
        Ok(v)
    }
}

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration in Go syntax such as \"30s\", \"500ms\" or \"1m30s\"")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
        let v = parse_go_duration(s).map_err(E::custom)?;
        self.check(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        self.visit_u64(u64::try_from(v).unwrap_or(u64::MAX))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        if v == 0 {
            return self.check(Duration::ZERO);
        }
        Err(E::custom(format!(
            "expected a duration in Go syntax such as \"30s\", \"500ms\" or \"1m30s\", found the bare number {v} (add a unit)"
        )))
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    d.deserialize_any(DurationVisitor { positive: false })
        .map(Some)
}

fn positive_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    d.deserialize_any(DurationVisitor { positive: true })
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(yaml: &str) -> ConfigError {
        from_str(yaml, None).expect_err("should fail")
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = err("decision_wait: 10\npolicies: [{name: a, type: always_sample}]\n");
        assert_eq!(
            (e.line(), e.field()),
            (Some(1), Some("decision_wait")),
            "{e}"
        );

        let e =
            err("policies:\n  - name: a\n    type: latency\n    latency: {threshold_ms: fast}\n");
        assert_eq!(e.line(), Some(4), "{e}");
        assert_eq!(e.field(), Some("policies[0].latency.threshold_ms"), "{e}");

        let e = err("policies:\n  - name: a\n    type: always_sample\n    colour: blue\n");
        assert_eq!(e.line(), Some(4), "{e}");
        assert!(e.message().contains("unknown field `colour`"), "{e}");

        let e = err(
            "policies:\n  - {name: a, type: always_sample}\n  - {name: a, type: always_sample}\n",
        );
        assert_eq!(e.line(), Some(3), "{e}");
        assert_eq!(e.field(), Some("policies[1].name"), "{e}");
    }

    #[test]
    fn ottl_is_a_clear_error() {
        let e = err(
            "policies:\n  - name: o\n    type: ottl_condition\n    ottl_condition: {span: ['x']}\n",
        );
        assert!(e.message().contains("cannot run in-process"), "{e}");
        assert_eq!(e.line(), Some(3), "{e}");
    }
}
