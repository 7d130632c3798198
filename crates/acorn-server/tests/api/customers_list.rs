//! List: pagination, cursors, filters, counts (contract §4.3).

use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::TestApp;

/// Creates `n` customers, returning their ids oldest first.
async fn seed(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            app.customer(json!({"email": format!("user{i}@example.com")}))
                .await,
        );
    }
    ids
}

fn ids(v: &Value) -> Vec<String> {
    v["customer_list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

both_stores! {
    async fn default_page_offset_and_headers(app) {
        let mut created = seed(&app, 12).await;
        created.reverse(); // newest first
        let r = app.list_customers("").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["msg"], "Customers fetched");
        assert_eq!(r.data()["count"], 12);
        assert_eq!(r.data()["has_more"], true);
        assert_eq!(ids(r.data()), created[..10]);
        assert_eq!(r.header("x-limit-requested"), Some("10"));
        assert_eq!(r.header("x-limit-applied"), Some("10"));
        assert_eq!(r.header("x-offset-applied"), Some("0"));

        let r = app.list_customers("offset=10").await;
        assert_eq!(ids(r.data()), created[10..]);
        assert_eq!(r.data()["has_more"], false);
        assert_eq!(r.data()["count"], 12);
        assert_eq!(r.header("x-offset-requested"), Some("10"));

        let r = app.list_customers("limit=500").await;
        assert_eq!(r.header("x-limit-requested"), Some("500"));
        assert_eq!(r.header("x-limit-applied"), Some("100"));
        assert_eq!(ids(r.data()), created);

        let r = app.list_customers("offset=50").await;
        assert_eq!(ids(r.data()).len(), 0);
        assert_eq!(r.data()["count"], 12);
    }

    async fn cursors_walk_both_ways_without_gaps_or_duplicates(app) {
        let mut created = seed(&app, 12).await;
        created.reverse();
        // Forwards (older) in pages of 5.
        let mut seen = Vec::new();
        let mut query = "limit=5".to_owned();
        loop {
            let r = app.list_customers(&query).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.data()["count"], 12);
            let page = ids(r.data());
            seen.extend(page.clone());
            if r.data()["has_more"] == false { break; }
            query = format!("limit=5&starting_after={}", page.last().expect("page"));
        }
        assert_eq!(seen, created);
        // Backwards (newer) from the oldest.
        let mut back = Vec::new();
        let mut cursor = created.last().expect("oldest").clone();
        loop {
            let r = app.list_customers(&format!("limit=5&ending_before={cursor}")).await;
            let page = ids(r.data());
            // Pages are still newest-first.
            back.splice(0..0, page.clone());
            if r.data()["has_more"] == false { break; }
            cursor = page.first().expect("page").clone();
        }
        assert_eq!(back, created[..11]);
        // Bare uuids work as cursors too.
        let bare = created[4].trim_start_matches("cus_").to_owned();
        let r = app.list_customers(&format!("limit=2&starting_after={bare}")).await;
        assert_eq!(ids(r.data()), created[5..7]);
    }

    async fn cursor_errors(app) {
        let ids = seed(&app, 2).await;
        let unknown = "cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f";
        let r = app.list_customers(&format!("starting_after={unknown}")).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.reason_codes(), ["invalid_cursor"]);
        let r = app.list_customers(&format!("starting_after={}&ending_before={}", ids[0], ids[1])).await;
        r.assert_error(422, "validation_error");
        let r = app.list_customers(&format!("offset=0&starting_after={}", ids[0])).await;
        r.assert_error(422, "validation_error");
        // Another merchant's customer is not a cursor for me.
        let other = app.new_merchant("other").await;
        let theirs = app.create_customer_as(&other.token, &json!({"email": "t@example.com"})).await;
        let theirs = theirs.data()["id"].as_str().expect("id").to_owned();
        let r = app.list_customers(&format!("starting_after={theirs}")).await;
        assert_eq!(r.reason_codes(), ["invalid_cursor"]);
    }

    async fn filters_lists_and_case(app) {
        let a = app.customer(json!({"email": "Ana@Example.com", "country_code": "br", "document_type": "cpf"})).await;
        let b = app.customer(json!({"email": "bob@example.com", "country_code": "us", "document_type": "ssn"})).await;
        let c = app.customer(json!({"email": "cy@example.com", "country_code": "BR", "document_type": "cnpj"})).await;
        let d = app.customer(json!({"email": "di@example.com"})).await;
        let cases: Vec<(&str, Vec<&String>)> = vec![
            ("email=ana@example.com", vec![&a]),
            ("email=ANA%40EXAMPLE.COM%2Cbob@example.com", vec![&b, &a]),
            ("country_code=br", vec![&c, &a]),
            ("country_code=US%2CBr", vec![&c, &b, &a]),
            ("document_type=CPF", vec![&a]),
            ("document_type=cpf,cnpj", vec![&c, &a]),
            ("country_code=br&document_type=cnpj", vec![&c]),
            ("country_code=us&document_type=cnpj", vec![]),
            ("status=not_started", vec![&d, &c, &b, &a]),
            ("status=APPROVED", vec![]),
            ("status=approved,NOT_STARTED&country_code=us", vec![&b]),
            ("email=cy@example.com&country_code=br", vec![&c]),
            ("country_code=br,br,BR", vec![&c, &a]),
        ];
        for (query, expected) in cases {
            let r = app.list_customers(query).await;
            assert_eq!(r.status, 200, "{query}: {}", r.body);
            let expected: Vec<String> = expected.into_iter().cloned().collect();
            assert_eq!(ids(r.data()), expected, "{query}");
            assert_eq!(r.data()["count"], expected.len(), "count for {query}");
        }
    }

    async fn unknown_filter_values_are_422(app) {
        for query in ["country_code=zz", "document_type=licence", "status=DONE", "email=nope", "limit=0",
            "limit=-3", "limit=ten", "offset=-1", "colour=green", "country_code=", "provider=nope",
            "target_role=admin", "provider_registration_status=done"] {
            let r = app.list_customers(query).await;
            r.assert_error(422, "validation_error");
            assert!(!r.failure_fields().is_empty(), "{query}");
        }
    }

    async fn counts_follow_updates(app) {
        let a = app.customer(json!({"email": "a@example.com", "country_code": "br"})).await;
        app.customer(json!({"email": "b@example.com", "country_code": "br"})).await;
        assert_eq!(app.list_customers("country_code=br").await.data()["count"], 2);
        app.update_customer(&a, &json!({"country_code": "us", "document_type": "ssn"})).await;
        assert_eq!(app.list_customers("country_code=br").await.data()["count"], 1);
        assert_eq!(app.list_customers("country_code=us").await.data()["count"], 1);
        assert_eq!(app.list_customers("document_type=ssn").await.data()["count"], 1);
        app.update_customer(&a, &json!({"country_code": null, "document_type": null})).await;
        assert_eq!(app.list_customers("country_code=us").await.data()["count"], 0);
        assert_eq!(app.list_customers("document_type=ssn").await.data()["count"], 0);
        assert_eq!(app.list_customers("").await.data()["count"], 2);
        // The counter path and the COUNT(*) path agree.
        assert_eq!(app.list_customers("country_code=br&status=NOT_STARTED").await.data()["count"], 1);
    }
}
