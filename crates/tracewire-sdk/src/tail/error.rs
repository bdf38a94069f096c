//! `ConfigError`: what was wrong in a tail sampling config, and where (file, line, field).

use std::fmt;
use std::path::{Path, PathBuf};

/// A tail sampling config that cannot be used: where the problem is (the file, the line and column
/// when the config came from YAML, and the field) and what was expected.
///
/// ```
/// use tracewire_sdk::tail::TailSamplingConfig;
///
/// let err = TailSamplingConfig::from_yaml_str(
///     "decision_wait: 30\npolicies:\n  - {name: all, type: always_sample}\n",
/// )
/// .unwrap_err();
/// assert_eq!(err.line(), Some(1));
/// assert_eq!(err.field(), Some("decision_wait"));
/// assert!(err.to_string().contains("Go syntax"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    file: Option<PathBuf>,
    line: Option<usize>,
    column: Option<usize>,
    field: Option<String>,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Self {
            file: None,
            line: None,
            column: None,
            field: (!field.is_empty()).then_some(field),
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub(crate) fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// Prefixes the field path (for errors found in a nested part of the config).
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.field = Some(match self.field.take() {
            Some(f) if f.starts_with('[') => format!("{prefix}{f}"),
            Some(f) => format!("{prefix}.{f}"),
            None => prefix.to_owned(),
        });
        self
    }

    /// The file the config was read from, when it was.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The 1-based line of the problem, when the config came from YAML.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the problem, when the config came from YAML.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The field, as a path from the processor's section (`policies[1].latency.threshold_ms`).
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// What was wrong and what was expected.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tail_sampling config")?;
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, ", {}:{line}", file.display())?,
            (Some(file), None) => write!(f, ", {}", file.display())?,
            (None, Some(line)) => write!(f, ", line {line}")?,
            (None, None) => {}
        }
        if let (Some(_), Some(column)) = (self.line, self.column) {
            write!(f, ":{column}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_field() {
        let err = ConfigError::new("policies[0].latency.threshold_ms", "expected an integer")
            .at(7, 5)
            .in_file(Path::new("collector.yaml"));
        assert_eq!(
            err.to_string(),
            "tail_sampling config, collector.yaml:7:5, field `policies[0].latency.threshold_ms`: expected an integer"
        );
        let err = ConfigError::new("", "no policies").under("policies");
        assert_eq!(err.field(), Some("policies"));
        assert_eq!(
            ConfigError::new("[2].name", "x").under("policies").field(),
            Some("policies[2].name")
        );
    }
}
