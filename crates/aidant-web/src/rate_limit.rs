//! Flood protection for the public endpoints that create records (reports,
//! drafts, feedback, keep-in-contact sign-ins), with tower_governor.
//!
//! The key is the client's address, held only in this process's memory for
//! as long as its counter matters (stale keys are dropped every minute); it
//! is never logged or stored. The client is the peer, unless the peer is one
//! of the configured trusted proxies: then it is the nearest address in
//! `X-Forwarded-For` that is not a trusted proxy (read from the right, the
//! end the proxies wrote), so each client behind a load balancer has its own
//! counter while a client cannot choose its address by sending the header.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use ipnet::IpNet;
use tower_governor::GovernorLayer;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use crate::problem::Problem;

/// Rate-limit keys: the client's address (see the module), or one shared
/// key when there is no peer (requests driven in memory by tests).
#[derive(Debug, Clone)]
pub struct ClientAddress {
    trusted_proxies: Arc<[IpNet]>,
}

impl ClientAddress {
    pub fn new(trusted_proxies: &[IpNet]) -> Self {
        Self { trusted_proxies: trusted_proxies.into() }
    }
}

impl KeyExtractor for ClientAddress {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, tower_governor::GovernorError> {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let forwarded: Vec<&str> = request.headers().get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).collect();
        Ok(client_address(peer, &forwarded, &self.trusted_proxies))
    }
}

/// The client behind `peer`: the peer itself unless it is a trusted proxy;
/// then the addresses the proxies appended to `X-Forwarded-For` (every
/// header's values in order) are read from the right, past each trusted
/// proxy, to the first that is not one. An entry that is not an address
/// stops the walk at the proxy that passed it on.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |address: &IpAddr| trusted_proxies.iter().any(|network| network.contains(address));
    let hops: Vec<&str> = forwarded_for.iter().flat_map(|value| value.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        if !trusted(&client) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(address) => client = address,
            Err(_) => break,
        }
    }
    client
}

/// Reads a trusted proxy setting: an address (`10.0.0.5`, `::1`) or a
/// network (`10.0.0.0/8`, `fd00::/8`).
pub fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an IP address or a network such as 10.0.0.0/8"))
}

/// How many record-creating requests one address may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per minute; 0 turns limiting off (benchmarks).
    pub per_minute: u32,
    /// Requests allowed in a quick burst before the rate applies.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_minute: 10, burst: 20 }
    }
}

pub type Layer = GovernorLayer<ClientAddress, NoOpMiddleware, Body>;

/// The layer to put on record-creating routes, or `None` when limiting is off.
/// Every route given the same layer shares one counter per client address.
pub fn layer(limit: RateLimit, trusted_proxies: &[IpNet]) -> Option<Layer> {
    if limit.per_minute == 0 || limit.burst == 0 {
        return None;
    }
    let period = Duration::from_millis(60_000 / u64::from(limit.per_minute));
    let config: GovernorConfig<ClientAddress, NoOpMiddleware> =
        GovernorConfigBuilder::default().key_extractor(ClientAddress::new(trusted_proxies)).period(period).burst_size(limit.burst).finish()?;
    let config = Arc::new(config);
    let limiter = config.limiter().clone();
    // Forget addresses whose counters have recovered, so memory stays small
    // and no address is kept longer than it matters.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(60));
            loop {
                interval.tick().await;
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
    }
    Some(GovernorLayer::new(config).error_handler(too_many))
}

fn too_many(_error: tower_governor::GovernorError) -> Response<Body> {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests",
        "Too many requests have come from your connection in a short time. Please wait a minute and try again.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_found_behind_trusted_proxies_only() {
        let proxies = [parse_proxy("10.0.0.0/8").unwrap(), parse_proxy("192.0.2.7").unwrap()];
        let cases: [(&str, &[&str], &str, &str); 8] = [
            ("10.0.0.2", &["203.0.113.9"], "203.0.113.9", "one trusted proxy"),
            ("10.0.0.2", &["203.0.113.9, 192.0.2.7"], "203.0.113.9", "two trusted proxies"),
            ("10.0.0.2", &["203.0.113.9", "192.0.2.7"], "203.0.113.9", "the header given twice"),
            ("10.0.0.2", &["6.6.6.6, 203.0.113.9"], "203.0.113.9", "what the client wrote itself is not believed"),
            ("198.51.100.4", &["203.0.113.9"], "198.51.100.4", "an untrusted peer cannot choose its address"),
            ("10.0.0.2", &[], "10.0.0.2", "a proxy that forwards nothing is the client"),
            ("10.0.0.2", &["not an address"], "10.0.0.2", "an entry that is not an address stops the walk"),
            ("10.0.0.2", &["2001:db8::1"], "2001:db8::1", "IPv6"),
        ];
        for (peer, forwarded, client, case) in cases {
            assert_eq!(client_address(ip(peer), forwarded, &proxies), ip(client), "{case}");
        }
        assert_eq!(client_address(ip("10.0.0.2"), &["203.0.113.9"], &[]), ip("10.0.0.2"), "no proxies trusted: the header is ignored");
    }

    #[test]
    fn proxy_settings_are_addresses_or_networks() {
        assert!(parse_proxy("127.0.0.1").unwrap().contains(&ip("127.0.0.1")));
        assert!(parse_proxy(" fd00::/8 ").unwrap().contains(&ip("fd00::1")));
        for wrong in ["10.0.0.0/33", "proxy.example", ""] {
            assert!(parse_proxy(wrong).unwrap_err().contains("not an IP address"), "{wrong}");
        }
    }
}
