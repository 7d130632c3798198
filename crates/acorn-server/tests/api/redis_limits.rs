//! Rate limits shared through Redis (`--redis-url`): one allowance per merchant across
//! instances, and the local fallback (no 5xx) while Redis cannot be reached.
//!
//! Needs Redis at `ACORN_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`); every test uses
//! its own key prefix so tests running in parallel do not share buckets.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{spawn_app_with, start, Backend, TestApp};

fn redis_url() -> String {
    std::env::var("ACORN_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn prefix() -> String {
    format!("acorn-test:{}:", uuid::Uuid::new_v4())
}

/// An app whose merchant may send `burst` requests, then one per 100 s.
async fn app_with_redis(url: String, burst: f64) -> TestApp {
    spawn_app_with(Backend::Sqlite, |c| {
        c.redis_url = Some(url);
        c.redis_key_prefix = prefix();
        c.rate_limit = Some((0.01, burst));
    })
    .await
    .expect("app")
}

/// `GET /api/v1/customers` on `base` as the app's merchant: (status, remaining).
async fn list(app: &TestApp, base: &str) -> (u16, Option<String>) {
    let res = app
        .http
        .get(format!("{base}/api/v1/customers"))
        .bearer_auth(&app.merchant.token)
        .send()
        .await
        .expect("send");
    let remaining = res
        .headers()
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (res.status().as_u16(), remaining)
}

async fn health(app: &TestApp) -> Value {
    let res = app
        .http
        .get(format!("{}/api/health", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status().as_u16(),
        200,
        "health stays 200 whatever Redis does"
    );
    res.json().await.expect("json")
}

#[tokio::test]
async fn two_instances_share_one_allowance_per_merchant() {
    let a = app_with_redis(redis_url(), 4.0).await;
    // A second instance on the same database and Redis (and prefix).
    let (_b_state, b_base, b_server) = start(a.config.clone()).await;
    let mut seen = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 { &a.base } else { &b_base };
        seen.push(list(&a, base).await);
    }
    let statuses: Vec<u16> = seen.iter().map(|s| s.0).collect();
    // Four in all, not four per instance.
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429, 429, 429, 429],
        "{seen:?}"
    );
    let remaining: Vec<_> = seen[..4].iter().map(|s| s.1.as_deref()).collect();
    assert_eq!(remaining, [Some("3"), Some("2"), Some("1"), Some("0")]);
    let h = health(&a).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["details"]["rate_limit"]["redis"], "up", "{h}");
    assert_eq!(h["details"]["rate_limit"]["backend"], "redis", "{h}");
    b_server.abort();
}

#[tokio::test]
async fn redis_unreachable_falls_back_to_local_limits_without_5xx() {
    // Nothing listens on port 1.
    let a = app_with_redis("redis://127.0.0.1:1".to_owned(), 3.0).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(list(&a, &a.base).await.0);
    }
    // Still limited, by this instance's own buckets.
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let h = health(&a).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["details"]["rate_limit"]["redis"], "down", "{h}");
    assert_eq!(h["details"]["rate_limit"]["backend"], "local", "{h}");
    assert!(h["details"]["rate_limit"]["error"].is_string(), "{h}");
}

/// A private `redis-server` on a free port, for killing.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    fn start(port: u16) -> Option<OwnRedis> {
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(OwnRedis { port, child })
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server on {} did not start", self.port);
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn redis_dying_mid_test_falls_back_then_shares_again() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let Some(mut redis) = OwnRedis::start(port) else {
        eprintln!("skipped: no redis-server binary to start and kill");
        return;
    };
    redis.wait_ready().await;
    let a = app_with_redis(format!("redis://127.0.0.1:{port}"), 1000.0).await;
    assert_eq!(list(&a, &a.base).await.0, 200);
    assert_eq!(health(&a).await["details"]["rate_limit"]["redis"], "up");
    redis.kill();
    // Every request still answered (locally), none 5xx, none slow.
    let started = std::time::Instant::now();
    for _ in 0..20 {
        assert_eq!(list(&a, &a.base).await.0, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(health(&a).await["details"]["rate_limit"]["redis"], "down");
    // Back: the limiter reconnects by itself (tries at most once a second).
    let redis = OwnRedis::start(port).expect("restart");
    redis.wait_ready().await;
    let mut up = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if health(&a).await["details"]["rate_limit"]["redis"] == "up" {
            up = true;
            break;
        }
    }
    assert!(up, "never reconnected");
    assert_eq!(list(&a, &a.base).await.0, 200);
}
