//! Attribute values by the HTTP semantic conventions: methods, URLs, hosts, forwarding headers.
//!
//! Everything here is pure logic over untrusted input: it never panics, never allocates when it
//! can borrow, and reports a value it cannot use by leaving it out.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, HeaderName, Method, Uri, Version};
use opentelemetry::StringValue;

use crate::proxies::ForwardingHeader;
use crate::report;

/// The value that replaces credentials and signature-like query values.
pub(crate) const REDACTED: &str = "REDACTED";

/// Query keys whose values the conventions redact by default (compared without ASCII case).
const REDACTED_QUERY_KEYS: &[&str] = &["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// The longest host name kept for `server.address` (DNS names are at most 253 bytes).
const MAX_HOST_LEN: usize = 253;

/// The name of the environment variable that overrides the known methods.
pub(crate) const KNOWN_METHODS_ENV: &str = "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS";

// === methods ===

/// How a request method is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MethodAttr {
    /// A known method: its canonical name.
    Known(&'static str),
    /// Any other method: `_OTHER`, span name `HTTP`, and `http.request.method_original`.
    Other,
}

impl MethodAttr {
    /// The value of `http.request.method`.
    pub(crate) fn value(self) -> &'static str {
        match self {
            MethodAttr::Known(name) => name,
            MethodAttr::Other => tracewire_core::semconv::OTHER,
        }
    }

    /// The `{method}` part of the span name.
    pub(crate) fn span_name(self) -> &'static str {
        match self {
            MethodAttr::Known(name) => name,
            MethodAttr::Other => "HTTP",
        }
    }
}

/// The methods recorded as themselves; every other method is `_OTHER`.
#[derive(Debug, Clone)]
pub(crate) struct KnownMethods {
    methods: Box<[(Method, &'static str)]>,
}

/// The methods of RFC 9110 and PATCH (RFC 5789), most frequent first.
const DEFAULT_METHODS: [(Method, &str); 9] = [
    (Method::GET, "GET"),
    (Method::POST, "POST"),
    (Method::PUT, "PUT"),
    (Method::DELETE, "DELETE"),
    (Method::PATCH, "PATCH"),
    (Method::HEAD, "HEAD"),
    (Method::OPTIONS, "OPTIONS"),
    (Method::CONNECT, "CONNECT"),
    (Method::TRACE, "TRACE"),
];

/// QUERY (draft-ietf-httpbis-safe-method-w-body), a known method of the conventions since
/// v1.38. It is an extension method for the `http` crate, so it is not in the `const` list.
const QUERY: &str = "QUERY";

impl Default for KnownMethods {
    fn default() -> Self {
        let mut methods = DEFAULT_METHODS.to_vec();
        if let Ok(query) = Method::from_bytes(QUERY.as_bytes()) {
            methods.push((query, QUERY));
        }
        Self {
            methods: methods.into_boxed_slice(),
        }
    }
}

impl KnownMethods {
    /// The default list, or the list in `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` when it is set
    /// (a full override of the default, as the conventions require).
    pub(crate) fn from_env() -> Self {
        match std::env::var(KNOWN_METHODS_ENV) {
            Ok(list) => Self::from_list(list.split(',').map(str::trim)),
            Err(_) => Self::default(),
        }
    }

    /// A list of method names (case-sensitive). Invalid names are skipped and reported once.
    pub(crate) fn from_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut methods: Vec<(Method, &'static str)> = Vec::new();
        for name in names.into_iter().filter(|n| !n.is_empty()) {
            let Ok(method) = Method::from_bytes(name.as_bytes()) else {
                report::once(
                    &report::BAD_KNOWN_METHOD,
                    "an invalid HTTP method name in the known-methods list was skipped",
                );
                continue;
            };
            if methods.iter().any(|(m, _)| *m == method) || methods.len() >= 64 {
                continue;
            }
            let static_name = DEFAULT_METHODS
                .iter()
                .find(|(m, _)| *m == method)
                .map(|(_, n)| *n)
                .or_else(|| (name == QUERY).then_some(QUERY))
                // A configured method list is finite and set once: keeping its names for the
                // life of the process costs a few bytes and keeps the hot path allocation-free.
                .unwrap_or_else(|| Box::leak(name.to_owned().into_boxed_str()));
            methods.push((method, static_name));
        }
        Self {
            methods: methods.into_boxed_slice(),
        }
    }

    /// How many methods are known.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.methods.len()
    }

    /// How `method` is recorded.
    pub(crate) fn lookup(&self, method: &Method) -> MethodAttr {
        self.methods
            .iter()
            .find(|(m, _)| m == method)
            .map_or(MethodAttr::Other, |(_, name)| MethodAttr::Known(name))
    }
}

// === protocol, scheme ===

/// `network.protocol.version` for an HTTP version.
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    match version {
        Version::HTTP_09 => Some("0.9"),
        Version::HTTP_10 => Some("1.0"),
        Version::HTTP_11 => Some("1.1"),
        Version::HTTP_2 => Some("2"),
        Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// A `url.scheme` value, when it is `http` or `https` (in any case).
pub(crate) fn known_scheme(scheme: &str) -> Option<&'static str> {
    if scheme.eq_ignore_ascii_case("http") {
        Some("http")
    } else if scheme.eq_ignore_ascii_case("https") {
        Some("https")
    } else {
        None
    }
}

/// The default port of a scheme.
pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

// === query and url redaction ===

/// The query with the values of signature-like keys replaced by `REDACTED` (keys kept).
pub(crate) fn redact_query(query: &str) -> Cow<'_, str> {
    if !query.split('&').any(|pair| is_redacted_key(key_of(pair))) {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let key = key_of(pair);
        if is_redacted_key(key) && pair.len() > key.len() {
            out.push_str(key);
            out.push('=');
            out.push_str(REDACTED);
        } else {
            out.push_str(pair);
        }
    }
    Cow::Owned(out)
}

