//! Example: slog and tracing lines with trace ids, OpenTelemetry logs, and /metrics with exemplars.

fn main() {}
