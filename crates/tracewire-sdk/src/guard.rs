//! The guard that owns the providers and flushes and shuts them down within a time limit.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::batch::Diagnostics;
use crate::error::ShutdownError;
use crate::export::runtime::ExportRuntime;

/// Keeps telemetry running; flushes and shuts every provider down when dropped or on
/// [`shutdown`](Guard::shutdown).
///
/// Shutdown never waits longer than its time limit (5 s unless set with
/// [`TracewireBuilder::with_shutdown_timeout`](crate::TracewireBuilder::with_shutdown_timeout)):
/// past it, [`ShutdownError::Timeout`] is returned, what was still being exported is abandoned
/// and the export thread stops. It works the same inside a multi-thread or current-thread tokio
/// runtime and without one, because exports never need the application's runtime.
///
/// Keep the guard for the life of the program (`let _guard = ...`, not `let _ = ...`, which
/// drops it at once).
#[must_use = "dropping the guard shuts telemetry down at once; keep it for the life of the program"]
pub struct Guard {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    logger_provider: SdkLoggerProvider,
    diagnostics: Diagnostics,
    runtime: Option<ExportRuntime>,
    shutdown_timeout: Duration,
    disabled: bool,
    done: bool,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("disabled", &self.disabled)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Guard {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        tracer_provider: SdkTracerProvider,
        meter_provider: SdkMeterProvider,
        logger_provider: SdkLoggerProvider,
        diagnostics: Diagnostics,
        runtime: Option<ExportRuntime>,
        shutdown_timeout: Duration,
        disabled: bool,
    ) -> Self {
        Guard {
            tracer_provider,
            meter_provider,
            logger_provider,
            diagnostics,
            runtime,
            shutdown_timeout,
            disabled,
            done: false,
        }
    }

    /// The tracer provider (also installed globally by `install`/`init`).
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.tracer_provider
    }

    /// The meter provider (also installed globally by `install`/`init`, so
    /// `opentelemetry::global::meter(..)` uses it).
    pub fn meter_provider(&self) -> &SdkMeterProvider {
        &self.meter_provider
    }

    /// The logger provider, for a log bridge such as `opentelemetry-appender-tracing`.
    pub fn logger_provider(&self) -> &SdkLoggerProvider {
        &self.logger_provider
    }

    /// A tracer named `name` from this guard's provider.
    pub fn tracer(&self, name: &'static str) -> SdkTracer {
        self.tracer_provider.tracer(name)
    }

    /// What happened to spans so far: dropped (queue full), failed exports, exported.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// Whether the SDK is disabled (`OTEL_SDK_DISABLED=true`): the providers then record and
    /// export nothing.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// Exports everything buffered now, waiting at most the shutdown time limit.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::Timeout`] when the limit passes, [`ShutdownError::Provider`] when an
    /// export fails, [`ShutdownError::AlreadyShutdown`] after shutdown.
    pub fn force_flush(&self) -> Result<(), ShutdownError> {
        if self.done {
            return Err(ShutdownError::AlreadyShutdown);
        }
        let (tp, mp, lp) = self.providers();
        bounded(
            self.shutdown_timeout,
            vec![
                Box::new(move |_| tp.force_flush()),
                Box::new(move |_| mp.force_flush()),
                Box::new(move |_| lp.force_flush()),
            ],
        )
    }

    /// Flushes and shuts every provider down within the configured time limit.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::Timeout`] when the limit passes (the rest is abandoned),
    /// [`ShutdownError::Provider`] when the last exports failed.
    pub fn shutdown(mut self) -> Result<(), ShutdownError> {
        let timeout = self.shutdown_timeout;
        self.shutdown_inner(timeout)
    }

    /// Flushes and shuts every provider down within `timeout`.
    ///
    /// # Errors
    ///
    /// As [`shutdown`](Self::shutdown).
    pub fn shutdown_with_timeout(mut self, timeout: Duration) -> Result<(), ShutdownError> {
        self.shutdown_inner(timeout)
    }

    fn providers(&self) -> (SdkTracerProvider, SdkMeterProvider, SdkLoggerProvider) {
        (
            self.tracer_provider.clone(),
            self.meter_provider.clone(),
            self.logger_provider.clone(),
        )
    }

    fn shutdown_inner(&mut self, timeout: Duration) -> Result<(), ShutdownError> {
        if self.done {
            return Err(ShutdownError::AlreadyShutdown);
        }
        self.done = true;
        let (tp, mp, lp) = self.providers();
        let result = bounded(
            timeout,
            vec![
                Box::new(move |left| tp.shutdown_with_timeout(left)),
                Box::new(move |left| mp.shutdown_with_timeout(left)),
                Box::new(move |left| lp.shutdown_with_timeout(left)),
            ],
        );
        // Whatever is still in flight is cancelled: the application must be able to exit.
        if let Some(rt) = &self.runtime {
            rt.stop();
        }
        result
    }
}