fn key_of(pair: &str) -> &str {
    pair.split_once('=').map_or(pair, |(k, _)| k)
}

fn is_redacted_key(key: &str) -> bool {
    let decoded: Cow<'_, str> = if key.contains('%') || key.contains('+') {
        let plus_as_space = key.replace('+', " ");
        Cow::Owned(
            percent_encoding::percent_decode_str(&plus_as_space)
                .decode_utf8_lossy()
                .into_owned(),
        )
    } else {
        Cow::Borrowed(key)
    };
    REDACTED_QUERY_KEYS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(decoded.trim()))
}

/// `url.full` of a client request: credentials replaced by `REDACTED`, signature-like query
/// values redacted. A request without scheme or authority is completed from the `Host` header.
pub(crate) fn url_full(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = match uri.authority() {
        Some(a) => redact_userinfo(a.as_str()),
        None => {
            let host = headers.get(http::header::HOST)?.to_str().ok()?;
            parse_host_port(host)?;
            Cow::Borrowed(host)
        }
    };
    let path = uri.path();
    let mut out = String::with_capacity(scheme.len() + 3 + authority.len() + path.len() + 16);
    out.push_str(scheme);
    out.push_str("://");
    out.push_str(&authority);
    out.push_str(path);
    if let Some(q) = uri.query() {
        out.push('?');
        out.push_str(&redact_query(q));
    }
    Some(out)
}

fn redact_userinfo(authority: &str) -> Cow<'_, str> {
    match authority.rsplit_once('@') {
        None => Cow::Borrowed(authority),
        Some((userinfo, host)) => {
            let redacted = if userinfo.contains(':') {
                "REDACTED:REDACTED"
            } else {
                REDACTED
            };
            Cow::Owned(format!("{redacted}@{host}"))
        }
    }
}

// === hosts ===

/// Splits `host[:port]` (with `[v6]` literals), checking the host's characters. `None` when the
/// value is not a usable host.
pub(crate) fn parse_host_port(value: &str) -> Option<(&str, Option<u16>)> {
    let value = value.trim();
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        v6.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (v6, port)
    } else {
        match value.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (value, None),
        }
    };
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return None;
    }
    if !value.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

