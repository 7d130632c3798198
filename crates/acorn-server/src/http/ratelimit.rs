//! Per-merchant rate limiting (and per-IP for the token grant), contract §8.
//!
//! [`TokenBuckets`] keeps the buckets in this process (the default). [`RedisBuckets`] keeps
//! them in Redis (one Lua token-bucket script keyed the same way), so every instance draws on
//! one bucket per merchant; it falls back to local buckets while Redis is unreachable.

pub mod shared;

pub use shared::RedisBuckets;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use acorn_types::{FailureReason, ReasonCode};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// The sustained rate, requests per second (what `X-RateLimit-Limit` says).
    pub rate: f64,
    /// Requests left right now.
    pub remaining: u64,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// When refused: whole seconds until one request is allowed.
    pub retry_after_secs: u64,
}

/// Something that decides whether a keyed request may proceed.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Takes one request's worth from `key`'s allowance.
    async fn check(&self, key: &str) -> Decision;

    /// What `/api/health` says about this limiter; `None` for the in-process one.
    async fn details(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A token bucket's state.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Refills `bucket` to `now` and takes one token if there is one. Pure, for testing.
pub fn take(bucket: &mut Bucket, now: Instant, rate: f64, burst: f64) -> Decision {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
    bucket.at = now;
    let allowed = bucket.tokens >= 1.0;
    if allowed {
        bucket.tokens -= 1.0;
    }
    decide(allowed, bucket.tokens, rate, burst)
}

/// The decision once the bucket holds `tokens` (after taking one when `allowed`).
pub fn decide(allowed: bool, tokens: f64, rate: f64, burst: f64) -> Decision {
    let secs = |x: f64| (x / rate).ceil().max(0.0) as u64;
    Decision {
        allowed,
        rate,
        remaining: tokens.floor().max(0.0) as u64,
        reset_secs: secs(burst - tokens),
        retry_after_secs: if allowed {
            0
        } else {
            secs(1.0 - tokens).max(1)
        },
    }
}

/// In-process token buckets: `rate` requests per second, bursts up to `burst`.
#[derive(Debug)]
pub struct TokenBuckets {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl TokenBuckets {
    /// Takes one request's worth from `key`'s allowance, without waiting.
    pub fn take_now(&self, key: &str) -> Decision {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; fail open rather than refuse everyone.
            return Decision {
                allowed: true,
                rate: self.rate,
                remaining: 0,
                reset_secs: 0,
                retry_after_secs: 0,
            };
        };
        if buckets.len() > 100_000 {
            // Forget idle keys (their buckets are full again anyway).
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        take(bucket, now, self.rate, self.burst)
    }

    /// A limiter refilling `rate` per second up to `burst`.
    pub fn new(rate: f64, burst: f64) -> Self {
        TokenBuckets {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for TokenBuckets {
    async fn check(&self, key: &str) -> Decision {
        self.take_now(key)
    }
}

/// The limiters in force.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Per merchant, on authenticated requests.
    pub api: Option<Arc<dyn RateLimiter>>,
    /// Per client IP, on the token grant.
    pub grant: Option<Arc<dyn RateLimiter>>,
}

impl Limits {
    /// What `/api/health` adds about the limiters (only when one of them reports something,
    /// i.e. when Redis is configured).
    pub async fn details(&self) -> Option<serde_json::Value> {
        let mut out = serde_json::Map::new();
        for (name, limiter) in [("rate_limit", &self.api), ("grant_rate_limit", &self.grant)] {
            if let Some(d) = match limiter {
                Some(l) => l.details().await,
                None => None,
            } {
                out.insert(name.to_owned(), d);
            }
        }
        (!out.is_empty()).then_some(serde_json::Value::Object(out))
    }
}

fn put(headers: &mut HeaderMap, name: &'static str, v: u64) {
    headers.insert(name, HeaderValue::from(v));
}

/// `X-RateLimit-Limit`: the rate per second, as an integer when it is whole (`1000`), else as
/// a decimal (`0.5`).
fn rate_value(rate: f64) -> Option<HeaderValue> {
    HeaderValue::from_str(&rate.to_string()).ok()
}

fn annotate(headers: &mut HeaderMap, d: &Decision) {
    if let Some(v) = rate_value(d.rate) {
        headers.insert("x-ratelimit-limit", v);
    }
    put(headers, "x-ratelimit-remaining", d.remaining);
    put(headers, "x-ratelimit-reset", d.reset_secs);
}

/// The per-merchant limiter: a route layer of the protected routes, inside the auth layer, keyed
/// by the [`AuthMerchant`] that layer put in the request's extensions.
pub async fn api_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let merchant = req.extensions().get::<AuthMerchant>().map(|m| m.0);
    match (state.limits.api.as_deref(), merchant) {
        (Some(limiter), Some(m)) => enforce(limiter, &format!("merchant:{m}"), req, next).await,
        _ => next.run(req).await,
    }
}

/// The per-client-IP limiter: a route layer of the token grant.
pub async fn grant_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(limiter) = state.limits.grant.as_deref() else {
        return next.run(req).await;
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    enforce(limiter, &format!("ip:{ip}"), req, next).await
}

/// Refuses with 429 and `Retry-After`, and annotates allowed responses.
async fn enforce(limiter: &dyn RateLimiter, key: &str, req: Request, next: Next) -> Response {
    let decision = limiter.check(key).await;
    if !decision.allowed {
        let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            .with_reason(FailureReason::new(
                ReasonCode::RateLimitExceeded,
                format!(
                    "rate limit exceeded; retry after {} s",
                    decision.retry_after_secs
                ),
                &[],
            ))
            .with_header(
                header::RETRY_AFTER,
                HeaderValue::from(decision.retry_after_secs),
            )
            .into_response();
        annotate(r.headers_mut(), &decision);
        return r;
    }
    let mut response = next.run(req).await;
    annotate(response.headers_mut(), &decision);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_a_burst_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket {
            tokens: 3.0,
            at: t0,
        };
        for left in [2, 1, 0] {
            let d = take(&mut b, t0, 2.0, 3.0);
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
        }
        let d = take(&mut b, t0, 2.0, 3.0);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 1);
        assert_eq!(d.reset_secs, 2);
        // Half a second refills one token at 2/s.
        assert!(take(&mut b, t0 + Duration::from_millis(500), 2.0, 3.0).allowed);
        assert!(!take(&mut b, t0 + Duration::from_millis(500), 2.0, 3.0).allowed);
        // Never above the burst.
        let d = take(&mut b, t0 + Duration::from_secs(60), 2.0, 3.0);
        assert_eq!(d.remaining, 2);
        // The limit announced is the rate, not the burst.
        assert_eq!(d.rate, 2.0);
    }

    #[test]
    fn the_limit_header_is_the_rate_per_second() {
        assert_eq!(rate_value(1000.0), Some(HeaderValue::from_static("1000")));
        assert_eq!(rate_value(0.5), Some(HeaderValue::from_static("0.5")));
        let mut headers = HeaderMap::new();
        let d = take(
            &mut Bucket {
                tokens: 2000.0,
                at: Instant::now(),
            },
            Instant::now(),
            1000.0,
            2000.0,
        );
        annotate(&mut headers, &d);
        assert_eq!(headers["x-ratelimit-limit"], "1000");
        assert_eq!(headers["x-ratelimit-remaining"], "1999");
    }

    #[test]
    fn slow_rates_round_retry_after_up() {
        let t0 = Instant::now();
        let mut b = Bucket {
            tokens: 0.0,
            at: t0,
        };
        let d = take(&mut b, t0, 0.1, 1.0);
        assert_eq!((d.allowed, d.retry_after_secs), (false, 10));
    }
}
