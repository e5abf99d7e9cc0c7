//! Growing delays per source for guesses at secrets: staff passwords and
//! reporters' passphrases.
//!
//! A per-account or per-report pause alone can be used against its owner by
//! anyone who knows the e-mail address or reference. So guessing is slowed
//! first where it comes from: each source (a client address, behind trusted
//! proxies the real client's; an IPv6 client by its /64, which one
//! subscriber usually holds whole) has a few free failures, then must wait
//! before its next try, twice as long after each further failure, up to a
//! ceiling. A success does not clear the count (anyone may make a report
//! and sign in to it, or hold one account, between guesses at others); a
//! source quiet for long enough starts again. Nothing here says whether an
//! account or reference exists: the count grows for made-up ones too.
//!
//! Sources are held only in this process's memory, only as long as their
//! delay matters, and never logged or stored.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::AppState;
use crate::rate_limit::client_address;

/// How guesses from one source are slowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Failures in a row a source may make before it has to wait.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; each further
    /// failure doubles it.
    pub first_delay: Duration,
    /// The longest wait.
    pub longest_delay: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self { free_failures: 5, first_delay: Duration::from_secs(1), longest_delay: Duration::from_secs(15 * 60) }
    }
}

impl BackoffPolicy {
    /// The wait after `failures` failures in a row.
    fn delay_after(&self, failures: u32) -> Duration {
        let Some(past_free) = failures.checked_sub(self.free_failures).filter(|past| *past > 0) else { return Duration::ZERO };
        let doublings = (past_free - 1).min(30);
        self.first_delay.saturating_mul(1 << doublings).min(self.longest_delay)
    }
}

/// Where a guess comes from, as the delays count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl Source {
    /// The source for a client address: IPv4 as it is, IPv6 by its /64.
    pub fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Self(address),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

/// The request's source, found as flood protection finds its client (see
/// `rate_limit`). Requests driven in memory without a peer share one.
impl FromRequestParts<AppState> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let forwarded: Vec<&str> = parts.headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).collect();
        Ok(Self::of(client_address(peer, &forwarded, &state.settings().trusted_proxies)))
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// No try is checked from this source before this instant.
    wait_until: Instant,
}

/// Failures in a row per source, for one kind of secret.
#[derive(Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    sources: Mutex<Sources>,
}

#[derive(Debug)]
struct Sources {
    failures: HashMap<Source, Failures>,
    last_sweep: Instant,
}

/// Sources idle this long past their wait are forgotten; so are all
/// failures older than the longest wait plus this.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

impl Backoff {
    pub fn new(policy: BackoffPolicy) -> Self {
        Self { policy, sources: Mutex::new(Sources { failures: HashMap::new(), last_sweep: Instant::now() }) }
    }

    fn sources(&self) -> std::sync::MutexGuard<'_, Sources> {
        // The map holds only counts; one left half-updated by a panic is
        // still a valid count.
        self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `source` must still wait before a try is checked, if at all.
    pub fn wait(&self, source: Source, now: Instant) -> Option<Duration> {
        let sources = self.sources();
        let failures = sources.failures.get(&source)?;
        Some(failures.wait_until.saturating_duration_since(now)).filter(|left| !left.is_zero())
    }

    /// Counts a failed try from `source`; returns the wait before its next.
    pub fn failed(&self, source: Source, now: Instant) -> Duration {
        let mut sources = self.sources();
        if now.saturating_duration_since(sources.last_sweep) >= Duration::from_secs(60) {
            sources.failures.retain(|_, failures| now.saturating_duration_since(failures.wait_until) < FORGET_AFTER + self.policy.longest_delay);
            sources.last_sweep = now;
        }
        let entry = sources.failures.entry(source).or_insert(Failures { count: 0, wait_until: now });
        // A source that has been quiet for long starts again.
        if now.saturating_duration_since(entry.wait_until) >= FORGET_AFTER + self.policy.longest_delay {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        let delay = self.policy.delay_after(entry.count);
        entry.wait_until = now + delay;
        delay
    }

    /// How many sources are held (for tests of forgetting).
    pub fn sources_held(&self) -> usize {
        self.sources().failures.len()
    }
}

/// A wait in whole seconds as a person is told it: rounded up, and never
/// fewer than two (so the messages' "seconds" is always right).
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(2)
}

