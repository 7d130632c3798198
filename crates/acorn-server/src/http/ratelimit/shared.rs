//! Token buckets in Redis, shared by every instance pointed at the same Redis and prefix.
//!
//! One Lua script refills and takes atomically (Redis runs scripts one at a time), with the
//! clock read from Redis's own `TIME` so instances with skewed clocks agree. The script is
//! sent with `EVALSHA` and loaded on `NOSCRIPT`. While Redis cannot be reached, requests are
//! decided by in-process buckets instead (the server keeps serving, never 5xx because of
//! Redis); the outage is logged once when it starts and once when it ends, and reported by
//! `/api/health`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::{json, Value};

use super::{decide, Decision, RateLimiter, TokenBuckets};

/// Refill to Redis's clock, take one token if there is one, keep the bucket as long as it takes
/// to fill up again. `KEYS[1]` the bucket, `ARGV` rate per second and burst. Returns
/// `{allowed (0|1), tokens left (string)}`.
const SCRIPT: &str = r"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, string.format('%.9f', tokens)}
";

/// Longest wait for Redis (connecting, or one answer) before a request is decided locally.
const TIMEOUT: Duration = Duration::from_millis(250);
/// How often a new connection is tried while Redis cannot be reached.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// The error while waiting to try connecting again (the last real error is kept instead).
const THROTTLED: &str = "not connected; retrying soon";

/// Token buckets kept in Redis, with in-process buckets as the fallback.
pub struct RedisBuckets {
    rate: f64,
    burst: f64,
    prefix: String,
    client: redis::Client,
    script: redis::Script,
    conn: Mutex<Connection>,
    local: TokenBuckets,
    /// Whether the last attempt failed (the outage has been logged).
    down: AtomicBool,
    last_error: Mutex<Option<String>>,
}

/// The connection, once made, and when the next attempt may be made when there is none.
struct Connection {
    manager: Option<ConnectionManager>,
    next_try: Instant,
}

impl std::fmt::Debug for RedisBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: not printed.
        f.debug_struct("RedisBuckets")
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisBuckets {
    /// A limiter refilling `rate` per second up to `burst`, in Redis at `url` under `prefix`.
    /// Only the URL is checked here; the connection is made on first use (and again after an
    /// outage), so the server starts even when Redis is down.
    pub fn new(url: &str, prefix: &str, rate: f64, burst: f64) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("--redis-url is not a Redis URL: {e}"))?;
        Ok(RedisBuckets {
            rate,
            burst: burst.max(1.0),
            prefix: prefix.to_owned(),
            client,
            script: redis::Script::new(SCRIPT),
            conn: Mutex::new(Connection {
                manager: None,
                next_try: Instant::now(),
            }),
            local: TokenBuckets::new(rate, burst),
            down: AtomicBool::new(false),
            last_error: Mutex::new(None),
        })
    }

    /// The connection, connecting first when there is none (at most once per
    /// [`RECONNECT_EVERY`], and by one request at a time; the others go local meanwhile).
    async fn connection(&self) -> Result<ConnectionManager, String> {
        {
            let Ok(mut c) = self.conn.lock() else {
                return Err("connection state poisoned".to_owned());
            };
            if let Some(m) = &c.manager {
                return Ok(m.clone());
            }
            let now = Instant::now();
            if now < c.next_try {
                return Err(THROTTLED.to_owned());
            }
            c.next_try = now + RECONNECT_EVERY;
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = tokio::time::timeout(
            TIMEOUT * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| "connecting timed out".to_owned())?
        .map_err(|e| format!("connecting: {e}"))?;
        if let Ok(mut c) = self.conn.lock() {
            c.manager = Some(manager.clone());
        }
        Ok(manager)
    }

    /// Forgets the connection after a failure: until the next attempt, requests are decided
    /// locally at once instead of each waiting for Redis.
    fn disconnect(&self) {
        if let Ok(mut c) = self.conn.lock() {
            c.manager = None;
            c.next_try = Instant::now() + RECONNECT_EVERY;
        }
    }

    /// One take from the bucket in Redis.
    async fn take_shared(&self, key: &str) -> Result<Decision, String> {
        let mut conn = self.connection().await?;
        let mut call = self.script.prepare_invoke();
        call.key(format!("{}{key}", self.prefix))
            .arg(self.rate)
            .arg(self.burst);
        let answer = tokio::time::timeout(TIMEOUT, call.invoke_async(&mut conn))
            .await
            .map_err(|_| "no answer in time".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()));
        let (allowed, tokens): (i64, String) = answer.inspect_err(|_| self.disconnect())?;
        let tokens = tokens
            .parse::<f64>()
            .map_err(|e| format!("bad answer from the script: {e}"))?;
        Ok(decide(allowed == 1, tokens, self.rate, self.burst))
    }

    /// Records the outcome of one attempt: logs when an outage starts and when it ends.
    fn record(&self, outcome: Result<(), &str>) {
        match outcome {
            Ok(()) => {
                if self.down.swap(false, Ordering::AcqRel) {
                    tracing::info!("redis reachable again: rate limits shared again");
                }
            }
            Err(e) => {
                if e != THROTTLED {
                    if let Ok(mut last) = self.last_error.lock() {
                        *last = Some(e.to_owned());
                    }
                }
                if !self.down.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        error = e,
                        "redis unreachable: rate limits are per instance until it is back"
                    );
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisBuckets {
    async fn check(&self, key: &str) -> Decision {
        match self.take_shared(key).await {
            Ok(d) => {
                self.record(Ok(()));
                d
            }
            Err(e) => {
                self.record(Err(&e));
                self.local.take_now(key)
            }
        }
    }

    async fn details(&self) -> Option<Value> {
        // Look now rather than report the last request's outcome (there may be no traffic).
        let ping = async {
            let mut conn = self.connection().await?;
            tokio::time::timeout(TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn))
                .await
                .map_err(|_| "no answer in time".to_owned())?
                .map_err(|e| e.to_string())
                .map(drop)
                .inspect_err(|_| self.disconnect())
        };
        let outcome = ping.await;
        self.record(outcome.as_ref().map(|_| ()).map_err(String::as_str));
        let error = self.last_error.lock().ok().and_then(|e| e.clone());
        Some(match outcome {
            Ok(()) => json!({"backend": "redis", "redis": "up"}),
            Err(_) => json!({
                "backend": "local",
                "redis": "down",
                "fallback": "per-instance buckets until Redis is back",
                "error": error,
            }),
        })
    }
}
