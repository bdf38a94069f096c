//! Attribute values shared by every span and metric of one client: client id, broker address,
//! consumer group; and the conversions of keys and errors into attribute values.

use opentelemetry::{KeyValue, StringValue, Value};
use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use tracewire_core::semconv::{MESSAGING_SYSTEM_KAFKA, OTHER, attribute};

use crate::{ffi, names};

/// librdkafka's port when `bootstrap.servers` names none.
const DEFAULT_PORT: u16 = 9092;

/// What identifies one Kafka client in its telemetry.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientInfo {
    pub(crate) client_id: Option<StringValue>,
    pub(crate) server_address: Option<StringValue>,
    pub(crate) server_port: Option<i64>,
    pub(crate) group: Option<StringValue>,
}

impl ClientInfo {
    /// Reads `client.id`, `bootstrap.servers` (the first broker) and `group.id`.
    pub(crate) fn from_config(config: &ClientConfig) -> Self {
        let mut info = Self::default();
        if let Some(id) = config.get("client.id").filter(|s| !s.is_empty()) {
            info.client_id = Some(names::intern(id));
        }
        if let Some((host, port)) = config.get("bootstrap.servers").and_then(first_broker) {
            info.server_address = Some(names::intern(host));
            info.server_port = Some(i64::from(port));
        }
        if let Some(group) = config.get("group.id").filter(|s| !s.is_empty()) {
            info.group = Some(names::intern(group));
        }
        info
    }

    /// How many attributes [`push`](Self::push) adds.
    pub(crate) fn count(&self, with_client_id: bool) -> usize {
        usize::from(self.server_address.is_some())
            + usize::from(self.server_port.is_some())
            + usize::from(with_client_id && self.client_id.is_some())
            + usize::from(self.group.is_some())
    }

    /// `server.address` and `server.port`, then `messaging.client.id` (spans only) and
    /// `messaging.consumer.group.name`.
    pub(crate) fn push(&self, attrs: &mut (impl Push + ?Sized), with_client_id: bool) {
        if let Some(a) = &self.server_address {
            attrs.push(KeyValue::new(attribute::SERVER_ADDRESS, a.clone()));
        }
        if let Some(p) = self.server_port {
            attrs.push(KeyValue::new(attribute::SERVER_PORT, p));
        }
        if with_client_id && let Some(id) = &self.client_id {
            attrs.push(KeyValue::new(attribute::MESSAGING_CLIENT_ID, id.clone()));
        }
        if let Some(g) = &self.group {
            attrs.push(KeyValue::new(
                attribute::MESSAGING_CONSUMER_GROUP_NAME,
                g.clone(),
            ));
        }
    }
}

/// Something attributes are pushed onto: a `Vec` (span attributes, handed to the span) or an
/// [`AttrBuf`] (metric attributes, read as a slice and dropped).
pub(crate) trait Push {
    fn push(&mut self, kv: KeyValue);
}

impl Push for Vec<KeyValue> {
    fn push(&mut self, kv: KeyValue) {
        Vec::push(self, kv);
    }
}

/// Capacity of [`AttrBuf`]: the most attributes a metric point gets.
const ATTR_BUF_LEN: usize = 10;

/// Metric attributes on the stack: recording a metric point allocates nothing for its attribute
/// list.
pub(crate) struct AttrBuf {
    items: [KeyValue; ATTR_BUF_LEN],
    len: usize,
}

impl AttrBuf {
    pub(crate) fn new() -> Self {
        Self {
            items: std::array::from_fn(|_| KeyValue::new("", false)),
            len: 0,
        }
    }

    pub(crate) fn as_slice(&self) -> &[KeyValue] {
        &self.items[..self.len]
    }
}

impl Push for AttrBuf {
    fn push(&mut self, kv: KeyValue) {
        // Callers push at most ATTR_BUF_LEN attributes; anything beyond would be a bug here, and
        // dropping it is better than panicking in instrumentation.
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = kv;
            self.len += 1;
        }
    }
}

/// The first broker of a `bootstrap.servers` list as `(host, port)`: an optional `PROTOCOL://`
/// prefix is dropped, IPv6 addresses may be bracketed, a missing port is librdkafka's 9092.
/// `None` for an empty list or an unparsable port.
pub(crate) fn first_broker(servers: &str) -> Option<(&str, u16)> {
    let first = servers.split(',').map(str::trim).find(|s| !s.is_empty())?;
    let first = first.split_once("://").map_or(first, |(_, rest)| rest);
    if let Some(rest) = first.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => DEFAULT_PORT,
            None => return None,
        };
        return (!host.is_empty()).then_some((host, port));
    }
    match first.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address, no port.
        Some((host, _)) if host.contains(':') => Some((first, DEFAULT_PORT)),
        Some((host, port)) => Some((host, port.parse().ok()?)).filter(|(h, _)| !h.is_empty()),
        None => Some((first, DEFAULT_PORT)),
    }
}

