//! Every method sends the contract's method, path, query and body, and reads its answer.

use acorn_sdk::types::{
    BalanceFilter, CustomerRequest, CustomerStatus, FileType, ListParams, PlatformRequest,
    Provider, SubmitRegistrationRequest, SyncField, SyncRequest, TargetRole,
};
use acorn_sdk::{FileUpload, OakError};
use futures::TryStreamExt;
use reqwest::Method;
use serde_json::json;

use crate::fake::{customer, registration, start, Reply};

/// Decoded query pairs, sorted (parameter order carries no meaning).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn customer_methods_hit_the_contract_routes() {
    let server = start().await;
    let client = server.client();
    let customers = client.customers();

    server.fake.push(Reply::ok(customer("cus_1")));
    let created = customers
        .create(&CustomerRequest {
            email: Some("alice@example.com".into()),
            first_name: Some("Alice".into()),
            last_name: Some("Smith".into()),
            country_code: Some("US".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.msg, "ok");
    assert_eq!(created.data.status, CustomerStatus::NotStarted);

    server.fake.push(Reply::ok(customer("cus_1")));
    customers.get("cus_1").await.unwrap();

    server.fake.push(Reply::ok(customer("cus_1")));
    customers
        .update(
            "cus_1",
            &CustomerRequest {
                last_name: Some("Johnson".into()),
                ..Default::default()
            }
            .clear("company_name"),
        )
        .await
        .unwrap();

    server.fake.push(Reply::json(
        200,
        json!({"msg": "Sync scheduled", "data": null}),
    ));
    let synced = customers
        .sync(
            "cus_1",
            &SyncRequest::new(Provider::Stripe, [SyncField::Email, SyncField::FirstName]),
        )
        .await
        .unwrap();
    assert_eq!(synced.data, None);

    server.fake.push(Reply::ok(json!({
        "as_of": "2026-11-28T10:00:00Z",
        "filters": {"customer_id": "cus_1", "provider": "stripe", "role": "connected_account"},
        "balances": [{"account_id": "acct_1", "provider": "stripe",
            "customer": {"id": "cus_1", "role": "connected_account"},
            "as_of": "2026-11-28T10:00:00Z",
            "totals": [{"currency": "usd", "available": 1250, "pending": 5,
                        "reserved": 0, "instant_payouts": 0}]}]
    })));
    let balance = customers
        .balance(
            "cus_1",
            &BalanceFilter::new(Provider::Stripe, TargetRole::ConnectedAccount),
        )
        .await
        .unwrap();
    assert_eq!(balance.data.balances[0].totals[0].available, 1250);

    server.fake.push(Reply::ok(json!([])));
    customers.get_files("cus_1").await.unwrap();

    server.fake.push(Reply::ok(json!([registration(
        "stripe",
        "customer",
        "not_submitted"
    )])));
    let regs = customers
        .populate_platform(
            "cus_1",
            &PlatformRequest::new(Provider::Stripe, TargetRole::Customer)
                .with("callback_url", "https://x"),
        )
        .await
        .unwrap();
    assert_eq!(regs.data[0].provider, Provider::Stripe);

    let seen = server.fake.seen();
    let routes: Vec<(Method, &str, Option<&str>)> = seen
        .iter()
        .map(|s| (s.method.clone(), s.path.as_str(), s.query.as_deref()))
        .collect();
    assert_eq!(
        routes,
        vec![
            (Method::POST, "/api/v1/customers", None),
            (Method::GET, "/api/v1/customers/cus_1", None),
            (Method::PUT, "/api/v1/customers/cus_1", None),
            (Method::POST, "/api/v1/customers/cus_1/sync", None),
            (
                Method::GET,
                "/api/v1/customers/cus_1/balances",
                Some("provider=stripe&role=connected_account")
            ),
            (Method::GET, "/api/v1/customers/cus_1/files", None),
            (Method::POST, "/api/v1/customers/cus_1/platforms", None),
        ]
    );
    assert_eq!(
        seen[0].json(),
        json!({"email": "alice@example.com", "first_name": "Alice", "last_name": "Smith",
               "country_code": "US"})
    );
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(seen[0].header("accept"), Some("application/json"));
    assert!(seen[0].header("oak-version").is_some());
    assert_eq!(
        seen[2].json(),
        json!({"last_name": "Johnson", "company_name": null})
    );
    assert_eq!(
        seen[3].json(),
        json!({"providers": ["stripe"], "fields": ["email", "first_name"]})
    );
    assert_eq!(
        seen[6].json(),
        json!({"provider": "stripe", "target_role": "customer", "callback_url": "https://x"})
    );
    assert_eq!(
        seen[1].header("content-type"),
        None,
        "no body, no content type"
    );
}

#[tokio::test]
async fn provider_methods_hit_the_contract_routes() {
    let server = start().await;
    let providers = server.client().providers();

    server.fake.push(Reply::ok(json!({"schema": {
        "provider": "stripe", "allowed_roles": ["customer", "connected_account"],
        "roles": {"connected_account": {"required_fields": ["country_code"],
            "provider_data_required": ["account_type"],
            "provider_data_schema": {"type": "object"}}},
        "global_required_fields": ["email"]}})));
    let schema = providers.get_schema(Provider::Stripe).await.unwrap();
    assert_eq!(schema.data.schema.provider, Provider::Stripe);

    server.fake.push(Reply::ok(json!([registration(
        "stripe",
        "connected_account",
        "approved"
    )])));
    providers.get_registration_status("cus_1").await.unwrap();

    server.fake.push(Reply::ok(json!([registration(
        "stripe",
        "connected_account",
        "submitted"
    )])));
    let submitted = providers
        .submit_registration(
            "cus_1",
            &SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount)
                .with("account_type", "express"),
        )
        .await
        .unwrap();
    assert_eq!(
        submitted.data[0].status,
        acorn_sdk::types::RegistrationStatus::Submitted
    );

    let seen = server.fake.seen();
    assert_eq!(
        (
            seen[0].method.clone(),
            seen[0].path.as_str(),
            seen[0].query.as_deref()
        ),
        (
            Method::GET,
            "/api/v1/provider-registration/schema",
            Some("provider=stripe")
        )
    );
    assert_eq!(
        (seen[1].method.clone(), seen[1].path.as_str()),
        (Method::GET, "/api/v1/provider-registration/cus_1/status")
    );
    assert_eq!(
        (seen[2].method.clone(), seen[2].path.as_str()),
        (Method::POST, "/api/v1/provider-registration/cus_1/submit")
    );
    assert_eq!(
        seen[2].json(),
        json!({"provider": "stripe", "target_role": "connected_account",
               "provider_data": {"account_type": "express"}})
    );
    assert!(seen[2].header("idempotency-key").is_some());
}

