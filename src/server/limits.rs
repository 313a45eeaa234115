//! Abuse limits on writes: a token bucket per client IP and per author key, and one per
//! client IP for photo uploads. A request over a limit gets 429 with `Retry-After` and
//! changes nothing.

use super::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Writes per minute (and burst) allowed per IP and per key; 0 disables a limit.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_ip_per_minute: u32,
    pub per_key_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_ip_per_minute: 6000,
            per_key_per_minute: 600,
        }
    }
}

/// Photo uploads (`POST /api/v1/photos`), which anyone may make: a bucket per IP of
/// their own, and a cap on what the store holds. Together they bound how fast and how
/// far the store grows.
#[derive(Clone, Copy, Debug)]
pub struct PhotoLimits {
    /// Uploads per minute (and burst) allowed per IP; 0 disables the limit.
    pub per_ip_per_minute: u32,
    /// Bytes the photo store may hold, each photo counted as at least 4 KiB.
    pub store_bytes: u64,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        PhotoLimits {
            per_ip_per_minute: 30,
            store_bytes: 2 << 30,
        }
    }
}

#[derive(Clone)]
pub(crate) struct WriteLimiter {
    per_ip: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    per_key: Option<Arc<DefaultKeyedRateLimiter<[u8; 32]>>>,
    photos_per_ip: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(
    per_minute: u32,
) -> Option<Arc<DefaultKeyedRateLimiter<K>>> {
    // The whole minute's allowance may come as a burst.
    NonZeroU32::new(per_minute)
        .map(|n| Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))))
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &Option<Arc<DefaultKeyedRateLimiter<K>>>,
    key: &K,
    what: &'static str,
) -> Result<(), ApiError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::RateLimited(what, wait.as_secs().max(1))
    })
}

impl WriteLimiter {
    pub fn new(limits: Limits, photos: PhotoLimits) -> Self {
        WriteLimiter {
            per_ip: limiter(limits.per_ip_per_minute),
            per_key: limiter(limits.per_key_per_minute),
            photos_per_ip: limiter(photos.per_ip_per_minute),
        }
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.per_ip, &ip, "address")
    }

    pub fn check_key(&self, key: &[u8; 32]) -> Result<(), ApiError> {
        check(&self.per_key, key, "key")
    }

    pub fn check_photo_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.photos_per_ip, &ip, "address (photo uploads)")
    }
}
