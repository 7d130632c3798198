//! Registration filters count from `registration_cube` (never from customer rows) and page by
//! the walk their counts choose, through its index — checked on the engines' plans over 100,000
//! customers, 10,000 of them registered.

use acorn_server::admin::Store;
use acorn_server::testing::{Dialect, ListQuery, Page};
use acorn_types::MerchantId;
use sqlx::Executor;

use crate::pg::TestDatabase;
use crate::store_plans::{fill, query};

/// Registrations behind the store's back: stripe for one customer in ten (approved or
/// processing), bridge (rejected) for one in a hundred, pagar_me for one in five thousand, one
/// `awaiting_confirmation`; then migration 0015 is run again to count them.
async fn register(url: &str) {
    let pool = sqlx::AnyPool::connect(url).await.expect("connect");
    let insert = |provider: &str, status: &str, every: i64, offset: i64| {
        format!(
            "INSERT INTO registrations (id, merchant_id, customer_id, provider, target_role, status, provider_data, \
             action_required, documents, manual_review, missing_fields, created_at, updated_at) \
             SELECT '{provider}-' || id, merchant_id, id, '{provider}', 'customer', {status}, '{{}}', 0, 'none', 0, '[]', 0, 0 \
             FROM customers WHERE created_at % {every} = {offset}"
        )
    };
    for sql in [
        insert(
            "stripe",
            "CASE WHEN created_at % 30 = 1 THEN 'approved' ELSE 'processing' END",
            10,
            1,
        ),
        insert("bridge", "'rejected'", 100, 1),
        insert("pagar_me", "'processing'", 5000, 1),
        insert("avenia", "'awaiting_confirmation'", 100_000, 1),
        "DROP TABLE registration_cube".to_owned(),
        "DROP TABLE registration_sets".to_owned(),
        "DROP INDEX registrations_merchant_customer".to_owned(),
        "DELETE FROM _sqlx_migrations WHERE version = 15".to_owned(),
    ] {
        pool.execute(sql.as_str()).await.expect("registrations");
    }
    pool.close().await;
    drop(Store::open(url).await.expect("migrate again"));
    // PostgreSQL's autovacuum gathers statistics; SQLite has none unless someone runs ANALYZE,
    // and the server never does, so its plans are checked without them.
    if url.starts_with("postgres") {
        let pool = sqlx::AnyPool::connect(url).await.expect("connect");
        pool.execute("ANALYZE").await.expect("analyze");
        pool.close().await;
    }
}

fn filtered(providers: &[&str], statuses: &[&str], countries: &[&str]) -> ListQuery {
    let mut q = query(Page::Offset(0));
    q.registration.providers = providers.iter().map(|s| (*s).to_owned()).collect();
    q.registration.statuses = statuses.iter().map(|s| (*s).to_owned()).collect();
    q.countries = countries.iter().map(|s| (*s).to_owned()).collect();
    q
}

async fn check(url: &str, dialect: Dialect) {
    let store = Store::open(url).await.expect("store");
    let (merchant, other) = (MerchantId::new(), MerchantId::new());
    fill(url, dialect, merchant, other).await;
    register(url).await;
    let mut role = query(Page::Offset(0));
    role.registration.roles = vec!["customer".into()];
    // (name, query, the index SQLite walks)
    let cases = [
        (
            "dense provider",
            filtered(&["stripe"], &[], &[]),
            "registrations_merchant_customer",
        ),
        (
            "dense, with a country",
            filtered(&["stripe"], &["approved"], &["us"]),
            "registrations_merchant_customer",
        ),
        ("role alone", role, "registrations_merchant_customer"),
        (
            "sparse provider",
            filtered(&["pagar_me"], &[], &[]),
            "registrations_merchant_filter",
        ),
        (
            "sparse status",
            filtered(&[], &["awaiting_confirmation"], &[]),
            "registrations_merchant_status",
        ),
        (
            "deep offset",
            {
                let mut q = filtered(&["stripe"], &[], &[]);
                q.page = Page::Offset(9_500);
                q
            },
            "registrations_merchant_filter",
        ),
    ];
    for (name, q, index) in cases {
        let plan = store.explain_list(merchant, &q).await.expect("plan");
        let (page, count) = plan.split_at(
            plan.find("registration_cube")
                .unwrap_or_else(|| panic!("{name}: the count reads registration_cube:\n{plan}")),
        );
        assert!(
            !count.contains("customers"),
            "{name}: the count reads no customer rows:\n{plan}"
        );
        match dialect {
            Dialect::Sqlite => {
                assert!(
                    page.contains(index),
                    "{name}: the page walks {index}:\n{plan}"
                );
                assert!(
                    !page.contains("SCAN c"),
                    "{name}: no scan of customers:\n{plan}"
                );
                // The page's rows by their key, not by a walk of the merchant's customers.
                assert!(
                    page.contains(
                        "SEARCH customers USING INDEX sqlite_autoindex_customers_1 (id=?)"
                    ) && !page.contains("customers_merchant_id"),
                    "{name}: the rows are looked up by id:\n{plan}"
                );
            }
            Dialect::Postgres => {
                // PostgreSQL weighs the walks itself, on its statistics (and may read all of a
                // merchant's registrations for a deep page); customers only by key.
                let tables: &[&str] = if name.starts_with("sparse") {
                    &["customers", "registrations"]
                } else {
                    &["customers"]
                };
                for table in tables {
                    assert!(
                        !plan.contains(&format!("Seq Scan on {table}")),
                        "{name}: no scan of {table}:\n{plan}"
                    );
                }
            }
        }
        // Dense filters stream in index order; only the sparse walk sorts (its few matches).
        if dialect == Dialect::Sqlite && index == "registrations_merchant_customer" {
            assert!(!page.contains("TEMP B-TREE"), "{name}: no sort:\n{plan}");
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_filter_plans_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("regplans.db").display());
    check(&url, Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_filter_plans_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    check(&db.url, Dialect::Postgres).await;
}