#[tokio::test]
async fn list_sends_filters_as_comma_lists() {
    let server = start().await;
    server.fake.push(Reply::ok(
        json!({"count": 1, "customer_list": [customer("cus_1")], "has_more": false}),
    ));
    let page = server
        .client()
        .customers()
        .list(&ListParams {
            limit: Some(10),
            offset: Some(0),
            email: vec!["alice+x@example.com".into(), "bob@example.com".into()],
            provider: vec![Provider::Stripe, Provider::Bridge],
            target_role: vec![TargetRole::Customer],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.data.count, 1);
    let seen = server.fake.seen();
    assert_eq!(
        query_pairs(seen[0].query.as_deref()),
        vec![
            ("email".into(), "alice+x@example.com,bob@example.com".into()),
            ("limit".into(), "10".into()),
            ("offset".into(), "0".into()),
            ("provider".into(), "stripe,bridge".into()),
            ("target_role".into(), "customer".into()),
        ]
    );
    assert!(seen[0]
        .query
        .as_deref()
        .unwrap()
        .contains("stripe%2Cbridge"));
}

#[tokio::test]
async fn list_all_walks_cursor_pages() {
    let server = start().await;
    let page = |ids: &[&str], has_more: bool| {
        Reply::ok(json!({
            "count": 5,
            "customer_list": ids.iter().map(|id| customer(id)).collect::<Vec<_>>(),
            "has_more": has_more
        }))
    };
    server.fake.push(page(&["cus_5", "cus_4"], true));
    server.fake.push(page(&["cus_3", "cus_2"], true));
    server.fake.push(page(&["cus_1"], false));
    let params = ListParams {
        limit: Some(2),
        country_code: vec!["us".into()],
        ..Default::default()
    };
    let all: Vec<_> = server
        .client()
        .customers()
        .list_all(params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["cus_5", "cus_4", "cus_3", "cus_2", "cus_1"]);
    let queries: Vec<Vec<(String, String)>> = server
        .fake
        .seen()
        .iter()
        .map(|s| query_pairs(s.query.as_deref()))
        .collect();
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        queries,
        [
            vec![pair("country_code", "us"), pair("limit", "2")],
            vec![
                pair("country_code", "us"),
                pair("limit", "2"),
                pair("starting_after", "cus_4")
            ],
            vec![
                pair("country_code", "us"),
                pair("limit", "2"),
                pair("starting_after", "cus_2")
            ],
        ]
    );
}

