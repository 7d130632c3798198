//! SQLite fsyncs every commit unless told otherwise: `PRAGMA synchronous` on each of the
//! server's own connections (the writer and every reader) is what the configuration says.

use acorn_server::store::SqliteSynchronous;

use crate::helpers::{spawn_app, spawn_app_with, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_are_fsynced_by_default() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let values = app.state.store.sqlite_synchronous().await.expect("pragma");
    // FULL is 2: the writer and the four readers.
    assert_eq!(values, vec![2; 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_synchronous_normal_when_configured() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.sqlite_synchronous = SqliteSynchronous::Normal;
    })
    .await
    .expect("sqlite app");
    let values = app.state.store.sqlite_synchronous().await.expect("pragma");
    assert_eq!(values, vec![1; 5]);
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
        let values = app.state.store.sqlite_synchronous().await.expect("pragma");
        assert!(values.is_empty());
    }
}