/// The IP of a `for=` / `X-Forwarded-For` node (`1.2.3.4`, `1.2.3.4:80`, `1.2.3.4:_obf`, `[v6]:80`,
/// `"..."`); `None` for `unknown`, obfuscated identifiers and garbage.
pub(crate) fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    // RFC 7239 allows an obfuscated port (`192.0.2.43:_a1`); the address is still known.
    let (ip, port) = node.rsplit_once(':')?;
    if port.starts_with('_') {
        return ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4);
    }
    None
}

// === forwarding headers ===

/// `x-forwarded-for`.
pub(crate) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `x-forwarded-host`.
pub(crate) static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
/// `x-forwarded-proto`.
pub(crate) static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The parameters of RFC 7239 `Forwarded` elements, in order, across every header line.
fn forwarded_params(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .flat_map(|element| element.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim(), v.trim()))
        })
}

/// The `host` of the first `Forwarded` element, then the first `X-Forwarded-Host` value.
pub(crate) fn forwarded_host(headers: &HeaderMap) -> Option<&str> {
    if let Some((_, host)) = first_element_param(headers, "host") {
        return Some(host.trim_matches('"'));
    }
    let value = headers.get(&X_FORWARDED_HOST)?.to_str().ok()?;
    value.split(',').next().map(str::trim)
}

/// The `proto` of the first `Forwarded` element, then the first `X-Forwarded-Proto` value, when
/// it is `http` or `https`.
pub(crate) fn forwarded_proto(headers: &HeaderMap) -> Option<&'static str> {
    if let Some((_, proto)) = first_element_param(headers, "proto") {
        return known_scheme(proto.trim_matches('"'));
    }
    let value = headers.get(&X_FORWARDED_PROTO)?.to_str().ok()?;
    known_scheme(value.split(',').next()?.trim())
}

fn first_element_param<'a>(headers: &'a HeaderMap, name: &str) -> Option<(&'a str, &'a str)> {
    let line = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .next()?
        .to_str()
        .ok()?;
    let first = line.split(',').next()?;
    first.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| (k, v.trim()))
    })
}

/// The original client behind trusted proxies: walks the `for=` nodes of `Forwarded` (or else
/// `X-Forwarded-For`; only the one `header` names when it names one) from the right, skipping
/// proxies `trusted` accepts, and returns the first node it does not trust. `None` when there is
/// no usable header or a node is not an IP.
pub(crate) fn forwarded_client(
    headers: &HeaderMap,
    header: ForwardingHeader,
    trusted: impl Fn(IpAddr) -> bool,
) -> Option<IpAddr> {
    let walk = |nodes: &mut dyn DoubleEndedIterator<Item = &str>| -> Option<IpAddr> {
        let mut last = None;
        for node in nodes.rev() {
            let ip = parse_node(node)?;
            if !trusted(ip) {
                return Some(ip);
            }
            last = Some(ip);
        }
        last
    };
    if header != ForwardingHeader::XForwardedFor {
        let nodes: Vec<&str> = forwarded_params(headers)
            .filter(|(k, _)| k.eq_ignore_ascii_case("for"))
            .map(|(_, v)| v)
            .collect();
        if !nodes.is_empty() {
            return walk(&mut nodes.into_iter());
        }
        // A `Forwarded` header without `for=` (only `proto=` or `host=`, say) says nothing about
        // the client: `X-Forwarded-For` still may.
    }
    if header == ForwardingHeader::Forwarded {
        return None;
    }
    let nodes: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    walk(&mut nodes.into_iter())
}

/// An IP address as a shared string (one allocation; the caller may record it twice).
pub(crate) fn ip_value(ip: IpAddr) -> StringValue {
    use std::fmt::Write as _;
    let mut buf = StackStr::<48>::new();
    let _ = write!(buf, "{ip}");
    StringValue::from(std::sync::Arc::<str>::from(buf.as_str()))
}

