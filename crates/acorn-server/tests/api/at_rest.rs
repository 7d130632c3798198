//! Personal data at rest: sealed fields, the email blind index, the master key (issue 17).

use reqwest::Method;
use serde_json::json;

use crate::both_stores;
use crate::helpers::{spawn_app_with, Backend};

/// Values that must never appear in plaintext at rest.
pub const SECRETS: [&str; 9] = [
    "Secret.Person@Example.com",
    "secret.person@example.com",
    "98765432100",
    "1987-03-21",
    "5559876",
    "TAXID-7711",
    "Mariazinha Sigilosa",
    "Rua Escondida",
    "hidden-info-42",
];

pub fn sensitive_customer() -> serde_json::Value {
    json!({
        "email": "Secret.Person@Example.com", "first_name": "Ann",
        "document_number": "98765432100", "document_type": "CPF", "dob": "1987-03-21",
        "phone_country_code": "+55", "phone_area_code": "11", "phone_number": "5559876",
        "tax_id": "TAXID-7711", "mother_name": "Mariazinha Sigilosa",
        "street_name": "Rua Escondida", "country_code": "BR",
        "additional_info": {"note": "hidden-info-42"}
    })
}

/// Panics if any secret appears in `bytes`.
pub fn assert_no_plaintext(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    for s in SECRETS {
        assert!(!text.contains(s), "{what} holds the plaintext {s:?}");
    }
}

both_stores! {
    async fn sensitive_fields_are_sealed_and_still_served(app) {
        let id = app.customer(sensitive_customer()).await;
        let got = app.get_customer(&id).await;
        assert_eq!(got.status, 200, "{}", got.body);
        let c = got.data();
        assert_eq!(c["email"], "Secret.Person@Example.com");
        assert_eq!(c["document_number"], "98765432100");
        assert_eq!(c["dob"], "1987-03-21");
        assert_eq!(c["phone_number"], "5559876");
        assert_eq!(c["additional_info"], json!({"note": "hidden-info-42"}));
        // An update re-seals what it writes.
        let r = app.update_customer(&id, &json!({"tax_id": "TAXID-7711", "street_name": "Rua Escondida"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_no_plaintext(&app.database_bytes(&["customers"]), "the customers table");
    }

    async fn files_are_sealed_in_the_file_store(app) {
        let id = app.customer(sensitive_customer()).await;
        let scan: &[u8] = b"%PDF-1.7\npassport of Mariazinha Sigilosa 98765432100";
        let r = app.upload(&id, "passport", &[("scan.pdf", scan)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let objects = app.stored_objects();
        assert_eq!(objects.len(), 1);
        let stored = std::fs::read(app.config.data_dir.join("files").join(&objects[0])).unwrap();
        assert_no_plaintext(&stored, "the stored object");
        assert!(!stored.windows(8).any(|w| w == b"%PDF-1.7"), "the object is sealed");
        let got = app.download(r.data()[0]["url"].as_str().unwrap()).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.bytes, scan);
        assert_eq!(got.header("content-length"), Some(scan.len().to_string().as_str()));
    }

    async fn nothing_at_rest_holds_plaintext(app) {
        // A keyed create (its stored answer), a keyed batch, an update (events), a sync.
        let token = app.merchant.token.clone();
        let key = [("idempotency-key", "at-rest-1")];
        let first = app.send(Method::POST, "/api/v1/customers", Some(&sensitive_customer()), Some(&token), &key).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = app.send(Method::POST, "/api/v1/customers", Some(&sensitive_customer()), Some(&token), &key).await;
        assert_eq!(again.body, first.body, "the sealed answer replays as it was");
        let mut other = sensitive_customer();
        other["email"] = json!("batch.Secret.Person@Example.com");
        let batch = json!({"items": [{"idempotency_key": "row-1", "customer": other}]});
        let r = app.send(Method::POST, "/api/v1/customers/batch", Some(&batch), Some(&token), &[]).await;
        assert!(r.status < 300, "{}", r.body);
        let r2 = app.send(Method::POST, "/api/v1/customers/batch", Some(&batch), Some(&token), &[]).await;
        assert_eq!(r2.status, r.status, "{}", r2.body);
        let id = first.data()["id"].as_str().unwrap().to_owned();
        let r = app.update_customer(&id, &json!({"phone_number": "5559876", "mother_name": "Mariazinha Sigilosa 2"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_no_plaintext(&app.database_bytes(&[]), "the database");
    }

    async fn lists_by_email_and_duplicates_still_work(app) {
        let id = app.customer(sensitive_customer()).await;
        app.customer(json!({"email": "other@example.com"})).await;
        let l = app.list_customers("email=SECRET.person@example.com").await;
        assert_eq!(l.status, 200, "{}", l.body);
        assert_eq!(l.data()["count"], 1, "{}", l.body);
        assert_eq!(l.data()["customer_list"][0]["id"], id.as_str());
        let dup = app.create_customer(&json!({"email": " secret.PERSON@example.com"})).await;
        assert_eq!(dup.status, 400, "{}", dup.body);
        assert_eq!(dup.reason_codes(), ["duplicate_data"]);
        let other = app.new_merchant("another").await;
        // Another merchant has its own keys: the same email is free there.
        let r = app.create_customer_as(&other.token, &json!({"email": "secret.person@example.com"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        // Changing the email releases the old one.
        let r = app.update_customer(&id, &json!({"email": "renamed@example.com"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.create_customer(&json!({"email": "secret.person@example.com"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_master_key_fails_start_up_and_changes_nothing() {
    let key = "11".repeat(32);
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.master_key = Some(key.clone().into());
    })
    .await
    .expect("sqlite app");
    let id = app.customer(sensitive_customer()).await;
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.master_key = Some("22".repeat(32).into());
    let before = std::fs::read(config.data_dir.join("acorn.db")).unwrap();
    let err = acorn_server::Application::build(config.clone())
        .await
        .err()
        .expect("a wrong key must fail");
    assert!(format!("{err:#}").contains("wrong master key"), "{err:#}");
    assert_eq!(
        std::fs::read(config.data_dir.join("acorn.db")).unwrap(),
        before
    );
    // The right key still opens everything.
    config.master_key = Some(key.into());
    let again = acorn_server::Application::build(config)
        .await
        .expect("right key");
    let merchant = again
        .state()
        .store
        .merchant_by_client_id(&app.merchant.client_id)
        .await
        .unwrap()
        .unwrap()
        .id;
    let c = again
        .state()
        .store
        .get_customer(merchant, acorn_types::CustomerId::parse(&id).unwrap())
        .await
        .unwrap()
        .expect("customer");
    assert_eq!(c.document_number.as_deref(), Some("98765432100"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_file_is_created_beside_the_database_owner_only() {
    let app = crate::helpers::spawn_app(Backend::Sqlite)
        .await
        .expect("sqlite app");
    let path = app.config.data_dir.join("master.key");
    let meta = std::fs::metadata(&path).expect("master.key beside acorn.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let _ = meta;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_their_retention_are_purged() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |c| {
            c.event_retention = std::time::Duration::from_millis(200);
            c.purge_interval = std::time::Duration::from_millis(50);
        })
        .await
        else {
            continue;
        };
        app.customer(json!({"email": "kept@example.com"})).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let r = app.events("limit=100").await;
            if r.data()["event_list"].as_array().is_some_and(Vec::is_empty) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "events never purged: {}",
                r.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The customer stays.
        assert_eq!(app.list_customers("").await.data()["count"], 1);
    }
}
