//! A load generator for a running Acorn: prints throughput and latency percentiles.
//!
//! ```sh
//! cargo run --release -p acorn -- serve --data-dir /tmp/acorn-bench &    # note the credentials
//! ACORN_CLIENT_ID=… ACORN_CLIENT_SECRET=… \
//!   cargo run --release -p acorn-server --example load -- create 20000 32
//! ```
//! Scenarios: `create` (new customers), `create-keyed` (each with an Idempotency-Key), `get`
//! (point reads of one customer), `list` (first page), `list-country` (a filtered first page).
//! Arguments: scenario, request count (default 10000), concurrency (default 32).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args.first().cloned().unwrap_or_else(|| "create".into());
    let total: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let url = std::env::var("ACORN_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let id = std::env::var("ACORN_CLIENT_ID").expect("ACORN_CLIENT_ID");
    let secret = std::env::var("ACORN_CLIENT_SECRET").expect("ACORN_CLIENT_SECRET");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let grant: Value = http
        .post(format!("{url}/api/v1/merchant/token/grant"))
        .json(
            &json!({"client_id": id, "client_secret": secret, "grant_type": "client_credentials"}),
        )
        .send()
        .await
        .expect("grant")
        .json()
        .await
        .expect("grant body");
    let token = grant["access_token"].as_str().expect("token").to_owned();
    let run = uuid::Uuid::new_v4().simple().to_string();
    // A customer to read in the `get` scenario.
    let seed: Value = http
        .post(format!("{url}/api/v1/customers"))
        .bearer_auth(&token)
        .json(&json!({"email": format!("seed-{run}@example.com"), "country_code": "br"}))
        .send()
        .await
        .expect("seed")
        .json()
        .await
        .expect("seed body");
    let seed_id = seed["data"]["id"].as_str().expect("seed id").to_owned();

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, token, url, run, scenario, seed_id, next) = (
            http.clone(),
            token.clone(),
            url.clone(),
            run.clone(),
            scenario.clone(),
            seed_id.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let body = json!({"email": format!("u{i}-{run}@example.com"), "first_name": "Load", "country_code": "us"});
                let req = match scenario.as_str() {
                    "create" => http.post(format!("{url}/api/v1/customers")).json(&body),
                    "create-keyed" => http
                        .post(format!("{url}/api/v1/customers"))
                        .header("idempotency-key", format!("{run}-{i}"))
                        .json(&body),
                    "get" => http.get(format!("{url}/api/v1/customers/{seed_id}")),
                    "list" => http.get(format!("{url}/api/v1/customers?limit=10")),
                    "list-country" => http.get(format!("{url}/api/v1/customers?limit=10&country_code=br")),
                    other => panic!("unknown scenario {other}"),
                };
                let t = Instant::now();
                match req.bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => errors += 1,
                }
                latencies.push(t.elapsed());
            }
            (latencies, errors)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("task");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{scenario}: {total} requests, concurrency {concurrency}, {errors} errors, {:.1} s, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
}
