//! The resource: who produces the telemetry (service, host, process, Kubernetes pod).
//!
//! # Example
//!
//! ```
//! use opentelemetry::Key;
//! use tracewire_core::env::OtelEnv;
//! use tracewire_sdk::resource::{ResourceCode, build_resource};
//!
//! let env = OtelEnv::new([
//!     ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,service.version=1.2"),
//!     ("K8S_POD_NAME", "checkout-7d9f"),
//! ]);
//! let code = ResourceCode { service_name: Some("checkout".into()), ..ResourceCode::default() };
//! let resource = build_resource(&code, &env);
//! assert_eq!(resource.get(&Key::new("service.name")).unwrap().as_str(), "checkout");
//! assert_eq!(resource.get(&Key::new("service.version")).unwrap().as_str(), "1.2");
//! assert_eq!(resource.get(&Key::new("k8s.pod.name")).unwrap().as_str(), "checkout-7d9f");
//! ```
//!
//! # Attributes and where they come from
//!
//! From lowest to highest precedence (a later source overrides an earlier one's key):
//!
//! 1. `telemetry.sdk.name`, `telemetry.sdk.language`, `telemetry.sdk.version` (the
//!    OpenTelemetry SDK), `telemetry.distro.name` = `tracewire` and `telemetry.distro.version`;
//! 2. detected: `host.name`, `host.arch`, `os.type`, `process.pid`, `process.executable.name`,
//!    `process.executable.path`, `process.runtime.name` (`rustc`);
//! 3. Kubernetes, from the downward API when the variables are set (see below);
//! 4. `OTEL_RESOURCE_ATTRIBUTES` (percent-decoded; a malformed value is discarded whole, with a
//!    warning, as the specification requires);
//! 5. attributes given in code;
//! 6. `service.name`: code, then `OTEL_SERVICE_NAME`, then `service.name` from the sources
//!    above, then `unknown_service:<executable name>` (the specification's default);
//!    `service.version` given in code wins over the sources above.
//!
//! # Kubernetes
//!
//! Kubernetes does not set these variables itself: expose them with the
//! [downward API](https://kubernetes.io/docs/concepts/workloads/pods/downward-api/) in the pod
//! spec (the deployment files in `docs/deploy/` do). The first variable set of each row is used,
//! for the [semantic conventions' k8s attributes](https://opentelemetry.io/docs/specs/semconv/resource/k8s/):
//!
//! | attribute | variables, in order |
//! |---|---|
//! | `k8s.pod.name` | `K8S_POD_NAME`, `POD_NAME` |
//! | `k8s.pod.uid` | `K8S_POD_UID`, `POD_UID` |
//! | `k8s.namespace.name` | `K8S_NAMESPACE_NAME`, `K8S_POD_NAMESPACE`, `POD_NAMESPACE` |
//! | `k8s.node.name` | `K8S_NODE_NAME`, `NODE_NAME` |
//! | `k8s.container.name` | `K8S_CONTAINER_NAME` |
//! | `k8s.deployment.name` | `K8S_DEPLOYMENT_NAME` |

use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use tracewire_core::env::{EnvSource, OtelEnv};
use tracewire_core::semconv::resource as keys;

/// Resource settings given in code.
#[derive(Clone, Debug, Default)]
pub struct ResourceCode {
    /// `service.name`; wins over `OTEL_SERVICE_NAME`.
    pub service_name: Option<String>,
    /// `service.version`.
    pub service_version: Option<String>,
    /// More attributes; they override detected and environment attributes of the same key.
    pub attributes: Vec<KeyValue>,
    /// Whether to detect host and process attributes (default: yes).
    pub skip_detection: bool,
}

/// The Kubernetes variables read, per attribute (first set wins).
pub const K8S_VARIABLES: &[(&str, &[&str])] = &[
    (keys::K8S_POD_NAME, &["K8S_POD_NAME", "POD_NAME"]),
    (keys::K8S_POD_UID, &["K8S_POD_UID", "POD_UID"]),
    (
        keys::K8S_NAMESPACE_NAME,
        &["K8S_NAMESPACE_NAME", "K8S_POD_NAMESPACE", "POD_NAMESPACE"],
    ),
    (keys::K8S_NODE_NAME, &["K8S_NODE_NAME", "NODE_NAME"]),
    (keys::K8S_CONTAINER_NAME, &["K8S_CONTAINER_NAME"]),
    (keys::K8S_DEPLOYMENT_NAME, &["K8S_DEPLOYMENT_NAME"]),
];

