//! Startup logging names what was set up but never prints header values or URL credentials.

use std::collections::HashMap;
use std::time::Duration;

use tracewire_sdk::Tracewire;
use tracewire_sdk::export::console::SharedBuffer;

#[test]
fn startup_log_never_shows_secrets() {
    let out = SharedBuffer::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let vars: HashMap<String, String> = [
        ("OTEL_SERVICE_NAME", "checkout"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://user:pa55w0rd@127.0.0.1:9",
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20s3cr3t-t0ken,x-api-key=k3y-value",
        ),
        // Malformed: warns, and the warning must not show the value either.
        (
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "x-api-key=l0g-k3y,broken",
        ),
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "lots"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    tracing::subscriber::with_default(subscriber, || {
        let guard = Tracewire::builder()
            .with_env(vars)
            .with_otlp_header("x-code-header", "c0de-secret")
            .with_shutdown_timeout(Duration::from_secs(2))
            .build()
            .expect("setup");
        drop(guard);
    });
    let text = out.contents();
    assert!(text.contains("telemetry set up"), "{text}");
    assert!(text.contains("checkout"), "{text}");
    assert!(text.contains("127.0.0.1:9/v1/traces"), "{text}");
    assert!(
        text.contains("authorization") && text.contains("x-code-header"),
        "{text}"
    );
    assert!(
        text.contains("OTEL_TRACES_SAMPLER_ARG"),
        "the bad sampler argument warns: {text}"
    );
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_LOGS_HEADERS"),
        "the malformed headers warn: {text}"
    );
    for secret in ["s3cr3t", "k3y-value", "l0g-k3y", "c0de-secret", "pa55w0rd"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}
