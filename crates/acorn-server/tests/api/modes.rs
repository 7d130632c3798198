//! Live and sandbox merchants side by side (contract §13): sandbox powers never reach a live
//! merchant, the two see none of each other's data, a server serves only the modes it hosts,
//! and every object says its mode in `livemode`.

use std::time::{Duration, Instant};

use acorn_server::admin::{Mode, SetModeError};
use acorn_server::Modes;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, spawn_live_app, Backend, MerchantCreds, TestApp};
use crate::webhooks::receiver;

async fn customer_as(app: &TestApp, m: &MerchantCreds, email: &str) -> String {
    let r = app
        .create_customer_as(&m.token, &json!({"email": email, "country_code": "US"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["id"].as_str().unwrap().to_owned()
}

/// What only a sandbox merchant may do: the sandbox helpers, a provider without a real
/// connector (simulated), and a loopback `http://` webhook. `Ok` when it was allowed.
async fn sandbox_powers(app: &TestApp, m: &MerchantCreds) -> [Result<(), Value>; 4] {
    let id = customer_as(app, m, &format!("powers-{}@example.com", m.client_id)).await;
    let outcome = |status: u16, body: &Value| {
        if status == 200 {
            Ok(())
        } else {
            Err(json!({"status": status, "body": body}))
        }
    };
    // Submit first: the status helper then moves the registration it made.
    let submit = app
        .post_as(
            &m.token,
            &format!("/api/v1/provider-registration/{id}/submit"),
            &json!({"provider": "stripe", "target_role": "customer"}),
        )
        .await;
    let set = app
        .post_as(
            &m.token,
            &format!("/api/v1/sandbox/customers/{id}/registrations/stripe/customer/status"),
            &json!({"status": "approved"}),
        )
        .await;
    let ledger = app
        .post_as(
            &m.token,
            &format!("/api/v1/sandbox/customers/{id}/balances"),
            &json!({"provider": "stripe", "role": "customer", "currency": "usd",
                    "bucket": "available", "amount": 100}),
        )
        .await;
    let hook = app
        .post_as(
            &m.token,
            "/api/v1/merchant/webhooks",
            &json!({"url": "http://127.0.0.1:9/hooks"}),
        )
        .await;
    [
        outcome(set.status, &set.body),
        outcome(ledger.status, &ledger.body),
        outcome(submit.status, &submit.body),
        outcome(hook.status, &hook.body),
    ]
}

async fn live_merchant_has_no_sandbox_powers(backend: Backend) {
    if std::env::var_os("ACORN_TEST_LOG").is_some() {
        acorn_server::init_logging(acorn_server::LogFormat::Pretty);
    }
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let sandbox = app.merchant.clone();
    let live = app.new_merchant_of("live shop", Mode::Live).await;
    assert!(
        live.client_secret.starts_with("sk_live_"),
        "{}",
        live.client_secret
    );
    assert!(sandbox.client_secret.starts_with("sk_test_"));

    for (i, r) in sandbox_powers(&app, &sandbox).await.into_iter().enumerate() {
        assert!(r.is_ok(), "sandbox power {i} refused: {r:?}");
    }
    let [set, ledger, submit, hook] = sandbox_powers(&app, &live).await;
    for (what, r) in [("status helper", set), ("ledger helper", ledger)] {
        let e = r.expect_err(what);
        assert_eq!(e["status"], 404, "{what}: {e}");
        assert_eq!(e["body"]["error_code"], "not_found", "{what}: {e}");
    }
    let e = submit.expect_err("a provider without a connector");
    assert_eq!(e["status"], 422, "{e}");
    assert_eq!(
        e["body"]["failure_reasons"][0]["code"],
        "provider_unavailable"
    );
    assert!(e["body"]["failure_reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("stripe"));
    let e = hook.expect_err("an http loopback webhook");
    assert_eq!(e["status"], 422, "{e}");
    // A public https endpoint is fine for a live merchant.
    let r = app
        .post_as(
            &live.token,
            "/api/v1/merchant/webhooks",
            &json!({"url": "https://hooks.example.com/acorn"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_merchant_has_no_sandbox_powers_sqlite() {
    live_merchant_has_no_sandbox_powers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_merchant_has_no_sandbox_powers_postgres() {
    live_merchant_has_no_sandbox_powers(Backend::Postgres).await;
}

async fn modes_see_none_of_each_other(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let sandbox = app.merchant.clone();
    let live = app.new_merchant_of("live shop", Mode::Live).await;
    let s_id = customer_as(&app, &sandbox, "same@example.com").await;
    // The same email is a different customer for the other merchant.
    let l_id = customer_as(&app, &live, "same@example.com").await;
    for (m, own, other) in [(&sandbox, &s_id, &l_id), (&live, &l_id, &s_id)] {
        let r = app.get_customer_as(&m.token, other).await;
        r.assert_error(404, "not_found");
        let r = app.list_customers_as(&m.token, "").await;
        assert_eq!(r.data()["count"], 1, "{}", r.body);
        assert_eq!(r.data()["customer_list"][0]["id"], own.as_str());
        let r = app.get_as(&m.token, "/api/v1/events").await;
        for e in r.data()["event_list"].as_array().unwrap() {
            assert_eq!(e["data"]["id"], own.as_str(), "{e}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modes_see_none_of_each_other_sqlite() {
    modes_see_none_of_each_other(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modes_see_none_of_each_other_postgres() {
    modes_see_none_of_each_other(Backend::Postgres).await;
}

async fn a_live_server_serves_no_sandbox_merchant(backend: Backend) {
    let Some(app) = spawn_live_app(backend, |c| c.modes = Modes::LIVE).await else {
        return;
    };
    // The live merchant works, and its token says so.
    let r = app
        .grant(&app.merchant.client_id, &app.merchant.client_secret)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["livemode"], true);
    // A sandbox merchant in the same database is refused at the grant, naming the mode.
    let creds = acorn_server::admin::create_merchant(
        &app.state.store,
        &app.state.auth,
        "dev",
        Mode::Sandbox,
    )
    .await
    .unwrap();
    use secrecy::ExposeSecret;
    let r = app
        .grant(&creds.client_id, creds.client_secret.expose_secret())
        .await;
    r.assert_error(403, "authorization_error");
    let msg = r.body["msg"].as_str().unwrap();
    assert!(
        msg.contains("sandbox") && msg.contains("--modes live"),
        "{msg}"
    );
    // The sandbox routes are not even routed here.
    let id = app.customer(json!({"email": "l@example.com"})).await;
    let r = app
        .sandbox_set(&id, "stripe", "customer", &json!({"status": "approved"}))
        .await;
    r.assert_error(404, "not_found");
    let doc = app.get_as(&app.merchant.token, "/openapi.json").await;
    assert!(!doc.body["paths"].to_string().contains("/api/v1/sandbox/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_serves_no_sandbox_merchant_sqlite() {
    a_live_server_serves_no_sandbox_merchant(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_serves_no_sandbox_merchant_postgres() {
    a_live_server_serves_no_sandbox_merchant(Backend::Postgres).await;
}

/// A token granted while the server hosted a mode stops working on a server that does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_token_is_refused_by_a_live_only_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let (u1, u2) = (url.clone(), url);
    let both = spawn_app_with(Backend::Sqlite, |c| c.database_url = u1)
        .await
        .unwrap();
    let token = both.merchant.token.clone();
    let id = both.customer(json!({"email": "t@example.com"})).await;
    both.state.store.close().await;
    let live = spawn_live_app(Backend::Sqlite, |c| {
        c.database_url = u2;
        c.modes = Modes::LIVE;
    })
    .await
    .unwrap();
    let r = live.get_customer_as(&token, &id).await;
    r.assert_error(403, "authorization_error");
}

async fn livemode_on_every_object(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let live = app.new_merchant_of("live shop", Mode::Live).await;
    for (m, expected) in [(app.merchant.clone(), false), (live, true)] {
        let r = app
            .create_customer_as(
                &m.token,
                &json!({"email": format!("lm{expected}@example.com")}),
            )
            .await;
        assert_eq!(r.data()["livemode"], expected, "create: {}", r.body);
        let id = r.data()["id"].as_str().unwrap().to_owned();
        let r = app.get_customer_as(&m.token, &id).await;
        assert_eq!(r.data()["livemode"], expected, "get: {}", r.body);
        let r = app.list_customers_as(&m.token, "").await;
        assert_eq!(
            r.data()["customer_list"][0]["livemode"],
            expected,
            "{}",
            r.body
        );
        let r = app.get_as(&m.token, "/api/v1/events").await;
        let events = r.data()["event_list"].as_array().unwrap().clone();
        assert!(!events.is_empty());
        assert!(
            events.iter().all(|e| e["livemode"] == expected),
            "{}",
            r.body
        );
        let r = app
            .post_as(
                &m.token,
                &format!("/api/v1/customers/{id}/platforms"),
                &json!({"provider": "stripe", "target_role": "customer"}),
            )
            .await;
        if expected {
            // No Stripe connector here: the live merchant is refused, not simulated.
            r.assert_error(422, "validation_error");
        } else {
            assert_eq!(r.status, 200, "{}", r.body);
            let r = app
                .get_as(
                    &m.token,
                    &format!("/api/v1/provider-registration/{id}/status"),
                )
                .await;
            assert_eq!(r.data()[0]["livemode"], false, "{}", r.body);
        }
        // An idempotent replay says it too.
        let key = format!("replay-{expected}");
        for _ in 0..2 {
            let r = app
                .send(
                    reqwest::Method::POST,
                    "/api/v1/customers",
                    Some(&json!({"email": format!("replay{expected}@example.com")})),
                    Some(&m.token),
                    &[("Idempotency-Key", key.as_str())],
                )
                .await;
            assert_eq!(r.data()["livemode"], expected, "{}", r.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn livemode_on_every_object_sqlite() {
    livemode_on_every_object(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn livemode_on_every_object_postgres() {
    livemode_on_every_object(Backend::Postgres).await;
}

async fn webhook_payloads_say_their_mode(backend: Backend) {
    // The receiver is on loopback over http: the live merchant needs both flags to reach it.
    let Some(app) = spawn_app_with(backend, |c| {
        c.webhook_allow_private = true;
        c.webhook_allow_http = true;
    })
    .await
    else {
        return;
    };
    let live = app.new_merchant_of("live shop", Mode::Live).await;
    let (url, rx) = receiver(0).await;
    for m in [&app.merchant, &live] {
        let r = app
            .post_as(
                &m.token,
                "/api/v1/merchant/webhooks",
                &json!({"url": url, "event_types": ["customer.created"]}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let s_id = customer_as(&app, &app.merchant, "hook@example.com").await;
    let l_id = customer_as(&app, &live, "hook-live@example.com").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while rx.count() < 2 {
        assert!(Instant::now() < deadline, "deliveries: {:?}", rx.bodies());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for body in rx.bodies() {
        let id = body["data"]["id"].as_str().unwrap_or_default().to_owned();
        let expected = if id == s_id {
            false
        } else {
            assert_eq!(id, l_id, "{body}");
            true
        };
        assert_eq!(body["livemode"], expected, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_payloads_say_their_mode_sqlite() {
    webhook_payloads_say_their_mode(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_payloads_say_their_mode_postgres() {
    webhook_payloads_say_their_mode(Backend::Postgres).await;
}

/// A merchant made with a mode keeps it: `set-mode` is only for merchants from before modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chosen_mode_never_changes() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    let merchants = app.state.store.list_merchants().await.unwrap();
    let m = &merchants[0];
    assert_eq!((m.mode, m.mode_chosen), (Mode::Sandbox, true));
    let id = acorn_types::MerchantId::parse(&m.merchant_id).unwrap();
    let err = app.state.store.set_merchant_mode(id, Mode::Live).await;
    assert!(
        matches!(err, Err(SetModeError::Fixed(Mode::Sandbox))),
        "{err:?}"
    );
    let gone = acorn_types::MerchantId::new();
    let err = app.state.store.set_merchant_mode(gone, Mode::Live).await;
    assert!(matches!(err, Err(SetModeError::NotFound)), "{err:?}");
}
