//! The OTLP gRPC receiver (feature `grpc`), driven by the real tonic exporter: spans with
//! metadata, gzip, and a status behaviour mapped to a gRPC code.

use std::time::Duration;

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::{Compression, RetryPolicy, WithExportConfig as _, WithTonicConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracewire_testing::otlp::OtlpServer;
use tracewire_testing::server::{Behaviour, Outcome};

const WAIT: Duration = Duration::from_secs(10);

fn provider(server: &OtlpServer) -> SdkTracerProvider {
    let mut metadata = MetadataMap::new();
    metadata.insert("x-api-key", "s3cret".parse().expect("metadata value"));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(server.endpoint())
        .with_metadata(metadata)
        .with_compression(Compression::Gzip)
        .with_retry_policy(RetryPolicy::disabled())
        .with_timeout(Duration::from_secs(2))
        .build()
        .expect("exporter");
    SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("checkout")
                .build(),
        )
        .with_batch_exporter(exporter)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_spans_arrive_with_metadata() {
    let server = OtlpServer::start_grpc().expect("server");
    let provider = provider(&server);
    provider.tracer("shop").in_span("charge", |_cx| {});
    provider.force_flush().expect("flush");
    let spans = server.wait_for_spans_async(1, WAIT).await.expect("span");
    assert_eq!(spans[0].name(), "charge");
    assert_eq!(spans[0].service_name(), Some("checkout"));
    let requests = server.requests();
    assert_eq!(requests[0].outcome, Outcome::Accepted);
    assert_eq!(requests[0].header("x-api-key"), Some("s3cret"));
    assert_eq!(requests[0].header("grpc-encoding"), Some("gzip"));
    assert!(requests[0].path.ends_with("TraceService/Export"));

    server.set_behaviour(Behaviour::Status(503));
    provider.tracer("shop").in_span("refused", |_cx| {});
    let _ = provider.force_flush();
    let requests = server
        .wait_for_requests_async(2, WAIT)
        .await
        .expect("attempt");
    assert_eq!(requests[1].outcome, Outcome::Rejected(503));
    assert_eq!(server.spans().len(), 1);
    let _ = provider.shutdown();
}