#[tokio::test]
async fn list_all_stops_at_the_first_error_and_refuses_offsets() {
    let server = start().await;
    server.fake.push(Reply::ok(
        json!({"count": 3, "customer_list": [customer("cus_3")], "has_more": true}),
    ));
    server.fake.push(Reply::error(
        422,
        "validation_error",
        "invalid_cursor",
        &["starting_after"],
    ));
    let items: Vec<_> = futures::StreamExt::collect::<Vec<_>>(
        server.client().customers().list_all(ListParams::default()),
    )
    .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert_eq!(
        items[1].as_ref().unwrap_err().status().map(|s| s.as_u16()),
        Some(422)
    );
    assert_eq!(server.fake.seen().len(), 2);

    let items: Vec<_> =
        futures::StreamExt::collect::<Vec<_>>(server.client().customers().list_all(ListParams {
            offset: Some(10),
            ..Default::default()
        }))
        .await;
    assert!(matches!(
        items.as_slice(),
        [Err(OakError::InvalidArgument(_))]
    ));
    assert_eq!(server.fake.seen().len(), 2, "no request for invalid params");
}

#[tokio::test]
async fn upload_sends_multipart_with_file_type_and_file_parts() {
    let server = start().await;
    let file = json!({"id": "file_1", "fileType": "PASSPORT", "file_type": "PASSPORT",
        "name": "passport.pdf", "content_type": "application/pdf", "size": 9, "sha256": "ab",
        "url": "http://h/x", "created_at": "t"});
    // 503 first: the multipart body must be rebuilt identically for the retry.
    server.fake.push(Reply::error(
        503,
        "provider_unavailable",
        "provider_unavailable",
        &[],
    ));
    server.fake.push(Reply::json(
        201,
        json!({"msg": "file upload successful", "data": [file.clone(), file]}),
    ));
    let uploaded = server
        .client()
        .customers()
        .upload_files(
            "cus_1",
            FileType::Passport,
            vec![
                FileUpload::new("passport.pdf", b"%PDF-1.7\n".to_vec())
                    .with_content_type("application/pdf"),
                FileUpload::new("back.png", b"\x89PNG\r\n\x1a\n".to_vec()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(uploaded.data.len(), 2);
    assert_eq!(uploaded.data[0].file_type, FileType::Passport);

    let seen = server.fake.seen();
    assert_eq!(seen.len(), 2);
    let key = seen[0].header("idempotency-key").unwrap();
    assert_eq!(seen[1].header("idempotency-key"), Some(key));
    for s in &seen {
        assert_eq!(s.path, "/api/v1/customers/cus_1/files");
        assert!(s
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data; boundary="));
        let body = String::from_utf8_lossy(&s.body);
        let file_type_at = body.find("name=\"file_type\"").unwrap();
        let first_file_at = body
            .find("name=\"file\"; filename=\"passport.pdf\"")
            .unwrap();
        assert!(file_type_at < first_file_at, "file_type goes first");
        assert!(body.contains("PASSPORT"));
        assert!(body.contains("name=\"file\"; filename=\"back.png\""));
        assert!(body.contains("Content-Type: application/pdf"));
        assert!(body.contains("%PDF-1.7"));
    }
}

#[tokio::test]
async fn ids_are_encoded_and_empty_ids_never_leave_the_client() {
    let server = start().await;
    server.fake.push(Reply::ok(customer("x")));
    server.fake.push(Reply::ok(json!([])));
    let client = server.client();
    client.customers().get("a/b?c#d").await.unwrap();
    client
        .providers()
        .get_registration_status("../x")
        .await
        .unwrap();
    let seen = server.fake.seen();
    assert_eq!(seen[0].path, "/api/v1/customers/a%2Fb%3Fc%23d");
    assert_eq!(seen[0].query, None);
    assert_eq!(seen[1].path, "/api/v1/provider-registration/..%2Fx/status");

    let customers = client.customers();
    for err in [
        customers.get("").await.unwrap_err(),
        customers
            .update("", &CustomerRequest::default())
            .await
            .unwrap_err(),
        customers.get_files("..").await.unwrap_err(),
        customers
            .upload_files("cus_1", FileType::Passport, vec![])
            .await
            .unwrap_err(),
        customers
            .upload_files(
                "cus_1",
                FileType::Passport,
                vec![FileUpload::new("a", b"x".to_vec()).with_content_type("not a type")],
            )
            .await
            .unwrap_err(),
        client
            .providers()
            .submit_registration(
                "",
                &SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::Customer),
            )
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, OakError::InvalidArgument(_)), "{err:?}");
    }
    assert_eq!(
        server.fake.seen().len(),
        2,
        "no request for invalid arguments"
    );
}
