//! SQLite fsyncs every commit unless told otherwise: `PRAGMA synchronous` on each of the
//! server's own connections (the writer and every reader) is what the configuration says.

use acorn_server::SqliteSynchronous;

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

/// A `PRAGMA` as each of the app's SQLite connections has it, the writer first.
async fn pragma(app: &TestApp, name: &'static str) -> Vec<i64> {
    app.state.store.sqlite_pragma(name).await.expect("pragma")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_are_fsynced_by_default() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let values = pragma(&app, "synchronous").await;
    // FULL is 2: the writer and the four readers.
    assert_eq!(values, vec![2; 5]);
    // Every connection keeps a page cache of 16 MiB (negative: KiB).
    let cache = pragma(&app, "cache_size").await;
    assert_eq!(cache, vec![-16_384; 5]);
}

/// Group-committed creates are committed without the fsync and fsynced together, outside the
/// write lock, before they are answered; the writer is back to `FULL` for every other write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_group_commits_share_a_wal_fsync_and_the_writer_stays_full() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let before = app
        .state
        .store
        .create_wal_flushes()
        .expect("FULL flushes the WAL");
    let creates = (0..40).map(|i| {
        // The 21st repeats the first's email: it fails alone.
        let email = format!("g{}@example.com", if i == 20 { 0 } else { i });
        let app = &app;
        async move {
            app.create_customer(&serde_json::json!({"email": email}))
                .await
        }
    });
    let answers = futures::future::join_all(creates).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        39,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let dup = answers
        .iter()
        .filter(|r| r.status == 400 && r.reason_codes() == ["duplicate_data"]);
    assert_eq!(dup.count(), 1);
    let flushes = app.state.store.create_wal_flushes().expect("flushes") - before;
    assert!(
        (1..=40).contains(&flushes),
        "{flushes} flushes for 40 creates"
    );
    // Every connection, the writer included, fsyncs its own commits again.
    assert_eq!(pragma(&app, "synchronous").await, vec![2; 5]);
    let id = answers[1].body["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = app
        .update_customer(&id, &serde_json::json!({"first_name": "Ada"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = app.list_customers("limit=1").await;
    assert_eq!(list.data()["count"], 39, "{}", list.body);
}

/// A group that fails half-way (in its inserts, or after them in the counters and events) is
/// rolled back whole and its creates written again one by one: the bad ones fail alone,
/// nothing of them stays, and the write connection is not left inside a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_failing_half_way_leaves_nothing_and_the_writer_usable() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let pool = sqlx::AnyPool::connect(&app.config.database_url)
        .await
        .expect("direct connection");
    // `Boom` fails its insert; `Late` fails the group's event insert, after the inserts.
    sqlx::raw_sql(
        "CREATE TRIGGER boom BEFORE INSERT ON customers WHEN NEW.first_name = 'Boom' \
           BEGIN SELECT RAISE(ABORT, 'boom'); END; \
         CREATE TRIGGER late AFTER INSERT ON events \
           WHEN (SELECT first_name FROM customers WHERE id = NEW.customer_id) = 'Late' \
           BEGIN SELECT RAISE(ABORT, 'late'); END;",
    )
    .execute(&pool)
    .await
    .expect("triggers");
    for round in 0..3 {
        let creates = (0..24).map(|i| {
            let name = match i {
                5 => "Boom",
                17 => "Late",
                _ => "Fine",
            };
            let body = serde_json::json!({"email": format!("h{round}-{i}@example.com"), "first_name": name});
            let app = &app;
            async move { (name, app.create_customer(&body).await) }
        });
        for (name, r) in futures::future::join_all(creates).await {
            match name {
                "Fine" => assert_eq!(r.status, 200, "{}", r.body),
                _ => assert_eq!(r.status, 500, "{name}: {}", r.body),
            }
        }
    }
    let stored: Vec<(String, i64)> = sqlx::query_as(
        "SELECT COALESCE(first_name, ''), COUNT(*) FROM customers GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("names");
    assert_eq!(stored, vec![("Fine".to_owned(), 66)]);
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event = 'customer.created'")
            .fetch_one(&pool)
            .await
            .expect("events");
    assert_eq!(events, 66);
    pool.close().await;
    assert_eq!(app.list_customers("limit=1").await.data()["count"], 66);
    // The writer is usable, outside any transaction, and fsyncs its own commits again.
    let r = app
        .create_customer(&serde_json::json!({"email": "after@example.com"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(pragma(&app, "synchronous").await, vec![2; 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_synchronous_normal_when_configured() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.sqlite_synchronous = SqliteSynchronous::Normal;
    })
    .await
    .expect("sqlite app");
    let values = pragma(&app, "synchronous").await;
    assert_eq!(values, vec![1; 5]);
    // Each commit is answered as it returns: no WAL flushes of its own.
    assert_eq!(app.state.store.create_wal_flushes(), None);
    // The relaxed store still writes and reads.
    let r = app
        .create_customer(&serde_json::json!({"email": "n@example.com"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(app.get_customer(&id).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_has_no_sqlite_pragma() {
    if let Some(app) = spawn_app(Backend::Postgres).await {
        let values = pragma(&app, "synchronous").await;
        assert!(values.is_empty());
    }
}
