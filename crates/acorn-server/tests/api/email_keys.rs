//! Customers stored before email keys normalised IDNA domains are re-keyed when the store opens.

use acorn_server::admin::Store;
use sqlx::{Executor, Row};

#[tokio::test]
async fn keys_stored_with_a_unicode_domain_are_rekeyed_on_open() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("acorn.db").display());
    drop(Store::open(&url).await.expect("store"));
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    pool.execute("INSERT INTO merchants (id, name, client_id, secret_hash, created_at) VALUES ('m1', 'm', 'c1', 'h', 0)")
        .await.expect("merchant");
    for (id, email) in [
        ("c1", "user@exämple.com"),
        ("c2", "other@exämple.com"),
        ("c3", "other@xn--exmple-cua.com"),
    ] {
        let key = if id == "c3" {
            email.to_owned()
        } else {
            email.to_lowercase()
        };
        pool.execute(format!("INSERT INTO customers (id, merchant_id, email, email_key, status, version, created_at, updated_at) \
            VALUES ('{id}', 'm1', '{email}', '{key}', 'NOT_STARTED', 1, 0, 0)").as_str()).await.expect("customer");
    }
    pool.close().await;
    drop(Store::open(&url).await.expect("reopen"));
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    let key = |id: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT email_key FROM customers WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("row")
                .try_get::<String, _>(0)
                .expect("key")
        }
    };
    assert_eq!(key("c1").await, "user@xn--exmple-cua.com");
    // Two customers that are now one address: the older key stays, for a person to merge them.
    assert_eq!(key("c2").await, "other@exämple.com");
    assert_eq!(key("c3").await, "other@xn--exmple-cua.com");
}