/// The `messaging.system` attribute.
pub(crate) fn system() -> KeyValue {
    KeyValue::new(attribute::MESSAGING_SYSTEM, MESSAGING_SYSTEM_KAFKA)
}

/// The attributes every span and metric point of an operation starts with: `messaging.system`,
/// `messaging.operation.type` and `messaging.operation.name`, then `messaging.destination.name`
/// and `messaging.destination.partition.id` when they are known.
pub(crate) fn push_operation(
    attrs: &mut (impl Push + ?Sized),
    operation_type: &'static str,
    operation_name: &'static str,
    topic: Option<StringValue>,
    partition: Option<Value>,
) {
    attrs.push(system());
    attrs.push(KeyValue::new(
        attribute::MESSAGING_OPERATION_TYPE,
        operation_type,
    ));
    attrs.push(KeyValue::new(
        attribute::MESSAGING_OPERATION_NAME,
        operation_name,
    ));
    if let Some(t) = topic {
        attrs.push(KeyValue::new(attribute::MESSAGING_DESTINATION_NAME, t));
    }
    if let Some(p) = partition {
        attrs.push(KeyValue::new(
            attribute::MESSAGING_DESTINATION_PARTITION_ID,
            p,
        ));
    }
}

/// The `messaging.kafka.message.key` attribute for a UTF-8 key; binary keys have no canonical
/// string form, so the conventions say to leave them out.
pub(crate) fn key(key: Option<&[u8]>) -> Option<KeyValue> {
    let key = std::str::from_utf8(key?).ok()?;
    Some(KeyValue::new(
        attribute::MESSAGING_KAFKA_MESSAGE_KEY,
        key.to_owned(),
    ))
}

pub(crate) use crate::names::partition;

/// `error.type` for an rdkafka error: librdkafka's name of its code (`_MSG_TIMED_OUT`,
/// `KAFKA_STORAGE_ERROR`), or `_OTHER` for an error without one.
pub(crate) fn error_type(err: &KafkaError) -> &'static str {
    err.rdkafka_error_code()
        .and_then(ffi::error_name)
        .unwrap_or(OTHER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_broker_cases() {
        let cases: &[(&str, Option<(&str, u16)>)] = &[
            ("localhost:9092", Some(("localhost", 9092))),
            ("a:1,b:2", Some(("a", 1))),
            (" , b:2", Some(("b", 2))),
            ("broker", Some(("broker", 9092))),
            (
                "PLAINTEXT://kafka-0.svc:19092",
                Some(("kafka-0.svc", 19092)),
            ),
            ("SSL://k:9093,SSL://j:9093", Some(("k", 9093))),
            ("[::1]:9092", Some(("::1", 9092))),
            ("[fe80::1]", Some(("fe80::1", 9092))),
            ("fe80::1", Some(("fe80::1", 9092))),
            ("127.0.0.1:notaport", None),
            ("127.0.0.1:99999", None),
            ("[::1", None),
            ("[]:9092", None),
            (":9092", None),
            ("", None),
            (",", None),
        ];
        for (input, want) in cases {
            assert_eq!(first_broker(input), *want, "{input:?}");
        }
    }

    #[test]
    fn client_info_from_config() {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", "127.0.0.1:29092,other:1")
            .set("client.id", "orders-api")
            .set("group.id", "fulfillment");
        let info = ClientInfo::from_config(&config);
        assert_eq!(
            info.server_address.as_ref().map(StringValue::as_str),
            Some("127.0.0.1")
        );
        assert_eq!(info.server_port, Some(29092));
        assert_eq!(
            info.client_id.as_ref().map(StringValue::as_str),
            Some("orders-api")
        );
        assert_eq!(
            info.group.as_ref().map(StringValue::as_str),
            Some("fulfillment")
        );
        let empty = ClientInfo::from_config(&ClientConfig::new());
        assert!(
            empty.server_address.is_none() && empty.client_id.is_none() && empty.group.is_none()
        );
    }

    #[test]
    fn keys_only_when_utf8() {
        assert_eq!(key(None), None);
        assert_eq!(key(Some(b"\xff\x00")), None);
        let kv = key(Some(b"order-42"));
        assert_eq!(
            kv.map(|kv| kv.value.as_str().into_owned()),
            Some("order-42".to_owned())
        );
    }

    #[test]
    fn error_types() {
        use rdkafka::types::RDKafkaErrorCode;
        assert_eq!(
            error_type(&KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageTimedOut
            )),
            "_MSG_TIMED_OUT"
        );
        assert_eq!(error_type(&KafkaError::Canceled), OTHER);
    }
}
