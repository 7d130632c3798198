//! Idempotency keys, body limits, timeouts and rate limits (contract §8).

use std::time::{Duration, Instant};

use acorn_server::Config;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app_with, start, Backend, Resp, TestApp};

async fn post_keyed(app: &TestApp, token: &str, path: &str, body: &Value, key: &str) -> Resp {
    app.send(
        Method::POST,
        path,
        Some(body),
        Some(token),
        &[("idempotency-key", key)],
    )
    .await
}

async fn customers_with(app: &TestApp, email: &str) -> u64 {
    app.list_customers(&format!("email={email}")).await.data()["count"]
        .as_u64()
        .expect("count")
}

/// Runs `f` on SQLite and PostgreSQL, each with a config tweak.
macro_rules! on_both {
    ($name:ident, $adjust:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = spawn_app_with(Backend::Sqlite, $adjust).await {
                    $body(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = spawn_app_with(Backend::Postgres, $adjust).await {
                    $body(app).await;
                }
            }
        }
    };
}

fn none(_: &mut Config) {}

on_both!(
    replayed_create_returns_the_same_customer,
    none,
    |app: TestApp| async move {
        let t = app.merchant.token.clone();
        let body = json!({"email": "idem@example.com", "first_name": "Ida"});
        let first = post_keyed(&app, &t, "/api/v1/customers", &body, "key-1").await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.header("idempotent-replayed"), None);
        let again = post_keyed(&app, &t, "/api/v1/customers", &body, "key-1").await;
        assert_eq!(again.status, 200);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body, first.body);
        assert_eq!(customers_with(&app, "idem@example.com").await, 1);

        // A second server on the same database (a restart, or another instance) replays it too.
        let (_state, base, server) = start(app.config.clone()).await;
        let res = app
            .http
            .post(format!("{base}/api/v1/customers"))
            .bearer_auth(&t)
            .header("idempotency-key", "key-1")
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(
            res.headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        let replayed: Value = res.json().await.expect("json");
        assert_eq!(replayed, first.body);
        server.abort();

        // Same key, different body or route: refused, nothing runs.
        let other = json!({"email": "other@example.com"});
        let r = post_keyed(&app, &t, "/api/v1/customers", &other, "key-1").await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.reason_codes(), ["idempotency_mismatch"]);
        assert_eq!(customers_with(&app, "other@example.com").await, 0);
        let id = first.data()["id"].as_str().expect("id").to_owned();
        let r = post_keyed(
            &app,
            &t,
            &format!("/api/v1/customers/{id}/platforms"),
            &body,
            "key-1",
        )
        .await;
        assert_eq!(r.reason_codes(), ["idempotency_mismatch"]);

        // Keys belong to one merchant: another may use the same key for anything.
        let b = app.new_merchant("b").await;
        let r = post_keyed(&app, &b.token, "/api/v1/customers", &other, "key-1").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("idempotent-replayed"), None);
    }
);

on_both!(
    refusals_are_stored_and_replayed,
    none,
    |app: TestApp| async move {
        let t = app.merchant.token.clone();
        let bad = json!({"email": "nope"});
        let first = post_keyed(&app, &t, "/api/v1/customers", &bad, "k-422").await;
        first.assert_error(422, "validation_error");
        let again = post_keyed(&app, &t, "/api/v1/customers", &bad, "k-422").await;
        assert_eq!(
            (again.status, again.header("idempotent-replayed")),
            (422, Some("true"))
        );
        assert_eq!(again.body, first.body);
        // Invalid keys are refused before anything runs.
        let long = "k".repeat(256);
        let r = post_keyed(
            &app,
            &t,
            "/api/v1/customers",
            &json!({"email": "x@example.com"}),
            &long,
        )
        .await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["Idempotency-Key"]);
        assert_eq!(customers_with(&app, "x@example.com").await, 0);
    }
);