/// A small string on the stack, for formatting without a heap allocation.
pub(crate) struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackStr<N> {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends `s`; `false` (leaving the buffer unchanged) when it does not fit.
    pub(crate) fn push(&mut self, s: &str) -> bool {
        let end = self.len + s.len();
        if end > N {
            return false;
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        true
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `str`s are ever written into the buffer.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.push(s) {
            Ok(())
        } else {
            Err(std::fmt::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn known_methods() {
        let known = KnownMethods::default();
        assert_eq!(known.lookup(&Method::GET), MethodAttr::Known("GET"));
        assert_eq!(known.lookup(&Method::TRACE).value(), "TRACE");
        let odd = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(known.lookup(&odd), MethodAttr::Other);
        assert_eq!(known.lookup(&odd).value(), "_OTHER");
        assert_eq!(known.lookup(&odd).span_name(), "HTTP");
        let query = Method::from_bytes(b"QUERY").unwrap();
        assert_eq!(known.lookup(&query), MethodAttr::Known("QUERY"));
        let lower = Method::from_bytes(b"get").unwrap();
        assert_eq!(known.lookup(&lower), MethodAttr::Other);
    }

    #[test]
    fn known_methods_override_is_full() {
        let known = KnownMethods::from_list(["GET", "PURGE", "bad method", ""]);
        assert_eq!(known.len(), 2);
        assert_eq!(
            known.lookup(&Method::from_bytes(b"PURGE").unwrap()),
            MethodAttr::Known("PURGE")
        );
        assert_eq!(known.lookup(&Method::POST), MethodAttr::Other);
    }

    #[test]
    fn protocol_versions() {
        assert_eq!(protocol_version(Version::HTTP_11), Some("1.1"));
        assert_eq!(protocol_version(Version::HTTP_2), Some("2"));
        assert_eq!(protocol_version(Version::HTTP_10), Some("1.0"));
    }

    #[test]
    fn query_redaction() {
        let cases = [
            ("q=1", "q=1"),
            ("q=OpenTelemetry&sig=abc", "q=OpenTelemetry&sig=REDACTED"),
            (
                "AWSAccessKeyId=AKIA&Signature=xyz&Expires=1",
                "AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1",
            ),
            ("X-Goog-Signature=00ff&a=b", "X-Goog-Signature=REDACTED&a=b"),
            ("x-goog-signature=00ff", "x-goog-signature=REDACTED"),
            ("Sig%6Eature=zz", "Sig%6Eature=REDACTED"),
            ("sig", "sig"),
            ("sig=", "sig=REDACTED"),
            ("signature_version=4", "signature_version=4"),
            ("a=1&&sig=2&", "a=1&&sig=REDACTED&"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_query(input), want, "{input}");
        }
        assert!(matches!(redact_query("a=1&b=2"), Cow::Borrowed(_)));
    }

    #[test]
    fn url_full_redacts_credentials_and_signatures() {
        let h = HeaderMap::new();
        let cases = [
            ("http://example.com/", "http://example.com/"),
            ("http://example.com", "http://example.com/"),
            (
                "https://user:pass@example.com:8443/a?sig=1&b=2",
                "https://REDACTED:REDACTED@example.com:8443/a?sig=REDACTED&b=2",
            ),
            ("http://user@example.com/x", "http://REDACTED@example.com/x"),
        ];
        for (input, want) in cases {
            let uri: Uri = input.parse().unwrap();
            assert_eq!(url_full(&uri, &h).as_deref(), Some(want), "{input}");
        }
        let uri: Uri = "/path?q=1".parse().unwrap();
        let h = headers(&[("host", "svc:8080")]);
        assert_eq!(
            url_full(&uri, &h).as_deref(),
            Some("http://svc:8080/path?q=1")
        );
        assert_eq!(url_full(&uri, &HeaderMap::new()), None);
    }

    #[test]
    fn host_parsing() {
        type HostPort<'a> = Option<(&'a str, Option<u16>)>;
        let cases: [(&str, HostPort<'_>); 12] = [
            ("example.com", Some(("example.com", None))),
            ("example.com:8080", Some(("example.com", Some(8080)))),
            ("127.0.0.1:3000", Some(("127.0.0.1", Some(3000)))),
            ("[::1]:8080", Some(("::1", Some(8080)))),
            ("[::1]", Some(("::1", None))),
            ("[zz]:80", None),
            ("example.com:99999", None),
            ("example.com:", None),
            ("exa mple.com", None),
            ("", None),
            ("a:b:c", None),
            ("example.com:80x", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_host_port(input), want, "{input}");
        }
        assert_eq!(parse_host_port(&"a".repeat(300)), None);
    }

    #[test]
    fn forwarded_host_and_proto() {
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=https;host=\"example.com:8443\", for=10.0.0.1",
        )]);
        assert_eq!(forwarded_host(&h), Some("example.com:8443"));
        assert_eq!(forwarded_proto(&h), Some("https"));
        let h = headers(&[
            ("x-forwarded-host", "shop.example, proxy.internal"),
            ("x-forwarded-proto", "HTTPS"),
        ]);
        assert_eq!(forwarded_host(&h), Some("shop.example"));
        assert_eq!(forwarded_proto(&h), Some("https"));
        let h = headers(&[("x-forwarded-proto", "gopher")]);
        assert_eq!(forwarded_proto(&h), None);
        assert_eq!(forwarded_host(&HeaderMap::new()), None);
    }

    #[test]
    fn forwarded_client_walks_from_the_right_over_trusted_proxies() {
        let trusted = |ip: IpAddr| ip.to_string().starts_with("10.");
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Either, trusted),
            Some("198.51.100.7".parse().unwrap())
        );
        // Every node trusted: the leftmost one is the client.
        let h = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.2")]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Either, trusted),
            Some("10.0.0.9".parse().unwrap())
        );
        // Two header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "10.0.0.2"),
        ]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Either, trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        // Forwarded wins over X-Forwarded-For, with quoted v6 and ports.
        let h = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8:cafe::17]:4711\", for=10.0.0.3;proto=http",
            ),
            ("x-forwarded-for", "192.0.2.1"),
        ]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Either, trusted),
            Some("2001:db8:cafe::17".parse().unwrap())
        );
        // Obfuscated or garbage nodes stop the walk.
        let h = headers(&[("forwarded", "for=_hidden, for=10.0.0.3")]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Either, trusted),
            None
        );
        // Forwarded without `for=`: X-Forwarded-For still names the client.
        let h = headers(&[
            ("forwarded", "proto=https;host=shop.example"),
            ("x-forwarded-for", "203.0.113.9, 10.0.0.2"),
        ]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Either, trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        let h = headers(&[("x-forwarded-for", "nonsense")]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Either, trusted),
            None
        );
        assert_eq!(
            forwarded_client(&HeaderMap::new(), ForwardingHeader::Either, trusted),
            None
        );
    }

    #[test]
    fn forwarded_client_reads_only_the_header_the_proxies_write() {
        let trusted = |ip: IpAddr| ip.to_string().starts_with("10.");
        // A client sent its own `Forwarded`; the proxy appended to `X-Forwarded-For`.
        let h = headers(&[
            ("forwarded", "for=198.51.100.66"),
            ("x-forwarded-for", "203.0.113.9, 10.0.0.2"),
        ]);
        let client = |header| forwarded_client(&h, header, trusted);
        assert_eq!(
            client(ForwardingHeader::Either),
            Some("198.51.100.66".parse().unwrap())
        );
        assert_eq!(
            client(ForwardingHeader::XForwardedFor),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client(ForwardingHeader::Forwarded),
            Some("198.51.100.66".parse().unwrap())
        );
        // Only X-Forwarded-For present, but the proxies write Forwarded: nothing to believe.
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            forwarded_client(&h, ForwardingHeader::Forwarded, trusted),
            None
        );
    }

    #[test]
    fn nodes() {
        assert_eq!(parse_node("1.2.3.4:80"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(parse_node("\"[::1]:80\""), Some("::1".parse().unwrap()));
        assert_eq!(parse_node("unknown"), None);
        assert_eq!(
            parse_node("\"192.0.2.43:_a1\""),
            Some("192.0.2.43".parse().unwrap())
        );
        assert_eq!(
            parse_node("\"[2001:db8::1]:_a1\""),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_node("192.0.2.43:x"), None);
        assert_eq!(parse_node("_hidden:_a1"), None);
    }

    #[test]
    fn ip_values_format_without_heap_formatting() {
        assert_eq!(ip_value("::1".parse().unwrap()).as_str(), "::1");
        assert_eq!(
            ip_value("255.255.255.255".parse().unwrap()).as_str(),
            "255.255.255.255"
        );
        let long: IpAddr = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap();
        assert_eq!(ip_value(long).as_str(), long.to_string());
    }
}
