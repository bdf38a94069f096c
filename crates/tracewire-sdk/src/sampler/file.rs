//! Loading a [`RuleSampler`] from YAML, with errors that name the file, line and field.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use opentelemetry::trace::SpanKind;
use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::{Decision, Match, ParentBased, ParentPolicy, Rule, RuleSampler};

/// A head-sampling configuration that could not be loaded.
///
/// Its `Display` reads `file:line:column: field: what was expected`.
#[derive(Debug, thiserror::Error)]
#[error("{}{}{message}", file_prefix(.file.as_deref()), position(*.line, *.column))]
pub struct ConfigError {
    /// The file, when the configuration came from one.
    pub file: Option<PathBuf>,
    /// The 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// The 1-based column of the problem, when known.
    pub column: Option<usize>,
    /// The field path (`rules[1].sample`) and what was expected.
    pub message: String,
}

fn file_prefix(file: Option<&Path>) -> String {
    file.map(|f| format!("{}:", f.display()))
        .unwrap_or_default()
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{l}:{c}: "),
        (Some(l), None) => format!("{l}: "),
        _ => String::new(),
    }
}

impl ConfigError {
    fn from_yaml(err: &serde_norway::Error, file: Option<&Path>) -> Self {
        let mut message = err.to_string();
        // serde_norway appends " at line L column C"; the position is kept separately.
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        let location = err.location();
        ConfigError {
            file: file.map(Path::to_path_buf),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message,
        }
    }
}

/// The largest rules file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

impl RuleSampler {
    /// Parses a rule sampler from YAML.
    ///
    /// ```yaml
    /// # Rules are tried in order; the first that matches decides.
    /// rules:
    ///   - name: payments                 # optional label
    ///     span_name: { prefix: "payment." }   # or a plain string (exact), or { exact: .. },
    ///     sample: always                 #   or { regex: "^payment\\." }
    ///   - span_name: health-check
    ///     sample: never
    ///   - kind: server                   # internal, server, client, producer, consumer
    ///     attributes:                    # every listed attribute must match
    ///       http.route: { exact: /healthz }   # or { prefix: .. }, { regex: .. }, { present: true }
    ///     sample: never
    ///   - kind: consumer
    ///     attributes:
    ///       messaging.destination.name: orders
    ///     sample: 0.5                    # always | never | record_only | a ratio in [0, 1]
    /// default: 0.1                       # when no rule matches (default: always)
    /// record_unsampled: false            # record (not drop) what a ratio does not pick
    /// parent_based: true                 # or false, or per case:
    /// # parent_based:
    /// #   remote_parent_sampled: inherit   # inherit | always | never | record_only | rules
    /// #   remote_parent_not_sampled: inherit
    /// #   local_parent_sampled: inherit
    /// #   local_parent_not_sampled: inherit
    /// ```
    ///
    /// Unknown keys are errors, not silently ignored.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] with the line, column and field path when the YAML is malformed, a key
    /// is unknown, a ratio is outside `[0, 1]`, a regular expression does not compile, or a match
    /// does not give exactly one of `exact`, `prefix`, `regex`, `present`.
    pub fn from_yaml(yaml: &str) -> Result<RuleSampler, ConfigError> {
        parse(yaml, None)
    }

    /// Reads and parses a YAML file (see [`from_yaml`](Self::from_yaml)).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the file when it cannot be read, is larger than 1 MiB, or does
    /// not parse.
    pub fn from_file(path: impl AsRef<Path>) -> Result<RuleSampler, ConfigError> {
        use std::io::Read as _;
        let path = path.as_ref();
        let error = |message: String| ConfigError {
            file: Some(path.to_path_buf()),
            line: None,
            column: None,
            message,
        };
        // Bounded, so a path such as /dev/zero cannot stall startup.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| error(format!("cannot read the file: {e}")))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(error(format!(
                "the file is larger than {MAX_FILE_BYTES} bytes"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| error("the file is not UTF-8".into()))?;
        parse(&text, Some(path))
    }
}

fn parse(yaml: &str, file: Option<&Path>) -> Result<RuleSampler, ConfigError> {
    let raw: RawConfig =
        serde_norway::from_str(yaml).map_err(|e| ConfigError::from_yaml(&e, file))?;
    let mut builder = RuleSampler::builder()
        .record_unsampled(raw.record_unsampled)
        .parent_based(match raw.parent_based {
            None | Some(RawParentBased::Flag(true)) => Some(ParentBased::default()),
            Some(RawParentBased::Flag(false)) => None,
            Some(RawParentBased::Policies(p)) => Some(ParentBased {
                remote_parent_sampled: p.remote_parent_sampled.0,
                remote_parent_not_sampled: p.remote_parent_not_sampled.0,
                local_parent_sampled: p.local_parent_sampled.0,
                local_parent_not_sampled: p.local_parent_not_sampled.0,
            }),
        });
    if let Some(d) = raw.default {
        builder = builder.default_decision(d.0);
    }
    for r in raw.rules {
        let mut rule = Rule::any().with_decision(r.sample.0);
        if let Some(label) = r.name {
            rule = rule.with_label(label);
        }
        if let Some(m) = r.span_name {
            rule = rule.with_span_name(m.0);
        }
        if let Some(k) = r.kind {
            rule = rule.with_kind(k.0);
        }
        for (key, m) in r.attributes {
            rule = rule.with_attribute(key, m.0);
        }
        builder = builder.rule(rule);
    }
    Ok(builder.build())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    default: Option<FileDecision>,
    #[serde(default)]
    record_unsampled: bool,
    #[serde(default)]
    parent_based: Option<RawParentBased>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    span_name: Option<FileMatch>,
    #[serde(default)]
    kind: Option<FileKind>,
    #[serde(default)]
    attributes: BTreeMap<String, FileMatch>,
    sample: FileDecision,
}

