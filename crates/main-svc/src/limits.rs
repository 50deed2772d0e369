//! Keeping one client from inflating like counts: a shopper who drops the cookie before each
//! like becomes a new shopper every time, so likes are limited per client address too (and
//! per shopper, for one who keeps the cookie but hammers the button). Over a limit the like
//! is refused with `429` and `Retry-After`, before any database work. Behind nginx the
//! address is the forwarded one, believed only from `TRUSTED_PROXIES`.
//!
//! GCRA buckets (the `governor` crate) in the process's memory: each replica keeps its own,
//! so with N replicas behind a balancer a client gets up to N times the rate. Idle buckets
//! are dropped every minute.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shop_runtime::{ConfigError, Env};

/// How fast one client may like (main-api): per client address
/// (`LIKES_PER_MINUTE_PER_ADDRESS`, default 600, shoppers behind one NAT share it) and per
/// shopper (`LIKES_PER_MINUTE_PER_SHOPPER`, default 60); each allows a burst of a sixth of
/// its minute at once. `0` turns a limit off (load tests from one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LikeLimitSettings {
    pub per_address_per_minute: u32,
    pub per_shopper_per_minute: u32,
}

impl LikeLimitSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(LikeLimitSettings {
            per_address_per_minute: env.parse("LIKES_PER_MINUTE_PER_ADDRESS", 600)?,
            per_shopper_per_minute: env.parse("LIKES_PER_MINUTE_PER_SHOPPER", 60)?,
        })
    }
}

/// The like limits of one process.
#[derive(Debug, Default)]
pub struct LikeLimits {
    by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    by_shopper: Option<DefaultKeyedRateLimiter<String>>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    let rate = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new((per_minute / 6).max(1))?;
    Some(RateLimiter::keyed(
        Quota::per_minute(rate).allow_burst(burst),
    ))
}

impl LikeLimits {
    pub fn new(settings: LikeLimitSettings) -> Self {
        LikeLimits {
            by_address: limiter(settings.per_address_per_minute),
            by_shopper: limiter(settings.per_shopper_per_minute),
        }
    }

    /// `Err(wait)` when this address or shopper must wait before liking again. A new
    /// shopper (no cookie yet) is limited by address only.
    pub fn check(&self, address: Option<IpAddr>, shopper: Option<&str>) -> Result<(), Duration> {
        // The limiter's own clock: making a `DefaultClock` per like calibrated a new
        // quanta clock (CPUID) each time, 7 % of main-api's CPU under the like load.
        if let (Some(limiter), Some(ip)) = (&self.by_address, address) {
            limiter
                .check_key(&ip)
                .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))?;
        }
        if let (Some(limiter), Some(shopper)) = (&self.by_shopper, shopper) {
            limiter
                .check_key(&shopper.to_owned())
                .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))?;
        }
        Ok(())
    }

    /// Forgets buckets that are full again (clients that stopped liking).
    pub fn forget_idle(&self) {
        if let Some(l) = &self.by_address {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.by_shopper {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_waits_and_zero_means_no_limit() {
        let limits = LikeLimits::new(LikeLimitSettings {
            per_address_per_minute: 60,
            per_shopper_per_minute: 0,
        });
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..10 {
            assert_eq!(limits.check(Some(ip), None), Ok(()));
        }
        let wait = limits.check(Some(ip), None).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        assert_eq!(limits.check(Some(other), None), Ok(()), "per address");
        assert_eq!(limits.check(None, Some("s")), Ok(()), "no shopper limit");
    }

    #[test]
    fn a_shopper_is_limited_even_from_many_addresses() {
        let limits = LikeLimits::new(LikeLimitSettings {
            per_address_per_minute: 0,
            per_shopper_per_minute: 6,
        });
        assert_eq!(
            limits.check(Some("203.0.113.1".parse().unwrap()), Some("alice")),
            Ok(())
        );
        assert!(
            limits
                .check(Some("203.0.113.2".parse().unwrap()), Some("alice"))
                .is_err()
        );
        assert_eq!(limits.check(None, Some("bob")), Ok(()));
    }
}
