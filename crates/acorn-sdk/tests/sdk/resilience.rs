//! Tokens, retries, idempotency keys, timeouts and error surfacing.

use std::time::{Duration, Instant};

use acorn_sdk::types::{CustomerRequest, ErrorCode, ReasonCode};
use acorn_sdk::{ExposeSecret, OakError, RetryOptions};
use reqwest::StatusCode;

use crate::fake::{customer, fast_retry, start, Reply};

fn alice() -> CustomerRequest {
    CustomerRequest {
        email: Some("alice@example.com".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn fifty_concurrent_calls_on_a_fresh_client_share_one_grant() {
    let server = start().await;
    // The grant takes a while, so the other 49 calls arrive while it is in flight.
    *server.fake.grant_latency.lock().unwrap() = Duration::from_millis(100);
    *server.fake.default_reply.lock().unwrap() = Some(Reply::ok(customer("cus_1")));
    let client = server.client();

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let customers = client.customers();
            tokio::spawn(async move { customers.get("cus_1").await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().data.id, "cus_1");
    }

    assert_eq!(server.fake.grants(), 1);
    let seen = server.fake.seen();
    assert_eq!(seen.len(), 50);
    assert!(seen
        .iter()
        .all(|s| s.header("authorization") == Some("Bearer tok-1")));

    // And the cached token keeps serving later calls.
    client.customers().get("cus_1").await.unwrap();
    assert_eq!(server.fake.grants(), 1);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_replays_once() {
    let server = start().await;
    server.fake.push(Reply::error(
        401,
        "authentication_error",
        "invalid_token",
        &[],
    ));
    server.fake.push(Reply::ok(customer("cus_1")));
    let client = server.client();

    let got = client.customers().get("cus_1").await.unwrap();
    assert_eq!(got.data.id, "cus_1");
    assert_eq!(server.fake.grants(), 2);
    let seen = server.fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(seen[1].header("authorization"), Some("Bearer tok-2"));
    // The new token is the cached one from now on.
    assert_eq!(
        client.get_access_token().await.unwrap().expose_secret(),
        "tok-2"
    );
}

#[tokio::test]
async fn a_second_401_is_returned_not_looped_on() {
    let server = start().await;
    for _ in 0..3 {
        server.fake.push(Reply::error(
            401,
            "authentication_error",
            "invalid_token",
            &[],
        ));
    }
    let err = server.client().customers().get("cus_1").await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.error_code(), Some(ErrorCode::AuthenticationError));
    assert_eq!(server.fake.seen().len(), 2, "one call, one replay");
    assert_eq!(server.fake.grants(), 2, "one grant, one refresh");
}

#[tokio::test]
async fn bad_credentials_surface_the_grant_error_without_calling_the_api() {
    let server = start().await;
    server
        .fake
        .grant_script
        .lock()
        .unwrap()
        .push_back(Reply::error(
            401,
            "authentication_error",
            "invalid_client",
            &[],
        ));
    let err = server.client().customers().get("cus_1").await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.failure_reasons()[0].code, ReasonCode::InvalidClient);
    assert!(server.fake.seen().is_empty());
    assert_eq!(server.fake.grants(), 1, "a 401 on the grant is not retried");
}

#[tokio::test]
async fn a_503_then_200_is_retried_with_the_same_idempotency_key() {
    let server = start().await;
    server.fake.push(Reply::error(
        503,
        "provider_unavailable",
        "provider_unavailable",
        &[],
    ));
    server.fake.push(Reply::error(
        503,
        "provider_unavailable",
        "provider_unavailable",
        &[],
    ));
    server.fake.push(Reply::ok(customer("cus_1")));
    let client = server.client();

    let created = client.customers().create(&alice()).await.unwrap();
    assert_eq!(created.data.id, "cus_1");
    let seen = server.fake.seen();
    assert_eq!(seen.len(), 3);
    let key = seen[0].header("idempotency-key").unwrap().to_owned();
    let uuid = uuid::Uuid::parse_str(&key).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    for s in &seen {
        assert_eq!(s.header("idempotency-key"), Some(key.as_str()));
        assert_eq!(s.body, seen[0].body, "the same body on every attempt");
    }

    // Another POST gets another key; a GET gets none.
    server.fake.push(Reply::ok(customer("cus_2")));
    client.customers().create(&alice()).await.unwrap();
    server.fake.push(Reply::ok(customer("cus_2")));
    client.customers().get("cus_2").await.unwrap();
    let seen = server.fake.seen();
    let other = seen[3].header("idempotency-key").unwrap();
    assert_ne!(other, key);
    assert_eq!(seen[4].header("idempotency-key"), None);
}

/// A gateway gives up (504) while the server is still creating; the retry reaches the server
/// while the first attempt holds the key, and Acorn answers 409 with `Retry-After` (contract
/// §8). The SDK waits and asks again, and gets the stored answer — not a 409 for a create that
/// succeeded.
#[tokio::test]
async fn an_in_flight_409_with_retry_after_is_waited_out() {
    let server = start().await;
    server.fake.push(Reply::error(
        504,
        "provider_unavailable",
        "provider_unavailable",
        &[],
    ));
    server.fake.push(
        Reply::json(
            409,
            serde_json::json!({"msg": "a request with this Idempotency-Key is still being processed; retry later",
                "error_code": "conflict", "failure_reasons": [], "data": null}),
        )
        .header("retry-after", "1"),
    );
    server
        .fake
        .push(Reply::ok(customer("cus_1")).header("idempotent-replayed", "true"));
    let started = Instant::now();
    let created = server.client().customers().create(&alice()).await.unwrap();
    assert_eq!(created.data.id, "cus_1");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was waited"
    );
    let seen = server.fake.seen();
    assert_eq!(seen.len(), 3);
    let key = seen[0].header("idempotency-key").unwrap();
    assert!(seen
        .iter()
        .all(|s| s.header("idempotency-key") == Some(key)));

    // A 409 without Retry-After is a real conflict (a resubmission, a stale If-Match): final.
    server
        .fake
        .push(Reply::error(409, "conflict", "invalid_input", &[]));
    let err = server
        .client()
        .customers()
        .create(&alice())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::CONFLICT));
    assert_eq!(server.fake.seen().len(), 4);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = start().await;
    server.fake.push(
        Reply::error(429, "rate_limited", "rate_limit_exceeded", &[]).header("retry-after", "1"),
    );
    server.fake.push(Reply::ok(customer("cus_1")));
    // Backoff alone would wait ~2 ms; only Retry-After explains a wait of a second.
    let client = server.client();
    let started = Instant::now();
    client.customers().get("cus_1").await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.fake.seen().len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_returns_the_429() {
    let server = start().await;
    server.fake.push(
        Reply::error(429, "rate_limited", "rate_limit_exceeded", &[]).header("retry-after", "60"),
    );
    let err = server.client().customers().get("cus_1").await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(err.error_code(), Some(ErrorCode::RateLimited));
    match &err {
        OakError::Api { headers, .. } => assert_eq!(headers.get("retry-after").unwrap(), "60"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.fake.seen().len(), 1);
}

#[tokio::test]
async fn retries_stop_at_max_retries() {
    let server = start().await;
    for _ in 0..5 {
        server.fake.push(Reply::error(
            502,
            "provider_error",
            "provider_unavailable",
            &[],
        ));
    }
    let client = server.client_with(fast_retry(2), Duration::from_secs(5));
    let err = client.customers().get("cus_1").await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(server.fake.seen().len(), 3, "first attempt + 2 retries");

    let server = start().await;
    server.fake.push(Reply::error(
        503,
        "provider_unavailable",
        "provider_unavailable",
        &[],
    ));
    let client = server.client_with(RetryOptions::disabled(), Duration::from_secs(5));
    assert!(client.customers().get("cus_1").await.is_err());
    assert_eq!(server.fake.seen().len(), 1);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_the_envelope() {
    for (status, code, reason, field) in [
        (400, "validation_error", "duplicate_data", "email"),
        (404, "not_found", "invalid_input", "id"),
        (
            422,
            "validation_error",
            "missing_required_information",
            "email",
        ),
    ] {
        let server = start().await;
        server
            .fake
            .push(Reply::error(status, code, reason, &[field]).header("x-request-id", "req-42"));
        server.fake.push(Reply::ok(customer("cus_1")));
        let err = server
            .client()
            .customers()
            .create(&alice())
            .await
            .unwrap_err();
        match &err {
            OakError::Api {
                status: s, body, ..
            } => {
                assert_eq!(s.as_u16(), status);
                assert_eq!(body.failure_reasons[0].fields, vec![field.to_owned()]);
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(err.msg(), Some(format!("{code} ({status})").as_str()));
        assert_eq!(
            serde_json::to_value(err.error_code().unwrap()).unwrap(),
            code
        );
        assert_eq!(
            serde_json::to_value(err.failure_reasons()[0].code).unwrap(),
            reason
        );
        assert_eq!(err.request_id(), Some("req-42"));
        assert_eq!(server.fake.seen().len(), 1, "{status} must not be retried");
    }
}

#[tokio::test]
async fn a_hung_request_times_out_and_is_not_retried() {
    let server = start().await;
    server.fake.push(Reply::hang());
    let client = server.client_with(fast_retry(3), Duration::from_millis(300));
    let err = client.customers().get("cus_1").await.unwrap_err();
    assert!(
        matches!(err, OakError::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert_eq!(server.fake.seen().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    // Bind then drop, so nothing listens on this port.
    let addr = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let client = acorn_sdk::OakClient::builder()
        .custom_url(format!("http://{addr}"))
        .client_id("id")
        .client_secret("secret")
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let err = client.customers().get("cus_1").await.unwrap_err();
    assert!(matches!(err, OakError::Network(_)), "{err:?}");
}

#[tokio::test]
async fn a_malformed_success_body_names_the_json_path() {
    let server = start().await;
    let mut bad = customer("cus_1");
    bad["status"] = "SOMETHING_ELSE".into();
    server.fake.push(Reply::ok(bad));
    let err = server.client().customers().get("cus_1").await.unwrap_err();
    match err {
        OakError::Decode { path, status, .. } => {
            assert_eq!(path, "data.status");
            assert_eq!(status, StatusCode::OK);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn grant_token_forces_a_new_grant_and_caches_it() {
    let server = start().await;
    let client = server.client();
    let first = client.get_access_token().await.unwrap();
    assert_eq!(first.expose_secret(), "tok-1");
    let granted = client.grant_token().await.unwrap();
    assert_eq!(granted.access_token.expose_secret(), "tok-2");
    assert_eq!(granted.token_type, "Bearer");
    assert_eq!(granted.expires_in, Duration::from_secs(3600));
    assert!(!format!("{granted:?}").contains("tok-2"));
    assert_eq!(
        client.get_access_token().await.unwrap().expose_secret(),
        "tok-2"
    );
    assert_eq!(server.fake.grants(), 2);
}

#[tokio::test]
async fn a_token_about_to_expire_is_replaced_before_use() {
    let server = start().await;
    // A token that expires at once is never reused.
    *server.fake.expires_in.lock().unwrap() = 0;
    *server.fake.default_reply.lock().unwrap() = Some(Reply::ok(customer("cus_1")));
    let client = server.client();
    client.customers().get("cus_1").await.unwrap();
    client.customers().get("cus_1").await.unwrap();
    assert_eq!(server.fake.grants(), 2);
}
