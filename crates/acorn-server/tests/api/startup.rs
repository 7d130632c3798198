//! Start-up that never surprises: the database URL is checked and the database reached before
//! the master key is asked for, each failure names its real cause, and a failed start leaves
//! nothing behind (the listener binds before anything is written to disk).

use acorn_server::{Application, Config};

use crate::pg::TestDatabase;

fn config_in(dir: &std::path::Path) -> Config {
    let mut c = Config::with_data_dir(dir);
    c.listen = "127.0.0.1:0".parse().unwrap();
    c
}

async fn start_error(config: Config) -> String {
    match Application::build(config).await {
        Ok(_) => panic!("the start must fail"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_wrong_scheme_is_named_before_the_key_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut c = config_in(&data);
    c.database_url = "mysql://root@db/acorn".to_owned();
    let msg = start_error(c).await;
    assert!(
        msg.contains("unsupported database URL") && msg.contains("mysql"),
        "{msg}"
    );
    assert!(!msg.contains("master key"), "{msg}");
    assert!(!data.exists());
}

#[tokio::test]
async fn an_unreachable_postgres_is_named_before_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config_in(dir.path());
    c.database_url = "postgres://postgres@127.0.0.1:1/acorn".to_owned();
    let msg = start_error(c).await;
    assert!(msg.contains("connecting to PostgreSQL at"), "{msg}");
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
    assert!(!msg.contains("master key"), "{msg}");
}

#[tokio::test]
async fn a_reachable_postgres_without_a_key_asks_for_the_key() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut c = config_in(dir.path());
    c.database_url = db.url.clone();
    let msg = start_error(c).await;
    assert!(msg.contains("PostgreSQL needs a master key"), "{msg}");
    assert!(msg.contains("ACORN_MASTER_KEY"), "{msg}");
    // Refused before any migration: the database is as it was.
    assert!(!acorn_server::admin::Store::exists(&db.url).await.unwrap());
}

#[tokio::test]
async fn a_busy_port_fails_before_anything_is_written() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut c = config_in(&data);
    c.listen = busy.local_addr().unwrap();
    let msg = start_error(c).await;
    assert!(msg.contains("listening on"), "{msg}");
    assert!(!data.exists(), "a failed start left {}", data.display());
}

#[tokio::test]
async fn a_start_that_fails_after_creating_its_directory_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut c = config_in(&data);
    // The key file cannot be read (a directory stands where it should be): the start fails
    // after the database was created, and takes it away again.
    let key = dir.path().join("key-is-a-dir");
    std::fs::create_dir(&key).unwrap();
    c.master_key_file = Some(key);
    let msg = start_error(c).await;
    assert!(msg.contains("key-is-a-dir"), "{msg}");
    assert!(!data.exists(), "a failed start left {}", data.display());
}
