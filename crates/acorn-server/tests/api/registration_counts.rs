//! Lists filtered by registrations (`provider`, `target_role`, `provider_registration_status`)
//! count from `registration_cube` and page by one of two walks; the counts and the pages must
//! equal what the customers' own registrations say, through every registration change, customer
//! update and erasure, on offset and cursor pages, and after the cube's backfill on upgrade.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::TestApp;
use crate::list_counts::{rerun_migration, walk_ids};

/// Registration filters, alone and with customer filters.
const FILTERS: [&str; 11] = [
    "provider=stripe",
    "provider=stripe&provider_registration_status=approved",
    "provider=stripe,bridge",
    "target_role=customer",
    "target_role=connected_account&provider_registration_status=processing,rejected",
    "provider_registration_status=rejected",
    "provider_registration_status=approved,rejected&country_code=br",
    "provider=bridge&target_role=customer&document_type=cpf",
    "provider=stripe&status=APPROVED,REJECTED",
    "provider=stripe,bridge&country_code=br,us&document_type=cpf&status=APPROVED,PROCESSING,NOT_STARTED",
    "provider=mercado_pago",
];

/// Whether a customer (as the list shows it) matches `filter`: its customer fields, and one
/// single registration satisfying every registration filter given.
fn matches(customer: &Value, filter: &str) -> bool {
    let mut reg: Vec<(&str, Vec<String>)> = Vec::new();
    for pair in filter.split('&') {
        let (name, values) = pair.split_once('=').expect("name=values");
        let values: Vec<String> = values.split(',').map(str::to_lowercase).collect();
        let field = |f: &str| customer[f].as_str().unwrap_or("").to_lowercase();
        match name {
            "country_code" | "document_type" | "status" => {
                if !values.contains(&field(name)) {
                    return false;
                }
            }
            "provider" => reg.push(("provider", values)),
            "target_role" => reg.push(("target_role", values)),
            "provider_registration_status" => reg.push(("status", values)),
            other => panic!("unknown filter {other}"),
        }
    }
    let platforms = customer["platforms"].as_array().expect("platforms");
    platforms.iter().any(|p| {
        reg.iter().all(|(field, values)| {
            values.contains(&p[*field].as_str().unwrap_or("").to_lowercase())
        })
    })
}

/// Every live customer as the list shows it, newest first.
async fn everyone(app: &TestApp) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    loop {
        let query = match out.last() {
            None => "limit=100".to_owned(),
            Some(last) => format!("limit=100&starting_after={}", last["id"].as_str().unwrap()),
        };
        let page = app.list_customers(&query).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let list = page.data()["customer_list"]
            .as_array()
            .expect("list")
            .clone();
        if list.is_empty() {
            return out;
        }
        out.extend(list);
    }
}

fn page_ids(r: &crate::helpers::Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["customer_list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// For every filter: the count and the cursor walk equal the customers whose registrations
/// match, and offset pages (small and large, past the end too) and an `ending_before` page are
/// slices of it.
async fn assert_filters(app: &TestApp, when: &str) {
    let all = everyone(app).await;
    for filter in FILTERS {
        let want: Vec<String> = all
            .iter()
            .filter(|c| matches(c, filter))
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let (count, ids) = walk_ids(app, filter).await;
        assert_eq!(ids, want, "{when}: rows for {filter}");
        assert_eq!(count as usize, want.len(), "{when}: count for {filter}");
        let n = want.len();
        for (limit, offset) in [
            (1, 0),
            (2, 1),
            (3, n / 2),
            (1, n.saturating_sub(1)),
            (5, n),
            (100, 0),
        ] {
            let r = app
                .list_customers(&format!("{filter}&limit={limit}&offset={offset}"))
                .await;
            let slice: Vec<String> = want.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(
                page_ids(&r),
                slice,
                "{when}: {filter} limit {limit} offset {offset}"
            );
            assert_eq!(r.data()["count"], n, "{when}: {filter}");
            assert_eq!(
                r.data()["has_more"],
                offset + limit < n,
                "{when}: {filter} offset {offset}"
            );
        }
        if n >= 3 {
            let r = app
                .list_customers(&format!("{filter}&limit=2&ending_before={}", want[n - 1]))
                .await;
            assert_eq!(
                page_ids(&r),
                want[n - 3..n - 1].to_vec(),
                "{when}: {filter} ending_before"
            );
            assert_eq!(
                r.data()["has_more"],
                n > 3,
                "{when}: {filter} ending_before"
            );
        }
    }
}

/// Twenty customers over two countries and document types (and none).
async fn populate(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..20 {
        let mut body = json!({"email": format!("r{i}@example.com")});
        if i % 5 != 4 {
            body["country_code"] = json!(["br", "us"][i % 2]);
        }
        if i % 3 != 2 {
            body["document_type"] = json!(["cpf", "passport"][i % 2]);
        }
        ids.push(app.customer(body).await);
    }
    ids
}

async fn set(app: &TestApp, id: &str, provider: &str, role: &str, status: &str) {
    let r = app
        .sandbox_set(id, provider, role, &json!({"status": status}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

both_stores! {
    async fn registration_filter_counts_follow_every_change(app) {
        let ids = populate(&app).await;
        assert_filters(&app, "before any registration").await;
        // First registrations, a second provider for some, a second role for one.
        for (i, id) in ids.iter().enumerate().take(14) {
            set(&app, id, "stripe", "customer", ["processing", "approved", "rejected"][i % 3]).await;
        }
        for id in ids.iter().skip(8).take(8) {
            set(&app, id, "bridge", "customer", "processing").await;
        }
        set(&app, &ids[2], "stripe", "connected_account", "processing").await;
        assert_filters(&app, "after registrations").await;
        // Statuses move (the customers' derived statuses with them), back and forth.
        for id in &ids[..6] {
            set(&app, id, "stripe", "customer", "approved").await;
        }
        for id in ids.iter().skip(8).take(4) {
            set(&app, id, "bridge", "customer", "rejected").await;
        }
        set(&app, &ids[3], "stripe", "customer", "rejected").await;
        set(&app, &ids[2], "stripe", "connected_account", "rejected").await;
        assert_filters(&app, "after status changes").await;
        // Customer updates move registered customers between cells.
        for id in &ids[..4] {
            let r = app.update_customer(id, &json!({"country_code": "br", "document_type": "cpf"})).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let r = app.update_customer(&ids[9], &json!({"document_type": null})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_filters(&app, "after updates").await;
        // Erasure takes registered customers out; a later change to their registrations does
        // not bring them back.
        let token = app.merchant.token.clone();
        for i in [0, 9, 13] {
            let r = app.send(Method::DELETE, &format!("/api/v1/customers/{}", ids[i]), None, Some(&token), &[]).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let _ = app.sandbox_set(&ids[9], "bridge", "customer", &json!({"status": "approved"})).await;
        assert_filters(&app, "after erasure").await;
        // Another merchant's registrations are not counted here.
        let other = app.new_merchant("other").await;
        let r = app.create_customer_as(&other.token, &json!({"email": "o@example.com", "country_code": "br"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let theirs = r.data()["id"].as_str().expect("id").to_owned();
        let r = app.post_as(&other.token, &format!("/api/v1/sandbox/customers/{theirs}/registrations/stripe/customer/status"), &json!({"status": "approved"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_filters(&app, "with another merchant").await;
        // A database from before the cube is backfilled by its migration.
        rerun_migration(&app, &["TABLE registration_cube", "TABLE registration_sets", "INDEX registrations_merchant_customer"], 15).await;
        assert_filters(&app, "after the backfill").await;
    }
}
