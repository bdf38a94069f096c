//! Reading `OTEL_*` environment variables by the OpenTelemetry specification's rules.
//!
//! The rules, from the specification's
//! [environment variable page](https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):
//!
//! - an empty value (after trimming white space) is the same as an unset variable;
//! - booleans are `true` only for the case-insensitive string `true`; any other value other than
//!   `false` warns and is `false`;
//! - enum values are case-insensitive; an unknown value warns and is treated as unset;
//! - a number that does not parse warns and is treated as unset;
//! - durations and timeouts are integer milliseconds.
//!
//! A warning is logged through `tracing` once per variable per process, never per read, and never
//! shows the value of a variable that may hold secrets (any name containing `HEADERS`, `KEY` or
//! `PASSWORD`; see [`is_secret`]).
//! Nothing here panics, whatever the environment holds (non-UTF-8 values included).
//!
//! Values are read through an [`EnvSource`], so tests and embedders can supply their own map
//! instead of the process environment.
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//! use std::time::Duration;
//! use tracewire_core::env::OtelEnv;
//!
//! let vars: HashMap<String, String> = [
//!     ("OTEL_SDK_DISABLED", "TRUE"),
//!     ("OTEL_BSP_SCHEDULE_DELAY", "250"),
//!     ("OTEL_SERVICE_NAME", "  "),
//! ]
//! .into_iter()
//! .map(|(k, v)| (k.to_owned(), v.to_owned()))
//! .collect();
//! let env = OtelEnv::new(vars);
//! assert!(env.bool("OTEL_SDK_DISABLED"));
//! assert_eq!(env.duration_ms("OTEL_BSP_SCHEDULE_DELAY"), Some(Duration::from_millis(250)));
//! assert_eq!(env.string("OTEL_SERVICE_NAME"), None); // empty means unset
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use percent_encoding::percent_decode_str;

/// Where variables are read from.
pub trait EnvSource {
    /// The raw value of `name`, or `None` when unset (or not valid UTF-8).
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        match std::env::var_os(name)?.into_string() {
            Ok(value) => Some(value),
            Err(_) => {
                warn_once(name, None, "a UTF-8 value; the variable is ignored");
                None
            }
        }
    }
}

impl<S: BuildHasher> EnvSource for HashMap<String, String, S> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl EnvSource for [(&str, &str)] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

impl<const N: usize> EnvSource for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.as_slice().var(name)
    }
}

impl<T: EnvSource + ?Sized> EnvSource for &T {
    fn var(&self, name: &str) -> Option<String> {
        (**self).var(name)
    }
}

/// Typed reads of `OTEL_*` variables from an [`EnvSource`], by the specification's rules.
#[derive(Clone, Debug, Default)]
pub struct OtelEnv<S = ProcessEnv> {
    source: S,
}

impl OtelEnv<ProcessEnv> {
    /// Reads from the process environment.
    pub fn process() -> Self {
        Self { source: ProcessEnv }
    }
}

impl<S: EnvSource> OtelEnv<S> {
    /// Reads from `source`.
    pub fn new(source: S) -> Self {
        Self { source }
    }

    /// The source variables are read from.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The value with surrounding white space trimmed; `None` when unset or empty.
    pub fn string(&self, name: &str) -> Option<String> {
        let value = self.source.var(name)?;
        let trimmed = value.trim();
        if trimmed.is_empty() {
            None
        } else if trimmed.len() == value.len() {
            Some(value)
        } else {
            Some(trimmed.to_owned())
        }
    }

    /// Whether the variable is set to a non-empty value.
    pub fn is_set(&self, name: &str) -> bool {
        self.string(name).is_some()
    }

