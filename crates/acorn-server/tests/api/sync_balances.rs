//! Sync through the durable worker, and balances from the sandbox ledger (contract §4.5, §4.6).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{spawn_app_with, start, Backend, Resp, TestApp};

/// A customer with an approved stripe `customer` registration.
async fn approved(app: &TestApp, email: &str) -> String {
    let id = app
        .customer(json!({"email": email, "first_name": "Ann", "city": "Lima"}))
        .await;
    let r = app
        .sandbox_set(&id, "stripe", "customer", &json!({"status": "approved"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    id
}

async fn sync(app: &TestApp, id: &str, body: &Value) -> Resp {
    app.post_as(
        &app.merchant.token,
        &format!("/api/v1/customers/{id}/sync"),
        body,
    )
    .await
}

async fn attempts(app: &TestApp, id: &str) -> Vec<Value> {
    let r = app
        .get_as(
            &app.merchant.token,
            &format!("/api/v1/customers/{id}/sync-attempts"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().as_array().cloned().unwrap_or_default()
}

/// Polls until every attempt of the customer is finished; returns them.
async fn settled(app: &TestApp, id: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = attempts(app, id).await;
        if !list.is_empty()
            && list
                .iter()
                .all(|a| a["status"] == "succeeded" || a["status"] == "failed")
        {
            return list;
        }
        assert!(Instant::now() < deadline, "sync never settled: {list:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The events of a sync attempt: those that carry its `attempt_id`, and the `customer.updated`
/// that moved `synced`.
async fn events_of_attempt(app: &TestApp, attempt: &str) -> Vec<String> {
    let r = app.events("limit=100").await;
    let mut names: Vec<String> = r.data()["event_list"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| {
            e["data"]["attempt_id"] == attempt
                || (e["event"] == "customer.updated"
                    && e["data"]["changes"] == json!(["synced", "synced_at"]))
        })
        .map(|e| e["event"].as_str().expect("name").to_owned())
        .collect();
    names.reverse();
    names
}

async fn balances(app: &TestApp, id: &str, query: &str) -> Resp {
    app.get_as(
        &app.merchant.token,
        &format!("/api/v1/customers/{id}/balances?{query}"),
    )
    .await
}

async fn ledger(app: &TestApp, id: &str, body: Value) -> Resp {
    app.post_as(
        &app.merchant.token,
        &format!("/api/v1/sandbox/customers/{id}/balances"),
        &body,
    )
    .await
}

both_stores! {
    async fn sandbox_accounts_follow_the_registration(app) {
        let id = app.customer(json!({"email": "acc@example.com", "country_code": "us"})).await;
        // A customer-role registration's account is its provider id (cus_sbx_…).
        app.sandbox_set(&id, "stripe", "customer", &json!({"status": "approved"})).await;
        let regs = app.registration_status(&id).await;
        let cus = regs.data()[0]["provider_customer_id"].as_str().unwrap().to_owned();
        assert!(cus.starts_with("cus_sbx_"), "{cus}");
        let r = balances(&app, &id, "provider=stripe").await;
        assert_eq!(r.data()["balances"][0]["account_id"], cus.as_str(), "{}", r.body);
        let r = ledger(&app, &id, json!({"provider": "stripe", "role": "customer", "currency": "usd", "bucket": "available", "amount": 5})).await;
        assert_eq!(r.data()["account_id"], cus.as_str(), "{}", r.body);
        // A registration never submitted has no account: not listed, no ledger entries.
        let r = app.post_as(&app.merchant.token, &format!("/api/v1/customers/{id}/platforms"),
            &json!({"provider": "bridge", "target_role": "customer"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = balances(&app, &id, "provider=bridge").await;
        assert_eq!(r.data()["balances"], json!([]), "{}", r.body);
        let r = ledger(&app, &id, json!({"provider": "bridge", "role": "customer", "currency": "usd", "bucket": "available", "amount": 5})).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.body["failure_reasons"][0]["code"], "not_registered");
        // An approved connected account answers as the approved account it now is.
        let r = app.submit(&id, &json!({"provider": "stripe", "target_role": "connected_account",
            "provider_data": {"account_type": "express"}})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let reg = loop {
            let regs = app.registration_status(&id).await;
            let reg = regs.data().as_array().unwrap().iter()
                .find(|r| r["target_role"] == "connected_account").cloned().unwrap();
            if reg["status"] == "approved" {
                break reg;
            }
            assert!(std::time::Instant::now() < deadline, "{reg}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let response = &reg["provider_response"];
        assert_eq!(response["charges_enabled"], true, "{reg}");
        assert_eq!(response["payouts_enabled"], true, "{reg}");
        assert_eq!(response["details_submitted"], true, "{reg}");
        assert_eq!(response["id"], reg["provider_customer_id"], "{reg}");
    }

    async fn sync_succeeds_end_to_end(app) {
        let id = approved(&app, "ann@example.com").await;
        let r = sync(&app, &id, &json!({"providers": ["STRIPE"], "fields": ["email", "first_name", "shipping"]})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body, json!({"msg": "Sync scheduled", "data": null}));
        let list = settled(&app, &id).await;
        assert_eq!(list.len(), 1);
        let a = &list[0];
        assert!(a["id"].as_str().is_some_and(|i| i.starts_with("sync_")));
        assert_eq!((a["status"].as_str(), a["attempts"].as_i64()), (Some("succeeded"), Some(1)));
        assert_eq!(a["fields"], json!(["email", "first_name", "shipping"]));
        let c = app.get_customer(&id).await;
        assert_eq!(c.data()["synced"], true);
        assert!(c.data()["synced_at"].is_string());
        let names = events_of_attempt(&app, a["id"].as_str().expect("id")).await;
        assert_eq!(names, ["customer.sync.started", "customer.updated", "customer.sync.succeeded"]);
        let r = app.events("event=customer.sync.succeeded").await;
        let pushed = &r.data()["event_list"][0]["data"]["provider_data"]["fields_updated"];
        assert_eq!(pushed, &json!(["city", "email", "first_name", "house_number", "neighborhood", "postal_code", "state", "street_name", "street_number", "subdivision"]));

        // A later change to a synced field flips synced; other fields do not.
        let r = app.update_customer(&id, &json!({"company_name": "Acme"})).await;
        assert_eq!(r.data()["synced"], true);
        let r = app.update_customer(&id, &json!({"city": "Cusco"})).await;
        assert_eq!(r.data()["synced"], false);
        assert!(r.data()["synced_at"].is_string(), "the last success time is kept");
    }

    async fn a_failing_provider_is_retried_then_the_attempt_fails(app) {
        let id = approved(&app, "bob+syncfail@example.com").await;
        assert_eq!(sync(&app, &id, &json!({"providers": ["stripe"], "fields": ["email"]})).await.status, 200);
        let list = settled(&app, &id).await;
        let a = &list[0];
        assert_eq!(a["status"], "failed");
        assert_eq!(a["attempts"], app.config.sync_max_attempts);
        assert!(a["last_error"].as_str().is_some_and(|e| e.contains("+syncfail")));
        assert_eq!(app.get_customer(&id).await.data()["synced"], false);
        let names = events_of_attempt(&app, a["id"].as_str().expect("id")).await;
        assert_eq!(names, ["customer.sync.started", "customer.updated", "customer.sync.failed"]);
        let r = app.events("event=customer.sync.failed").await;
        let data = &r.data()["event_list"][0]["data"];
        assert!(data["error"].as_str().is_some_and(|e| e.contains("+syncfail")));
        assert_eq!(r.data()["event_list"][0]["category"], "customer_sync_lifecycle");
    }

    async fn sync_validation(app) {
        let id = approved(&app, "v@example.com").await;
        for body in [
            json!({"providers": ["stripe", "bridge"], "fields": ["email"]}),
            json!({"providers": [], "fields": ["email"]}),
            json!({"providers": ["nope"], "fields": ["email"]}),
            json!({"providers": ["konduto"], "fields": ["email"]}),
            json!({"providers": "stripe", "fields": ["email"]}),
            json!({"providers": ["stripe"], "fields": ["email", "dob"]}),
            json!({"providers": ["stripe"], "fields": []}),
            json!({"providers": ["stripe"]}),
            json!({"providers": ["stripe"], "fields": ["email"], "force": true}),
        ] {
            sync(&app, &id, &body).await.assert_error(422, "validation_error");
        }
        let ok = json!({"providers": ["stripe"], "fields": ["email"]});
        let bare = app.customer(json!({"email": "bare@example.com"})).await;
        let r = sync(&app, &bare, &ok).await;
        r.assert_error(400, "validation_error");
        assert_eq!(r.reason_codes(), ["not_registered"]);
        app.populate(&bare, &json!({"provider": "stripe", "target_role": "customer"})).await;
        assert_eq!(sync(&app, &bare, &ok).await.reason_codes(), ["not_registered"], "not_submitted is not registered");
        app.sandbox_set(&bare, "stripe", "customer", &json!({"status": "rejected"})).await;
        assert_eq!(sync(&app, &bare, &ok).await.reason_codes(), ["not_registered"]);
        assert_eq!(sync(&app, &id, &json!({"providers": ["bridge"], "fields": ["email"]})).await.reason_codes(), ["not_registered"]);
        sync(&app, "cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f", &ok).await.assert_error(404, "not_found");
        assert!(attempts(&app, &bare).await.is_empty());
        let other = app.new_merchant("other").await;
        app.post_as(&other.token, &format!("/api/v1/customers/{id}/sync"), &ok).await.assert_error(404, "not_found");
        app.get_as(&other.token, &format!("/api/v1/customers/{id}/sync-attempts")).await.assert_error(404, "not_found");
    }

    async fn balances_come_from_the_ledger(app) {
        let id = app.customer(json!({"email": "m@example.com", "country_code": "us"})).await;
        app.sandbox_set(&id, "stripe", "connected_account", &json!({"status": "approved"})).await;
        app.sandbox_set(&id, "bridge", "customer", &json!({"status": "approved"})).await;
        let r = balances(&app, &id, "provider=stripe&role=connected_account").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = r.data();
        assert_eq!(b["filters"], json!({"customer_id": id, "provider": "stripe", "role": "connected_account"}));
        assert_eq!(b["balances"].as_array().map(Vec::len), Some(1));
        let account = b["balances"][0]["account_id"].as_str().expect("account").to_owned();
        assert!(account.starts_with("acct_sbx_"));
        assert_eq!(b["balances"][0]["totals"], json!([]));
        assert_eq!(b["balances"][0]["customer"], json!({"id": id, "role": "connected_account"}));

        for (currency, bucket, amount) in [("usd", "available", 1000), ("USD", "available", 250), ("usd", "pending", 75),
            ("brl", "reserved", 500), ("usd", "available", -100), ("brl", "instant_payouts", 20)] {
            let r = ledger(&app, &id, json!({"provider": "stripe", "role": "connected_account", "currency": currency, "bucket": bucket, "amount": amount})).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.data()["account_id"], account.as_str());
        }
        let r = balances(&app, &id, "provider=stripe").await;
        assert_eq!(r.data()["balances"][0]["account_id"], account.as_str(), "account ids are stable");
        assert_eq!(r.data()["balances"][0]["totals"], json!([
            {"currency": "brl", "available": 0, "pending": 0, "reserved": 500, "instant_payouts": 20},
            {"currency": "usd", "available": 1150, "pending": 75, "reserved": 0, "instant_payouts": 0},
        ]));
        // No filter: every registration; bridge has no money yet.
        let all = balances(&app, &id, "").await;
        assert_eq!(all.data()["filters"]["provider"], Value::Null);
        let entries = all.data()["balances"].as_array().expect("balances").clone();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().any(|e| e["provider"] == "bridge" && e["totals"] == json!([])));
        assert_eq!(balances(&app, &id, "provider=stripe,BRIDGE&role=customer").await.data()["balances"].as_array().map(Vec::len), Some(1));
        assert_eq!(balances(&app, &id, "provider=avenia").await.data()["balances"], json!([]));
        for q in ["provider=nope", "role=boss", "currency=usd"] {
            balances(&app, &id, q).await.assert_error(422, "validation_error");
        }
    }

    async fn ledger_helper_validation_and_isolation(app) {
        let id = app.customer(json!({"email": "l@example.com"})).await;
        app.sandbox_set(&id, "stripe", "customer", &json!({"status": "approved"})).await;
        let base = json!({"provider": "stripe", "role": "customer", "currency": "usd", "bucket": "available", "amount": 5});
        for (key, value) in [("currency", json!("usdt")), ("currency", json!("xyz")), ("bucket", json!("frozen")),
            ("amount", json!(1.5)), ("amount", json!("5")), ("provider", json!("nope")), ("role", json!("boss"))] {
            let mut body = base.clone();
            body[key] = value;
            ledger(&app, &id, body).await.assert_error(422, "validation_error");
        }
        let mut body = base.clone();
        body["provider"] = json!("bridge");
        let r = ledger(&app, &id, body).await;
        r.assert_error(400, "validation_error");
        assert_eq!(r.reason_codes(), ["not_registered"]);
        assert_eq!(ledger(&app, &id, base.clone()).await.status, 200);
        let other = app.new_merchant("other").await;
        app.post_as(&other.token, &format!("/api/v1/sandbox/customers/{id}/balances"), &base).await.assert_error(404, "not_found");
        app.get_as(&other.token, &format!("/api/v1/customers/{id}/balances")).await.assert_error(404, "not_found");
        let r = balances(&app, &id, "").await;
        assert_eq!(r.data()["balances"][0]["totals"][0]["available"], 5);
    }
}

/// Syncs scheduled on a server that stops before running them complete on the next one.
async fn syncs_survive_a_restart(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.run_worker = false).await else {
        return;
    };
    let id = approved(&app, "r@example.com").await;
    for _ in 0..3 {
        assert_eq!(
            sync(
                &app,
                &id,
                &json!({"providers": ["stripe"], "fields": ["email"]})
            )
            .await
            .status,
            200
        );
    }
    assert!(attempts(&app, &id)
        .await
        .iter()
        .all(|a| a["status"] == "scheduled"));
    let mut config = app.config.clone();
    config.run_worker = true;
    let (_state, _base, server) = start(config).await;
    let list = settled(&app, &id).await;
    assert_eq!(list.len(), 3);
    assert!(
        list.iter()
            .all(|a| a["status"] == "succeeded" && a["attempts"] == 1),
        "{list:?}"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_survive_a_restart_sqlite() {
    syncs_survive_a_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_survive_a_restart_postgres() {
    syncs_survive_a_restart(Backend::Postgres).await;
}

/// Two server processes on one database run 200 sync attempts, each exactly once.
async fn two_processes_share_the_work(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.run_worker = false).await else {
        return;
    };
    let mut customers = Vec::new();
    for i in 0..20 {
        customers.push(approved(&app, &format!("p{i}@example.com")).await);
    }
    for id in &customers {
        for _ in 0..10 {
            assert_eq!(
                sync(
                    &app,
                    id,
                    &json!({"providers": ["stripe"], "fields": ["first_name"]})
                )
                .await
                .status,
                200
            );
        }
    }
    let mut config = app.config.clone();
    config.run_worker = true;
    let (a, _, server_a) = start(config.clone()).await;
    let (b, _, server_b) = start(config).await;
    for id in &customers {
        let list = settled(&app, id).await;
        assert_eq!(list.len(), 10);
        assert!(
            list.iter()
                .all(|x| x["status"] == "succeeded" && x["attempts"] == 1),
            "{list:?}"
        );
    }
    let calls = |s: &acorn_server::testing::AppState| {
        s.providers.sandbox_adapter().map_or(0, |x| x.sync_calls())
    };
    assert_eq!(
        calls(&a) + calls(&b),
        200,
        "adapter calls: {} + {}",
        calls(&a),
        calls(&b)
    );
    let r = app.events("event=customer.sync.succeeded&limit=100").await;
    assert_eq!(r.data()["has_more"], true);
    server_a.abort();
    server_b.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_work_postgres() {
    two_processes_share_the_work(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_work_sqlite() {
    two_processes_share_the_work(Backend::Sqlite).await;
}
