//! Exact counts for combined filters (country, document type, status) come from the
//! `customer_cube` counters; they must equal the rows the list returns through creates, batch
//! creates, updates, status changes and erasure, and a database upgraded to the cube is
//! backfilled.

use reqwest::Method;
use serde_json::json;
use sqlx::Executor;

use crate::both_stores;
use crate::helpers::TestApp;

/// Filter combinations the cube answers (two or three of country, document type, status).
const COMBOS: [&str; 7] = [
    "country_code=br&document_type=cpf",
    "country_code=br,us&document_type=cpf,passport",
    "country_code=us&status=NOT_STARTED",
    "document_type=passport&status=NOT_STARTED,APPROVED",
    "country_code=br&document_type=cpf&status=APPROVED",
    "country_code=br,us,mx&document_type=cpf,passport,curp&status=NOT_STARTED,APPROVED,PROCESSING",
    "country_code=mx&document_type=curp",
];

/// The first page's count and every customer id matching `filter` (`""`: all), newest first,
/// walking cursor pages of 100 (no offsets: the reference offset pages are checked against).
pub(crate) async fn walk_ids(app: &TestApp, filter: &str) -> (u64, Vec<String>) {
    let (mut count, mut ids) = (None, Vec::<String>::new());
    loop {
        let query = match ids.last() {
            None => format!("{filter}&limit=100"),
            Some(last) => format!("{filter}&limit=100&starting_after={last}"),
        };
        let page = app.list_customers(&query).await;
        assert_eq!(page.status, 200, "{}", page.body);
        count.get_or_insert(page.data()["count"].as_u64().expect("count"));
        let list = page.data()["customer_list"]
            .as_array()
            .expect("list")
            .clone();
        if list.is_empty() {
            return (count.unwrap_or(0), ids);
        }
        ids.extend(list.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
    }
}

/// Every customer matching `filter`: the count the list answers and how many pages hold.
async fn walk(app: &TestApp, filter: &str) -> (u64, usize) {
    let (count, ids) = walk_ids(app, filter).await;
    (count, ids.len())
}

async fn assert_counts_match(app: &TestApp, when: &str) {
    for filter in COMBOS {
        let (count, rows) = walk(app, filter).await;
        assert_eq!(count as usize, rows, "{when}: count for {filter}");
    }
}

/// As a database from before migration `version`: what it creates dropped (`drops`: `TABLE x`,
/// `INDEX y`) and the migration unrecorded; then the app is built again on the database, which
/// runs it (and its backfill).
pub(crate) async fn rerun_migration(app: &TestApp, drops: &[&str], version: i64) {
    let pool = sqlx::AnyPool::connect(&app.config.database_url)
        .await
        .unwrap();
    for what in drops {
        pool.execute(format!("DROP {what}").as_str()).await.unwrap();
    }
    pool.execute(format!("DELETE FROM _sqlx_migrations WHERE version = {version}").as_str())
        .await
        .unwrap();
    pool.close().await;
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    drop(
        acorn_server::Application::build(config)
            .await
            .expect("upgrade"),
    );
}

/// Customers over three countries and three document types (and none), some in a batch.
async fn populate(app: &TestApp) -> Vec<String> {
    let countries = ["br", "us", "mx", ""];
    let docs = ["cpf", "passport", "curp", ""];
    let mut ids = Vec::new();
    for i in 0..24 {
        let mut body = json!({"email": format!("c{i}@example.com")});
        let (c, d) = (countries[i % 4], docs[(i / 4) % 4]);
        if !c.is_empty() {
            body["country_code"] = json!(c);
        }
        if !d.is_empty() {
            body["document_type"] = json!(d);
        }
        ids.push(app.customer(body).await);
    }
    let items: Vec<_> = (0..6).map(|i| json!({"customer": {"email": format!("b{i}@example.com"), "country_code": "br", "document_type": "cpf"}})).collect();
    let r = app
        .post_as(
            &app.merchant.token,
            "/api/v1/customers/batch",
            &json!({"items": items}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    ids
}

both_stores! {
    async fn combined_filter_counts_follow_every_write(app) {
        let ids = populate(&app).await;
        assert_counts_match(&app, "after creates").await;
        // Updates move customers between cells.
        for id in &ids[..6] {
            let r = app.update_customer(id, &json!({"country_code": "br", "document_type": "passport"})).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let r = app.update_customer(&ids[6], &json!({"document_type": null})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_counts_match(&app, "after updates").await;
        // A registration approved moves the customer's status.
        for id in &ids[..3] {
            let r = app.sandbox_set(id, "stripe", "customer", &json!({"status": "approved"})).await;
            assert_eq!(r.status, 200, "{}", r.body);
            app.wait_for_status(id, "APPROVED").await;
        }
        assert_counts_match(&app, "after approvals").await;
        // Erasure takes the customer out of every count.
        let token = app.merchant.token.clone();
        for id in &ids[..2] {
            let r = app.send(Method::DELETE, &format!("/api/v1/customers/{id}"), None, Some(&token), &[]).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        assert_counts_match(&app, "after erasure").await;
        let (approved_br_passport, _) = walk(&app, "country_code=br&document_type=passport&status=APPROVED").await;
        assert_eq!(approved_br_passport, 1, "ids[2] only: ids[0..2] were erased");
    }

    async fn the_cube_is_backfilled_on_upgrade(app) {
        populate(&app).await;
        // As a database from before the cube: no table, migration 10 not applied.
        rerun_migration(&app, &["TABLE customer_cube"], 10).await;
        assert_counts_match(&app, "after the backfill").await;
    }
}

async fn all_ids(app: &TestApp) -> Vec<String> {
    walk_ids(app, "").await.1
}

/// Deep offset pages (which start from `customer_marks` on SQLite) are exactly the slices of
/// the list that cursor pages walk.
async fn assert_offset_pages(app: &TestApp, when: &str) {
    let ids = all_ids(app).await;
    let total = ids.len();
    for offset in [
        2048,
        2100,
        2300,
        total - 11,
        total - 10,
        total - 1,
        total,
        total + 500,
    ] {
        let r = app
            .list_customers(&format!("limit=10&offset={offset}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page: Vec<String> = r.data()["customer_list"]
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = ids.iter().skip(offset).take(10).cloned().collect();
        assert_eq!(page, want, "{when}: offset {offset} of {total}");
        assert_eq!(
            r.data()["has_more"],
            offset + 10 < total,
            "{when}: offset {offset}"
        );
        assert_eq!(r.data()["count"], total, "{when}");
    }
}

/// On SQLite, the marks hold every live customer, in closed ranges of at least 1,024.
async fn assert_marks(app: &TestApp, live: usize) {
    if !app.config.database_url.starts_with("sqlite") {
        return;
    }
    let pool = sqlx::AnyPool::connect(&app.config.database_url)
        .await
        .unwrap();
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT upper, n FROM customer_marks")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    let sum: i64 = rows.iter().map(|(_, n)| n).sum();
    assert_eq!(sum as usize, live, "{rows:?}");
    let closed = rows.iter().filter(|(upper, _)| upper != "~").count();
    assert!(closed >= 2, "{rows:?}");
}

both_stores! {
    async fn deep_offset_pages_are_exact_through_creates_and_erasure(app) {
        for b in 0..26 {
            let items: Vec<_> = (0..100).map(|i| json!({"customer": {"email": format!("d{b}-{i}@example.com")}})).collect();
            let r = app.post_as(&app.merchant.token, "/api/v1/customers/batch", &json!({"items": items})).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        for i in 0..40 {
            app.customer(json!({"email": format!("single{i}@example.com")})).await;
        }
        assert_offset_pages(&app, "after creates").await;
        assert_marks(&app, 2640).await;
        // Erasure from the oldest range, a middle one and the newest.
        let ids = all_ids(&app).await;
        let token = app.merchant.token.clone();
        for i in [0, 5, 700, 1500, 2600, 2630, 2639] {
            let r = app.send(Method::DELETE, &format!("/api/v1/customers/{}", ids[i]), None, Some(&token), &[]).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        assert_offset_pages(&app, "after erasure").await;
        assert_marks(&app, 2633).await;
        // A database from before the marks is backfilled by their migration.
        if app.config.database_url.starts_with("sqlite") {
            rerun_migration(&app, &["TABLE customer_marks"], 14).await;
            assert_offset_pages(&app, "after the backfill").await;
            assert_marks(&app, 2633).await;
        }
    }
}
