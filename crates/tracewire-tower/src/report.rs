//! Reporting bad input once per kind, so a flood of bad requests cannot flood the logs.

use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) static BAD_KNOWN_METHOD: AtomicBool = AtomicBool::new(false);
pub(crate) static BAD_HOST: AtomicBool = AtomicBool::new(false);
pub(crate) static NAME_CACHE_FULL: AtomicBool = AtomicBool::new(false);
pub(crate) static BAD_HEADER_VALUE: AtomicBool = AtomicBool::new(false);
pub(crate) static BAD_TRACERESPONSE: AtomicBool = AtomicBool::new(false);

/// Logs `message` at warn level the first time `flag` is raised in this process.
pub(crate) fn once(flag: &AtomicBool, message: &'static str) {
    if !flag.load(Ordering::Relaxed) && !flag.swap(true, Ordering::Relaxed) {
        tracing::warn!(target: "tracewire_tower", "{message} (reported once)");
    }
}
