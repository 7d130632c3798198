//! The SDK end to end: every method against a real Acorn server started in-process (SQLite,
//! sandbox providers), success paths and the error paths a caller has to handle.
//!
//! Retry, timeout and token-refresh behaviour that a real server will not produce on demand is
//! tested against a scripted fake in the `sdk` test binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use std::collections::BTreeSet;

use acorn_sdk::types::{
    BalanceFilter, CustomerRequest, CustomerStatus, DocumentType, DocumentsState, ErrorCode,
    FileType, ListParams, PlatformRequest, Provider, ReasonCode, RegistrationStatus,
    SubmitRegistrationRequest, SyncField, SyncRequest, TargetRole,
};
use acorn_sdk::{FileUpload, OakClient, OakError};
use futures::TryStreamExt;
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use helpers::{eventually, spawn_server, with_email, Loss, LossyProxy};

/// A well-formed customer id that names no customer.
const UNKNOWN_ID: &str = "cus_0192d5e2-7b1c-7000-8000-000000000000";

/// The failure reasons' fields, sorted and deduplicated.
fn failure_fields(e: &OakError) -> Vec<String> {
    let set: BTreeSet<String> = e
        .failure_reasons()
        .iter()
        .flat_map(|r| r.fields.iter().cloned())
        .collect();
    set.into_iter().collect()
}

/// Asserts `result` is an API error with this status and error code, and returns the error.
#[track_caller]
fn api_error<T: std::fmt::Debug>(
    result: Result<T, OakError>,
    status: u16,
    code: ErrorCode,
) -> OakError {
    let e = result.expect_err("expected an API error");
    assert!(matches!(e, OakError::Api { .. }), "not an API error: {e:?}");
    assert_eq!(
        e.status(),
        Some(StatusCode::from_u16(status).unwrap()),
        "{e}"
    );
    assert_eq!(e.error_code(), Some(code), "{e}");
    assert!(e.request_id().is_some(), "X-Request-Id is exposed");
    e
}

/// Waits until the customer's registration with `provider` as `role` reaches `status`.
async fn wait_for_registration(
    client: &OakClient,
    customer: &str,
    provider: Provider,
    role: TargetRole,
    status: RegistrationStatus,
) -> acorn_sdk::types::Registration {
    eventually(&format!("{provider} {role} {status}"), || async {
        let regs = client
            .providers()
            .get_registration_status(customer)
            .await
            .expect("status")
            .data;
        regs.into_iter()
            .find(|r| r.provider == provider && r.target_role == role && r.status == status)
    })
    .await
}

