//! tracewire's SDK setup: the only tracewire crate on `opentelemetry_sdk` and the exporters.

mod batch;
mod builder;
pub mod config;
mod error;
pub mod export;
mod guard;
mod propagators;
pub mod resource;
pub mod sampler;
pub mod tail;

pub use batch::{BatchProcessor, BatchProcessorBuilder, Diagnostics};
pub use builder::{
    DEFAULT_SHUTDOWN_TIMEOUT, ProcessorContext, Tracewire, TracewireBuilder, init, try_init,
};
pub use error::{InitError, ShutdownError};
pub use guard::Guard;
pub use tail::{TailSamplingConfig, TailSamplingProcessor};
