//! `POST /api/v1/customers/batch`: many creates in one request, each answered as the single
//! create would have answered it, each with its own idempotency key.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{Resp, TestApp};

async fn batch_as(app: &TestApp, token: &str, body: &Value) -> Resp {
    app.send(
        Method::POST,
        "/api/v1/customers/batch",
        Some(body),
        Some(token),
        &[],
    )
    .await
}

async fn batch(app: &TestApp, body: &Value) -> Resp {
    batch_as(app, &app.merchant.token, body).await
}

/// `(status, replayed, body)` of each result, asserting the batch itself succeeded.
fn results(r: &Resp) -> Vec<(u16, bool, Value)> {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["msg"], "Batch processed");
    r.data()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|x| {
            (
                u16::try_from(x["status"].as_u64().expect("status")).expect("u16"),
                x["replayed"].as_bool().expect("replayed"),
                x["body"].clone(),
            )
        })
        .collect()
}

async fn count(app: &TestApp, query: &str) -> u64 {
    let r = app.list_customers(query).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["count"].as_u64().expect("count")
}

async fn created_events(app: &TestApp) -> usize {
    let r = app.events("event=customer.created&limit=100").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["event_list"].as_array().map_or(0, Vec::len)
}

both_stores! {
    async fn a_batch_created_customer_is_never_updated_before_it_was_created(app) {
        // Many items: the ids (and so created_at) are minted after the batch read the time.
        let items: Vec<Value> = (0..40)
            .map(|i| json!({"customer": {"email": format!("t{i}@example.com")}}))
            .collect();
        let r = batch(&app, &json!({ "items": items })).await;
        for (status, _, body) in results(&r) {
            assert_eq!(status, 200, "{body}");
            let (created, updated) = (&body["data"]["created_at"], &body["data"]["updated_at"]);
            assert!(updated.as_str() >= created.as_str(), "{created} > {updated}");
            let id = body["data"]["id"].as_str().unwrap();
            let stored = app.get_customer(id).await;
            assert_eq!(stored.data()["updated_at"], *updated);
        }
    }

    async fn creates_in_order_and_answers_each_item_like_the_single_create(app) {
        app.customer(json!({"email": "taken@example.com"})).await;
        let r = batch(&app, &json!({"items": [
            {"customer": {"email": "ana@example.com", "first_name": "Ana", "country_code": "BR"}},
            {"customer": {"email": "not-an-email", "country_code": "USA"}},
            {"customer": {"email": "bo@example.com", "country_code": "us"}},
            {"customer": {"email": "ANA@example.com"}},
            {"customer": {"email": "taken@example.com"}},
            {"customer": {"email": "cy@example.com", "status": "VERIFIED"}},
        ]})).await;
        let res = results(&r);
        let statuses: Vec<u16> = res.iter().map(|x| x.0).collect();
        assert_eq!(statuses, [200, 422, 200, 400, 400, 422], "{}", r.body);
        assert!(res.iter().all(|x| !x.1), "nothing is replayed the first time");

        // Successes are the single create's envelope.
        let ana = &res[0].2;
        assert_eq!(ana["msg"], "Customer created");
        assert_eq!(ana["data"]["email"], "ana@example.com");
        assert_eq!(ana["data"]["country_code"], "br");
        assert_eq!(ana["data"]["status"], "NOT_STARTED");
        let ana_id = ana["data"]["id"].as_str().expect("id");
        let bo_id = res[2].2["data"]["id"].as_str().expect("id");
        assert!(ana_id < bo_id, "ids follow the batch order");
        let fetched = app.get_customer(ana_id).await;
        assert_eq!(fetched.status, 200);
        assert_eq!(fetched.data(), &ana["data"]);

        // Refusals are the single create's error envelopes.
        let invalid = &res[1].2;
        assert_eq!(invalid["error_code"], "validation_error");
        assert!(invalid["data"].is_null());
        let mut fields: Vec<&str> = invalid["failure_reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .flat_map(|r| r["fields"].as_array().expect("fields").iter().filter_map(Value::as_str))
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["country_code", "email"]);
        for dup in [&res[3].2, &res[4].2] {
            assert_eq!(dup["error_code"], "validation_error", "{dup}");
            assert_eq!(dup["failure_reasons"][0]["code"], "duplicate_data", "{dup}");
        }
        assert_eq!(res[5].2["failure_reasons"][0]["fields"][0], "status");
        let single = app.create_customer(&json!({"email": "ana@example.com"})).await;
        assert_eq!(single.status, res[3].0);
        assert_eq!(single.body["failure_reasons"], res[3].2["failure_reasons"]);

        // Exactly the created customers exist, counted and recorded once each.
        assert_eq!(count(&app, "").await, 3);
        assert_eq!(count(&app, "country_code=br").await, 1);
        assert_eq!(count(&app, "status=NOT_STARTED").await, 3);
        assert_eq!(count(&app, "email=ana@example.com").await, 1);
        assert_eq!(created_events(&app).await, 3);
    }

    async fn duplicates_inside_one_insert_fail_only_themselves(app) {
        // Items giving the same fields are one multi-row insert: a repeated email (any case)
        // and an email already stored must fail only their own items, the first one winning.
        app.customer(json!({"email": "held@example.com"})).await;
        let emails = ["m1@example.com", "M1@example.com", "m2@example.com", "held@example.com", "m3@example.com", "m2@example.com"];
        let items: Vec<Value> = emails.iter().map(|e| json!({"customer": {"email": e, "first_name": "N"}})).collect();
        let r = batch(&app, &json!({ "items": items })).await;
        let res = results(&r);
        let statuses: Vec<u16> = res.iter().map(|x| x.0).collect();
        assert_eq!(statuses, [200, 400, 200, 400, 200, 400], "{}", r.body);
        assert_eq!(res[0].2["data"]["email"], "m1@example.com");
        for i in [0, 2, 4] {
            let id = res[i].2["data"]["id"].as_str().expect("id");
            assert_eq!(app.get_customer(id).await.data()["email"], emails[i]);
        }
        assert_eq!(count(&app, "").await, 4);
        assert_eq!(created_events(&app).await, 4);
    }

    async fn item_keys_replay_within_and_across_routes(app) {
        let body = json!({"items": [
            {"idempotency_key": "row-1", "customer": {"email": "k1@example.com", "first_name": "K"}},
            {"idempotency_key": "row-2", "customer": {"email": "bad"}},
            {"customer": {"email": "nokey@example.com"}},
        ]});
        let first = results(&batch(&app, &body).await);
        assert_eq!(first.iter().map(|x| x.0).collect::<Vec<_>>(), [200, 422, 200]);
        let id = first[0].2["data"]["id"].clone();

        // The same batch again: keyed items replay (refusals too); the unkeyed one runs again.
        let again = results(&batch(&app, &body).await);
        assert_eq!(again[0], (200, true, first[0].2.clone()));
        assert_eq!(again[1], (422, true, first[1].2.clone()));
        assert_eq!(again[2].0, 400, "a second nokey@ is a duplicate");
        assert!(!again[2].1);

        // The single route with the same key and customer (spaced and ordered differently)
        // replays the batch's answer; with another customer it is a mismatch.
        let single = app
            .send(
                Method::POST,
                "/api/v1/customers",
                Some(&json!({"first_name": "K", "email": "k1@example.com"})),
                Some(&app.merchant.token),
                &[("idempotency-key", "row-1")],
            )
            .await;
        assert_eq!(single.status, 200, "{}", single.body);
        assert_eq!(single.header("idempotent-replayed"), Some("true"));
        assert_eq!(single.data()["id"], id);
        let other = app
            .send(
                Method::POST,
                "/api/v1/customers",
                Some(&json!({"email": "other@example.com"})),
                Some(&app.merchant.token),
                &[("idempotency-key", "row-1")],
            )
            .await;
        other.assert_error(422, "validation_error");
        assert_eq!(other.reason_codes(), ["idempotency_mismatch"]);

        // A key first used on the single route replays in a batch; reusing it for another
        // customer, or twice in one batch with different customers, is a mismatch.
        let single = app
            .send(
                Method::POST,
                "/api/v1/customers",
                Some(&json!({"email": "s@example.com"})),
                Some(&app.merchant.token),
                &[("idempotency-key", "single-1")],
            )
            .await;
        assert_eq!(single.status, 200, "{}", single.body);
        let res = results(&batch(&app, &json!({"items": [
            {"idempotency_key": "single-1", "customer": {"email": "s@example.com"}},
            {"idempotency_key": "single-1", "customer": {"email": "s2@example.com"}},
            {"idempotency_key": "twice", "customer": {"email": "t@example.com"}},
            {"idempotency_key": "twice", "customer": {"email": "t@example.com"}},
            {"idempotency_key": "twice", "customer": {"email": "t2@example.com"}},
        ]})).await);
        assert_eq!(res[0].0, 200);
        assert!(res[0].1);
        assert_eq!(res[0].2["data"]["id"], single.data()["id"]);
        for i in [1, 4] {
            assert_eq!(res[i].0, 422, "{:?}", res[i]);
            assert_eq!(res[i].2["failure_reasons"][0]["code"], "idempotency_mismatch");
        }
        assert_eq!((res[2].0, res[2].1), (200, false));
        assert_eq!((res[3].0, res[3].1), (200, true));
        assert_eq!(res[3].2, res[2].2);

        assert_eq!(count(&app, "").await, 4, "k1, nokey, s, t");
        assert_eq!(count(&app, "email=t2@example.com").await, 0);
        assert_eq!(created_events(&app).await, 4);
    }

    async fn a_malformed_batch_is_refused_whole(app) {
        let many: Vec<Value> = (0..101)
            .map(|i| json!({"customer": {"email": format!("m{i}@example.com")}}))
            .collect();
        let cases = [
            (json!({}), vec!["items"]),
            (json!({"items": []}), vec!["items"]),
            (json!({"items": many}), vec!["items"]),
            (json!({"items": {"customer": {}}}), vec!["items"]),
            (
                json!({"items": [
                    {"customer": {"email": "ok@example.com"}},
                    "nope",
                    {"idempotency_key": "", "customer": {"email": "x@example.com"}},
                    {"idempotency_key": "k"},
                    {"customer": [], "extra": 1},
                ], "dry_run": true}),
                vec![
                    "dry_run",
                    "items[1]",
                    "items[2].idempotency_key",
                    "items[3].customer",
                    "items[4].customer",
                    "items[4].extra",
                ],
            ),
        ];
        for (body, fields) in cases {
            let r = batch(&app, &body).await;
            r.assert_error(422, "validation_error");
            assert_eq!(r.failure_fields(), fields, "{}", r.body);
        }
        assert_eq!(count(&app, "").await, 0, "nothing of a refused batch is created");

        let r = app
            .send(
                Method::POST,
                "/api/v1/customers/batch",
                Some(&json!({"items": [{"customer": {"email": "a@example.com"}}]})),
                None,
                &[],
            )
            .await;
        r.assert_error(401, "authentication_error");
        let r = app
            .send(Method::GET, "/api/v1/customers/batch", None, Some(&app.merchant.token), &[])
            .await;
        r.assert_error(405, "method_not_allowed");
    }

    async fn concurrent_batches_with_the_same_keys_create_each_customer_once(app) {
        let items: Vec<Value> = (0..40)
            .map(|i| json!({"idempotency_key": format!("c-{i}"), "customer": {"email": format!("c{i}@example.com")}}))
            .collect();
        // Each copy lists the items in another order, so the batches overlap every way.
        let bodies: Vec<Value> = (0..4)
            .map(|n| {
                let mut v = items.clone();
                v.rotate_left(n * 10);
                if n % 2 == 1 {
                    v.reverse();
                }
                json!({"items": v})
            })
            .collect();
        let runs = futures::future::join_all(bodies.iter().map(|b| batch(&app, b))).await;
        let mut ids: std::collections::BTreeMap<String, String> = Default::default();
        let mut fresh = 0;
        for r in &runs {
            for (status, replayed, body) in results(r) {
                assert_eq!(status, 200, "{body}");
                fresh += usize::from(!replayed);
                let email = body["data"]["email"].as_str().expect("email").to_owned();
                let id = body["data"]["id"].as_str().expect("id").to_owned();
                assert_eq!(ids.entry(email).or_insert_with(|| id.clone()), &id);
            }
        }
        assert_eq!(ids.len(), 40);
        assert_eq!(fresh, 40, "each key ran once; every other answer is a replay");
        assert_eq!(count(&app, "").await, 40);
    }

    async fn batches_crossing_the_same_emails_all_finish(app) {
        // Opposite orders invite deadlocks on PostgreSQL; the store runs an aborted batch again,
        // so each batch still answers 200 with every item created once or refused as a duplicate.
        for round in 0..5 {
            let emails: Vec<Value> = (0..30)
                .map(|i| json!({"customer": {"email": format!("x{round}-{i}@example.com")}}))
                .collect();
            let mut reversed = emails.clone();
            reversed.reverse();
            let (forward, backward) = (json!({"items": emails}), json!({"items": reversed}));
            let (a, b) = tokio::join!(batch(&app, &forward), batch(&app, &backward));
            let mut created = 0;
            for r in [&a, &b] {
                for (status, _, body) in results(r) {
                    assert!(status == 200 || status == 400, "{status} {body}");
                    created += usize::from(status == 200);
                }
            }
            assert_eq!(created, 30, "round {round}");
        }
        assert_eq!(count(&app, "").await, 150);
    }

    async fn batches_are_per_merchant(app) {
        let other = app.new_merchant("Other").await;
        let item = json!({"items": [{"idempotency_key": "same", "customer": {"email": "x@example.com"}}]});
        let mine = results(&batch(&app, &item).await);
        let theirs = results(&batch_as(&app, &other.token, &item).await);
        assert_eq!((mine[0].0, mine[0].1), (200, false));
        assert_eq!((theirs[0].0, theirs[0].1), (200, false), "keys and emails are per merchant");
        assert_ne!(mine[0].2["data"]["id"], theirs[0].2["data"]["id"]);
        assert_eq!(count(&app, "").await, 1);
        let r = app.list_customers_as(&other.token, "").await;
        assert_eq!(r.data()["count"], 1);
    }
}
