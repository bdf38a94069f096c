//! Building the OTLP exporters (traces, metrics, logs) from resolved settings, with every
//! option given explicitly so opentelemetry-otlp's own environment reading cannot contradict
//! tracewire's.

#[cfg(feature = "grpc")]
use std::sync::Arc;
#[cfg(feature = "grpc")]
use std::time::Duration;

#[cfg(feature = "grpc")]
use opentelemetry_otlp::WithTonicConfig;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
#[cfg(feature = "grpc")]
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
#[cfg(feature = "grpc")]
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::BoxSpanExporter;
use super::http::{ExportHttpClient, header_map};
use super::runtime::ExportRuntime;
use crate::config::{OtlpCompression, OtlpProtocol, OtlpSettings};
use crate::error::InitError;

fn http_client(
    settings: &OtlpSettings,
    runtime: &ExportRuntime,
) -> Result<ExportHttpClient, InitError> {
    let headers =
        header_map(&settings.headers).map_err(|e| InitError::exporter("otlp", e.to_string()))?;
    Ok(ExportHttpClient::new(runtime.clone(), settings.timeout)
        .map_err(|e| InitError::exporter("otlp", e.to_string()))?
        .with_exact_headers(headers))
}

fn http_protocol(p: OtlpProtocol) -> Protocol {
    match p {
        OtlpProtocol::HttpJson => Protocol::HttpJson,
        _ => Protocol::HttpBinary,
    }
}

fn build_error(e: opentelemetry_otlp::ExporterBuildError) -> InitError {
    InitError::exporter("otlp", e.to_string())
}

macro_rules! http_builder {
    ($builder:expr, $settings:expr, $runtime:expr) => {{
        let s: &OtlpSettings = $settings;
        let b = $builder
            .with_http()
            .with_http_client(http_client(s, $runtime)?)
            .with_endpoint(s.endpoint.clone())
            .with_protocol(http_protocol(s.protocol))
            .with_timeout(s.timeout);
        match s.compression {
            OtlpCompression::Gzip => b.with_compression(opentelemetry_otlp::Compression::Gzip),
            OtlpCompression::None => b,
        }
    }};
}

#[cfg(feature = "grpc")]
mod grpc {
    use super::*;
    use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};

    /// gRPC metadata from the resolved headers. opentelemetry-otlp adds
    /// `OTEL_EXPORTER_OTLP_HEADERS` from the process environment to every request on its own;
    /// this interceptor runs after that and sets exactly tracewire's metadata.
    pub(super) fn exact_metadata(
        s: &OtlpSettings,
    ) -> Result<impl tonic::service::Interceptor + Clone + Send + Sync + 'static, InitError> {
        let mut map = MetadataMap::new();
        map.insert(
            "user-agent",
            MetadataValue::from_static(concat!("tracewire/", env!("CARGO_PKG_VERSION"))),
        );
        for (k, v) in &s.headers {
            let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()).map_err(|_| {
                InitError::exporter(
                    "otlp",
                    format!("invalid header `{k}`: not a valid gRPC metadata key"),
                )
            })?;
            let value = MetadataValue::try_from(v.as_str()).map_err(|_| {
                InitError::exporter(
                    "otlp",
                    format!("invalid header `{k}`: the value is not valid gRPC metadata"),
                )
            })?;
            map.insert(key, value);
        }
        Ok(move |mut req: tonic::Request<()>| {
            *req.metadata_mut() = map.clone();
            Ok(req)
        })
    }

    macro_rules! grpc_builder {
        ($builder:expr, $settings:expr) => {{
            let s: &OtlpSettings = $settings;
            let b = $builder
                .with_tonic()
                .with_endpoint(s.endpoint.clone())
                .with_timeout(s.timeout)
                .with_interceptor(grpc::exact_metadata(s)?);
            match s.compression {
                OtlpCompression::Gzip => b.with_compression(opentelemetry_otlp::Compression::Gzip),
                OtlpCompression::None => b,
            }
        }};
    }
    pub(super) use grpc_builder;
}

