//! Which peers are trusted to report the original client in forwarding headers.

use std::net::IpAddr;

/// The proxies whose `Forwarded` / `X-Forwarded-For` headers are believed for `client.address`.
///
/// A client can write any forwarding header it likes, so `client.address` comes from one only when
/// the connection's peer (axum's `ConnectInfo<SocketAddr>`) is a trusted proxy; then the header's
/// nodes are walked from the right, skipping trusted proxies, and the first other node is the
/// client. The default trusts no one: `client.address` is the peer itself.
///
/// # Examples
///
/// ```
/// use tracewire_tower::TrustedProxies;
///
/// let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7, fd00::/8").expect("valid");
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(proxies.contains("::ffff:10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.168.1.8".parse().unwrap()));
/// assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    all: bool,
    nets: Vec<(IpAddr, u8)>,
    header: ForwardingHeader,
}

/// The forwarding header trusted proxies write the client's address in.
///
/// A proxy passes on the headers it received, so a header the proxy does not write itself comes
/// from the client and says whatever the client likes. Name the one your proxies write: nginx's
/// `$proxy_add_x_forwarded_for` and most cloud load balancers write `X-Forwarded-For`;
/// Envoy and some others can write `Forwarded` (RFC 7239).
///
/// ```
/// use tracewire_tower::{ForwardingHeader, TrustedProxies};
///
/// let proxies = TrustedProxies::parse("10.0.0.0/8")
///     .expect("valid")
///     .with_header(ForwardingHeader::XForwardedFor);
/// assert_eq!(proxies.header(), ForwardingHeader::XForwardedFor);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardingHeader {
    /// `Forwarded` when it has a `for=` node, else `X-Forwarded-For` (the default). Only safe
    /// when the proxies replace or strip both headers as received from clients.
    #[default]
    Either,
    /// Only `Forwarded`; an `X-Forwarded-For` header is ignored.
    Forwarded,
    /// Only `X-Forwarded-For`; a `Forwarded` header is ignored.
    XForwardedFor,
}

/// A trusted-proxy entry that is neither an IP address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid trusted proxy `{entry}`: expected an IP address or a CIDR block such as 10.0.0.0/8"
)]
pub struct TrustedProxiesError {
    entry: String,
}

impl TrustedProxies {
    /// Trusts no peer (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts every peer: only for a service that cannot be reached except through its proxies.
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// Also trusts the block `addr/prefix_len` (the length is capped at the address's width).
    pub fn with_net(mut self, addr: IpAddr, prefix_len: u8) -> Self {
        let canonical = addr.to_canonical();
        // An IPv4-mapped IPv6 block (`::ffff:10.0.0.0/104`) is the IPv4 block of its last bits.
        let prefix_len = if addr.is_ipv6() && canonical.is_ipv4() {
            prefix_len.saturating_sub(96)
        } else {
            prefix_len
        };
        let width = if canonical.is_ipv4() { 32 } else { 128 };
        self.nets.push((canonical, prefix_len.min(width)));
        self
    }

    /// Parses a comma-separated list of addresses and CIDR blocks.
    ///
    /// # Errors
    ///
    /// [`TrustedProxiesError`] for the first entry that is neither.
    pub fn parse(list: &str) -> Result<Self, TrustedProxiesError> {
        let mut out = Self::none();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || TrustedProxiesError {
                entry: entry.to_owned(),
            };
            let (addr, len) = match entry.split_once('/') {
                Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
                None => (entry, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let width = if addr.is_ipv4() { 32 } else { 128 };
            let len = len.unwrap_or(width);
            if len > width {
                return Err(bad());
            }
            out = out.with_net(addr, len);
        }
        Ok(out)
    }

    /// Reads the client's address from `header` only (default [`ForwardingHeader::Either`]).
    pub fn with_header(mut self, header: ForwardingHeader) -> Self {
        self.header = header;
        self
    }

    /// The forwarding header the client's address is read from.
    pub fn header(&self) -> ForwardingHeader {
        self.header
    }

    /// Whether no peer is trusted.
    pub fn is_none(&self) -> bool {
        !self.all && self.nets.is_empty()
    }

    /// Whether every peer is trusted (so forwarding headers count even without a known peer).
    pub(crate) fn contains_all(&self) -> bool {
        self.all
    }

    /// Whether `ip` is trusted.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.all {
            return true;
        }
        let ip = ip.to_canonical();
        self.nets.iter().any(|&(net, len)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), len),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), len),
            _ => false,
        })
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let full = usize::from(len / 8);
    let rest = len % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        let p =
            TrustedProxies::parse("10.0.0.0/8, 172.16.0.0/12, 127.0.0.1, 2001:db8::/33").unwrap();
        let cases = [
            ("10.255.0.1", true),
            ("11.0.0.1", false),
            ("172.31.255.255", true),
            ("172.32.0.0", false),
            ("127.0.0.1", true),
            ("127.0.0.2", false),
            ("2001:db8:7fff::1", true),
            ("2001:db8:8000::1", false),
            ("::ffff:127.0.0.1", true),
        ];
        for (ip, want) in cases {
            assert_eq!(p.contains(ip.parse().unwrap()), want, "{ip}");
        }
        let mapped = TrustedProxies::parse("::ffff:10.0.0.0/104").unwrap();
        assert!(mapped.contains("10.200.0.1".parse().unwrap()));
        assert!(mapped.contains("::ffff:10.200.0.1".parse().unwrap()));
        assert!(!mapped.contains("11.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::none().is_none());
        assert!(!TrustedProxies::none().contains("10.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::all().contains("8.8.8.8".parse().unwrap()));
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn errors_name_the_entry() {
        let err = TrustedProxies::parse("10.0.0.0/8, nope").unwrap_err();
        assert!(err.to_string().contains("`nope`"));
        assert!(TrustedProxies::parse("::1/129").is_err());
        assert!(TrustedProxies::parse("1.2.3.4/x").is_err());
        assert_eq!(
            TrustedProxies::parse(" , ").unwrap(),
            TrustedProxies::none()
        );
    }
}