    /// A boolean: `true` only for the case-insensitive string `true`. Unset, empty and `false`
    /// are `false`; any other value warns once and is `false`.
    pub fn bool(&self, name: &str) -> bool {
        match self.string(name) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                warn_once(name, Some(&v), "`true` or `false`; using false");
                false
            }
        }
    }

    /// A non-negative integer; a value that does not parse warns once and is `None`.
    pub fn u64(&self, name: &str) -> Option<u64> {
        let v = self.string(name)?;
        match v.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                warn_once(
                    name,
                    Some(&v),
                    "a non-negative integer; the variable is ignored",
                );
                None
            }
        }
    }

    /// A `usize`; a value that does not parse (or does not fit) warns once and is `None`.
    pub fn usize(&self, name: &str) -> Option<usize> {
        let n = self.u64(name)?;
        match usize::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                warn_once(name, None, "a smaller integer; the variable is ignored");
                None
            }
        }
    }

    /// A finite floating-point number; a value that does not parse warns once and is `None`.
    pub fn f64(&self, name: &str) -> Option<f64> {
        let v = self.string(name)?;
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                warn_once(name, Some(&v), "a finite number; the variable is ignored");
                None
            }
        }
    }

    /// A duration given as integer milliseconds; a value that does not parse warns once and is
    /// `None`.
    pub fn duration_ms(&self, name: &str) -> Option<Duration> {
        self.u64(name).map(Duration::from_millis)
    }

    /// One of `choices`, compared case-insensitively; an unknown value warns once (listing the
    /// choices) and is `None`.
    pub fn enum_of<T: Copy>(&self, name: &str, choices: &[(&str, T)]) -> Option<T> {
        let v = self.string(name)?;
        if let Some((_, t)) = choices.iter().find(|(c, _)| c.eq_ignore_ascii_case(&v)) {
            return Some(*t);
        }
        let expected: Vec<&str> = choices.iter().map(|(c, _)| *c).collect();
        warn_once(
            name,
            Some(&v),
            &format!("one of {}; the variable is ignored", expected.join(", ")),
        );
        None
    }

    /// A comma-separated list: items trimmed, empty items skipped, in order.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.string(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A comma-separated list of `key=value` pairs with percent-decoded keys and values, as
    /// `OTEL_RESOURCE_ATTRIBUTES` uses. Empty items are skipped.
    ///
    /// The specification asks for the whole resource-attribute value to be discarded when any
    /// pair is malformed (no `=`, an empty key, or a percent-encoding that does not decode to
    /// UTF-8): that warns once and gives `None`. An unset variable gives `Some(vec![])`.
    pub fn key_values(&self, name: &str) -> Option<Vec<(String, String)>> {
        let Some(v) = self.string(name) else {
            return Some(Vec::new());
        };
        match parse_key_values(&v) {
            Some(pairs) => Some(pairs),
            None => {
                warn_once(
                    name,
                    Some(&v),
                    "comma-separated key=value pairs (percent-encoded); the whole value is ignored",
                );
                None
            }
        }
    }
}

/// Parses `k=v,k2=v2` with percent-decoding; `None` when any non-empty item is malformed.
pub fn parse_key_values(value: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (k, v) = item.split_once('=')?;
        let k = percent_decode_str(k.trim()).decode_utf8().ok()?;
        let v = percent_decode_str(v.trim()).decode_utf8().ok()?;
        if k.is_empty() {
            return None;
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Some(out)
}

fn warned() -> &'static Mutex<HashSet<String>> {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    WARNED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Whether `name` may hold a secret, so its value must never be logged.
pub fn is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.contains("HEADERS") || upper.contains("KEY") || upper.contains("PASSWORD")
}

