//! Capture of allow-listed headers as `http.{request,response}.header.<name>` attributes.

use std::sync::Arc;

use http::{HeaderMap, HeaderName};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use crate::report;

/// The headers to capture and their attribute keys (made once, shared per span).
#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderCapture {
    entries: Arc<[(HeaderName, Key)]>,
}

impl HeaderCapture {
    /// Captures `names` under `prefix` (`http.request.header.` or `http.response.header.`).
    pub(crate) fn new(prefix: &str, names: impl IntoIterator<Item = HeaderName>) -> Self {
        let mut entries: Vec<(HeaderName, Key)> = Vec::new();
        for name in names {
            if entries.iter().any(|(n, _)| *n == name) {
                continue;
            }
            // `HeaderName`s are lowercase already, as the conventions want.
            let key = Key::from(Arc::<str>::from(format!("{prefix}{}", name.as_str())));
            entries.push((name, key));
        }
        Self {
            entries: entries.into(),
        }
    }

    /// How many headers are captured at most.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Pushes one attribute per allow-listed header present in `headers`, with every value.
    pub(crate) fn capture(&self, headers: &HeaderMap, out: &mut Vec<KeyValue>) {
        for (name, key) in self.entries.iter() {
            let mut values = headers.get_all(name).iter().peekable();
            if values.peek().is_none() {
                continue;
            }
            let values: Vec<StringValue> = values
                .map(|v| match v.to_str() {
                    Ok(s) => StringValue::from(s.to_owned()),
                    Err(_) => {
                        report::once(
                            &report::BAD_HEADER_VALUE,
                            "a captured header value is not visible ASCII; it was recorded lossily",
                        );
                        StringValue::from(String::from_utf8_lossy(v.as_bytes()).into_owned())
                    }
                })
                .collect();
            out.push(KeyValue::new(
                key.clone(),
                Value::Array(Array::String(values)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn captures_every_value_of_listed_headers_only() {
        let capture = HeaderCapture::new(
            tracewire_core::semconv::HTTP_REQUEST_HEADER_PREFIX,
            [
                HeaderName::from_static("x-forwarded-for"),
                http::header::CONTENT_TYPE,
                http::header::CONTENT_TYPE,
                HeaderName::from_static("x-missing"),
            ],
        );
        assert_eq!(capture.len(), 3);
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.append("x-forwarded-for", HeaderValue::from_static("1.2.3.5"));
        h.append("content-type", HeaderValue::from_static("application/json"));
        h.append("authorization", HeaderValue::from_static("secret"));
        h.append("x-bin", HeaderValue::from_bytes(b"\xff").unwrap());
        let mut out = Vec::new();
        capture.capture(&h, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].key.as_str(), "http.request.header.x-forwarded-for");
        assert_eq!(
            out[0].value,
            Value::Array(Array::String(vec!["1.2.3.4".into(), "1.2.3.5".into()]))
        );
        assert_eq!(out[1].key.as_str(), "http.request.header.content-type");
    }

    #[test]
    fn non_ascii_values_are_recorded_lossily() {
        let capture = HeaderCapture::new("p.", [HeaderName::from_static("x-bin")]);
        let mut h = HeaderMap::new();
        h.append("x-bin", HeaderValue::from_bytes(b"a\xffb").unwrap());
        let mut out = Vec::new();
        capture.capture(&h, &mut out);
        assert_eq!(
            out[0].value,
            Value::Array(Array::String(vec!["a\u{fffd}b".into()]))
        );
    }
}