/// Turns the page that says how long to wait into the answer a waiting
/// source gets: 429 with `Retry-After` in the same whole seconds.
pub fn waiting(mut page: axum::response::Response, seconds: u64) -> axum::response::Response {
    *page.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
    page.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source::of(text.parse().unwrap())
    }

    #[test]
    fn waits_grow_after_the_free_failures_up_to_the_ceiling() {
        let policy = BackoffPolicy { free_failures: 3, first_delay: Duration::from_secs(1), longest_delay: Duration::from_secs(60) };
        let delays: Vec<u64> = (1..=12).map(|failures| policy.delay_after(failures).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(policy.delay_after(u32::MAX), Duration::from_secs(60), "no overflow");
    }

    #[test]
    fn a_source_waits_and_others_do_not() {
        let backoff = Backoff::new(BackoffPolicy { free_failures: 2, ..BackoffPolicy::default() });
        let start = Instant::now();
        let attacker = source("203.0.113.9");
        for _ in 0..2 {
            assert_eq!(backoff.failed(attacker, start), Duration::ZERO);
        }
        assert_eq!(backoff.wait(attacker, start), None, "free failures cost nothing");
        assert_eq!(backoff.failed(attacker, start), Duration::from_secs(1));
        assert_eq!(backoff.wait(attacker, start), Some(Duration::from_secs(1)));
        assert_eq!(backoff.wait(source("203.0.113.10"), start), None, "another address is not held back");
        assert_eq!(backoff.wait(attacker, start + Duration::from_millis(400)), Some(Duration::from_millis(600)));
        assert_eq!(backoff.wait(attacker, start + Duration::from_secs(1)), None, "the wait ends");
        assert_eq!(backoff.failed(attacker, start + Duration::from_secs(1)), Duration::from_secs(2), "and doubles after the next failure");
        assert_eq!(backoff.failed(attacker, start + Duration::from_secs(3)), Duration::from_secs(4));
    }

    #[test]
    fn ipv6_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(source("2001:db8:1:2:aaaa::1"), source("2001:db8:1:2:ffff::9"));
        assert_ne!(source("2001:db8:1:2::1"), source("2001:db8:1:3::1"));
        assert_eq!(source("::ffff:203.0.113.9"), source("203.0.113.9"));
    }

    #[test]
    fn quiet_sources_are_forgotten() {
        let policy = BackoffPolicy { free_failures: 1, first_delay: Duration::from_secs(1), longest_delay: Duration::from_secs(60) };
        let backoff = Backoff::new(policy);
        let start = Instant::now();
        for count in 0..3 {
            backoff.failed(source(&format!("198.51.100.{count}")), start);
        }
        assert_eq!(backoff.sources_held(), 3);
        let later = start + FORGET_AFTER + Duration::from_secs(120);
        assert_eq!(backoff.failed(source("192.0.2.1"), later), Duration::ZERO, "a new source has its free failures");
        assert_eq!(backoff.sources_held(), 1, "the quiet ones were dropped in the sweep");
        let repeat = source("192.0.2.1");
        assert_eq!(backoff.failed(repeat, later), Duration::from_secs(1));
        assert_eq!(backoff.failed(repeat, later + FORGET_AFTER + Duration::from_secs(61)), Duration::ZERO, "a source quiet for long starts again");
    }

    #[test]
    fn waits_are_told_in_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(61)), 61);
        assert_eq!(whole_seconds(Duration::from_millis(2_001)), 3);
    }
}