/// A span exporter whose whole export runs on the export runtime (for gRPC, whose client needs
/// tokio while the batch processor's thread has none).
#[cfg(feature = "grpc")]
#[derive(Debug)]
pub(crate) struct OnRuntime<E> {
    inner: Arc<E>,
    runtime: ExportRuntime,
    timeout: Duration,
}

#[cfg(feature = "grpc")]
impl<E: SpanExporter + 'static> SpanExporter for OnRuntime<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let inner = Arc::clone(&self.inner);
        match self
            .runtime
            .run(self.timeout, async move { inner.export(batch).await })
            .await
        {
            Ok(result) => result,
            Err(e) => Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
                e.to_string(),
            )),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        // The resource is set before the first export, when no export holds a clone.
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.set_resource(resource),
            None => {
                tracing::warn!(target: "tracewire::sdk", "the resource could not be set on the gRPC span exporter")
            }
        }
    }
}

/// The OTLP span exporter.
pub(crate) fn span_exporter(
    s: &OtlpSettings,
    runtime: &ExportRuntime,
) -> Result<BoxSpanExporter, InitError> {
    match s.protocol {
        OtlpProtocol::Grpc => {
            #[cfg(feature = "grpc")]
            {
                // The channel spawns its worker on the export runtime.
                let _entered = runtime.handle().enter();
                let exporter = grpc::grpc_builder!(opentelemetry_otlp::SpanExporter::builder(), s)
                    .build()
                    .map_err(build_error)?;
                Ok(BoxSpanExporter::new(OnRuntime {
                    inner: Arc::new(exporter),
                    runtime: runtime.clone(),
                    // Retries happen within the exporter's own timeout; a little slack lets
                    // the last one report its error rather than be cut off.
                    timeout: s.timeout + Duration::from_millis(500),
                }))
            }
            #[cfg(not(feature = "grpc"))]
            {
                let _ = runtime;
                Err(InitError::FeatureMissing {
                    what: "OTLP over gRPC",
                    feature: "grpc",
                })
            }
        }
        _ => {
            let exporter = http_builder!(opentelemetry_otlp::SpanExporter::builder(), s, runtime)
                .build()
                .map_err(build_error)?;
            Ok(BoxSpanExporter::new(exporter))
        }
    }
}

/// The OTLP log exporter.
pub(crate) fn log_exporter(
    s: &OtlpSettings,
    runtime: &ExportRuntime,
) -> Result<opentelemetry_otlp::LogExporter, InitError> {
    match s.protocol {
        OtlpProtocol::Grpc => {
            #[cfg(feature = "grpc")]
            {
                let _entered = runtime.handle().enter();
                grpc::grpc_builder!(opentelemetry_otlp::LogExporter::builder(), s)
                    .build()
                    .map_err(build_error)
            }
            #[cfg(not(feature = "grpc"))]
            {
                let _ = runtime;
                Err(InitError::FeatureMissing {
                    what: "OTLP over gRPC",
                    feature: "grpc",
                })
            }
        }
        _ => http_builder!(opentelemetry_otlp::LogExporter::builder(), s, runtime)
            .build()
            .map_err(build_error),
    }
}

/// The OTLP metric exporter.
pub(crate) fn metric_exporter(
    s: &OtlpSettings,
    temporality: Temporality,
    runtime: &ExportRuntime,
) -> Result<opentelemetry_otlp::MetricExporter, InitError> {
    match s.protocol {
        OtlpProtocol::Grpc => {
            #[cfg(feature = "grpc")]
            {
                let _entered = runtime.handle().enter();
                grpc::grpc_builder!(opentelemetry_otlp::MetricExporter::builder(), s)
                    .with_temporality(temporality)
                    .build()
                    .map_err(build_error)
            }
            #[cfg(not(feature = "grpc"))]
            {
                let _ = (runtime, temporality);
                Err(InitError::FeatureMissing {
                    what: "OTLP over gRPC",
                    feature: "grpc",
                })
            }
        }
        _ => http_builder!(opentelemetry_otlp::MetricExporter::builder(), s, runtime)
            .with_temporality(temporality)
            .build()
            .map_err(build_error),
    }
}
