//! Integration tests against a real Kafka-compatible broker (placeholder).
