//! Create and get (contract §4.1, §4.2).

use serde_json::{json, Value};

use crate::both_stores;

both_stores! {
    // A create answers with the customer it works out before writing (not read back): it must
    // be exactly what the store reads back, for every writable field.
    async fn a_created_customer_reads_back_exactly_as_answered(app) {
        let body = json!({
            "email": "Every.Field@Example.com", "first_name": "Ada", "last_name": "Lovelace",
            "company_name": "Engines Ltda", "document_number": "12345678901", "document_type": "CPF",
            "dob": "1985-12-10", "phone_country_code": "+55", "phone_area_code": "11",
            "phone_number": "987654321", "country_code": "BR", "gender": "FEMALE",
            "house_number": "12A", "street_number": "100", "street_name": "Rua Augusta",
            "neighborhood": "Consolação", "postal_code": "01305-000", "city": "São Paulo",
            "state": "SP", "subdivision": "BR-SP", "mother_name": "Anne Isabella",
            "owner_legal_name": "Ada King", "owner_document_number": "10987654321",
            "owner_document_type": "CPF", "company_start_date": "2001-02-03",
            "social_name": "Ada", "tax_id": "TAX-1", "monthly_net_income": 1234.5678,
            "additional_info": {"nested": {"list": [1, 2.5, "x", null, true]}, "emoji": "✓"}
        });
        let r = app.create_customer(&body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let c = r.data().clone();
        for (field, value) in body.as_object().expect("object") {
            assert!(!c[field].is_null(), "{field} is missing from the answer: {value}");
        }
        let got = app.get_customer(c["id"].as_str().expect("id")).await;
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.data(), &c);
        // And as listed (another read path).
        let list = app.list_customers("limit=1").await;
        assert_eq!(list.data()["customer_list"][0], c);
    }

    async fn create_returns_the_full_customer(app) {
        let r = app.create_customer(&json!({
            "email": "  alice@example.com ", "first_name": "Alice", "last_name": "Smith",
            "country_code": "US", "document_type": "CPF", "gender": "FEMALE",
            "monthly_net_income": "1200.50", "additional_info": {"tier": "gold"},
            "phone_country_code": "+1", "phone_area_code": "415", "phone_number": "5551234", "dob": "1990-05-17"
        })).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["msg"], "Customer created");
        let c = r.data();
        let id = c["id"].as_str().expect("id");
        assert!(id.starts_with("cus_"));
        assert_eq!(c["customer_id"], c["id"]);
        assert_eq!(c["email"], "alice@example.com");
        assert_eq!(c["country_code"], "us");
        assert_eq!(c["document_type"], "cpf");
        assert_eq!(c["gender"], "female");
        assert_eq!(c["monthly_net_income"], json!(1200.5));
        assert_eq!(c["additional_info"], json!({"tier": "gold"}));
        assert_eq!(c["status"], "NOT_STARTED");
        assert_eq!(c["synced"], Value::Null);
        assert_eq!(c["synced_at"], Value::Null);
        assert_eq!(c["version"], 1);
        assert_eq!(c["platforms"], json!([]));
        // Never-set fields are present as null, not omitted.
        for field in ["company_name", "street_name", "customer_wallet", "trading_wallet", "account_type", "tax_id"] {
            assert!(c.get(field).is_some_and(Value::is_null), "{field} must be null");
        }
        assert!(c["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));

        let got = app.get_customer(id).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.data(), c);
        let bare = id.trim_start_matches("cus_");
        let got = app.get_customer(bare).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.data()["id"], id);
    }

    async fn every_invalid_field_is_reported_at_once(app) {
        let r = app.create_customer(&json!({
            "email": "not-an-email", "country_code": "USA", "dob": "2999-01-01",
            "phone_number": "555-1234", "document_type": "licence"
        })).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["country_code", "dob", "document_type", "email", "phone_number"]);
        assert!(r.reason_codes().iter().all(|c| c == "invalid_input"));
    }

    async fn each_validation_rule(app) {
        let long = "x".repeat(256);
        let big_info = json!({"k": "x".repeat(17 * 1024)});
        let cases: Vec<(Value, &str)> = vec![
            (json!({"email": "a@b"}), "email"),
            (json!({"email": 5}), "email"),
            (json!({"email": "a@b.co", "first_name": long}), "first_name"),
            (json!({"email": "a@b.co", "last_name": ""}), "last_name"),
            (json!({"email": "a@b.co", "company_name": 12}), "company_name"),
            (json!({"email": "a@b.co", "document_type": "nope"}), "document_type"),
            (json!({"email": "a@b.co", "dob": "17/05/1990"}), "dob"),
            (json!({"email": "a@b.co", "dob": "2999-01-01"}), "dob"),
            (json!({"email": "a@b.co", "phone_country_code": "+12345"}), "phone_country_code"),
            (json!({"email": "a@b.co", "phone_area_code": "4a5"}), "phone_area_code"),
            (json!({"email": "a@b.co", "phone_number": "555 1234"}), "phone_number"),
            (json!({"email": "a@b.co", "country_code": "zz"}), "country_code"),
            (json!({"email": "a@b.co", "gender": "robot"}), "gender"),
            (json!({"email": "a@b.co", "monthly_net_income": "lots"}), "monthly_net_income"),
            (json!({"email": "a@b.co", "monthly_net_income": -5}), "monthly_net_income"),
            (json!({"email": "a@b.co", "additional_info": "text"}), "additional_info"),
            (json!({"email": "a@b.co", "additional_info": big_info}), "additional_info"),
            (json!({"email": "a@b.co", "favourite_colour": "green"}), "favourite_colour"),
            (json!({"email": "a@b.co", "status": "APPROVED"}), "status"),
            (json!({"email": "a@b.co", "id": "cus_x"}), "id"),
            (json!({"email": "a@b.co", "version": 4}), "version"),
            (json!({"email": "a@b.co", "synced": true}), "synced"),
        ];
        for (body, field) in cases {
            let r = app.create_customer(&body).await;
            r.assert_error(422, "validation_error");
            assert_eq!(r.failure_fields(), [field], "for {body}");
        }
        let listed = app.list_customers("").await;
        assert_eq!(listed.data()["count"], 0, "nothing may be stored by a refused create");
    }

    async fn email_is_required(app) {
        let r = app.create_customer(&json!({"first_name": "Alice"})).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["email"]);
        assert_eq!(r.reason_codes(), ["missing_required_information"]);
    }

    async fn duplicate_email_is_400_whatever_the_case(app) {
        app.customer(json!({"email": "alice@example.com"})).await;
        for email in ["alice@example.com", "ALICE@Example.COM", " Alice@example.com "] {
            let r = app.create_customer(&json!({"email": email})).await;
            r.assert_error(400, "validation_error");
            assert_eq!(r.body["msg"], "customer already exists");
            assert_eq!(r.reason_codes(), ["duplicate_data"]);
            assert_eq!(r.failure_fields(), ["email"]);
        }
        // Another merchant may use the same address.
        let other = app.new_merchant("other").await;
        let r = app.create_customer_as(&other.token, &json!({"email": "alice@example.com"})).await;
        assert_eq!(r.status, 200);
    }

    async fn concurrent_creates_with_one_email_have_one_winner(app) {
        let body = json!({"email": "race@example.com"});
        let results = futures::future::join_all((0..20).map(|_| app.create_customer(&body))).await;
        let ok = results.iter().filter(|r| r.status == 200).count();
        let dup = results.iter().filter(|r| r.status == 400 && r.reason_codes() == ["duplicate_data"]).count();
        assert_eq!((ok, dup), (1, 19), "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
        assert_eq!(app.list_customers("email=race@example.com").await.data()["count"], 1);
    }

    async fn concurrent_creates_with_different_fields_keep_their_own(app) {
        // A group's creates giving the same fields share one multi-row insert; three
        // field sets interleaved split a group into many runs.
        let bodies: Vec<Value> = (0..30)
            .map(|i| match i % 3 {
                0 => json!({"email": format!("f{i}@example.com")}),
                1 => json!({"email": format!("f{i}@example.com"), "country_code": "BR"}),
                _ => json!({"email": format!("f{i}@example.com"), "first_name": "Ana", "document_number": format!("doc{i}")}),
            })
            .collect();
        let results = futures::future::join_all(bodies.iter().map(|b| app.create_customer(b))).await;
        for (body, r) in bodies.iter().zip(&results) {
            assert_eq!(r.status, 200, "{}", r.body);
            let got = app.get_customer(r.data()["id"].as_str().expect("id")).await;
            for field in ["email", "country_code", "first_name", "document_number"] {
                let want = body.get(field).cloned().unwrap_or(Value::Null);
                let want = if field == "country_code" && !want.is_null() { json!("br") } else { want };
                assert_eq!(r.data()[field], want, "{field} of {body}");
                assert_eq!(got.data()[field], want, "stored {field} of {body}");
            }
        }
        assert_eq!(app.list_customers("").await.data()["count"], 30);
        assert_eq!(app.list_customers("country_code=br").await.data()["count"], 10);
    }

    async fn concurrent_creates_each_get_their_own_answer(app) {
        // Sent all at once, so they are written in shared transactions (group
        // commit): 40 distinct emails, 20 repeats of them, every third request keyed, and a
        // few more merchants' customers mixed in. Each request must still get its own answer.
        let other = app.new_merchant("other").await;
        let sends = (0..60).map(|i| {
            let body = json!({"email": format!("c{}@example.com", i % 40), "first_name": format!("N{i}")});
            let key = format!("ck-{i}");
            let token = if i % 10 == 9 { other.token.clone() } else { app.merchant.token.clone() };
            let app = &app;
            async move {
                let headers: Vec<(&str, &str)> = if i % 3 == 0 { vec![("idempotency-key", key.as_str())] } else { vec![] };
                let r = app.send(reqwest::Method::POST, "/api/v1/customers", Some(&body), Some(&token), &headers).await;
                (i, body, key, token, r)
            }
        });
        let results = futures::future::join_all(sends).await;
        let mut ids = std::collections::BTreeSet::new();
        for (i, body, _, _, r) in &results {
            match r.status {
                200 => {
                    assert_eq!(r.data()["email"], body["email"], "{i}");
                    assert_eq!(r.data()["first_name"], body["first_name"], "request {i} got another's answer");
                    assert!(ids.insert(r.data()["id"].as_str().expect("id").to_owned()));
                }
                400 => assert_eq!(r.reason_codes(), ["duplicate_data"], "{i}"),
                other => panic!("request {i}: {other} {}", r.body),
            }
        }
        // Per merchant, each email once: 40 for ours, and the other's distinct emails.
        let theirs: std::collections::BTreeSet<u64> = (0..60u64).filter(|i| i % 10 == 9).map(|i| i % 40).collect();
        let ours: std::collections::BTreeSet<u64> = (0..60u64).filter(|i| i % 10 != 9).map(|i| i % 40).collect();
        assert_eq!(ids.len(), ours.len() + theirs.len());
        assert_eq!(app.list_customers("").await.data()["count"], ours.len());
        assert_eq!(app.list_customers_as(&other.token, "").await.data()["count"], theirs.len());
        let events = app.events("event=customer.created&limit=100").await;
        assert_eq!(events.data()["event_list"].as_array().map(Vec::len), Some(ours.len()));

        // Keyed requests replay their first answer, success or refusal alike.
        for (i, body, key, token, first) in results.iter().filter(|(i, ..)| i % 3 == 0) {
            let again = app
                .send(reqwest::Method::POST, "/api/v1/customers", Some(body), Some(token), &[("idempotency-key", key.as_str())])
                .await;
            assert_eq!(again.status, first.status, "{i}");
            assert_eq!(again.body, first.body, "{i}");
            assert_eq!(again.header("idempotent-replayed"), Some("true"), "{i}");
        }
    }

    async fn unknown_and_malformed_ids_are_404(app) {
        for id in ["cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f", "0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f", "cus_abc123", "nope"] {
            app.get_customer(id).await.assert_error(404, "not_found");
        }
    }

    async fn an_idna_domain_and_its_ascii_form_are_one_customer(app) {
        let r = app.create_customer(&json!({"email": "user@exämple.com"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.create_customer(&json!({"email": "USER@xn--exmple-cua.com"})).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.reason_codes(), ["duplicate_data"]);
        let r = app.list_customers("email=user%40xn--exmple-cua.com").await;
        assert_eq!(r.data()["count"], 1, "{}", r.body);
        assert_eq!(r.data()["customer_list"][0]["email"], "user@exämple.com", "kept as given");
    }
}
