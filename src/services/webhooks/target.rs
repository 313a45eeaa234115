//! Where a delivery may go. A callback is an `http` or `https` URL of bounded length
//! with a host and no credentials; unless the operator allows private targets, the
//! addresses it reaches must be public, checked both when subscribing (an address
//! written in the URL) and at every delivery (the addresses a name resolves to, so a
//! name that later resolves to 127.0.0.1 is refused then), and redirects are never
//! followed: a server's own network is not reachable through its webhooks.

use super::WebhookError;
use std::net::{IpAddr, SocketAddr};
use url::{Host, Url};

/// Longest callback URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

fn bad(msg: &str) -> WebhookError {
    WebhookError::BadRequest(format!("url: {msg}"))
}

/// The callback URL `text`, checked.
pub fn callback(text: &str, allow_private: bool) -> Result<Url, WebhookError> {
    if text.len() > MAX_URL_BYTES {
        return Err(bad(&format!("must be at most {MAX_URL_BYTES} bytes")));
    }
    let url = Url::parse(text).map_err(|_| bad("must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    let ip = match url.host() {
        None => return Err(bad("must name a host")),
        Some(Host::Domain(name)) => {
            if !allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                return Err(bad(PRIVATE));
            }
            None
        }
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
    };
    if ip.is_some_and(|ip| !allow_private && !is_public(ip)) {
        return Err(bad(PRIVATE));
    }
    Ok(url)
}

const PRIVATE: &str = "must reach a public address (this server does not deliver to loopback, private or link-local networks)";

/// Whether `ip` is a public unicast address: not loopback, unspecified, private
/// (RFC 1918, unique local), shared (RFC 6598), link-local, multicast, broadcast or
/// reserved for documentation, nor an IPv4 address of those mapped into IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// A resolver that answers only the public addresses of a name (refusing a name
/// with none), for the delivery client when private targets are not allowed.
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                return Err("the callback's host has no public address".into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn callbacks_are_checked_by_name() {
        let refused = |url: &str, allow: bool| match callback(url, allow) {
            Err(WebhookError::BadRequest(m)) => m,
            other => panic!("{url}: {other:?}"),
        };
        assert!(refused("ftp://example.org/x", true).contains("http or https"));
        assert!(refused("not a url", true).contains("absolute"));
        assert!(refused("http://user:pw@example.org/", true).contains("password"));
        assert!(
            refused(&format!("https://example.org/{}", "a".repeat(2048)), true).contains("2048")
        );
        assert!(refused("http://127.0.0.1:9/hook", false).contains("public address"));
        assert!(refused("http://localhost/hook", false).contains("public address"));
        assert!(refused("http://[::1]/hook", false).contains("public address"));
        assert!(callback("http://127.0.0.1:9/hook", true).is_ok());
        assert!(callback("https://hooks.example.org/aid?x=1", false).is_ok());
    }
}
