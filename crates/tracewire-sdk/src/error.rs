//! Errors of setting telemetry up and of shutting it down.

use std::time::Duration;

/// Setting telemetry up failed.
///
/// Only values given in code produce these: an invalid environment variable warns once and
/// falls back to its default instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// An exporter could not be built (for instance an endpoint given in code is not a URL, or a
    /// header given in code is not a valid header).
    #[error("cannot build the {exporter} exporter: {reason}")]
    Exporter {
        /// Which exporter.
        exporter: &'static str,
        /// What was wrong (never a header value).
        reason: String,
    },
    /// Something was asked for in code that needs a cargo feature this build does not have.
    #[error("{what} needs tracewire-sdk's `{feature}` cargo feature")]
    FeatureMissing {
        /// What was asked for.
        what: &'static str,
        /// The feature to enable.
        feature: &'static str,
    },
    /// The export thread could not be started.
    #[error("cannot start the export thread: {0}")]
    Thread(#[from] std::io::Error),
}

impl InitError {
    pub(crate) fn exporter(exporter: &'static str, reason: impl Into<String>) -> Self {
        InitError::Exporter {
            exporter,
            reason: reason.into(),
        }
    }
}

/// Flushing or shutting down did not complete cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ShutdownError {
    /// The time limit passed before every provider finished; what was still being exported is
    /// abandoned (the export thread stops), and the application can exit.
    #[error("telemetry did not finish within {0:?}; unexported data was abandoned")]
    Timeout(Duration),
    /// A provider reported an error (typically the last export failed).
    #[error("telemetry shutdown reported errors: {0}")]
    Provider(String),
    /// Shutdown was already done.
    #[error("telemetry was already shut down")]
    AlreadyShutdown,
}
