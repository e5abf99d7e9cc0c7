//! Flood protection for the public endpoints that create records (reports,
//! drafts, feedback, keep-in-contact sign-ins), with tower_governor.
//!
//! The key is the peer's address, held only in this process's memory for as
//! long as its counter matters (stale keys are dropped every minute); it is
//! never logged or stored. Behind a reverse proxy every request shares the
//! proxy's address, which makes this a global ceiling: tune the settings.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorLayer;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use crate::problem::Problem;

/// Rate-limit keys: the peer address, or one shared key when there is none
/// (requests driven in memory by tests).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddress;

impl KeyExtractor for PeerAddress {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, tower_governor::GovernorError> {
        Ok(request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()))
    }
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

pub type Layer = GovernorLayer<PeerAddress, NoOpMiddleware, Body>;

/// The layer to put on record-creating routes, or `None` when limiting is off.
/// Every route given the same layer shares one counter per address.
pub fn layer(limit: RateLimit) -> Option<Layer> {
    if limit.per_minute == 0 || limit.burst == 0 {
        return None;
    }
    let period = Duration::from_millis(60_000 / u64::from(limit.per_minute));
    let config: GovernorConfig<PeerAddress, NoOpMiddleware> =
        GovernorConfigBuilder::default().key_extractor(PeerAddress).period(period).burst_size(limit.burst).finish()?;
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
