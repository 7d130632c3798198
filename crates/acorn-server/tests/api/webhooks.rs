//! Webhooks (contract §9): endpoint CRUD and tenancy, signed delivery to a receiver running in
//! the test, retries, dead letters and replay, `event_types`, restarts, two instances, and the
//! private-address guard.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::both_stores;
use crate::helpers::{spawn_app_with, spawn_live_app, start, Backend, Resp, TestApp};
use acorn_server::testing::NewEndpoint;

/// A webhook receiver on 127.0.0.1: records every request, answers 500 to the first
/// `fail_first` ones (or to all while `failing` is set), then 200.
#[derive(Clone, Default)]
pub struct Receiver {
    pub hits: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    fail_first: Arc<AtomicUsize>,
    pub failing: Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    pub fn count(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.hits.lock().unwrap().push((headers, body));
    let failing = r.failing.load(Ordering::SeqCst);
    let early = r
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing || early {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// Starts a receiver; returns its URL (`http://127.0.0.1:<port>/hooks`).
pub async fn receiver(fail_first: usize) -> (String, Receiver) {
    let r = Receiver {
        fail_first: Arc::new(AtomicUsize::new(fail_first)),
        ..Default::default()
    };
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hooks"), r)
}

/// Polls the condition (an expression that may `.await`) until it holds, failing after 20 s.
macro_rules! until {
    ($what:expr, $cond:expr) => {{
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !$cond {
            assert!(std::time::Instant::now() < deadline, "timed out: {}", $what);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }};
}

const BASE: &str = "/api/v1/merchant/webhooks";

async fn register(app: &TestApp, body: Value) -> Resp {
    app.post_as(&app.merchant.token, BASE, &body).await
}

async fn registered(app: &TestApp, url: &str, types: Value) -> Value {
    let r = register(app, json!({"url": url, "event_types": types})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

async fn notifications(app: &TestApp, query: &str) -> Value {
    let r = app
        .get_as(
            &app.merchant.token,
            &format!("{BASE}/notifications?{query}"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

fn person(email: &str) -> Value {
    json!({"email": email, "first_name": "Ada", "last_name": "Lovelace"})
}

/// Verifies the official scheme: `t=<t>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))`.
fn verify(headers: &HeaderMap, body: &[u8], secret: &str) {
    let sig = headers["oak-signature"].to_str().unwrap();
    assert_eq!(headers["crowdsplit-signature"].to_str().unwrap(), sig);
    let (t, v1) = sig
        .split_once(',')
        .map(|(t, v)| {
            (
                t.strip_prefix("t=").unwrap(),
                v.strip_prefix("v1=").unwrap(),
            )
        })
        .unwrap();
    assert_eq!(headers["oak-timestamp"].to_str().unwrap(), t);
    let now = chrono::Utc::now().timestamp();
    assert!((now - t.parse::<i64>().unwrap()).abs() < 60);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    assert_eq!(hex::encode(mac.finalize().into_bytes()), v1);
    assert_eq!(headers["content-type"], "application/json");
}

both_stores! {
    async fn endpoints_crud_and_tenancy(app) {
        let r = register(&app, json!({"url": "https://hooks.example.com/a", "description": "main"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let d = r.data();
        let id = d["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("wh_"));
        assert!(d["secret"].as_str().unwrap().starts_with("whsec_"));
        assert_eq!(d["is_active"], true);
        assert_eq!(d["event_types"], Value::Null);
        assert_eq!(d["description"], "main");
        let t = app.merchant.token.clone();
        let list = app.get_as(&t, BASE).await;
        assert_eq!(list.data().as_array().unwrap().len(), 1);
        assert!(list.data()[0].get("secret").is_none());
        let got = app.get_as(&t, &format!("{BASE}/{id}")).await;
        assert_eq!(got.data()["url"], "https://hooks.example.com/a");
        assert!(got.data().get("secret").is_none());
        let up = app.send(Method::PUT, &format!("{BASE}/{id}"), Some(&json!({"event_types": ["customer.created"], "description": null})), Some(&t), &[]).await;
        assert_eq!(up.status, 200, "{}", up.body);
        assert_eq!(up.data()["event_types"], json!(["customer.created"]));
        assert_eq!(up.data()["description"], Value::Null);
        assert_eq!(up.data()["url"], "https://hooks.example.com/a");
        let tog = app.send(Method::PATCH, &format!("{BASE}/{id}/toggle"), None, Some(&t), &[("content-type", "application/json")]).await;
        assert_eq!(tog.status, 200, "{}", tog.body);
        assert_eq!(tog.data()["is_active"], false);
        // Errors: duplicate URL, unknown event type, bad URL, unknown field.
        let dup = register(&app, json!({"url": "https://hooks.example.com/a"})).await;
        dup.assert_error(400, "validation_error");
        assert_eq!(dup.reason_codes(), vec!["duplicate_data"]);
        register(&app, json!({"url": "https://x.example.com", "event_types": ["customer.exploded"]})).await.assert_error(422, "validation_error");
        register(&app, json!({"url": "ftp://x.example.com"})).await.assert_error(422, "validation_error");
        register(&app, json!({"url": "https://y.example.com", "colour": "red"})).await.assert_error(422, "validation_error");
        register(&app, json!({})).await.assert_error(422, "validation_error");
        // Another merchant sees none of it.
        let other = app.new_merchant("other").await;
        let o = other.token.as_str();
        app.get_as(o, &format!("{BASE}/{id}")).await.assert_error(404, "not_found");
        assert_eq!(app.get_as(o, BASE).await.data(), &json!([]));
        app.send(Method::PUT, &format!("{BASE}/{id}"), Some(&json!({"url": "https://evil.example.com"})), Some(o), &[]).await.assert_error(404, "not_found");
        app.send(Method::PATCH, &format!("{BASE}/{id}/toggle"), None, Some(o), &[]).await.assert_error(404, "not_found");
        app.send(Method::DELETE, &format!("{BASE}/{id}"), None, Some(o), &[]).await.assert_error(404, "not_found");
        // The same URL is fine for another merchant.
        let mine = app.post_as(o, BASE, &json!({"url": "https://hooks.example.com/a"})).await;
        assert_eq!(mine.status, 200, "{}", mine.body);
        app.get_as(&t, &format!("{BASE}/wh_nonsense")).await.assert_error(404, "not_found");
        let del = app.send(Method::DELETE, &format!("{BASE}/{id}"), None, Some(&t), &[]).await;
        assert_eq!(del.status, 200);
        assert_eq!(del.data(), &json!({"success": true, "livemode": false}));
        app.get_as(&t, &format!("{BASE}/{id}")).await.assert_error(404, "not_found");
        app.get_as(&t, &format!("{BASE}/notifications/ntf_nonsense")).await.assert_error(404, "not_found");
        app.get_as(&t, &format!("{BASE}/notifications?status=lost")).await.assert_error(422, "validation_error");
    }

    async fn a_delivery_is_signed_with_the_official_scheme(app) {
        let (url, rx) = receiver(0).await;
        let hook = registered(&app, &url, Value::Null).await;
        let secret = hook["secret"].as_str().unwrap().to_owned();
        let customer = app.customer(person("signed@example.com")).await;
        until!("one delivery", rx.count() >= 1);
        let (headers, body) = rx.hits.lock().unwrap()[0].clone();
        verify(&headers, &body, &secret);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["event"], "customer.created");
        assert_eq!(v["api_version"], "v1");
        assert_eq!(v["category"], "provider_registration_lifecycle");
        assert_eq!(v["data"]["id"], customer.as_str());
        let id = v["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("ntf_"));
        let t = app.merchant.token.clone();
        let path = format!("{BASE}/notifications/{id}");
        until!("acknowledged", app.get_as(&t, &path).await.data()["is_acknowledged"] == true);
        let n = app.get_as(&t, &path).await.data().clone();
        assert_eq!(n["status"], "delivered");
        assert_eq!(n["webhook_id"], hook["id"]);
        assert_eq!(n["data"]["id"], customer.as_str());
        let attempts = n["delivery_attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0]["status_code"], 200);
        assert_eq!(attempts[0]["error"], Value::Null);
        let other = app.new_merchant("other").await;
        app.get_as(&other.token, &format!("{BASE}/notifications/{id}")).await.assert_error(404, "not_found");
        assert_eq!(
            app.get_as(&other.token, &format!("{BASE}/notifications")).await.data()["count"],
            0
        );
        let list = notifications(&app, &format!("reference_id={customer}")).await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["notification_list"][0]["id"], id.as_str());
    }

    async fn event_types_filter_what_an_endpoint_receives(app) {
        let (all_url, all) = receiver(0).await;
        let (some_url, some) = receiver(0).await;
        registered(&app, &all_url, Value::Null).await;
        registered(&app, &some_url, json!(["customer.updated"])).await;
        let id = app.customer(person("filter@example.com")).await;
        let r = app.update_customer(&id, &json!({"first_name": "Grace"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        until!("both deliveries to the catch-all", all.count() >= 2);
        until!("one delivery to the filtered", some.count() >= 1);
        let events: Vec<Value> = all.bodies().iter().map(|b| b["event"].clone()).collect();
        assert_eq!(events, vec![json!("customer.created"), json!("customer.updated")]);
        assert_eq!(some.bodies()[0]["event"], "customer.updated");
        assert_eq!(some.count(), 1);
    }

    async fn registration_and_sync_events_have_oaks_shapes(app) {
        let (url, rx) = receiver(0).await;
        registered(&app, &url, json!(["provider_registration.approved", "customer.verified", "customer.sync.started"])).await;
        let id = app.customer(person("shapes@example.com")).await;
        let r = app.sandbox_set(&id, "stripe", "customer", &json!({"status": "approved"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.post_as(&app.merchant.token, &format!("/api/v1/customers/{id}/sync"), &json!({"providers": ["stripe"], "fields": ["email"]})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        until!("three deliveries", rx.count() >= 3);
        let bodies = rx.bodies();
        let by = |name: &str| bodies.iter().find(|b| b["event"] == name).unwrap_or_else(|| panic!("{name} in {bodies:?}"))["data"].clone();
        let keys = |v: &Value| { let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect(); k.sort(); k };
        let shape = ["action_required", "changes", "created_at", "failure_reasons", "id", "provider", "provider_response", "readiness", "status", "target_role", "updated_at", "version"];
        let reg = by("provider_registration.approved");
        assert_eq!(keys(&reg), shape);
        assert_eq!((reg["id"].as_str(), reg["status"].as_str(), reg["provider"].as_str(), reg["target_role"].as_str()), (Some(id.as_str()), Some("approved"), Some("stripe"), Some("customer")));
        let verified = by("customer.verified");
        assert_eq!(keys(&verified), shape);
        assert_eq!((verified["status"].as_str(), verified["provider"].as_str()), (Some("APPROVED"), Some("stripe")));
        assert!(verified["changes"].as_array().unwrap().contains(&json!("status")));
        assert!(verified["version"].is_i64());
        let sync = by("customer.sync.started");
        assert_eq!(keys(&sync), ["attempt_id", "fields", "id", "provider"]);
        assert_eq!(sync["fields"], json!(["email"]));
        // The event log shows the same data.
        let logged = app.events("event=customer.verified").await;
        assert_eq!(logged.data()["event_list"][0]["data"], verified);
    }

    async fn metrics_count_deliveries_and_the_queue(app) {
        let (url, rx) = receiver(0).await;
        registered(&app, &url, Value::Null).await;
        app.customer(person("metrics@example.com")).await;
        until!("delivered", notifications(&app, "status=delivered").await["count"] == 1);
        let text = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(text.contains("acorn_webhook_deliveries_total{outcome=\"delivered\"} 1"), "{text}");
        assert!(text.contains("acorn_webhook_queue_depth 0"), "{text}");
        assert!(text.contains("acorn_webhook_oldest_pending_seconds 0"), "{text}");
        assert_eq!(rx.count(), 1);
    }

    async fn a_paused_endpoint_gets_nothing_new(app) {
        let (url, rx) = receiver(0).await;
        let hook = registered(&app, &url, Value::Null).await;
        let t = app.merchant.token.clone();
        let path = format!("{BASE}/{}/toggle", hook["id"].as_str().unwrap());
        assert_eq!(app.send(Method::PATCH, &path, None, Some(&t), &[]).await.status, 200);
        app.customer(person("paused@example.com")).await;
        assert_eq!(notifications(&app, "").await["count"], 0);
        assert_eq!(rx.count(), 0);
    }
}

async fn retries_then_success(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.webhook_retry_schedule = vec![Duration::from_millis(50); 4];
    })
    .await
    else {
        return;
    };
    let (url, rx) = receiver(2).await;
    registered(&app, &url, Value::Null).await;
    app.customer(person("retry@example.com")).await;
    until!(
        "delivered after two failures",
        notifications(&app, "status=delivered").await["count"] == 1
    );
    assert_eq!(rx.count(), 3);
    let ids: Vec<Value> = rx.bodies().iter().map(|b| b["id"].clone()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let n = &notifications(&app, "").await["notification_list"][0];
    let attempts = n["delivery_attempts"].as_array().unwrap();
    let codes: Vec<Value> = attempts.iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(codes, vec![json!(500), json!(500), json!(200)]);
    assert!(attempts[0]["error"].as_str().unwrap().contains("HTTP 500"));
    assert!(attempts[0]["duration_ms"].is_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_then_success_sqlite() {
    retries_then_success(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_then_success_postgres() {
    retries_then_success(Backend::Postgres).await;
}

async fn dead_letter_and_replay(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.webhook_retry_schedule = vec![Duration::from_millis(30); 2];
    })
    .await
    else {
        return;
    };
    let (url, rx) = receiver(0).await;
    rx.failing.store(true, Ordering::SeqCst);
    registered(&app, &url, Value::Null).await;
    app.customer(person("dead@example.com")).await;
    until!(
        "dead-lettered",
        notifications(&app, "status=dead_lettered").await["count"] == 1
    );
    assert_eq!(rx.count(), 3);
    let n = notifications(&app, "status=dead_lettered").await["notification_list"][0].clone();
    assert_eq!(n["is_acknowledged"], false);
    let id = n["id"].as_str().unwrap().to_owned();
    rx.failing.store(false, Ordering::SeqCst);
    let t = app.merchant.token.clone();
    let r = app
        .post_as(&t, &format!("{BASE}/notifications/{id}/replay"), &json!({}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    until!(
        "delivered on replay",
        notifications(&app, "status=delivered").await["count"] == 1
    );
    assert_eq!(rx.count(), 4);
    assert_eq!(rx.bodies()[3]["id"], id.as_str());
    let other = app.new_merchant("other").await;
    app.post_as(
        &other.token,
        &format!("{BASE}/notifications/{id}/replay"),
        &json!({}),
    )
    .await
    .assert_error(404, "not_found");
    let n = app.get_as(&t, &format!("{BASE}/notifications/{id}")).await;
    assert_eq!(n.data()["delivery_attempts"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_and_replay_sqlite() {
    dead_letter_and_replay(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_and_replay_postgres() {
    dead_letter_and_replay(Backend::Postgres).await;
}

/// Notifications written while no deliverer runs are delivered by the next process.
async fn deliveries_survive_a_restart(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.run_worker = false).await else {
        return;
    };
    let (url, rx) = receiver(0).await;
    registered(&app, &url, Value::Null).await;
    for i in 0..3 {
        app.customer(person(&format!("restart{i}@example.com")))
            .await;
    }
    assert_eq!(notifications(&app, "status=pending").await["count"], 3);
    assert_eq!(rx.count(), 0);
    let mut config = app.config.clone();
    config.run_worker = true;
    let (_state, _base, server) = start(config).await;
    until!(
        "three deliveries",
        notifications(&app, "status=delivered").await["count"] == 3
    );
    assert_eq!(rx.count(), 3);
    let emails: Vec<Value> = rx.bodies().iter().map(|b| b["event"].clone()).collect();
    assert!(emails.iter().all(|e| *e == "customer.created"));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_restart_sqlite() {
    deliveries_survive_a_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_restart_postgres() {
    deliveries_survive_a_restart(Backend::Postgres).await;
}

/// Two processes on one database deliver 60 notifications to 3 endpoints, each exactly once
/// and, per endpoint, in event order.
async fn two_instances_deliver_each_once(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.run_worker = false).await else {
        return;
    };
    let mut receivers = Vec::new();
    for _ in 0..3 {
        let (url, rx) = receiver(0).await;
        registered(&app, &url, Value::Null).await;
        receivers.push(rx);
    }
    for i in 0..20 {
        app.customer(person(&format!("two{i}@example.com"))).await;
    }
    let mut config = app.config.clone();
    config.run_worker = true;
    let (_a, _, server_a) = start(config.clone()).await;
    let (_b, _, server_b) = start(config).await;
    until!(
        "60 deliveries",
        notifications(&app, "status=delivered&limit=1").await["count"] == 60
    );
    for rx in &receivers {
        let ids: Vec<String> = rx
            .bodies()
            .iter()
            .map(|b| b["data"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 20, "{ids:?}");
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "a delivery was repeated");
        assert_eq!(
            ids, sorted,
            "customer ids are time-ordered, so deliveries were in order"
        );
    }
    server_a.abort();
    server_b.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_once_postgres() {
    two_instances_deliver_each_once(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_once_sqlite() {
    two_instances_deliver_each_once(Backend::Sqlite).await;
}

/// A live merchant cannot register a loopback or private URL (contract §13), and an endpoint
/// whose host is (or comes to be) a private address is refused at delivery, as a failed
/// attempt: here one stored before the registration check, as an older row would be.
async fn private_addresses_are_refused_outside_the_sandbox(backend: Backend) {
    let Some(app) = spawn_live_app(backend, |c| {
        c.webhook_allow_http = true;
        c.webhook_retry_schedule = vec![];
    })
    .await
    else {
        return;
    };
    let (url, rx) = receiver(0).await;
    let localhost = url.replace("127.0.0.1", "localhost");
    for refused in [
        &url,
        &localhost,
        &"http://[::1]:9/x".to_owned(),
        &"http://10.1.2.3/x".to_owned(),
    ] {
        let r = register(&app, json!({"url": refused})).await;
        r.assert_error(422, "validation_error");
        assert!(r.body.to_string().contains("public address"), "{}", r.body);
    }
    let merchant = app
        .state
        .store
        .merchant_by_client_id(&app.merchant.client_id)
        .await
        .unwrap()
        .unwrap()
        .id;
    for url in [&url, &localhost] {
        let new = NewEndpoint {
            url: url.clone(),
            description: None,
            event_types: None,
            secret: "whsec_test".to_owned(),
        };
        app.state
            .store
            .insert_endpoint(merchant, new, 0)
            .await
            .unwrap();
    }
    app.customer(person("private@example.com")).await;
    until!(
        "both dead-lettered",
        notifications(&app, "status=dead_lettered").await["count"] == 2
    );
    assert_eq!(rx.count(), 0);
    for n in notifications(&app, "").await["notification_list"]
        .as_array()
        .unwrap()
    {
        let error = n["delivery_attempts"][0]["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.contains("non-public address"), "{error}");
        assert!(error.contains("--webhook-allow-private"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_outside_the_sandbox_sqlite() {
    private_addresses_are_refused_outside_the_sandbox(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_outside_the_sandbox_postgres() {
    private_addresses_are_refused_outside_the_sandbox(Backend::Postgres).await;
}

/// A live merchant's `http://` needs `--webhook-allow-http`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_needs_the_flag_outside_the_sandbox() {
    let app = spawn_live_app(Backend::Sqlite, |_| {}).await.unwrap();
    register(&app, json!({"url": "http://hooks.example.com/x"}))
        .await
        .assert_error(422, "validation_error");
    let r = register(&app, json!({"url": "https://hooks.example.com/x"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
