//! tracewire's SDK setup: the only tracewire crate on `opentelemetry_sdk` and the exporters.

pub mod config;
pub mod resource;
pub mod sampler;
pub mod tail;
pub use tail::{TailSamplingConfig, TailSamplingProcessor};
