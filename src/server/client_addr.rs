//! Who the client is, for per-address rate limits. Behind a reverse proxy the socket
//! peer is the proxy, so every client would share one bucket; the proxy names the
//! real client in `Forwarded` (RFC 7239) or `X-Forwarded-For`. Those headers are
//! anyone's to write, so they are read only when the peer is a proxy the operator
//! named, and only as far back as the chain of trusted proxies goes.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::FORWARDED;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// The address a request is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Set by the connection layer (`connections::serve`) for every request, and by
        // the in-process API for pages being rendered.
        parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .ok_or(ApiError::Internal("request without a client address"))
    }
}

/// The reverse proxies whose forwarding headers are believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `--trusted-proxy` value that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("trusted proxy {0:?}: expected an IP address or a network such as 10.0.0.0/8")]
pub struct BadProxy(String);

impl FromStr for TrustedProxies {
    type Err = BadProxy;

    /// A comma-separated list of addresses and networks; empty trusts none.
    fn from_str(list: &str) -> Result<Self, BadProxy> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                IpNet::from_str(item)
                    .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                    .map_err(|_| BadProxy(item.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; else the nearest
    /// address in the forwarding chain that is not a trusted proxy. Walking from the
    /// right keeps a client from choosing its own address by writing the header's left
    /// end. A chain that cannot be read ends the walk at the last hop known.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) => {
                    client = *ip;
                    if !self.trusts(*ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// The addresses a request passed, client first, from `Forwarded` if present, else
/// `X-Forwarded-For`. `None` stands for a hop that names no address (`unknown`, an
/// obfuscated identifier, or a malformed value).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: HeaderName| {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or(","))
            .collect::<Vec<_>>()
            .join(",")
    };
    let forwarded = values(FORWARDED);
    if !forwarded.trim().is_empty() {
        return forwarded
            .split(',')
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.eq_ignore_ascii_case("for")
                        .then(|| node_address(value.trim().trim_matches('"')))
                        .flatten()
                })
            })
            .collect();
    }
    values(HeaderName::from_static("x-forwarded-for"))
        .split(',')
        .filter(|hop| !hop.trim().is_empty())
        .map(|hop| node_address(hop.trim()))
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn node_address(node: &str) -> Option<IpAddr> {
    IpAddr::from_str(node)
        .ok()
        .or_else(|| SocketAddr::from_str(node).ok().map(|s| s.ip()))
        .or_else(|| IpAddr::from_str(node.strip_prefix('[')?.strip_suffix(']')?).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let proxies: TrustedProxies = "10.0.0.1".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(proxies.client(ip("198.51.100.7"), &h), ip("198.51.100.7"));
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_hops_are_ignored() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.168.1.1".parse().unwrap();
        // The client wrote "1.1.1.1" itself; the proxy appended its real address.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(proxies.client(ip("192.168.1.1"), &h), ip("203.0.113.9"));
        let h = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8::17]:4711\";proto=https",
        )]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("2001:db8::17"));
    }

    #[test]
    fn an_unreadable_chain_stops_at_the_last_known_hop() {
        let proxies: TrustedProxies = "10.0.0.1".parse().unwrap();
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        let h = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let err = "10.0.0.1, proxy.example"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(err.to_string().contains("proxy.example"));
    }
}
