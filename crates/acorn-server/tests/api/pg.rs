//! Finding a PostgreSQL server for tests and creating one database per test.
//!
//! `ACORN_TEST_DATABASE_URL` (an admin URL such as `postgres://postgres@127.0.0.1:5432/postgres`)
//! wins; otherwise a server on 127.0.0.1:5432 is used; otherwise, when the `initdb`/`pg_ctl`
//! binaries exist and we are not root, a throwaway cluster is started in a temp directory.
//! When none works the tests fail saying how to provide one — unless `ACORN_SKIP_POSTGRES=1`,
//! which skips the PostgreSQL half loudly.

use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::{Connection, Executor};

static ADMIN_URL: OnceLock<Option<String>> = OnceLock::new();

fn try_throwaway_cluster() -> Option<String> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| o.stdout.starts_with(b"0"));
    if is_root {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("acorn-pg-{}", std::process::id()));
    let port = 25432 + (std::process::id() % 1000) as u16;
    let ok = Command::new("initdb")
        .args(["-D"])
        .arg(&dir)
        .args(["-U", "postgres", "--auth=trust"])
        .output()
        .ok()?
        .status
        .success();
    if !ok {
        return None;
    }
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1",
        dir.display()
    );
    let started = Command::new("pg_ctl")
        .arg("-D")
        .arg(&dir)
        .args(["-o", &opts, "-w", "start"])
        .output()
        .ok()?
        .status
        .success();
    started.then(|| format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

/// The admin URL, or `None` when PostgreSQL tests are explicitly skipped.
pub fn admin_url() -> Option<String> {
    ADMIN_URL
        .get_or_init(|| {
            if let Ok(url) = std::env::var("ACORN_TEST_DATABASE_URL") {
                return Some(url);
            }
            let addr = "127.0.0.1:5432".parse().ok()?;
            if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                return Some("postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            }
            if let Some(url) = try_throwaway_cluster() {
                return Some(url);
            }
            if std::env::var("ACORN_SKIP_POSTGRES").as_deref() == Ok("1") {
                eprintln!("\n!!!!! ACORN_SKIP_POSTGRES=1: PostgreSQL tests are SKIPPED !!!!!\n");
                return None;
            }
            panic!(
                "no PostgreSQL server for the tests: set ACORN_TEST_DATABASE_URL to an admin URL \
                 (e.g. postgres://postgres@127.0.0.1:5432/postgres), run one on 127.0.0.1:5432, \
                 or install initdb/pg_ctl; ACORN_SKIP_POSTGRES=1 skips these tests"
            )
        })
        .clone()
}

fn with_db(admin: &str, db: &str) -> String {
    match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => format!("{admin}/{db}"),
    }
}

/// A database created for one test, dropped when this guard drops (also on panic).
pub struct TestDatabase {
    admin: String,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Option<Self> {
        let admin = admin_url()?;
        sqlx::any::install_default_drivers();
        let name = format!("acorn_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .expect("connect to the PostgreSQL admin database");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        conn.close().await.ok();
        let url = with_db(&admin, &name);
        Some(TestDatabase { admin, name, url })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs outside any async context we can block on; use a private runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}
