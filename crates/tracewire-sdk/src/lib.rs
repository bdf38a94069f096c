//! tracewire's SDK setup: the only tracewire crate on `opentelemetry_sdk` and the exporters.
