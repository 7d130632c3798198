//! `CustomerService::create_with_idempotency_key` sends the caller's key, on every attempt of
//! the call and again on a later call, and refuses an unusable key before sending anything.
//!
//! A small local HTTP stand-in records the headers (a real server cannot be made to answer 503
//! on demand); the replay itself is the server's job and is tested with the real server by the
//! `acorn customers import` tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use acorn_sdk::types::CustomerRequest;
use acorn_sdk::{OakClient, OakError, RetryOptions};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Default)]
struct Seen {
    keys: Mutex<Vec<Option<String>>>,
}

fn customer() -> Value {
    let mut c = json!({
        "id": "cus_1", "customer_id": "cus_1", "email": "alice@example.com",
        "status": "NOT_STARTED", "platforms": [], "synced": null, "synced_at": null,
        "version": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "monthly_net_income": null, "additional_info": null,
        "customer_wallet": null, "trading_wallet": null, "account_type": null,
    });
    for f in [
        "first_name",
        "last_name",
        "company_name",
        "document_number",
        "document_type",
        "dob",
        "phone_country_code",
        "phone_area_code",
        "phone_number",
        "country_code",
        "gender",
        "house_number",
        "street_number",
        "street_name",
        "neighborhood",
        "postal_code",
        "city",
        "state",
        "subdivision",
        "mother_name",
        "owner_legal_name",
        "owner_document_number",
        "owner_document_type",
        "company_start_date",
        "social_name",
        "tax_id",
    ] {
        c[f] = Value::Null;
    }
    c
}

async fn start(seen: Arc<Seen>) -> String {
    let grant = post(|| async {
        Json(json!({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}))
    });
    let create = post(move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut keys = seen.keys.lock().unwrap();
            keys.push(key);
            // The first attempt fails transiently, so the SDK retries it.
            if keys.len() == 1 {
                let body = json!({"msg": "try again", "error_code": "provider_unavailable",
                                  "failure_reasons": [], "data": null});
                return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            }
            Json(json!({"msg": "Customer created", "data": customer()})).into_response()
        }
    });
    let app = Router::new()
        .route("/api/v1/merchant/token/grant", grant)
        .route("/api/v1/customers", create);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_callers_key_is_sent_on_every_attempt_and_every_repeat() {
    let seen = Arc::new(Seen::default());
    let url = start(seen.clone()).await;
    let client = OakClient::builder()
        .custom_url(url)
        .client_id("id")
        .client_secret("secret")
        .retry(RetryOptions {
            initial_delay: Duration::from_millis(1),
            ..Default::default()
        })
        .build()
        .unwrap();
    let alice = CustomerRequest {
        email: Some("alice@example.com".into()),
        ..Default::default()
    };
    let customers = client.customers();
    let first = customers
        .create_with_idempotency_key(&alice, "import-abc-1")
        .await
        .unwrap();
    assert_eq!(first.data.id, "cus_1");
    customers
        .create_with_idempotency_key(&alice, "import-abc-1")
        .await
        .unwrap();
    let key = Some("import-abc-1".to_owned());
    assert_eq!(*seen.keys.lock().unwrap(), [key.clone(), key.clone(), key]);

    // Plain `create` still sends a fresh key per call.
    customers.create(&alice).await.unwrap();
    let keys = seen.keys.lock().unwrap().clone();
    let fresh = keys[3].as_deref().unwrap();
    assert_ne!(fresh, "import-abc-1");

    for bad in ["", "has\ttab", "é", &"k".repeat(256)] {
        let err = customers
            .create_with_idempotency_key(&alice, bad)
            .await
            .unwrap_err();
        assert!(matches!(err, OakError::InvalidArgument(_)), "{bad:?}");
    }
    assert_eq!(
        seen.keys.lock().unwrap().len(),
        4,
        "nothing sent for bad keys"
    );

    // One rule with the server: a space is a printable ASCII character.
    customers
        .create_with_idempotency_key(&alice, "import abc 2")
        .await
        .unwrap();
    let last = seen.keys.lock().unwrap().last().cloned().flatten();
    assert_eq!(last.as_deref(), Some("import abc 2"));
}
