//! Flood protection for the public endpoints that create records (reports,
//! drafts, feedback, keep-in-contact sign-ins) and for staff sign-in.
//!
//! Each client is counted by its address, which is never logged or stored
//! as it is. On PostgreSQL the counts are rows in the database that every
//! `aidant serve` on it shares, under a keyed hash of the address, so a
//! limit holds across processes behind a load balancer
//! (`aidant_store::flood`); on SQLite, one process by design, they are held
//! in this process's memory with governor for as long as they matter. Stale
//! counts are dropped every minute either way. The client is the peer,
//! unless the peer is one of the configured trusted proxies: then it is the
//! nearest address in `X-Forwarded-For` that is not a trusted proxy (read
//! from the right, the end the proxies wrote), so each client behind a load
//! balancer has its own counter while a client cannot choose its address by
//! sending the header.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use aidant_store::flood::FloodRate;
use aidant_store::{Backend, Store};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use crate::AppState;
use crate::problem::Problem;

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

/// Where a guard counts.
#[derive(Clone)]
enum Counter {
    /// In this process (SQLite, or routes listed without a database).
    Memory(Arc<DefaultKeyedRateLimiter<IpAddr>>),
    /// In the database every process shares (PostgreSQL).
    Shared(Store),
}

/// A limit on a group of routes: every route given the same guard shares
/// one count per client.
#[derive(Clone)]
pub struct FloodGuard {
    /// The limiter's name in the database (`public`, `sign_in`).
    name: &'static str,
    rate: FloodRate,
    trusted_proxies: Arc<[IpNet]>,
    counter: Counter,
}

impl FloodGuard {
    /// The guard named `name` for `limit`, counting in `store` when it is
    /// PostgreSQL and in memory otherwise, or `None` when limiting is off.
    pub fn new(name: &'static str, limit: RateLimit, trusted_proxies: &[IpNet], store: Option<&Store>) -> Option<Self> {
        let burst = NonZeroU32::new(limit.burst)?;
        let period_ms = 60_000 / u64::from(NonZeroU32::new(limit.per_minute)?.get());
        let counter = match store {
            Some(store) if store.backend() == Backend::Postgres => Counter::Shared(store.clone()),
            _ => Counter::Memory(Arc::new(RateLimiter::keyed(Quota::with_period(Duration::from_millis(period_ms))?.allow_burst(burst)))),
        };
        // Forget clients whose allowance has recovered, so no address (or
        // its hash) is kept longer than it matters.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let counter = counter.clone();
            runtime.spawn(async move {
                let mut interval = tokio::time::interval(Duration::from_secs(60));
                loop {
                    interval.tick().await;
                    match &counter {
                        Counter::Memory(limiter) => {
                            limiter.retain_recent();
                            limiter.shrink_to_fit();
                        }
                        Counter::Shared(store) => {
                            if let Err(error) = store.sweep_flood_limits(aidant_store::now_ms()).await {
                                tracing::warn!(error = %error, "could not sweep flood counts");
                            }
                        }
                    }
                }
            });
        }
        let rate = FloodRate { period_ms: i64::try_from(period_ms).unwrap_or(i64::MAX), burst: i64::from(burst.get()) };
        Some(FloodGuard { name, rate, trusted_proxies: trusted_proxies.into(), counter })
    }

    /// Whether `client` may make one more request now (counting it if so).
    /// A database that does not answer lets the request through: the
    /// request itself then fails on its own, or succeeds, and a working
    /// reporting line is worth more than its flood limit.
    async fn allows(&self, client: IpAddr) -> bool {
        match &self.counter {
            Counter::Memory(limiter) => limiter.check_key(&client).is_ok(),
            Counter::Shared(store) => {
                let bytes = match client.to_canonical() {
                    IpAddr::V4(address) => address.octets().to_vec(),
                    IpAddr::V6(address) => address.octets().to_vec(),
                };
                store.take_flood_allowance(self.name, &bytes, self.rate, aidant_store::now_ms()).await.unwrap_or_else(|error| {
                    tracing::warn!(error = %error, limiter = self.name, "could not count a request against the flood limit; let through");
                    true
                })
            }
        }
    }
}

/// `handler` behind `guard`, or as it is when there is none.
pub fn limited(handler: MethodRouter<AppState>, guard: Option<&FloodGuard>) -> MethodRouter<AppState> {
    match guard {
        Some(guard) => handler.layer(axum::middleware::from_fn_with_state(guard.clone(), enforce)),
        None => handler,
    }
}

async fn enforce(State(guard): State<FloodGuard>, request: Request<Body>, next: Next) -> Response<Body> {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let forwarded: Vec<&str> = request.headers().get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).collect();
    let client = client_address(peer, &forwarded, &guard.trusted_proxies);
    if guard.allows(client).await { next.run(request).await } else { too_many() }
}

fn too_many() -> Response<Body> {
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
