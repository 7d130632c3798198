//! Provider registrations, the derived status, the sandbox, populate platform and events
//! (contract §4.3 provider filters, §4.8, §5, §6, §7, §9).

use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{spawn_app_with, spawn_live_app, start, Backend, TestApp};

fn stripe_ca() -> Value {
    json!({"provider": "stripe", "target_role": "connected_account", "provider_data": {"account_type": "express"}})
}

async fn registered(app: &TestApp, email: &str) -> String {
    let id = app
        .customer(json!({"email": email, "country_code": "us"}))
        .await;
    let r = app.submit(&id, &stripe_ca()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    id
}

fn event_names(r: &crate::helpers::Resp) -> Vec<String> {
    r.data()["event_list"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event"].as_str().expect("name").to_owned())
        .collect()
}

both_stores! {
    async fn schema_per_provider(app) {
        let r = app.get_as(&app.merchant.token, "/api/v1/provider-registration/schema?provider=STRIPE").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let s = &r.data()["schema"];
        assert_eq!(s["provider"], "stripe");
        assert_eq!(s["allowed_roles"], json!(["customer", "connected_account"]));
        assert_eq!(s["roles"]["connected_account"]["required_fields"], json!(["country_code"]));
        assert_eq!(s["roles"]["connected_account"]["provider_data_required"], json!(["account_type"]));
        for q in ["", "provider=nope", "provider=stripe&x=1"] {
            let r = app.get_as(&app.merchant.token, &format!("/api/v1/provider-registration/schema?{q}")).await;
            r.assert_error(422, "validation_error");
        }
        let r = app.get_as(&app.merchant.token, "/api/v1/provider-registration/schema?provider=nope").await;
        assert!(r.body["failure_reasons"][0]["message"].as_str().is_some_and(|m| m.contains("mercado_pago")));
    }

    async fn approval_end_to_end(app) {
        let id = app.customer(json!({"email": "alice@example.com", "country_code": "us"})).await;
        let r = app.submit(&id, &stripe_ca()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let reg = &r.data()[0];
        assert_eq!(reg["status"], "submitted");
        assert!(reg["id"].as_str().is_some_and(|i| i.starts_with("preg_")));
        assert!(reg["provider_response"]["onboarding_url"].is_string());
        let c = app.wait_for_status(&id, "APPROVED").await;
        assert_eq!(c["platforms"][0]["status"], "approved");
        let acct = c["platforms"][0]["provider_customer_id"].as_str().expect("provider id");
        assert!(acct.starts_with("acct_sbx_"));
        assert_eq!(c["account_type"], "express");
        assert!(c["customer_wallet"].as_str().is_some_and(|w| w.starts_with("wal_sbx_")));
        assert!(c["version"].as_i64().expect("version") > 1);
        let regs = app.registration_status(&id).await;
        assert_eq!(regs.data()[0]["provider_customer_id"], acct);
        // Approved is active: submitting again conflicts.
        app.submit(&id, &stripe_ca()).await.assert_error(409, "conflict");
    }

    async fn each_sandbox_rule(app) {
        let cases = [
            ("a+reject@example.com", "REJECTED"),
            ("a+documents@example.com", "DOCUMENT_REQUIRED"),
            ("a+review@example.com", "IN_REVIEW"),
            ("a+confirm@example.com", "AWAITING_CONFIRMATION"),
            ("a+incomplete@example.com", "INCOMPLETE"),
        ];
        for (email, status) in cases {
            let id = registered(&app, email).await;
            app.wait_for_status(&id, status).await;
            let reg = app.registration_status(&id).await.data()[0].clone();
            match status {
                "REJECTED" => {
                    assert_eq!(reg["status"], "rejected");
                    assert!(reg["rejection_reason"].is_string());
                }
                "DOCUMENT_REQUIRED" => {
                    assert_eq!((reg["documents"].as_str(), reg["action_required"].as_bool()), (Some("required"), Some(true)));
                }
                "IN_REVIEW" => assert_eq!(reg["manual_review"], true),
                "AWAITING_CONFIRMATION" => assert_eq!(reg["status"], "awaiting_confirmation"),
                _ => assert_eq!(reg["missing_fields"], json!(["document_number"])),
            }
        }
        // A test helper decides the review.
        let id = registered(&app, "b+review@example.com").await;
        app.wait_for_status(&id, "IN_REVIEW").await;
        let r = app.sandbox_set(&id, "stripe", "connected_account", &json!({"status": "approved", "manual_review": false})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.data()["provider_customer_id"].is_string());
        app.wait_for_status(&id, "APPROVED").await;
    }

    async fn submit_validates_against_the_schema(app) {
        let bare = app.customer(json!({"email": "bare@example.com"})).await;
        let r = app.submit(&bare, &json!({"provider": "stripe", "target_role": "connected_account"})).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["country_code", "provider_data.account_type"]);
        let r = app.submit(&bare, &json!({"provider": "stripe", "target_role": "connected_account",
            "provider_data": {"account_type": "premium"}})).await;
        assert_eq!(r.failure_fields(), ["country_code", "provider_data.account_type"]);
        let r = app.submit(&bare, &json!({"provider": "bridge", "target_role": "customer"})).await;
        assert_eq!(r.failure_fields(), ["country_code", "dob", "first_name", "last_name"]);
        for body in [
            json!({"provider": "nope", "target_role": "customer"}),
            json!({"provider": "stripe", "target_role": "boss"}),
            json!({"provider": "bridge", "target_role": "connected_account"}),
            json!({"target_role": "customer"}),
            json!({"provider": "stripe", "target_role": "customer", "extra": 1}),
            json!({"provider": "stripe", "target_role": "customer", "provider_data": [1]}),
        ] {
            app.submit(&bare, &body).await.assert_error(422, "validation_error");
        }
        let unknown = "cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f";
        app.submit(unknown, &json!({"provider": "stripe", "target_role": "customer"})).await.assert_error(404, "not_found");
        assert_eq!(app.registration_status(&bare).await.data(), &json!([]));
        assert_eq!(app.get_customer(&bare).await.data()["status"], "NOT_STARTED");
    }

    async fn resubmission_rules(app) {
        let id = registered(&app, "r+reject@example.com").await;
        app.wait_for_status(&id, "REJECTED").await;
        let r = app.submit(&id, &stripe_ca()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data()[0]["status"], "submitted");
        assert_eq!(r.data()[0]["rejection_reason"], Value::Null);
        // A second registration stays separate; the submitted one comes first.
        let r = app.submit(&id, &json!({"provider": "stripe", "target_role": "customer"})).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.data()[0]["target_role"], "customer");
        assert_eq!(r.data().as_array().map(Vec::len), Some(2));
        // While submitted/processing, the same registration conflicts.
        let sub = app.customer(json!({"email": "s@example.com", "country_code": "us"})).await;
        app.sandbox_set(&sub, "stripe", "customer", &json!({"status": "processing"})).await;
        app.submit(&sub, &json!({"provider": "stripe", "target_role": "customer"})).await.assert_error(409, "conflict");
    }

    async fn registration_filters_hold_on_one_row(app) {
        let x = app.customer(json!({"email": "x@example.com"})).await;
        let y = app.customer(json!({"email": "y@example.com"})).await;
        app.customer(json!({"email": "z@example.com"})).await;
        for (id, provider, role, status) in [
            (&x, "stripe", "customer", "approved"),
            (&x, "bridge", "customer", "rejected"),
            (&y, "stripe", "connected_account", "rejected"),
        ] {
            let r = app.sandbox_set(id, provider, role, &json!({"status": status})).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let ids = |r: &crate::helpers::Resp| -> Vec<String> {
            r.data()["customer_list"].as_array().expect("list").iter().map(|c| c["id"].as_str().expect("id").to_owned()).collect()
        };
        let cases: Vec<(&str, Vec<&String>)> = vec![
            ("provider=stripe&provider_registration_status=rejected", vec![&y]),
            ("provider=bridge&provider_registration_status=REJECTED", vec![&x]),
            ("provider=stripe", vec![&y, &x]),
            ("provider=stripe&target_role=customer", vec![&x]),
            ("provider=stripe&target_role=customer&provider_registration_status=rejected", vec![]),
            ("provider_registration_status=rejected", vec![&y, &x]),
            ("target_role=connected_account", vec![&y]),
            ("provider=stripe,bridge&provider_registration_status=rejected", vec![&y, &x]),
            ("provider=avenia", vec![]),
            ("status=APPROVED&provider=bridge", vec![&x]),
        ];
        for (q, expected) in cases {
            let r = app.list_customers(q).await;
            assert_eq!(r.status, 200, "{q}: {}", r.body);
            let expected: Vec<String> = expected.into_iter().cloned().collect();
            assert_eq!(ids(&r), expected, "{q}");
            assert_eq!(r.data()["count"], expected.len(), "count for {q}");
        }
        let r = app.list_customers(&format!("provider=stripe&limit=1&starting_after={y}")).await;
        assert_eq!(ids(&r), std::slice::from_ref(&x));
        for q in ["provider=nope", "target_role=admin", "provider_registration_status=done"] {
            app.list_customers(q).await.assert_error(422, "validation_error");
        }
    }

    async fn populate_platform_creates_and_merges(app) {
        let id = app.customer(json!({"email": "p@example.com", "first_name": "Pat"})).await;
        let r = app.populate(&id, &json!({"provider": "bridge", "target_role": "customer", "kyc_level": "basic"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["msg"], "Platform data populated");
        let reg = &r.data()[0];
        assert_eq!(reg["status"], "not_submitted");
        assert_eq!(reg["provider_data"], json!({"kyc_level": "basic"}));
        assert_eq!(reg["provider_response"]["fields_received"], json!(["email", "first_name"]));
        assert_eq!(app.get_customer(&id).await.data()["status"], "PENDING");
        let r = app.populate(&id, &json!({"provider": "bridge", "target_role": "customer", "region": "eu", "kyc_level": "full"})).await;
        assert_eq!(r.data().as_array().map(Vec::len), Some(1));
        assert_eq!(r.data()[0]["provider_data"], json!({"kyc_level": "full", "region": "eu"}));
        for body in [json!({"provider": "bridge"}), json!({"target_role": "customer"}), json!({"provider": "x", "target_role": "customer"})] {
            app.populate(&id, &body).await.assert_error(422, "validation_error");
        }
        // Populate then submit: the not_submitted registration is submitted, keeping its data.
        app.update_customer(&id, &json!({"last_name": "Lee", "dob": "1990-01-01", "country_code": "br"})).await;
        let r = app.submit(&id, &json!({"provider": "bridge", "target_role": "customer"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data()[0]["provider_data"]["region"], "eu");
        app.wait_for_status(&id, "APPROVED").await;
    }

    async fn events_record_every_change_in_order(app) {
        let id = registered(&app, "e@example.com").await;
        app.wait_for_status(&id, "APPROVED").await;
        app.update_customer(&id, &json!({"first_name": "Eve"})).await;
        let r = app.events("limit=100").await;
        assert_eq!(r.status, 200);
        let mut names = event_names(&r);
        names.reverse();
        let expected = [
            "customer.created", "provider_registration.submitted", "customer.updated", "customer.processing",
            "provider_registration.processing", "customer.updated", "customer.processing",
            "provider_registration.approved", "customer.updated", "customer.verified", "customer.updated",
        ];
        assert_eq!(names, expected);
        let e = &r.data()["event_list"][0];
        assert!(e["id"].as_str().is_some_and(|i| i.starts_with("evt_")));
        assert_eq!(e["api_version"], "v1");
        assert_eq!(e["category"], "provider_registration_lifecycle");
        assert_eq!(e["data"]["changes"], json!(["first_name"]));
        // Filter and cursor.
        let r = app.events("event=customer.verified,customer.created").await;
        assert_eq!(event_names(&r), ["customer.verified", "customer.created"]);
        let first = app.events("limit=3").await;
        assert_eq!(first.data()["has_more"], true);
        let last_id = first.data()["event_list"][2]["id"].as_str().expect("id").to_owned();
        let next = app.events(&format!("limit=100&starting_after={last_id}")).await;
        assert_eq!(event_names(&next).len(), expected.len() - 3);
        for q in ["event=nope", "limit=0", "starting_after=evt_x", "starting_after=evt_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f", "x=1"] {
            app.events(q).await.assert_error(422, "validation_error");
        }
    }

    async fn tenants_are_isolated_on_registration_routes(app) {
        let id = registered(&app, "t@example.com").await;
        let other = app.new_merchant("other").await;
        let t = other.token.clone();
        app.get_as(&t, &format!("/api/v1/provider-registration/{id}/status")).await.assert_error(404, "not_found");
        app.post_as(&t, &format!("/api/v1/provider-registration/{id}/submit"), &stripe_ca()).await.assert_error(404, "not_found");
        app.post_as(&t, &format!("/api/v1/customers/{id}/platforms"), &json!({"provider": "stripe", "target_role": "customer"})).await.assert_error(404, "not_found");
        app.post_as(&t, &format!("/api/v1/sandbox/customers/{id}/registrations/stripe/customer/status"), &json!({"status": "approved"})).await.assert_error(404, "not_found");
        let r = app.get_as(&t, "/api/v1/events").await;
        assert_eq!(r.data()["event_list"], json!([]));
        let r = app.list_customers_as(&t, "provider=stripe").await;
        assert_eq!(r.data()["count"], 0);
        assert_eq!(app.registration_status(&id).await.data().as_array().map(Vec::len), Some(1));
    }
}

/// A live merchant: the sandbox helper is not there (404), and a provider without a real
/// connector is refused naming the provider, never simulated (contract §13).
async fn helpers_refused_without_sandbox(backend: Backend) {
    let Some(app) = spawn_live_app(backend, |_| {}).await else {
        return;
    };
    let id = app
        .customer(json!({"email": "n@example.com", "country_code": "us"}))
        .await;
    let r = app
        .sandbox_set(&id, "stripe", "customer", &json!({"status": "approved"}))
        .await;
    r.assert_error(404, "not_found");
    // No real connector for stripe here: submit says so instead of pretending.
    let r = app
        .submit(
            &id,
            &json!({"provider": "stripe", "target_role": "customer"}),
        )
        .await;
    r.assert_error(422, "validation_error");
    assert_eq!(r.body["failure_reasons"][0]["code"], "provider_unavailable");
    assert_eq!(r.body["failure_reasons"][0]["fields"], json!(["provider"]));
    assert!(r.body["failure_reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("stripe"));
    assert_eq!(app.registration_status(&id).await.data(), &json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpers_refused_without_sandbox_sqlite() {
    helpers_refused_without_sandbox(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpers_refused_without_sandbox_postgres() {
    helpers_refused_without_sandbox(Backend::Postgres).await;
}

/// A registration submitted to a server that stops before simulating it finishes on the next
/// server started on the same database.
async fn restart_mid_registration(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.run_worker = false).await else {
        return;
    };
    let id = app
        .customer(json!({"email": "restart@example.com", "country_code": "us"}))
        .await;
    assert_eq!(app.submit(&id, &stripe_ca()).await.status, 200);
    assert_eq!(app.state.store.pending_jobs().await.expect("jobs"), 1);
    assert_eq!(app.get_customer(&id).await.data()["status"], "INITIATED");
    let mut config = app.config.clone();
    config.run_worker = true;
    let (_state, base, server) = start(config).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let res = app
            .http
            .get(format!("{base}/api/v1/customers/{id}"))
            .bearer_auth(&app.merchant.token)
            .send()
            .await
            .expect("send");
        let body: Value = res.json().await.expect("json");
        if body["data"]["status"] == "APPROVED" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not approved after restart: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.state.store.pending_jobs().await.expect("jobs"), 0);
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_registration_sqlite() {
    restart_mid_registration(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_registration_postgres() {
    restart_mid_registration(Backend::Postgres).await;
}
