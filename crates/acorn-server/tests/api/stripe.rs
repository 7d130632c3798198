//! The Stripe connector against a local fake Stripe (see [`crate::fake_stripe`]): registration
//! of customers and connected accounts through the public API, progress from signed webhooks
//! and from reconciliation, sync and its two failure kinds, balances, populate, and a lost
//! answer not duplicating the Stripe object.

use std::time::{Duration, Instant};

use acorn_types::{Mode, Provider};
use reqwest::Method;
use serde_json::{json, Value};

use crate::fake_stripe::{FakeStripe, KEY, WEBHOOK_SECRET};
use crate::helpers::{spawn_app_with, Backend, Resp, TestApp};

/// Starts a fake Stripe and an app whose `stripe` is the real adapter pointed at it.
pub async fn spawn(backend: Backend, fake: &FakeStripe, reconcile: Duration) -> Option<TestApp> {
    let config = fake.config();
    spawn_app_with(backend, move |c| {
        c.stripe = Some(config);
        c.reconcile_interval = reconcile;
    })
    .await
}

/// Like `both_stores!`, with a fake Stripe (`$fake`) and the given reconcile interval.
macro_rules! stripe_tests {
    (reconcile = $interval:expr; $(async fn $name:ident($app:ident, $fake:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: TestApp, $fake: FakeStripe) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let fake = FakeStripe::start().await;
                    let app = spawn(Backend::Sqlite, &fake, $interval).await.expect("sqlite app");
                    run(app, fake).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let fake = FakeStripe::start().await;
                    if let Some(app) = spawn(Backend::Postgres, &fake, $interval).await {
                        run(app, fake).await;
                    }
                }
            }
        )*
    };
}

const NEVER: Duration = Duration::from_secs(3600);

fn person() -> Value {
    json!({"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "country_code": "US",
        "phone_country_code": "1", "phone_number": "5550100", "city": "Austin", "dob": "1990-04-07"})
}

fn as_customer() -> Value {
    json!({"provider": "stripe", "target_role": "customer"})
}

fn as_account() -> Value {
    json!({"provider": "stripe", "target_role": "connected_account", "provider_data": {"account_type": "express"}})
}

