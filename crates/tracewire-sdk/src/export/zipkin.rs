//! The Zipkin JSON v2 exporter (opentelemetry-zipkin) on tracewire's HTTP client.

use std::sync::Arc;

use bytes::Bytes;
use opentelemetry_sdk::Resource;

use super::BoxSpanExporter;
use super::http::ExportHttpClient;
use super::runtime::ExportRuntime;
use crate::config::ZipkinSettings;
use crate::error::InitError;

/// opentelemetry-zipkin 0.33 leaves `localEndpoint.serviceName` out of every span (it no longer
/// reads the resource), so Zipkin would show every span under an unknown service. The body is
/// fixed on its way out: each span's `localEndpoint` gets the resource's `service.name`.
fn add_service_name(service: Arc<str>) -> impl Fn(Bytes) -> Bytes + Send + Sync {
    move |body: Bytes| {
        let Ok(mut spans) = serde_json::from_slice::<Vec<serde_json::Value>>(&body) else {
            return body;
        };
        for span in &mut spans {
            if let Some(obj) = span.as_object_mut() {
                let endpoint = obj
                    .entry("localEndpoint")
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                if let Some(ep) = endpoint.as_object_mut() {
                    ep.entry("serviceName")
                        .or_insert_with(|| serde_json::Value::String(service.to_string()));
                }
            }
        }
        serde_json::to_vec(&spans).map(Bytes::from).unwrap_or(body)
    }
}

/// Builds the Zipkin exporter for `resource`'s service.
///
/// opentelemetry-zipkin is deprecated upstream since Zipkin accepts OTLP natively; it stays
/// behind the `zipkin` feature for Zipkin servers and proxies that only speak JSON v2.
#[allow(deprecated)]
pub(crate) fn span_exporter(
    settings: &ZipkinSettings,
    resource: &Resource,
    runtime: &ExportRuntime,
) -> Result<BoxSpanExporter, InitError> {
    let service: Arc<str> = crate::resource::service_name(resource).into();
    let client = ExportHttpClient::new(runtime.clone(), settings.timeout)
        .map_err(|e| InitError::exporter("zipkin", e.to_string()))?
        .with_body_rewrite(Arc::new(add_service_name(service)));
    let exporter = opentelemetry_zipkin::ZipkinExporter::builder()
        .with_http_client(client)
        .with_collector_endpoint(settings.endpoint.clone())
        .build()
        .map_err(|e| InitError::exporter("zipkin", e.to_string()))?;
    Ok(BoxSpanExporter::new(exporter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_name_is_added_to_each_span() {
        let f = add_service_name("checkout".into());
        let body = Bytes::from_static(br#"[{"id":"a","localEndpoint":{}},{"id":"b"}]"#);
        let out: serde_json::Value = serde_json::from_slice(&f(body)).unwrap();
        assert_eq!(out[0]["localEndpoint"]["serviceName"], "checkout");
        assert_eq!(out[1]["localEndpoint"]["serviceName"], "checkout");
        let junk = Bytes::from_static(b"not json");
        assert_eq!(f(junk.clone()), junk);
    }
}
