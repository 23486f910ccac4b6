//! Who is on the other end of a request: the client's address (through trusted reverse proxies)
//! and whether it came over HTTPS. Rate limits and login throttling count by [`Client::key`]:
//! an IPv4 address, or the /64 network of an IPv6 address (one subscriber gets a whole /64, so
//! counting single IPv6 addresses would let a client rotate through billions of them).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use oversight_app::App;

/// A network given in `trusted_proxies`: an address, or an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    pub fn parse(text: &str) -> Option<Net> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = text.trim().parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Net { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The trusted proxies of the configuration; an entry that is not an address or a network is
/// named in the error (the server refuses to start with it).
pub fn trusted_proxies(entries: &[String]) -> Result<Vec<Net>, String> {
    entries
        .iter()
        .map(|e| {
            Net::parse(e).ok_or_else(|| format!("trusted_proxies: “{e}” is not an address or a network (a.b.c.d/n)"))
        })
        .collect()
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client behind `peer`: when `peer` is a trusted proxy, the last address of
/// `X-Forwarded-For` that is not itself a trusted proxy (the ones before it could be written by
/// the client); and whether it used HTTPS, as the proxy says.
pub fn resolve(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    forwarded_proto: Option<&str>,
    trusted: &[Net],
) -> (IpAddr, bool) {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return (canonical(peer), false);
    }
    let mut client = canonical(peer);
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let https = forwarded_proto.is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    (client, https)
}

/// What rate limits count by: an IPv4 address, or an IPv6 address's /64.
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The client of a request.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client's address as seen through trusted proxies.
    pub ip: Option<IpAddr>,
    /// Whether the client used HTTPS (through a trusted proxy).
    pub https: bool,
}

impl Client {
    /// What rate limits and login throttling count by.
    pub fn key(&self) -> String {
        self.ip.map_or_else(|| "unknown".to_string(), limit_key)
    }

    /// `; Secure` when cookies should carry it: as configured (`secure_cookies`), or, when that
    /// is unset, when the request came over HTTPS.
    pub fn cookie_secure(&self, configured: Option<bool>) -> &'static str {
        if configured.unwrap_or(self.https) { "; Secure" } else { "" }
    }
}

impl FromRequestParts<App> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
            return Ok(Client { ip: None, https: false });
        };
        // Checked when the server starts: an entry that does not parse never gets here.
        let trusted = trusted_proxies(&app.config.trusted_proxies).unwrap_or_default();
        // Every `X-Forwarded-For` line, in order: a proxy may add its own line rather than
        // append to the client's, and the client's line must not be the only one read.
        let forwarded: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let forwarded = forwarded.join(",");
        let proto = parts.headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
        let (ip, https) = resolve(peer, Some(&forwarded), proto, &trusted);
        Ok(Client { ip: Some(ip), https })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = trusted_proxies(&["10.0.0.0/8".into(), "192.168.1.5".into()]).unwrap();
        // Straight from the client: the headers are the client's own words.
        assert_eq!(resolve(ip("203.0.113.9"), Some("1.2.3.4"), Some("https"), &trusted), (ip("203.0.113.9"), false));
        // Through the proxy: the last hop that is not a proxy; what the client wrote before it is not taken.
        let forwarded = Some("6.6.6.6, 203.0.113.9, 10.1.2.3");
        assert_eq!(resolve(ip("192.168.1.5"), forwarded, Some("https"), &trusted), (ip("203.0.113.9"), true));
        assert_eq!(resolve(ip("10.9.9.9"), Some("garbage"), Some("http"), &trusted), (ip("10.9.9.9"), false));
        assert_eq!(resolve(ip("::ffff:10.0.0.1"), Some("198.51.100.7"), None, &trusted), (ip("198.51.100.7"), false));
        assert!(trusted_proxies(&["10.0.0.0/33".into()]).unwrap_err().contains("10.0.0.0/33"));
        assert!(trusted_proxies(&["proxy.local".into()]).is_err());
        assert!(Net::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:ffff::1")));
        assert!(!Net::parse("2001:db8::/32").unwrap().contains(ip("2001:db9::1")));
        assert!(Net::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    }

    #[test]
    fn cookies_are_secure_as_configured_or_when_the_client_used_https() {
        let plain = Client { ip: None, https: false };
        let https = Client { ip: None, https: true };
        assert_eq!((plain.cookie_secure(None), https.cookie_secure(None)), ("", "; Secure"));
        assert_eq!((plain.cookie_secure(Some(true)), https.cookie_secure(Some(false))), ("; Secure", ""));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), limit_key(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(limit_key(ip("2001:db8:1:2::1")), limit_key(ip("2001:db8:1:3::1")));
        assert_eq!(limit_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
    }
}