on_both!(
    fifty_concurrent_requests_with_one_key_run_once,
    none,
    |app: TestApp| async move {
        let t = app.merchant.token.clone();
        let body = json!({"email": "burst@example.com"});
        let results = futures::future::join_all(
            (0..50).map(|_| post_keyed(&app, &t, "/api/v1/customers", &body, "burst")),
        )
        .await;
        let ok: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
        let busy = results.iter().filter(|r| r.status == 409).count();
        assert_eq!(
            ok.len() + busy,
            50,
            "{:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(!ok.is_empty());
        assert_eq!(
            ok.iter()
                .filter(|r| r.header("idempotent-replayed").is_none())
                .count(),
            1,
            "exactly one execution"
        );
        assert!(ok.iter().all(|r| r.data()["id"] == ok[0].data()["id"]));
        assert_eq!(customers_with(&app, "burst@example.com").await, 1);
        let conflict = results.iter().find(|r| r.status == 409);
        if let Some(c) = conflict {
            c.assert_error(409, "conflict");
        }
    }
);

on_both!(
    a_replayed_sync_schedules_nothing,
    none,
    |app: TestApp| async move {
        let id = app.customer(json!({"email": "s@example.com"})).await;
        app.sandbox_set(&id, "stripe", "customer", &json!({"status": "approved"}))
            .await;
        let t = app.merchant.token.clone();
        let body = json!({"providers": ["stripe"], "fields": ["email"]});
        for _ in 0..3 {
            let r = post_keyed(
                &app,
                &t,
                &format!("/api/v1/customers/{id}/sync"),
                &body,
                "sync-once",
            )
            .await;
            assert_eq!(r.body, json!({"msg": "Sync scheduled", "data": null}));
        }
        let r = app
            .get_as(&t, &format!("/api/v1/customers/{id}/sync-attempts"))
            .await;
        assert_eq!(r.data().as_array().map(Vec::len), Some(1));
    }
);

fn short_retention(c: &mut Config) {
    c.idempotency_retention = Duration::from_millis(300);
    c.purge_interval = Duration::from_millis(50);
}

on_both!(
    expired_keys_are_purged,
    short_retention,
    |app: TestApp| async move {
        let t = app.merchant.token.clone();
        let body = json!({"email": "exp@example.com"});
        assert_eq!(
            post_keyed(&app, &t, "/api/v1/customers", &body, "old")
                .await
                .status,
            200
        );
        assert_eq!(
            app.state
                .store
                .idempotency_key_count()
                .await
                .expect("count"),
            1
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while app
            .state
            .store
            .idempotency_key_count()
            .await
            .expect("count")
            > 0
        {
            assert!(Instant::now() < deadline, "the key was never purged");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // After expiry the key means nothing: the request runs again (and finds the duplicate).
        let r = post_keyed(&app, &t, "/api/v1/customers", &body, "old").await;
        assert_eq!((r.status, r.header("idempotent-replayed")), (400, None));
    }
);

fn tight_limits(c: &mut Config) {
    // Slow refills, so a loaded CI machine cannot refill a bucket between two requests.
    c.rate_limit = Some((0.5, 2.0));
    c.grant_rate_limit = Some((0.02, 4.0));
    c.request_timeout = Duration::from_millis(500);
}

on_both!(
    rate_limits_timeouts_and_body_limits,
    tight_limits,
    |app: TestApp| async move {
        // Two tokens in the merchant's bucket (the grant made at start-up is limited per IP).
        let a = app.list_customers("").await;
        assert_eq!(a.status, 200);
        // The limit is the rate per second (0.5), not the burst (2).
        assert_eq!(a.header("x-ratelimit-limit"), Some("0.5"));
        assert_eq!(a.header("x-ratelimit-remaining"), Some("1"));
        assert!(a.header("x-ratelimit-reset").is_some());
        assert_eq!(app.list_customers("").await.status, 200);
        let r = app.list_customers("").await;
        r.assert_error(429, "rate_limited");
        assert_eq!(r.reason_codes(), ["rate_limit_exceeded"]);
        let wait: u64 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in whole seconds");
        assert!(wait >= 1);
        // It recovers once the bucket refills.
        let deadline = Instant::now() + Duration::from_secs(20);
        while app.list_customers("").await.status == 429 {
            assert!(Instant::now() < deadline, "never recovered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The grant is limited per client IP (one grant was made when the app started).
        let mut statuses = vec![];
        for _ in 0..4 {
            statuses.push(
                app.grant(&app.merchant.client_id, &app.merchant.client_secret)
                    .await
                    .status,
            );
        }
        assert_eq!(statuses, [200, 200, 200, 429]);

        // A fresh merchant (token minted directly: the grant is used up) for the body checks.
        let creds = acorn_server::admin::create_merchant(
            &app.state.store,
            &app.state.auth,
            "fresh",
            acorn_server::admin::Mode::Sandbox,
        )
        .await
        .expect("merchant");
        let (t, _) = app.state.auth.issue(creds.merchant_id).expect("token");
        // 413 with the envelope, keyed or not.
        let big = json!({"email": "big@example.com", "first_name": "x".repeat(1024 * 1024)});
        let r = post_keyed(&app, &t, "/api/v1/customers", &big, "big").await;
        r.assert_error(413, "validation_error");
        assert_eq!(r.reason_codes(), ["payload_too_large"]);

        // 408: a body that never finishes arriving.
        let addr = app.base.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let head = format!(
        "POST /api/v1/customers HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"email\":"
    );
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
        let text = String::from_utf8_lossy(&buf);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(
            text.contains("\"error_code\":\"request_timeout\""),
            "{text}"
        );
    }
);

on_both!(
    a_retried_upload_stores_its_files_once,
    none,
    |app: TestApp| async move {
        let id = app.customer(json!({"email": "up@example.com"})).await;
        let pdf = b"%PDF-1.7\nhello".to_vec();
        let mut bodies = vec![];
        for _ in 0..2 {
            // Each try builds its form anew, with a new random boundary.
            let form = crate::helpers::file_form(Some("PASSPORT"), &[("p.pdf", &pdf)]);
            let res = app
                .http
                .post(format!("{}/api/v1/customers/{id}/files", app.base))
                .bearer_auth(&app.merchant.token)
                .header("idempotency-key", "upload-1")
                .multipart(form)
                .send()
                .await
                .expect("send");
            bodies.push((
                res.status().as_u16(),
                res.headers().get("idempotent-replayed").is_some(),
                res.text().await.expect("body"),
            ));
        }
        assert_eq!((bodies[0].0, bodies[0].1), (201, false));
        assert_eq!((bodies[1].0, bodies[1].1), (201, true));
        assert_eq!(bodies[0].2, bodies[1].2);
        assert_eq!(
            app.list_files(&id).await.data().as_array().map(Vec::len),
            Some(1)
        );
    }
);

fn expiring_unpurged(c: &mut Config) {
    c.idempotency_retention = Duration::from_secs(2);
    c.purge_interval = Duration::from_secs(3600);
}

on_both!(
    an_expired_key_not_yet_purged_runs_again,
    expiring_unpurged,
    |app: TestApp| async move {
        let t = app.merchant.token.clone();
        let first = post_keyed(
            &app,
            &t,
            "/api/v1/customers",
            &json!({"email": "a1@example.com"}),
            "reuse",
        )
        .await;
        assert_eq!(first.status, 200);
        // Past the retention window (the purge has not run) the key is free: even another body runs.
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let second = post_keyed(
            &app,
            &t,
            "/api/v1/customers",
            &json!({"email": "a2@example.com"}),
            "reuse",
        )
        .await;
        assert_eq!(
            (second.status, second.header("idempotent-replayed")),
            (200, None)
        );
        assert_ne!(second.data()["id"], first.data()["id"]);
        let third = post_keyed(
            &app,
            &t,
            "/api/v1/customers",
            &json!({"email": "a2@example.com"}),
            "reuse",
        )
        .await;
        assert_eq!(
            (third.body.clone(), third.header("idempotent-replayed")),
            (second.body.clone(), Some("true"))
        );
    }
);

/// A key left in flight by a crash is released when the same instance starts again (its
/// request died with it): a retry runs at once instead of answering 409 until the lease ends.
/// A claim made by another instance is left alone.
async fn a_restarted_instance_releases_its_own_claims(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.instance_id = Some("node-a".into())).await else {
        return;
    };
    use acorn_server::testing::{Claim, KeyRequest};
    use sha2::Digest;
    let creds = acorn_server::admin::create_merchant(
        &app.state.store,
        &app.state.auth,
        "crashing",
        acorn_server::admin::Mode::Sandbox,
    )
    .await
    .expect("merchant");
    let merchant = creds.merchant_id;
    let (token, _) = app.state.auth.issue(merchant).expect("token");
    let body = json!({"email": "crash@example.com"});
    // The fingerprint the server computes for this JSON body (its canonical serialisation).
    let fp = hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(&body).expect("json"),
    ));
    for (key, instance) in [("crashed-key", "node-a"), ("other-key", "node-b")] {
        let req = KeyRequest {
            merchant,
            key,
            method: "POST",
            route: "/api/v1/customers",
            fingerprint: &fp,
            instance,
        };
        let now = acorn_server::testing::now_micros();
        let claim = app
            .state
            .store
            .claim_idempotency_key(&req, now, 3_600_000_000, 3_600_000_000)
            .await
            .expect("claim");
        assert_eq!(claim, Claim::Owned);
    }
    let send = |base: String, key: &'static str| {
        let (http, token, body) = (app.http.clone(), token.clone(), body.clone());
        async move {
            http.post(format!("{base}/api/v1/customers"))
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        send(app.base.clone(), "crashed-key").await,
        409,
        "in flight before the restart"
    );
    let (_state, base, _server) = start(app.config.clone()).await;
    assert_eq!(
        send(base.clone(), "crashed-key").await,
        200,
        "released by the restarted instance"
    );
    assert_eq!(
        send(base, "other-key").await,
        409,
        "another instance's claim keeps its lease"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_instance_releases_its_own_claims_sqlite() {
    a_restarted_instance_releases_its_own_claims(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_instance_releases_its_own_claims_postgres() {
    a_restarted_instance_releases_its_own_claims(Backend::Postgres).await;
}