/// The executable's file name, if it can be found.
fn executable() -> (Option<String>, Option<String>) {
    match std::env::current_exe() {
        Ok(path) => (
            path.file_name().map(|n| n.to_string_lossy().into_owned()),
            Some(path.to_string_lossy().into_owned()),
        ),
        Err(_) => (None, None),
    }
}

/// `unknown_service:<executable name>`, the specification's default `service.name`.
pub fn default_service_name() -> String {
    match executable().0 {
        Some(name) => format!("unknown_service:{name}"),
        None => "unknown_service".to_owned(),
    }
}

/// Builds the resource from code settings, the environment and detection (see the module docs
/// for the precedence).
pub fn build_resource<S: EnvSource>(code: &ResourceCode, env: &OtelEnv<S>) -> Resource {
    let mut attrs: Vec<KeyValue> = Vec::new();
    let telemetry = Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .build();
    attrs.extend(
        telemetry
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
    );
    attrs.push(KeyValue::new(keys::TELEMETRY_DISTRO_NAME, "tracewire"));
    attrs.push(KeyValue::new(
        keys::TELEMETRY_DISTRO_VERSION,
        env!("CARGO_PKG_VERSION"),
    ));

    if !code.skip_detection {
        if let Ok(host) = hostname::get() {
            let host = host.to_string_lossy().into_owned();
            if !host.is_empty() {
                attrs.push(KeyValue::new(keys::HOST_NAME, host));
            }
        }
        attrs.push(KeyValue::new(keys::HOST_ARCH, std::env::consts::ARCH));
        attrs.push(KeyValue::new(keys::OS_TYPE, std::env::consts::OS));
        attrs.push(KeyValue::new(
            keys::PROCESS_PID,
            i64::from(std::process::id()),
        ));
        let (name, path) = executable();
        if let Some(name) = name {
            attrs.push(KeyValue::new(keys::PROCESS_EXECUTABLE_NAME, name));
        }
        if let Some(path) = path {
            attrs.push(KeyValue::new(keys::PROCESS_EXECUTABLE_PATH, path));
        }
        attrs.push(KeyValue::new(keys::PROCESS_RUNTIME_NAME, "rustc"));
    }

    for (attribute, vars) in K8S_VARIABLES {
        if let Some(value) = vars.iter().find_map(|v| env.string(v)) {
            attrs.push(KeyValue::new(*attribute, value));
        }
    }

    if let Some(pairs) = env.key_values("OTEL_RESOURCE_ATTRIBUTES") {
        attrs.extend(pairs.into_iter().map(|(k, v)| KeyValue::new(k, v)));
    }
    attrs.extend(code.attributes.iter().cloned());

    let service_key = Key::from_static_str(keys::SERVICE_NAME);
    let from_attrs = attrs
        .iter()
        .rev()
        .find(|kv| kv.key == service_key)
        .map(|kv| kv.value.as_str().into_owned());
    let service_name = code
        .service_name
        .clone()
        .or_else(|| env.string("OTEL_SERVICE_NAME"))
        .or(from_attrs)
        .unwrap_or_else(default_service_name);
    attrs.push(KeyValue::new(keys::SERVICE_NAME, service_name));
    if let Some(version) = &code.service_version {
        attrs.push(KeyValue::new(keys::SERVICE_VERSION, version.clone()));
    }

    // `with_attributes` keeps the last value of a repeated key, which gives the precedence above.
    Resource::builder_empty().with_attributes(attrs).build()
}