/// Logs, once per variable name per process, that `name` holds an invalid value and what was
/// expected. The value is shown (shortened) only when the variable cannot hold secrets.
/// Returns whether this call logged.
pub fn warn_once(name: &str, value: Option<&str>, expected: &str) -> bool {
    let first = match warned().lock() {
        Ok(mut set) => set.insert(name.to_owned()),
        // A poisoned set only means another thread panicked while holding it; warn anyway.
        Err(poisoned) => poisoned.into_inner().insert(name.to_owned()),
    };
    if first {
        match value {
            Some(v) if !is_secret(name) => {
                let shown: String = v.chars().take(64).collect();
                tracing::warn!(
                    target: "tracewire::env",
                    variable = name,
                    value = %shown,
                    "invalid value in {name}: expected {expected}"
                );
            }
            _ => tracing::warn!(
                target: "tracewire::env",
                variable = name,
                "invalid value in {name}: expected {expected}"
            ),
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(
        pairs: &'static [(&'static str, &'static str)],
    ) -> OtelEnv<&'static [(&'static str, &'static str)]> {
        OtelEnv::new(pairs)
    }

    #[test]
    fn empty_means_unset() {
        let e = env(&[("A", ""), ("B", " \t"), ("C", " x ")]);
        assert_eq!(e.string("A"), None);
        assert_eq!(e.string("B"), None);
        assert_eq!(e.string("C").as_deref(), Some("x"));
        assert_eq!(e.string("MISSING"), None);
        assert!(!e.is_set("B"));
    }

    #[test]
    fn booleans_table() {
        let e = env(&[
            ("T1", "true"),
            ("T2", "TRUE"),
            ("T3", " True "),
            ("F1", "false"),
            ("F2", "FALSE"),
            ("X1", "1"),
            ("X2", "yes"),
            ("E", ""),
        ]);
        for (name, want) in [
            ("T1", true),
            ("T2", true),
            ("T3", true),
            ("F1", false),
            ("F2", false),
            ("X1", false),
            ("X2", false),
            ("E", false),
            ("UNSET", false),
        ] {
            assert_eq!(e.bool(name), want, "{name}");
        }
    }

    #[test]
    fn numbers_and_durations() {
        let e = env(&[
            ("N", "512"),
            ("NEG", "-1"),
            ("BAD", "12ms"),
            ("F", "0.25"),
            ("NAN", "NaN"),
            ("HUGE", "99999999999999999999999"),
        ]);
        assert_eq!(e.u64("N"), Some(512));
        assert_eq!(e.u64("NEG"), None);
        assert_eq!(e.u64("BAD"), None);
        assert_eq!(e.u64("HUGE"), None);
        assert_eq!(e.duration_ms("N"), Some(Duration::from_millis(512)));
        assert_eq!(e.f64("F"), Some(0.25));
        assert_eq!(e.f64("NAN"), None);
        assert_eq!(e.usize("N"), Some(512));
    }

    #[test]
    fn enums_are_case_insensitive() {
        #[derive(Clone, Copy, Debug, PartialEq)]
        enum P {
            Grpc,
            Http,
        }
        let choices = [("grpc", P::Grpc), ("http/protobuf", P::Http)];
        let e = env(&[("A", "GRPC"), ("B", "Http/Protobuf"), ("C", "thrift")]);
        assert_eq!(e.enum_of("A", &choices), Some(P::Grpc));
        assert_eq!(e.enum_of("B", &choices), Some(P::Http));
        assert_eq!(e.enum_of("C", &choices), None);
        assert_eq!(e.enum_of("UNSET", &choices), None);
    }

    #[test]
    fn lists_skip_empty_items() {
        let e = env(&[("L", " tracecontext, ,baggage,,b3 ")]);
        assert_eq!(e.list("L"), ["tracecontext", "baggage", "b3"]);
        assert!(e.list("UNSET").is_empty());
    }

    #[test]
    fn key_values_decode_or_discard_whole() {
        let e = env(&[
            ("OK", "service.name=a%20b, k8s.pod.name = p1 ,,x=%2C"),
            ("NOEQ", "a=b,c"),
            ("EMPTYKEY", "=v"),
            ("BADUTF8", "a=%ff"),
        ]);
        assert_eq!(
            e.key_values("OK"),
            Some(vec![
                ("service.name".into(), "a b".into()),
                ("k8s.pod.name".into(), "p1".into()),
                ("x".into(), ",".into()),
            ])
        );
        assert_eq!(e.key_values("NOEQ"), None);
        assert_eq!(e.key_values("EMPTYKEY"), None);
        assert_eq!(e.key_values("BADUTF8"), None);
        assert_eq!(e.key_values("UNSET"), Some(vec![]));
    }

    #[test]
    fn warns_once_per_variable() {
        assert!(warn_once("TRACEWIRE_TEST_WARN_ONCE", Some("x"), "y"));
        assert!(!warn_once("TRACEWIRE_TEST_WARN_ONCE", Some("x"), "y"));
    }

    #[test]
    fn secrets_are_recognised() {
        assert!(is_secret("OTEL_EXPORTER_OTLP_HEADERS"));
        assert!(is_secret("OTEL_EXPORTER_OTLP_TRACES_HEADERS"));
        assert!(!is_secret("OTEL_SERVICE_NAME"));
    }
}