#[tokio::test]
async fn create_get_and_update_a_customer() {
    let server = spawn_server().await;
    let client = server.client();
    let customers = client.customers();

    let created = customers
        .create(&CustomerRequest {
            email: Some("alice@example.com".into()),
            first_name: Some("Alice".into()),
            last_name: Some("Smith".into()),
            country_code: Some("US".into()),
            company_name: Some("Acme".into()),
            monthly_net_income: Some(1200.5),
            additional_info: Some(json!({"source": "e2e"}).as_object().unwrap().clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.msg, "Customer created");
    let c = created.data;
    assert!(c.id.starts_with("cus_"), "{}", c.id);
    assert_eq!(c.customer_id, c.id);
    assert_eq!(c.email, "alice@example.com");
    assert_eq!(c.country_code.as_deref(), Some("us"), "lowercased");
    assert_eq!(c.company_name.as_deref(), Some("Acme"));
    assert_eq!(c.monthly_net_income, Some(1200.5));
    assert_eq!(c.additional_info.as_ref().unwrap()["source"], "e2e");
    assert_eq!(c.status, CustomerStatus::NotStarted);
    assert_eq!(c.synced, None);
    assert_eq!(c.version, 1);
    assert!(c.platforms.is_empty());

    // By its cus_ id, and by the bare uuid the contract also accepts.
    let got = customers.get(&c.id).await.unwrap().data;
    assert_eq!(got, c);
    let bare = c.id.trim_start_matches("cus_");
    assert_eq!(customers.get(bare).await.unwrap().data.id, c.id);

    // Absent fields stay, set fields change, a cleared field becomes null.
    let updated = customers
        .update(
            &c.id,
            &CustomerRequest {
                last_name: Some("Johnson".into()),
                phone_country_code: Some("1".into()),
                phone_area_code: Some("415".into()),
                phone_number: Some("5551234".into()),
                ..Default::default()
            }
            .clear("company_name"),
        )
        .await
        .unwrap()
        .data;
    assert_eq!(updated.id, c.id);
    assert_eq!(updated.first_name.as_deref(), Some("Alice"));
    assert_eq!(updated.last_name.as_deref(), Some("Johnson"));
    assert_eq!(updated.phone_number.as_deref(), Some("5551234"));
    assert_eq!(updated.company_name, None, "cleared");
    assert_eq!(updated.country_code.as_deref(), Some("us"), "unchanged");
    assert_eq!(updated.version, 2);
    assert_eq!(customers.get(&c.id).await.unwrap().data, updated);

    // An update that changes nothing does not bump the version.
    let same = customers
        .update(
            &c.id,
            &CustomerRequest {
                last_name: Some("Johnson".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(same.version, 2);
}

#[tokio::test]
async fn list_filters_comma_lists_and_offsets() {
    let server = spawn_server().await;
    let client = server.client();
    let customers = client.customers();
    let make = |email: &str, country: &str, doc: Option<&str>| CustomerRequest {
        email: Some(email.into()),
        country_code: Some(country.into()),
        document_type: doc.map(Into::into),
        ..Default::default()
    };
    // Created oldest first; lists are newest first.
    for req in [
        make("alice@example.com", "US", None),
        make("bob@example.com", "BR", Some("cpf")),
        make("carol@example.com", "DE", Some("passport")),
        make("dave@example.com", "US", None),
    ] {
        server.customer(&client, req).await;
    }
    let emails = |list: &acorn_sdk::types::CustomerList| {
        list.customer_list
            .iter()
            .map(|c| c.email.clone())
            .collect::<Vec<_>>()
    };
    let list = |params: ListParams| {
        let customers = customers.clone();
        async move { customers.list(&params).await.unwrap().data }
    };

    let page = list(ListParams {
        limit: Some(10),
        offset: Some(0),
        email: vec!["ALICE@example.com".into()],
        ..Default::default()
    })
    .await;
    assert_eq!((page.count, page.has_more), (1, false));
    assert_eq!(emails(&page), ["alice@example.com"], "case-insensitive");

    // Values of one filter are OR-ed (sent as one comma list) …
    let page = list(ListParams {
        email: vec!["alice@example.com".into(), "carol@example.com".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(emails(&page), ["carol@example.com", "alice@example.com"]);
    let page = list(ListParams {
        country_code: vec!["br".into(), "DE".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(page.count, 2);
    assert_eq!(emails(&page), ["carol@example.com", "bob@example.com"]);

    // … different filters are AND-ed.
    let page = list(ListParams {
        country_code: vec!["us".into()],
        email: vec!["alice@example.com".into(), "bob@example.com".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(emails(&page), ["alice@example.com"]);
    let page = list(ListParams {
        document_type: vec![DocumentType::Passport, DocumentType::Cpf],
        status: vec![CustomerStatus::NotStarted],
        ..Default::default()
    })
    .await;
    assert_eq!(emails(&page), ["carol@example.com", "bob@example.com"]);

    // Offset pages: count is the total, has_more says whether another page follows.
    let first = list(ListParams {
        limit: Some(2),
        offset: Some(0),
        ..Default::default()
    })
    .await;
    assert_eq!((first.count, first.has_more), (4, true));
    assert_eq!(emails(&first), ["dave@example.com", "carol@example.com"]);
    let second = list(ListParams {
        limit: Some(2),
        offset: Some(2),
        ..Default::default()
    })
    .await;
    assert_eq!((second.count, second.has_more), (4, false));
    assert_eq!(emails(&second), ["bob@example.com", "alice@example.com"]);

    // A cursor page.
    let after = list(ListParams {
        limit: Some(2),
        starting_after: Some(first.customer_list[1].id.clone()),
        ..Default::default()
    })
    .await;
    assert_eq!(emails(&after), emails(&second));

    // Bad list parameters are the server's 422, not an empty page.
    let e = api_error(
        customers
            .list(&ListParams {
                limit: Some(0),
                ..Default::default()
            })
            .await,
        422,
        ErrorCode::ValidationError,
    );
    assert_eq!(failure_fields(&e), ["limit"]);
    let e = api_error(
        customers
            .list(&ListParams {
                starting_after: Some(UNKNOWN_ID.into()),
                ..Default::default()
            })
            .await,
        422,
        ErrorCode::ValidationError,
    );
    assert!(
        e.failure_reasons()
            .iter()
            .any(|r| r.code == ReasonCode::InvalidCursor),
        "{e:?}"
    );
}

#[tokio::test]
async fn list_all_walks_every_cursor_page() {
    let server = spawn_server().await;
    let client = server.client();
    let (mut created, mut in_us) = (Vec::new(), Vec::new());
    for i in 0..7 {
        let country = if i % 2 == 0 { "US" } else { "BR" };
        let c = server
            .customer(
                &client,
                CustomerRequest {
                    email: Some(format!("walker{i}@example.com")),
                    country_code: Some(country.into()),
                    ..Default::default()
                },
            )
            .await;
        if country == "US" {
            in_us.push(c.id.clone());
        }
        created.push(c.id);
    }
    // Lists are newest first.
    created.reverse();
    in_us.reverse();

    // Through a recording proxy, to see the pages requested.
    let proxy = LossyProxy::start(&server.base, Loss::Whole).await;
    let via_proxy = server.client_for(&proxy.url);
    let all: Vec<String> = via_proxy
        .customers()
        .list_all(ListParams {
            limit: Some(2),
            ..Default::default()
        })
        .map_ok(|c| c.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, created, "every customer once, newest first");
    let pages: Vec<String> = proxy
        .forwarded()
        .into_iter()
        .filter(|f| f.method == "GET" && f.path.starts_with("/api/v1/customers"))
        .map(|f| f.path)
        .collect();
    assert_eq!(pages.len(), 4, "7 customers in pages of 2: {pages:?}");
    assert_eq!(
        pages
            .iter()
            .filter(|p| p.contains("starting_after="))
            .count(),
        3,
        "{pages:?}"
    );

    // Filters apply to every page.
    let us: Vec<String> = client
        .customers()
        .list_all(ListParams {
            limit: Some(3),
            country_code: vec!["us".into()],
            ..Default::default()
        })
        .map_ok(|c| c.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(us, in_us);
}

#[tokio::test]
async fn sync_is_scheduled_and_then_the_customer_is_synced() {
    let server = spawn_server().await;
    let client = server.client();
    let c = server
        .customer(
            &client,
            CustomerRequest {
                email: Some("sync@example.com".into()),
                first_name: Some("Sync".into()),
                ..Default::default()
            },
        )
        .await;
    let sync = SyncRequest::new(
        Provider::Stripe,
        [SyncField::Email, SyncField::FirstName, SyncField::LastName],
    );

    // Without a registration at the provider there is nothing to sync to.
    let e = api_error(
        client.customers().sync(&c.id, &sync).await,
        400,
        ErrorCode::ValidationError,
    );
    assert!(
        e.failure_reasons()
            .iter()
            .any(|r| r.code == ReasonCode::NotRegistered),
        "{e:?}"
    );

    client
        .providers()
        .submit_registration(
            &c.id,
            &SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::Customer),
        )
        .await
        .unwrap();
    wait_for_registration(
        &client,
        &c.id,
        Provider::Stripe,
        TargetRole::Customer,
        RegistrationStatus::Approved,
    )
    .await;

    let scheduled = client.customers().sync(&c.id, &sync).await.unwrap();
    assert_eq!(scheduled.msg, "Sync scheduled");
    assert_eq!(scheduled.data, None);
    let synced = eventually("synced: true", || async {
        let got = client.customers().get(&c.id).await.unwrap().data;
        (got.synced == Some(true)).then_some(got)
    })
    .await;
    assert!(synced.synced_at.is_some());
}

#[tokio::test]
async fn balance_reflects_a_sandbox_ledger_entry() {
    let server = spawn_server().await;
    let client = server.client();
    let c = server
        .customer(
            &client,
            CustomerRequest {
                email: Some("money@example.com".into()),
                country_code: Some("US".into()),
                ..Default::default()
            },
        )
        .await;
    client
        .providers()
        .submit_registration(
            &c.id,
            &SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount)
                .with("account_type", "express"),
        )
        .await
        .unwrap();
    wait_for_registration(
        &client,
        &c.id,
        Provider::Stripe,
        TargetRole::ConnectedAccount,
        RegistrationStatus::Approved,
    )
    .await;
    let filter = BalanceFilter::new(Provider::Stripe, TargetRole::ConnectedAccount);

    let before = client
        .customers()
        .balance(&c.id, &filter)
        .await
        .unwrap()
        .data;
    assert_eq!(before.filters.customer_id, c.id);
    assert_eq!(before.filters.provider.as_deref(), Some("stripe"));
    assert_eq!(before.filters.role.as_deref(), Some("connected_account"));
    assert_eq!(before.balances.len(), 1);
    assert!(before.balances[0].totals.is_empty(), "no money yet");

    for (bucket, amount) in [("available", 1250), ("pending", 300), ("available", -50)] {
        let (status, body) = server
            .sandbox_post(
                &client,
                &format!("/api/v1/sandbox/customers/{}/balances", c.id),
                json!({"provider": "stripe", "role": "connected_account", "currency": "usd",
                       "bucket": bucket, "amount": amount}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    let after = client
        .customers()
        .balance(&c.id, &filter)
        .await
        .unwrap()
        .data;
    assert_eq!(after.balances.len(), 1);
    let entry = &after.balances[0];
    assert_eq!(entry.provider, Provider::Stripe);
    assert_eq!(entry.customer.id, c.id);
    assert_eq!(entry.customer.role, TargetRole::ConnectedAccount);
    assert_eq!(entry.account_id, before.balances[0].account_id);
    assert_eq!(entry.totals.len(), 1);
    let usd = &entry.totals[0];
    assert_eq!(usd.currency, "usd");
    assert_eq!((usd.available, usd.pending, usd.reserved), (1200, 300, 0));

    // Another provider's filter sees no account.
    let none = client
        .customers()
        .balance(
            &c.id,
            &BalanceFilter::new(Provider::Bridge, TargetRole::Customer),
        )
        .await
        .unwrap()
        .data;
    assert!(none.balances.is_empty());
}

#[tokio::test]
async fn upload_list_and_download_files() {
    let server = spawn_server().await;
    let client = server.client();
    let c = server
        .customer(&client, with_email("files@example.com"))
        .await;
    let passport = b"%PDF-1.4\n% a stand-in passport scan\n".to_vec();
    let back = b"%PDF-1.7\n% the back page\n".to_vec();

    let uploaded = client
        .customers()
        .upload_files(
            &c.id,
            FileType::Passport,
            vec![
                FileUpload::new("passport.pdf", passport.clone())
                    .with_content_type("application/pdf"),
                FileUpload::new("back.pdf", back.clone()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(uploaded.msg, "file upload successful");
    assert_eq!(uploaded.data.len(), 2);
    for f in &uploaded.data {
        assert!(f.id.starts_with("file_"), "{}", f.id);
        assert_eq!(f.file_type, FileType::Passport);
        assert_eq!(f.content_type, "application/pdf");
    }

    let files = client.customers().get_files(&c.id).await.unwrap().data;
    assert_eq!(files.len(), 2);
    let mut names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["back.pdf", "passport.pdf"]);
    for f in &files {
        let want = if f.name == "passport.pdf" {
            &passport
        } else {
            &back
        };
        assert_eq!(f.size, want.len() as u64);
        assert_eq!(f.sha256, hex::encode(Sha256::digest(want)));
        // The signed link needs no token.
        let resp = reqwest::get(&f.url).await.unwrap();
        assert_eq!(resp.status(), 200, "{}", f.name);
        assert_eq!(resp.bytes().await.unwrap().as_ref(), want.as_slice());
    }

    // Content is judged by its bytes, whatever the declared type.
    let e = api_error(
        client
            .customers()
            .upload_files(
                &c.id,
                FileType::Passport,
                vec![FileUpload::new("fake.pdf", "just text").with_content_type("application/pdf")],
            )
            .await,
        415,
        ErrorCode::ValidationError,
    );
    assert!(
        e.failure_reasons()
            .iter()
            .any(|r| r.code == ReasonCode::UnsupportedMediaType),
        "{e:?}"
    );
    assert_eq!(
        client
            .customers()
            .get_files(&c.id)
            .await
            .unwrap()
            .data
            .len(),
        2
    );
}

#[tokio::test]
async fn populate_platform_creates_a_registration_with_provider_data() {
    let server = spawn_server().await;
    let client = server.client();
    let c = server
        .customer(&client, with_email("platform@example.com"))
        .await;

    let regs = client
        .customers()
        .populate_platform(
            &c.id,
            &PlatformRequest::new(Provider::Bridge, TargetRole::Customer)
                .with("kyc_level", "basic"),
        )
        .await
        .unwrap()
        .data;
    assert_eq!(regs.len(), 1);
    let r = &regs[0];
    assert!(r.id.starts_with("preg_"), "{}", r.id);
    assert_eq!(
        (r.provider, r.target_role),
        (Provider::Bridge, TargetRole::Customer)
    );
    assert_eq!(r.status, RegistrationStatus::NotSubmitted);
    assert_eq!(r.provider_data.as_ref().unwrap()["kyc_level"], "basic");

    // A second provider: every registration of the customer comes back.
    let regs = client
        .customers()
        .populate_platform(
            &c.id,
            &PlatformRequest::new(Provider::Stripe, TargetRole::Customer),
        )
        .await
        .unwrap()
        .data;
    assert_eq!(regs.len(), 2);

    let got = client.customers().get(&c.id).await.unwrap().data;
    assert_eq!(got.status, CustomerStatus::Pending);
    assert_eq!(got.platforms.len(), 2);
}

#[tokio::test]
async fn schema_submit_and_status_until_approved() {
    let server = spawn_server().await;
    let client = server.client();
    let providers = client.providers();

    let schema = providers
        .get_schema(Provider::Stripe)
        .await
        .unwrap()
        .data
        .schema;
    assert_eq!(schema.provider, Provider::Stripe);
    assert!(schema.allowed_roles.contains(&TargetRole::ConnectedAccount));
    let connected = &schema.roles[&TargetRole::ConnectedAccount];
    assert!(connected
        .required_fields
        .contains(&"country_code".to_owned()));
    assert!(connected
        .provider_data_required
        .contains(&"account_type".to_owned()));

    let c = server
        .customer(&client, with_email("kyc@example.com"))
        .await;
    let req = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount);

    // Missing everything the schema asks for: one 422 naming every missing field.
    let e = api_error(
        providers.submit_registration(&c.id, &req).await,
        422,
        ErrorCode::ValidationError,
    );
    let fields = failure_fields(&e);
    assert!(fields.iter().any(|f| f == "country_code"), "{fields:?}");
    assert!(
        fields.iter().any(|f| f.contains("account_type")),
        "{fields:?}"
    );

    client
        .customers()
        .update(
            &c.id,
            &CustomerRequest {
                country_code: Some("US".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let req = req.with("account_type", "express");
    let submitted = providers
        .submit_registration(&c.id, &req)
        .await
        .unwrap()
        .data;
    let first = &submitted[0];
    assert_eq!(
        (first.provider, first.target_role),
        (Provider::Stripe, TargetRole::ConnectedAccount)
    );
    assert_eq!(
        first.provider_data.as_ref().unwrap()["account_type"],
        "express"
    );

    let approved = wait_for_registration(
        &client,
        &c.id,
        Provider::Stripe,
        TargetRole::ConnectedAccount,
        RegistrationStatus::Approved,
    )
    .await;
    assert_eq!(approved.id, first.id);
    assert!(approved.provider_customer_id.is_some());
    assert_eq!(approved.documents, DocumentsState::None);
    let customer = client.customers().get(&c.id).await.unwrap().data;
    assert_eq!(customer.status, CustomerStatus::Approved);
    assert_eq!(customer.account_type.as_deref(), Some("express"));

    // Submitting again while approved is a conflict.
    let e = api_error(
        providers.submit_registration(&c.id, &req).await,
        409,
        ErrorCode::Conflict,
    );
    assert!(!e.msg().unwrap_or_default().is_empty());
    match &e {
        // A final conflict: no Retry-After, so the SDK did not wait and ask again.
        OakError::Api { headers, .. } => assert!(headers.get("retry-after").is_none()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unknown_customers_are_404_on_every_route() {
    let server = spawn_server().await;
    let client = server.client();
    let customers = client.customers();
    let providers = client.providers();
    let sync = SyncRequest::new(Provider::Stripe, [SyncField::Email]);
    let filter = BalanceFilter::new(Provider::Stripe, TargetRole::Customer);
    let pdf = || vec![FileUpload::new("p.pdf", "%PDF-1.4\n")];
    let platform = PlatformRequest::new(Provider::Stripe, TargetRole::Customer);
    let submit = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::Customer);

    let e = api_error(customers.get(UNKNOWN_ID).await, 404, ErrorCode::NotFound);
    assert!(e.msg().is_some());
    api_error(
        customers
            .update(UNKNOWN_ID, &with_email("x@example.com"))
            .await,
        404,
        ErrorCode::NotFound,
    );
    api_error(
        customers.sync(UNKNOWN_ID, &sync).await,
        404,
        ErrorCode::NotFound,
    );
    api_error(
        customers.balance(UNKNOWN_ID, &filter).await,
        404,
        ErrorCode::NotFound,
    );
    api_error(
        customers
            .upload_files(UNKNOWN_ID, FileType::Passport, pdf())
            .await,
        404,
        ErrorCode::NotFound,
    );
    api_error(
        customers.get_files(UNKNOWN_ID).await,
        404,
        ErrorCode::NotFound,
    );
    api_error(
        customers.populate_platform(UNKNOWN_ID, &platform).await,
        404,
        ErrorCode::NotFound,
    );
    api_error(
        providers.get_registration_status(UNKNOWN_ID).await,
        404,
        ErrorCode::NotFound,
    );
    api_error(
        providers.submit_registration(UNKNOWN_ID, &submit).await,
        404,
        ErrorCode::NotFound,
    );
    // Ids that are not ids at all are just unknown, even with characters that would change the
    // route if they were not encoded.
    api_error(customers.get("nope/../..").await, 404, ErrorCode::NotFound);
    api_error(customers.get("a?limit=1").await, 404, ErrorCode::NotFound);
}

#[tokio::test]
async fn invalid_customers_are_422_naming_every_field() {
    let server = spawn_server().await;
    let client = server.client();
    let customers = client.customers();

    let e = api_error(
        customers
            .create(&CustomerRequest {
                email: Some("alice@example".into()),
                country_code: Some("USA".into()),
                dob: Some("2999-01-01".into()),
                ..Default::default()
            })
            .await,
        422,
        ErrorCode::ValidationError,
    );
    assert_eq!(failure_fields(&e), ["country_code", "dob", "email"]);
    assert!(
        e.failure_reasons()
            .iter()
            .all(|r| r.code == ReasonCode::InvalidInput),
        "{e:?}"
    );

    let e = api_error(
        customers
            .create(&CustomerRequest {
                first_name: Some("NoEmail".into()),
                ..Default::default()
            })
            .await,
        422,
        ErrorCode::ValidationError,
    );
    assert_eq!(failure_fields(&e), ["email"]);
    assert_eq!(
        e.failure_reasons()[0].code,
        ReasonCode::MissingRequiredInformation
    );

    // A duplicate email (any case) is 400 duplicate_data.
    let alice = server
        .customer(&client, with_email("alice@example.com"))
        .await;
    let e = api_error(
        customers.create(&with_email("ALICE@example.com")).await,
        400,
        ErrorCode::ValidationError,
    );
    assert_eq!(e.failure_reasons()[0].code, ReasonCode::DuplicateData);
    assert_eq!(failure_fields(&e), ["email"]);

    // Update validates the same way; email cannot be cleared.
    let e = api_error(
        customers
            .update(
                &alice.id,
                &CustomerRequest {
                    phone_number: Some("not digits".into()),
                    ..Default::default()
                }
                .clear("email"),
            )
            .await,
        422,
        ErrorCode::ValidationError,
    );
    assert_eq!(failure_fields(&e), ["email", "phone_number"]);
}

#[tokio::test]
async fn bad_credentials_are_401_invalid_client() {
    let server = spawn_server().await;
    let client = OakClient::builder()
        .custom_url(&server.base)
        .client_id(&server.client_id)
        .client_secret("sk_wrong")
        .retry(helpers::fast_retries())
        .build()
        .unwrap();

    let e = api_error(
        client.customers().get(UNKNOWN_ID).await,
        401,
        ErrorCode::AuthenticationError,
    );
    assert_eq!(e.failure_reasons()[0].code, ReasonCode::InvalidClient);
    assert_eq!(e.msg(), Some("invalid client credentials"));
    assert!(!format!("{e:?}").contains("sk_wrong"));

    let e = api_error(
        client.grant_token().await,
        401,
        ErrorCode::AuthenticationError,
    );
    assert_eq!(e.failure_reasons()[0].code, ReasonCode::InvalidClient);

    // An unknown client id gets the same answer (the server never says which was wrong).
    let client = OakClient::builder()
        .custom_url(&server.base)
        .client_id("acorn_nobody")
        .client_secret(&server.client_secret)
        .build()
        .unwrap();
    let e = api_error(
        client.customers().list(&ListParams::default()).await,
        401,
        ErrorCode::AuthenticationError,
    );
    assert_eq!(e.failure_reasons()[0].code, ReasonCode::InvalidClient);
}

#[tokio::test]
async fn tokens_are_granted_once_and_reused() {
    let server = spawn_server().await;
    let proxy = LossyProxy::start(&server.base, Loss::Whole).await;
    let client = server.client_for(&proxy.url);
    let token = client.grant_token().await.unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert!(token.expires_in.as_secs() > 60);
    for _ in 0..3 {
        client
            .customers()
            .list(&ListParams::default())
            .await
            .unwrap();
    }
    let grants = proxy
        .forwarded()
        .iter()
        .filter(|f| f.path == "/api/v1/merchant/token/grant")
        .count();
    assert_eq!(grants, 1);
}

/// The server acts on a create, but its answer never reaches the client (`loss`). The SDK
/// retries with the same `Idempotency-Key`, so the retry gets the stored answer and one customer
/// exists.
async fn a_create_whose_answer_is_lost_runs_once(loss: Loss) {
    let server = spawn_server().await;
    let proxy = LossyProxy::start(&server.base, loss).await;
    let client = server.client_for(&proxy.url);

    let created = client
        .customers()
        .create(&with_email("lost@example.com"))
        .await
        .expect("the retry gets the stored answer")
        .data;

    let creates: Vec<_> = proxy
        .forwarded()
        .into_iter()
        .filter(|f| f.method == "POST" && f.path == "/api/v1/customers")
        .collect();
    assert_eq!(creates.len(), 2, "{creates:?}");
    assert!(creates[0].lost && !creates[1].lost, "{creates:?}");
    assert_eq!(
        creates[0].status, 200,
        "the server did create it the first time"
    );
    assert!(creates[1].replayed, "the retry is a replay: {creates:?}");
    let key = creates[0].idempotency_key.as_deref().expect("a key");
    assert_eq!(creates[1].idempotency_key.as_deref(), Some(key));

    let found = server
        .client()
        .customers()
        .list(&ListParams {
            email: vec!["lost@example.com".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .data;
    assert_eq!(found.count, 1);
    assert_eq!(found.customer_list[0].id, created.id);

    // A new call is a new key: the same email is now a duplicate, not a replay.
    api_error(
        client
            .customers()
            .create(&with_email("lost@example.com"))
            .await,
        400,
        ErrorCode::ValidationError,
    );
}

#[tokio::test]
async fn a_create_whose_answer_never_arrives_runs_once() {
    a_create_whose_answer_is_lost_runs_once(Loss::Whole).await;
}

#[tokio::test]
async fn a_create_whose_answer_is_cut_off_runs_once() {
    a_create_whose_answer_is_lost_runs_once(Loss::Truncated).await;
}

/// A batch answers each item as `create` would, in order; a batch whose answer is lost is
/// retried by the SDK without creating anyone twice (every item carries a key).
#[tokio::test]
async fn create_batch_answers_each_item_and_survives_a_lost_answer() {
    use acorn_sdk::types::CustomerBatchItem;

    let server = spawn_server().await;
    let proxy =
        LossyProxy::start_losing(&server.base, Loss::Whole, "/api/v1/customers/batch").await;
    let client = server.client_for(&proxy.url);
    let item = |key: Option<&str>, email: &str| CustomerBatchItem {
        idempotency_key: key.map(str::to_owned),
        customer: with_email(email),
    };
    let items = vec![
        item(Some("b-1"), "b1@example.com"),
        item(None, "b2@example.com"),
        item(Some("b-3"), "not an email"),
        item(None, "b1@example.com"),
    ];
    let outcomes = client
        .customers()
        .create_batch(&items)
        .await
        .expect("the retry gets every item's stored answer");
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0].idempotency_key, "b-1");
    assert!(
        !outcomes[1].idempotency_key.is_empty(),
        "a key is generated"
    );
    let first = outcomes[0].result.as_ref().expect("created").data.clone();
    assert_eq!(first.email, "b1@example.com");
    assert_eq!(
        outcomes[1].result.as_ref().expect("created").data.email,
        "b2@example.com"
    );
    let e = outcomes[2].result.as_ref().expect_err("invalid");
    assert_eq!(e.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(failure_fields(e), ["email"]);
    let e = outcomes[3].result.as_ref().expect_err("duplicate");
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(e.error_code(), Some(ErrorCode::ValidationError));
    // The first answer was lost, so everything the client saw is a replay.
    assert!(outcomes.iter().all(|o| o.replayed), "{outcomes:?}");

    let batches: Vec<_> = proxy
        .forwarded()
        .into_iter()
        .filter(|f| f.path == "/api/v1/customers/batch")
        .collect();
    assert_eq!(batches.len(), 2, "{batches:?}");
    assert!(batches[0].lost && !batches[1].lost);
    assert_eq!(batches[0].idempotency_key, None, "items carry the keys");

    let all = server
        .client()
        .customers()
        .list(&ListParams::default())
        .await
        .unwrap()
        .data;
    assert_eq!(all.count, 2, "b1 and b2, once each");

    // Checked before sending.
    assert!(matches!(
        client.customers().create_batch(&[]).await,
        Err(OakError::InvalidArgument(_))
    ));
    assert!(matches!(
        client
            .customers()
            .create_batch(&[item(Some("bad\tkey"), "x@example.com")])
            .await,
        Err(OakError::InvalidArgument(_))
    ));
}