/// The `service.name` of a resource (empty when missing).
pub fn service_name(resource: &Resource) -> String {
    resource
        .get(&Key::from_static_str(keys::SERVICE_NAME))
        .map(|v: Value| v.as_str().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(r: &Resource, key: &'static str) -> Option<String> {
        r.get(&Key::from_static_str(key))
            .map(|v| v.as_str().into_owned())
    }

    #[test]
    fn default_service_name_names_the_executable() {
        let r = build_resource(&ResourceCode::default(), &OtelEnv::new([("X", "")]));
        let name = get(&r, keys::SERVICE_NAME).unwrap();
        assert!(name.starts_with("unknown_service:"), "{name}");
        assert_eq!(
            get(&r, keys::TELEMETRY_SDK_LANGUAGE).as_deref(),
            Some("rust")
        );
        assert_eq!(
            get(&r, keys::TELEMETRY_SDK_NAME).as_deref(),
            Some("opentelemetry")
        );
        assert!(get(&r, keys::TELEMETRY_SDK_VERSION).is_some());
        assert_eq!(
            get(&r, keys::TELEMETRY_DISTRO_NAME).as_deref(),
            Some("tracewire")
        );
        assert_eq!(
            r.get(&Key::from_static_str(keys::PROCESS_PID)),
            Some(Value::I64(i64::from(std::process::id())))
        );
        assert!(get(&r, keys::HOST_NAME).is_some());
        assert!(get(&r, keys::PROCESS_EXECUTABLE_NAME).is_some());
    }

    #[test]
    fn service_name_precedence() {
        let env = OtelEnv::new([
            ("OTEL_SERVICE_NAME", "from-env"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
        ]);
        let r = build_resource(&ResourceCode::default(), &env);
        assert_eq!(get(&r, keys::SERVICE_NAME).as_deref(), Some("from-env"));
        let code = ResourceCode {
            service_name: Some("from-code".into()),
            ..ResourceCode::default()
        };
        assert_eq!(
            get(&build_resource(&code, &env), keys::SERVICE_NAME).as_deref(),
            Some("from-code")
        );
        let attrs_only = OtelEnv::new([("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs")]);
        let r = build_resource(&ResourceCode::default(), &attrs_only);
        assert_eq!(get(&r, keys::SERVICE_NAME).as_deref(), Some("from-attrs"));
    }

    #[test]
    fn resource_attributes_are_decoded_or_discarded_whole() {
        let env = OtelEnv::new([("OTEL_RESOURCE_ATTRIBUTES", "team=a%20b,region=eu%2Cwest")]);
        let r = build_resource(&ResourceCode::default(), &env);
        assert_eq!(get(&r, "team").as_deref(), Some("a b"));
        assert_eq!(get(&r, "region").as_deref(), Some("eu,west"));
        let bad = OtelEnv::new([("OTEL_RESOURCE_ATTRIBUTES", "team=a,broken")]);
        let r = build_resource(&ResourceCode::default(), &bad);
        assert_eq!(get(&r, "team"), None);
    }

    #[test]
    fn kubernetes_variables() {
        let env = OtelEnv::new([
            ("POD_NAME", "p-1"),
            ("K8S_POD_NAME", "p-2"),
            ("POD_NAMESPACE", "shop"),
            ("NODE_NAME", "node-a"),
            ("K8S_POD_UID", "uid-1"),
            ("K8S_CONTAINER_NAME", "app"),
        ]);
        let r = build_resource(&ResourceCode::default(), &env);
        assert_eq!(get(&r, keys::K8S_POD_NAME).as_deref(), Some("p-2"));
        assert_eq!(get(&r, keys::K8S_NAMESPACE_NAME).as_deref(), Some("shop"));
        assert_eq!(get(&r, keys::K8S_NODE_NAME).as_deref(), Some("node-a"));
        assert_eq!(get(&r, keys::K8S_POD_UID).as_deref(), Some("uid-1"));
        assert_eq!(get(&r, keys::K8S_CONTAINER_NAME).as_deref(), Some("app"));
        let none = build_resource(&ResourceCode::default(), &OtelEnv::new([("X", "")]));
        assert_eq!(get(&none, keys::K8S_POD_NAME), None);
    }

    #[test]
    fn code_attributes_and_version_win() {
        let env = OtelEnv::new([("OTEL_RESOURCE_ATTRIBUTES", "service.version=env,team=env")]);
        let code = ResourceCode {
            service_version: Some("2.0".into()),
            attributes: vec![KeyValue::new("team", "code")],
            skip_detection: true,
            ..ResourceCode::default()
        };
        let r = build_resource(&code, &env);
        assert_eq!(get(&r, keys::SERVICE_VERSION).as_deref(), Some("2.0"));
        assert_eq!(get(&r, "team").as_deref(), Some("code"));
        assert_eq!(get(&r, keys::HOST_NAME), None);
    }
}