/// `true`, `false` or a mapping of policies.
enum RawParentBased {
    Flag(bool),
    Policies(RawPolicies),
}

impl<'de> Deserialize<'de> for RawParentBased {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawParentBased;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or a mapping of parent policies")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawParentBased, E> {
                Ok(RawParentBased::Flag(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawParentBased, A::Error> {
                RawPolicies::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawParentBased::Policies)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicies {
    #[serde(default)]
    remote_parent_sampled: FilePolicy,
    #[serde(default)]
    remote_parent_not_sampled: FilePolicy,
    #[serde(default)]
    local_parent_sampled: FilePolicy,
    #[serde(default)]
    local_parent_not_sampled: FilePolicy,
}

/// A decision: `always`, `never`, `record_only` or a number in `[0, 1]`.
struct FileDecision(Decision);

impl<'de> Deserialize<'de> for FileDecision {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FileDecision;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("always, never, record_only or a ratio between 0 and 1")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FileDecision, E> {
                if (0.0..=1.0).contains(&v) {
                    Ok(FileDecision(Decision::Ratio(v)))
                } else {
                    Err(E::custom(format!("ratio {v} is outside [0, 1]")))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FileDecision, E> {
                match v {
                    0 => Ok(FileDecision(Decision::Ratio(0.0))),
                    1 => Ok(FileDecision(Decision::Ratio(1.0))),
                    _ => Err(E::custom(format!("ratio {v} is outside [0, 1]"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FileDecision, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom(format!("ratio {v} is outside [0, 1]"))),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileDecision, E> {
                match v {
                    "always" => Ok(FileDecision(Decision::Always)),
                    "never" => Ok(FileDecision(Decision::Never)),
                    "record_only" => Ok(FileDecision(Decision::RecordOnly)),
                    other => Err(E::custom(format!(
                        "unknown decision `{other}`: expected always, never, record_only or a ratio between 0 and 1"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A parent policy name.
#[derive(Default)]
struct FilePolicy(ParentPolicy);

impl<'de> Deserialize<'de> for FilePolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let p = match s.as_str() {
            "inherit" => ParentPolicy::Inherit,
            "always" => ParentPolicy::Always,
            "never" => ParentPolicy::Never,
            "record_only" => ParentPolicy::RecordOnly,
            "rules" => ParentPolicy::Rules,
            other => {
                return Err(de::Error::custom(format!(
                    "unknown parent policy `{other}`: expected inherit, always, never, record_only or rules"
                )));
            }
        };
        Ok(FilePolicy(p))
    }
}

/// A span kind name.
struct FileKind(SpanKind);

impl<'de> Deserialize<'de> for FileKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let k = match s.to_ascii_lowercase().as_str() {
            "internal" => SpanKind::Internal,
            "server" => SpanKind::Server,
            "client" => SpanKind::Client,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            other => {
                return Err(de::Error::custom(format!(
                    "unknown span kind `{other}`: expected internal, server, client, producer or consumer"
                )));
            }
        };
        Ok(FileKind(k))
    }
}

/// A match: a plain string (exact) or a mapping with exactly one of exact, prefix, regex,
/// present.
struct FileMatch(Match);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default)]
    exact: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    present: Option<bool>,
}

impl<'de> Deserialize<'de> for FileMatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FileMatch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a mapping with one of exact, prefix, regex, present")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileMatch, E> {
                Ok(FileMatch(Match::Exact(v.to_owned())))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<FileMatch, A::Error> {
                let raw = RawMatch::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let given = [
                    raw.exact.is_some(),
                    raw.prefix.is_some(),
                    raw.regex.is_some(),
                    raw.present.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if given != 1 {
                    return Err(de::Error::custom(
                        "expected exactly one of exact, prefix, regex, present",
                    ));
                }
                let m = if let Some(e) = raw.exact {
                    Match::Exact(e)
                } else if let Some(p) = raw.prefix {
                    Match::Prefix(p)
                } else if let Some(r) = raw.regex {
                    Match::Regex(
                        Regex::new(&r)
                            .map_err(|e| de::Error::custom(format!("invalid regex: {e}")))?,
                    )
                } else if raw.present == Some(true) {
                    Match::Present
                } else {
                    return Err(de::Error::custom("`present` can only be true"));
                };
                Ok(FileMatch(m))
            }
        }
        d.deserialize_any(V)
    }
}
