//! Databases made by the pre-sqlx migrator (versions in `schema_migrations`) upgrade in place
//! on first start and keep their data; opening a store that cannot be reached fails at once
//! and says why.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use acorn_server::admin::Store;
use serde_json::Value;
use sha2::{Digest, Sha384};
use sqlx::{AnyConnection, Connection, Executor, Row};

use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::pg::TestDatabase;

const FIXTURE_DB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pre_sqlx_v5.db");
const FIXTURE: &str = include_str!("../fixtures/pre_sqlx_v5.json");
/// The fixture's tables that hold rows, parents first.
const FIXTURE_TABLES: [&str; 5] = [
    "settings",
    "merchants",
    "customers",
    "customer_counts",
    "events",
];

/// `(version, file text)` of each migration of `engine`, in order.
fn migration_files(engine: &str) -> Vec<(i64, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            let version = name.split('_').next().unwrap().parse().unwrap();
            (version, std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

/// What the pre-sqlx migrator did, replicated: versions up to `upto`, each file split on
/// line-ending semicolons and applied in a transaction with its `schema_migrations` row.
async fn old_migrate(url: &str, engine: &str, upto: i64) {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url).await.unwrap();
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await
        .unwrap();
    for (version, sql) in migration_files(engine)
        .into_iter()
        .filter(|(v, _)| *v <= upto)
    {
        let mut tx = conn.begin().await.unwrap();
        let statements = sql.split(";\n").map(str::trim).filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        });
        for statement in statements {
            tx.execute(statement).await.unwrap();
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(version)
            .bind(1_700_000_000_000_000_i64 + version)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    conn.close().await.unwrap();
}

/// The fixture's rows as `INSERT` statements (SQLite's `quote()` writes portable literals).
async fn fixture_rows_as_inserts() -> Vec<String> {
    let (_dir, url) = copy_fixture();
    let mut conn = AnyConnection::connect(&url).await.unwrap();
    let mut out = Vec::new();
    for table in FIXTURE_TABLES {
        let columns: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let values = columns
            .iter()
            .map(|c| format!("quote({c})"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let select = format!(
            "SELECT 'INSERT INTO {table} ({}) VALUES (' || {values} || ')' FROM {table}",
            columns.join(", ")
        );
        out.extend(
            sqlx::query_scalar::<_, String>(&select)
                .fetch_all(&mut conn)
                .await
                .unwrap(),
        );
    }
    conn.close().await.unwrap();
    out
}

/// A copy of the fixture file in a fresh directory, and its URL.
fn copy_fixture() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acorn.db");
    std::fs::copy(FIXTURE_DB, &path).unwrap();
    (dir, format!("sqlite://{}", path.display()))
}

/// Starts a server on an existing database (`Backend::Sqlite` only means "no new database";
/// the URL picks the engine).
async fn start_on(url: &str) -> TestApp {
    let url = url.to_owned();
    spawn_app_with(Backend::Sqlite, |c| {
        c.database_url = url;
        // Each start has a fresh data directory: the same key every time.
        c.master_key = Some("ab".repeat(32).into());
    })
    .await
    .unwrap()
}

async fn stop(app: TestApp) {
    app.state.store.close().await;
    drop(app);
}

/// A customer of the fixture (written before modes) as the API answers it now: the fixture's
/// merchant is a sandbox merchant, so the answer adds `"livemode": false`.
fn with_livemode(customer: &Value) -> Value {
    let mut c = customer.clone();
    c["livemode"] = Value::Bool(false);
    c
}

/// The fixture merchant's credentials still work and its customers read exactly as before.
async fn assert_fixture_data_kept(app: &TestApp) {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let client_id = fixture["client_id"].as_str().unwrap();
    let r = app
        .grant(client_id, fixture["client_secret"].as_str().unwrap())
        .await;
    assert_eq!(r.status, 200, "grant with the old credentials: {}", r.body);
    let token = r.body["access_token"].as_str().unwrap();
    for customer in fixture["customers"].as_array().unwrap() {
        let r = app
            .get_customer_as(token, customer["id"].as_str().unwrap())
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data(), &with_livemode(customer));
    }
    let r = app.list_customers_as(token, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["count"], 2, "{}", r.body);
    assert_legacy_rows_sealed(app, token, &fixture).await;
}

/// Once the start-up pass sealed the plaintext rows, they read the same, are found by email,
/// and still hold their email against a duplicate.
async fn assert_legacy_rows_sealed(app: &TestApp, token: &str, fixture: &Value) {
    app.state.store.seal_legacy().await.unwrap();
    for customer in fixture["customers"].as_array().unwrap() {
        let id = customer["id"].as_str().unwrap();
        let r = app.get_customer_as(token, id).await;
        assert_eq!(r.data(), &with_livemode(customer));
        let email = customer["email"].as_str().unwrap();
        let r = app
            .list_customers_as(token, &format!("email={}", email.to_uppercase()))
            .await;
        assert_eq!(r.data()["count"], 1, "{}", r.body);
        let r = app
            .create_customer_as(token, &serde_json::json!({ "email": email }))
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
}

/// `_sqlx_migrations` as `(version, checksum, installed_on, execution_time)`, after checking
/// it lists every migration of `engine`, successful, with the checksum of its file.
async fn recorded(url: &str, engine: &str) -> Vec<(i64, Vec<u8>, String, i64)> {
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT version, checksum, CAST(installed_on AS TEXT), execution_time \
         FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let rows: Vec<(i64, Vec<u8>, String, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let expected: Vec<(i64, Vec<u8>)> = migration_files(engine)
        .into_iter()
        .map(|(v, sql)| (v, Sha384::digest(sql.as_bytes()).to_vec()))
        .collect();
    let got: Vec<(i64, Vec<u8>)> = rows.iter().map(|r| (r.0, r.1.clone())).collect();
    assert_eq!(
        got, expected,
        "_sqlx_migrations must list every migration with its checksum"
    );
    rows
}

async fn old_versions(url: &str) -> Vec<i64> {
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let versions = sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    versions
}

/// First start adopts and keeps the data; a second start changes nothing.
async fn upgrade_then_restart(url: &str, engine: &str) {
    let app = start_on(url).await;
    assert_fixture_data_kept(&app).await;
    stop(app).await;
    let first = recorded(url, engine).await;
    // The fixture's versions (1–5) are adopted, not re-applied; later ones are applied.
    assert!(
        first.iter().all(|r| (r.0 <= 5) == (r.3 == -1)),
        "adopted, not re-applied: {first:?}"
    );
    assert_eq!(
        old_versions(url).await,
        [1, 2, 3, 4, 5],
        "the old table is kept, frozen"
    );

    let app = start_on(url).await;
    assert_fixture_data_kept(&app).await;
    stop(app).await;
    assert_eq!(
        recorded(url, engine).await,
        first,
        "a second start must be a no-op"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_made_by_the_old_migrator_upgrades_in_place() {
    let (_dir, url) = copy_fixture();
    upgrade_then_restart(&url, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_database_made_by_the_old_migrator_upgrades_in_place() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    old_migrate(&db.url, "postgres", 5).await;
    let mut conn = AnyConnection::connect(&db.url).await.unwrap();
    for insert in fixture_rows_as_inserts().await {
        conn.execute(insert.as_str()).await.unwrap();
    }
    conn.close().await.unwrap();
    upgrade_then_restart(&db.url, "postgres").await;
}

/// Old table lists 1–3: those are adopted, sqlx applies 4 and 5, and the server works.
async fn half_way_gets_the_rest(url: &str, engine: &str) {
    old_migrate(url, engine, 3).await;
    let app = start_on(url).await;
    let id = app
        .customer(serde_json::json!({"email": "late@example.com"}))
        .await;
    assert_eq!(app.get_customer(&id).await.status, 200);
    stop(app).await;
    let rows = recorded(url, engine).await;
    let adopted: Vec<i64> = rows.iter().filter(|r| r.3 == -1).map(|r| r.0).collect();
    assert_eq!(
        adopted,
        [1, 2, 3],
        "only 1–3 adopted, 4 and 5 applied: {rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_way_sqlite_database_gets_only_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("acorn.db").display()
    );
    half_way_gets_the_rest(&url, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_way_postgres_database_gets_only_the_rest() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    half_way_gets_the_rest(&db.url, "postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_processes_upgrade_one_postgres_database_at_once() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    old_migrate(&db.url, "postgres", 2).await;
    let opens = (0..6).map(|_| Store::open(&db.url));
    let stores = futures::future::join_all(opens).await;
    for store in stores {
        store
            .expect("every concurrent start succeeds")
            .close()
            .await;
    }
    let rows = recorded(&db.url, "postgres").await;
    let adopted: Vec<i64> = rows.iter().filter(|r| r.3 == -1).map(|r| r.0).collect();
    assert_eq!(adopted, [1, 2], "{rows:?}");
}

/// The whole cause chain, as the server logs it.
async fn open_error(url: &str) -> String {
    let started = Instant::now();
    let err = Store::open(url).await.expect_err("must fail");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    format!("{err:#}")
}

#[tokio::test]
async fn refused_postgres_connection_fails_fast_naming_the_server() {
    let msg = open_error("postgres://postgres:hunter2@127.0.0.1:1/x").await;
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(msg.contains("postgres@127.0.0.1:1/x"), "{msg}");
    assert!(
        !msg.contains("hunter2"),
        "the password must never be shown: {msg}"
    );
}

#[tokio::test]
async fn sqlite_path_that_cannot_be_opened_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // Under a regular file: the directory cannot be created, even by root.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let path = blocker.join("acorn.db");
    let msg = open_error(&format!("sqlite://{}", path.display())).await;
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    // A directory where the file should be.
    let path = dir.path().join("a-dir");
    std::fs::create_dir(&path).unwrap();
    let msg = open_error(&format!("sqlite://{}", path.display())).await;
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("unable to open database file"), "{msg}");
}

#[tokio::test]
async fn missing_sqlite_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join("deeper").join("acorn.db");
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.close().await;
    assert!(path.exists());
}

async fn email_keys(conn: &mut AnyConnection) -> Vec<String> {
    sqlx::query_scalar("SELECT email_key FROM customers ORDER BY id")
        .fetch_all(conn)
        .await
        .unwrap()
}

/// Migration 0012 cuts blind indexes stored whole (`bi1:` and 64 hex digits) to their first 16
/// bytes (`bi2:`): such a customer is still found by its email, in any case, and still holds
/// the address against a duplicate. The keys of a started server are made whole again and the
/// migration is run once more, as on a database sealed before it.
async fn whole_blind_indexes_are_cut(url: &str) {
    let app = start_on(url).await;
    let m = app.new_merchant("cut").await;
    let r = app
        .create_customer_as(&m.token, &serde_json::json!({"email": "Cut@Example.com"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.data()["id"].as_str().unwrap().to_owned();
    stop(app).await;
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let cut = email_keys(&mut conn).await;
    assert!(
        cut.iter().all(|k| k.starts_with("bi2:") && k.len() == 36),
        "{cut:?}"
    );
    conn.execute("UPDATE customers SET email_key = 'bi1:' || substr(email_key, 5) || '0123456789abcdef0123456789abcdef'")
        .await
        .unwrap();
    conn.execute("DELETE FROM _sqlx_migrations WHERE version = 12")
        .await
        .unwrap();
    conn.close().await.unwrap();
    let app = start_on(url).await;
    let mut conn = AnyConnection::connect(url).await.unwrap();
    assert_eq!(email_keys(&mut conn).await, cut);
    conn.close().await.unwrap();
    let token = app.grant(&m.client_id, &m.client_secret).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.list_customers_as(&token, "email=cut@EXAMPLE.com").await;
    assert_eq!(r.data()["count"], 1, "{}", r.body);
    assert_eq!(
        r.data()["customer_list"][0]["id"],
        id.as_str(),
        "{}",
        r.body
    );
    let r = app
        .create_customer_as(&token, &serde_json::json!({"email": "cut@example.com"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    stop(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_blind_indexes_stored_whole_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("acorn.db").display());
    whole_blind_indexes_are_cut(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_blind_indexes_stored_whole_are_cut() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    whole_blind_indexes_are_cut(&db.url).await;
}

/// A merchant from before modes is a sandbox merchant until its operator marks it, once
/// (`acorn merchants set-mode ID live`); from then on its mode is fixed like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_from_before_modes_is_sandbox_until_marked_once() {
    use acorn_server::admin::{Mode, SetModeError};
    let (_dir, url) = copy_fixture();
    let app = start_on(&url).await;
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let client_id = fixture["client_id"].as_str().unwrap();
    let secret = fixture["client_secret"].as_str().unwrap();
    let merchants = app.state.store.list_merchants().await.unwrap();
    let old = merchants.iter().find(|m| m.client_id == client_id).unwrap();
    assert_eq!((old.mode, old.mode_chosen), (Mode::Sandbox, false));
    let r = app.grant(client_id, secret).await;
    assert_eq!(r.body["livemode"], false, "{}", r.body);

    let id = acorn_types::MerchantId::parse(&old.merchant_id).unwrap();
    app.state
        .store
        .set_merchant_mode(id, Mode::Live)
        .await
        .unwrap();
    let again = app.state.store.set_merchant_mode(id, Mode::Sandbox).await;
    assert!(
        matches!(again, Err(SetModeError::Fixed(Mode::Live))),
        "{again:?}"
    );
    let r = app.grant(client_id, secret).await;
    assert_eq!(r.body["livemode"], true, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap();
    let r = app.list_customers_as(token, "").await;
    assert_eq!(r.data()["customer_list"][0]["livemode"], true, "{}", r.body);
    stop(app).await;
}