type Task = Box<dyn FnOnce(Duration) -> OTelSdkResult + Send>;

/// Runs each task on its own thread and waits for all of them until `timeout` has passed.
/// Tasks still running then are left to finish on their own.
fn bounded(timeout: Duration, tasks: Vec<Task>) -> Result<(), ShutdownError> {
    // A limit too long for the clock is no limit (and `Instant + Duration` would panic).
    let deadline = Instant::now().checked_add(timeout);
    let (tx, rx) = mpsc::channel::<OTelSdkResult>();
    let mut expected = 0usize;
    let mut errors: Vec<String> = Vec::new();
    for task in tasks {
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("tracewire-shutdown".into())
            .spawn(move || {
                let _ = tx.send(task(timeout));
            });
        match spawned {
            Ok(_) => expected += 1,
            Err(e) => errors.push(format!("cannot start a shutdown thread: {e}")),
        }
    }
    drop(tx);
    for _ in 0..expected {
        let received = match deadline {
            Some(deadline) => rx.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(Ok(())) => {}
            // A provider that was already shut down (for instance by hand) is not an error here.
            Ok(Err(opentelemetry_sdk::error::OTelSdkError::AlreadyShutdown)) => {}
            Ok(Err(opentelemetry_sdk::error::OTelSdkError::Timeout(_)))
            | Err(mpsc::RecvTimeoutError::Timeout) => return Err(ShutdownError::Timeout(timeout)),
            // The SDK's providers wrap their processors' timeouts in an `InternalFailure`
            // ("Shutdown errors: [Timeout(..)]"): an error that comes once the limit has passed
            // is the limit, whatever its wording.
            Ok(Err(_)) if past(deadline, Instant::now()) => {
                return Err(ShutdownError::Timeout(timeout));
            }
            Ok(Err(e)) => errors.push(e.to_string()),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ShutdownError::Provider(errors.join("; ")))
    }
}

/// Whether `now` is at or after `deadline` (`None`: no limit, never past).
fn past(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|deadline| now >= deadline)
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let timeout = self.shutdown_timeout;
        if let Err(e) = self.shutdown_inner(timeout) {
            tracing::warn!(target: "tracewire::sdk", error = %e, "telemetry shutdown did not complete cleanly");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_sdk::error::OTelSdkError;

    #[test]
    fn an_error_after_the_limit_is_the_limit() {
        let now = Instant::now();
        let later = now + Duration::from_millis(5);
        assert!(past(Some(now), now));
        assert!(past(Some(now), later));
        assert!(!past(Some(later), now));
        assert!(!past(None, later));
    }

    #[test]
    fn a_wrapped_provider_timeout_is_a_timeout() {
        // What opentelemetry_sdk's TracerProvider returns when a processor times out.
        let wrapped = || -> Task {
            Box::new(|left: Duration| {
                std::thread::sleep(left);
                Err(OTelSdkError::InternalFailure(format!(
                    "Shutdown errors: [Timeout({left:?})]"
                )))
            })
        };
        // The error may arrive just before the receiver gives up or just after; both are the
        // limit. (Unlimited, the same task's error is a provider error, below.)
        let limit = Duration::from_millis(20);
        assert!(matches!(
            bounded(limit, vec![wrapped()]),
            Err(ShutdownError::Timeout(t)) if t == limit
        ));
        let failing: Task =
            Box::new(|_| Err(OTelSdkError::InternalFailure("export failed".into())));
        assert!(matches!(
            bounded(Duration::from_secs(60), vec![failing]),
            Err(ShutdownError::Provider(m)) if m.contains("export failed")
        ));
        let fine: Task = Box::new(|_| Ok(()));
        assert!(bounded(Duration::from_secs(60), vec![fine]).is_ok());
    }
}