/// Submits and returns the registration (the first of the answer).
async fn submit_ok(app: &TestApp, id: &str, body: &Value) -> Value {
    let r = app.submit(id, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()[0].clone()
}

async fn registered_account(app: &TestApp) -> (String, String) {
    let id = app.customer(person()).await;
    let reg = submit_ok(app, &id, &as_account()).await;
    let acct = reg["provider_customer_id"]
        .as_str()
        .expect("acct")
        .to_owned();
    (id, acct)
}

fn event_names(r: &Resp) -> Vec<String> {
    let mut names: Vec<String> = r.data()["event_list"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event"].as_str().expect("name").to_owned())
        .collect();
    names.reverse();
    names
}

async fn sync_settled(app: &TestApp, id: &str, fields: &[&str]) -> Value {
    let body = json!({"providers": ["stripe"], "fields": fields});
    let r = app
        .post_as(
            &app.merchant.token,
            &format!("/api/v1/customers/{id}/sync"),
            &body,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app
            .get_as(
                &app.merchant.token,
                &format!("/api/v1/customers/{id}/sync-attempts"),
            )
            .await;
        let newest = r
            .data()
            .as_array()
            .and_then(|l| l.first().cloned())
            .expect("an attempt");
        if newest["status"] == "succeeded" || newest["status"] == "failed" {
            return newest;
        }
        assert!(Instant::now() < deadline, "sync never settled: {newest}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

stripe_tests! {
    reconcile = NEVER;

    async fn erasure_deletes_the_customer_at_stripe(app, fake) {
        let id = app.customer(person()).await;
        let reg = submit_ok(&app, &id, &as_customer()).await;
        let cus = reg["provider_customer_id"].as_str().expect("cus").to_owned();
        assert!(fake.lock().customers.contains_key(&cus));
        let path = format!("/api/v1/customers/{id}");
        let r = app.send(reqwest::Method::DELETE, &path, None, Some(&app.merchant.token), &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(fake.requests("DELETE", &format!("/v1/customers/{cus}")).len(), 1);
        assert!(!fake.lock().customers.contains_key(&cus));
        fake.assert_clean();
    }

    async fn a_customer_is_created_at_stripe_and_approved(app, fake) {
        let id = app.customer(person()).await;
        let reg = submit_ok(&app, &id, &as_customer()).await;
        assert_eq!(reg["status"], "approved", "{reg}");
        let cus = reg["provider_customer_id"].as_str().expect("cus id");
        assert!(cus.starts_with("cus_fake"), "{cus}");
        assert_eq!(reg["provider_response"]["id"], cus);
        assert_eq!(app.get_customer(&id).await.data()["status"], "APPROVED");
        let sent = fake.requests("POST", "/v1/customers");
        assert_eq!(sent.len(), 1);
        let s = &sent[0];
        assert_eq!(s.param("email"), Some("ann@example.com"));
        assert_eq!(s.param("name"), Some("Ann Lee"));
        assert_eq!(s.param("phone"), Some("+15550100"));
        assert_eq!(s.param("address[city]"), Some("Austin"));
        assert_eq!(s.param("metadata[acorn_customer_id]"), Some(id.as_str()));
        // A first submission's key comes from the customer and role (no registration is stored yet).
        assert!(s.idempotency_key.as_deref().is_some_and(|k| k.contains(&id) && k.contains("customer")), "{s:?}");
        let events = event_names(&app.events("limit=50").await);
        assert!(events.contains(&"provider_registration.approved".to_owned()), "{events:?}");

        // Populate pushes the current profile to the Stripe customer.
        app.update_customer(&id, &json!({"last_name": "Smith"})).await;
        let r = app.populate(&id, &json!({"provider": "stripe", "target_role": "customer"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let pushed = fake.requests("POST", &format!("/v1/customers/{cus}"));
        assert_eq!(pushed.len(), 1);
        assert_eq!(pushed[0].param("name"), Some("Ann Smith"));
        assert_eq!(fake.lock().customers[cus]["name"], "Ann Smith");

        // Only stripe is real; the other providers keep the sandbox. Health ignores Stripe.
        assert!(!app.state.providers.get(Mode::Sandbox, Provider::Stripe).expect("stripe").simulated());
        assert!(app.state.providers.get(Mode::Sandbox, Provider::Bridge).expect("bridge").simulated());
        let health = app.send(Method::GET, "/api/health", None, None, &[]).await;
        assert_eq!(health.status, 200);
        // The key is nowhere in the configuration's Debug.
        assert!(!format!("{:?}", app.state.config).contains(KEY));

        // Deleted at Stripe: the registration is cancelled.
        let deleted = json!({"id": cus, "object": "customer", "deleted": true});
        let r = fake.send_event(&app.base, "customer.deleted", &deleted, WEBHOOK_SECRET).await;
        assert_eq!(r.data()["outcome"], "applied", "{}", r.body);
        let now = app.registration_status(&id).await.data()[0].clone();
        assert_eq!(now["status"], "cancelled");
        fake.assert_clean();
    }

    async fn a_connected_account_follows_its_webhooks(app, fake) {
        let id = app.customer(person()).await;
        let reg = submit_ok(&app, &id, &as_account()).await;
        assert_eq!(reg["status"], "processing", "{reg}");
        assert_eq!(reg["missing_fields"], json!(["document_number", "external_account", "tos_acceptance.date"]));
        assert_eq!(reg["action_required"], true);
        let acct = reg["provider_customer_id"].as_str().expect("acct").to_owned();
        assert!(reg["provider_response"]["onboarding_url"].as_str().is_some_and(|u| u.contains(&acct)));
        assert_eq!(app.get_customer(&id).await.data()["status"], "INCOMPLETE");
        let created = &fake.requests("POST", "/v1/accounts")[0];
        assert_eq!(created.param("type"), Some("express"));
        assert_eq!(created.param("country"), Some("US"));
        assert_eq!(created.param("business_type"), Some("individual"));
        assert_eq!(created.param("individual[first_name]"), Some("Ann"));
        assert_eq!(created.param("individual[dob][year]"), Some("1990"));
        assert_eq!(created.param("capabilities[transfers][requested]"), Some("true"));
        assert_eq!(fake.requests("POST", "/v1/account_links")[0].param("account"), Some(acct.as_str()));

        // Badly signed webhooks are refused and change nothing.
        let enabled = fake.enable(&acct);
        let r = fake.send_event(&app.base, "account.updated", &enabled, "whsec_not_the_secret").await;
        r.assert_error(400, "validation_error");
        let unsigned = app.send(Method::POST, "/api/v1/providers/stripe/webhook", Some(&json!({"type": "account.updated"})), None, &[]).await;
        unsigned.assert_error(400, "validation_error");
        assert_eq!(app.registration_status(&id).await.data()[0]["status"], "processing");

        let r = fake.send_event(&app.base, "account.updated", &enabled, WEBHOOK_SECRET).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data()["outcome"], "applied");
        let c = app.get_customer(&id).await;
        assert_eq!(c.data()["status"], "APPROVED");
        assert_eq!(c.data()["account_type"], "express");
        let reg = app.registration_status(&id).await.data()[0].clone();
        assert_eq!((reg["status"].as_str(), reg["missing_fields"].clone()), (Some("approved"), json!([])));
        let again = fake.send_event(&app.base, "account.updated", &enabled, WEBHOOK_SECRET).await;
        assert_eq!(again.data()["outcome"], "unchanged");
        let other = fake.send_event(&app.base, "payout.paid", &json!({"id": "po_1"}), WEBHOOK_SECRET).await;
        assert_eq!(other.data()["outcome"], "ignored");
        let events = event_names(&app.events("limit=50").await);
        assert!(events.contains(&"provider_registration.processing".to_owned()), "{events:?}");
        assert!(events.contains(&"provider_registration.approved".to_owned()), "{events:?}");

        // A disabled account (rejected at Stripe) is rejected here too.
        let mut rejected = enabled.clone();
        rejected["requirements"]["disabled_reason"] = json!("rejected.fraud");
        fake.send_event(&app.base, "account.updated", &rejected, WEBHOOK_SECRET).await;
        let reg = app.registration_status(&id).await.data()[0].clone();
        assert_eq!(reg["status"], "rejected");
        assert_eq!(reg["rejection_reason"], "stripe: rejected.fraud");
        fake.assert_clean();
    }

    async fn sync_pushes_to_stripe_and_reports_both_failure_kinds(app, fake) {
        let id = app.customer(person()).await;
        let reg = submit_ok(&app, &id, &as_customer()).await;
        let cus = reg["provider_customer_id"].as_str().expect("cus").to_owned();
        app.update_customer(&id, &json!({"email": "ann.lee@example.com"})).await;
        let a = sync_settled(&app, &id, &["email"]).await;
        assert_eq!((a["status"].as_str(), a["attempts"].as_i64()), (Some("succeeded"), Some(1)), "{a}");
        let pushed = fake.requests("POST", &format!("/v1/customers/{cus}"));
        assert_eq!(pushed[0].param("email"), Some("ann.lee@example.com"));
        let attempt = a["id"].as_str().expect("attempt id");
        assert!(pushed[0].idempotency_key.as_deref().is_some_and(|k| k.contains(attempt)));
        assert_eq!(app.get_customer(&id).await.data()["synced"], true);

        // Stripe is down: retried on the sync schedule, then failed with Stripe's error.
        fake.lock().refuse_updates = Some((500, json!({"error": {"type": "api_error", "message": "Stripe is having a moment"}})));
        let a = sync_settled(&app, &id, &["email"]).await;
        assert_eq!(a["status"], "failed");
        assert_eq!(a["attempts"], app.config.sync_max_attempts);
        assert!(a["last_error"].as_str().is_some_and(|e| e.contains("stripe 500 api_error") && e.contains("a moment")), "{a}");

        // Stripe refuses the request: no retry.
        fake.lock().refuse_updates = Some((400, json!({"error": {"type": "invalid_request_error", "code": "email_invalid", "message": "Invalid email address", "param": "email"}})));
        let a = sync_settled(&app, &id, &["email"]).await;
        assert_eq!((a["status"].as_str(), a["attempts"].as_i64()), (Some("failed"), Some(1)), "{a}");
        assert!(a["last_error"].as_str().is_some_and(|e| e.contains("invalid_request_error (email_invalid)")), "{a}");
        assert_eq!(app.get_customer(&id).await.data()["synced"], false);
        fake.assert_clean();
    }

    async fn balances_come_from_the_connected_account(app, fake) {
        let (id, acct) = registered_account(&app).await;
        fake.set_balance(&acct, json!({"object": "balance",
            "available": [{"amount": 1200, "currency": "usd"}, {"amount": 300, "currency": "eur"}],
            "pending": [{"amount": 50, "currency": "usd"}],
            "instant_available": [{"amount": 1000, "currency": "usd"}]}));
        let r = app.get_as(&app.merchant.token, &format!("/api/v1/customers/{id}/balances?provider=stripe")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = &r.data()["balances"][0];
        assert_eq!(b["account_id"], acct.as_str());
        assert_eq!(b["totals"], json!([
            {"currency": "eur", "available": 300, "pending": 0, "reserved": 0, "instant_payouts": 0},
            {"currency": "usd", "available": 1200, "pending": 50, "reserved": 0, "instant_payouts": 1000},
        ]));
        let reads = fake.requests("GET", "/v1/balance");
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].stripe_account.as_deref(), Some(acct.as_str()));
        fake.assert_clean();
    }

    async fn a_lost_answer_never_duplicates_the_stripe_object(app, fake) {
        // Stripe created the customer, but its answer never reached Acorn: nothing committed.
        let id = app.customer(person()).await;
        fake.lock().lose_answers = true;
        let r = app.submit(&id, &as_customer()).await;
        r.assert_error(503, "provider_unavailable");
        assert_eq!(app.registration_status(&id).await.data(), &json!([]));
        fake.lock().lose_answers = false;
        let reg = submit_ok(&app, &id, &as_customer()).await;
        assert_eq!(reg["status"], "approved");
        let sent = fake.requests("POST", "/v1/customers");
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].idempotency_key, sent[1].idempotency_key);
        assert!(sent[1].replayed, "the retry is answered from Stripe's idempotency cache");
        assert_eq!(fake.lock().customers.len(), 1, "one Stripe customer");
        assert_eq!(reg["provider_customer_id"], fake.lock().customers.keys().next().cloned().expect("cus").as_str());

        // The same for a connected account and its onboarding link.
        let other = app.customer(json!({"email": "bo@example.com", "country_code": "US"})).await;
        fake.lock().lose_answers = true;
        app.submit(&other, &as_account()).await.assert_error(503, "provider_unavailable");
        fake.lock().lose_answers = false;
        let reg = submit_ok(&app, &other, &as_account()).await;
        assert_eq!(fake.lock().accounts.len(), 1, "one Stripe account");
        assert_eq!(reg["provider_customer_id"], fake.lock().accounts.keys().next().cloned().expect("acct").as_str());
        fake.assert_clean();
    }
}

stripe_tests! {
    reconcile = Duration::from_millis(100);

    async fn reconciliation_catches_a_missed_webhook(app, fake) {
        let (id, acct) = registered_account(&app).await;
        assert_eq!(app.get_customer(&id).await.data()["status"], "INCOMPLETE");
        // Onboarding finishes at Stripe; no webhook arrives.
        fake.enable(&acct);
        let c = app.wait_for_status(&id, "APPROVED").await;
        assert_eq!(c["platforms"][0]["status"], "approved");
        assert!(!fake.requests("GET", &format!("/v1/accounts/{acct}")).is_empty());
        // A final registration is not read again.
        let deadline = Instant::now() + Duration::from_secs(10);
        while app.state.store.pending_jobs().await.expect("jobs") > 0 {
            assert!(Instant::now() < deadline, "the reconcile job never ended");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        fake.assert_clean();
    }
}
