//! The private export runtime: one thread running a current-thread tokio runtime, on which the
//! HTTP and gRPC clients do their I/O.
//!
//! The application's runtime (multi-thread, current-thread, or none at all) is never used, so an
//! application blocked in shutdown (the classic deadlock of exporters that need the runtime the
//! application blocks) cannot stall an export, and every request has a hard time limit.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// Why work on the export runtime did not complete.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    /// The time limit passed; the work was cancelled.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The runtime has been stopped.
    #[error("the export runtime has stopped")]
    Stopped,
}

#[derive(Debug)]
struct Stop(Mutex<Option<oneshot::Sender<()>>>, AtomicBool);

impl Stop {
    fn stop(&self) {
        self.1.store(true, Ordering::Release);
        let sender = match self.0.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(tx) = sender {
            let _ = tx.send(());
        }
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A handle to the export runtime; the runtime stops when the last handle is dropped or on
/// [`stop`](ExportRuntime::stop).
#[derive(Clone, Debug)]
pub(crate) struct ExportRuntime {
    handle: tokio::runtime::Handle,
    stop: Arc<Stop>,
}

impl ExportRuntime {
    /// Starts the runtime thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("tracewire-export")
            .build()?;
        let handle = rt.handle().clone();
        let (tx, rx) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("tracewire-export".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = rx.await;
                });
                // Dropping the runtime here, outside any async context, cancels what is left.
                drop(rt);
            })?;
        Ok(ExportRuntime {
            handle,
            stop: Arc::new(Stop(Mutex::new(Some(tx)), AtomicBool::new(false))),
        })
    }

    /// The runtime's handle (to build clients that spawn tasks, such as tonic channels).
    #[cfg(feature = "grpc")]
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Runs `work` on the runtime, cancelling it after `timeout`. The returned future can be
    /// awaited from any executor (the batch processors use `futures_executor::block_on`).
    pub(crate) async fn run<F>(&self, timeout: Duration, work: F) -> Result<F::Output, RunError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.stop.1.load(Ordering::Acquire) {
            return Err(RunError::Stopped);
        }
        let task = self
            .handle
            .spawn(async move { tokio::time::timeout(timeout, work).await });
        match task.await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(_elapsed)) => Err(RunError::Timeout(timeout)),
            Err(_cancelled) => Err(RunError::Stopped),
        }
    }

    /// Stops the runtime: work in flight is cancelled and later work fails at once.
    pub(crate) fn stop(&self) {
        self.stop.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_work_and_enforces_time_limits() {
        let rt = ExportRuntime::start().unwrap();
        let out = futures_executor::block_on(rt.run(Duration::from_secs(5), async { 7 })).unwrap();
        assert_eq!(out, 7);
        let slow = futures_executor::block_on(rt.run(Duration::from_millis(20), async {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }));
        assert!(matches!(slow, Err(RunError::Timeout(_))));
        rt.stop();
        let stopped = futures_executor::block_on(rt.run(Duration::from_secs(5), async { 1 }));
        assert!(matches!(stopped, Err(RunError::Stopped)), "{stopped:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn usable_from_inside_a_current_thread_runtime() {
        let rt = ExportRuntime::start().unwrap();
        // Blocking this runtime's only thread does not stop the export runtime.
        let out = std::thread::scope(|_| {
            futures_executor::block_on(rt.run(Duration::from_secs(5), async { 3 }))
        });
        assert_eq!(out.unwrap(), 3);
    }
}
