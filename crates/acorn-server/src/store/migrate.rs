//! Schema migrations: each engine's SQL files under `migrations/<engine>/`
//! (`<VERSION>_<DESCRIPTION>.sql`), embedded with `sqlx::migrate!` and applied on start by
//! sqlx's migrator, which checksums every file and records it in `_sqlx_migrations`.
//!
//! Databases made before the switch to sqlx recorded their versions in `schema_migrations`
//! after applying the very same files. On their first start those versions are *adopted*:
//! recorded in `_sqlx_migrations` with the checksums of the embedded files, after which sqlx
//! applies whatever is missing (a half-way database gets only the rest). The old table is kept
//! as it was, frozen: nothing reads or writes it once `_sqlx_migrations` exists.
//!
//! The whole run — adoption and sqlx's migrations, each of those a savepoint — is one
//! transaction that holds the database's write lock first (SQLite: `BEGIN IMMEDIATE`;
//! PostgreSQL: the advisory lock the old migrator took, so old and new binaries also exclude
//! each other). Processes that start together therefore migrate one at a time, and the later
//! ones find nothing left to do. (A future `-- no-transaction` migration would need this
//! changed.)

use anyhow::Context;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{AnyConnection, Connection};

use super::{Dialect, Store};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The PostgreSQL advisory lock key of the pre-sqlx migrator.
const LOCK_KEY: i64 = 7236010;

/// Applies every pending migration (adopting an old migrator's record first).
pub(super) async fn run(store: &Store) -> anyhow::Result<()> {
    let migrator = match store.dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    };
    let mut conn = store.write.acquire().await?;
    let result = run_locked(&mut conn, store.dialect, migrator).await;
    if result.is_err() {
        // sqlx's PostgreSQL migrator holds a session-level lock until it finishes; a failed run
        // may still hold it, so this connection must not go back to the pool.
        let _ = conn.close().await;
    }
    result
}

async fn run_locked(
    conn: &mut AnyConnection,
    dialect: Dialect,
    migrator: &Migrator,
) -> anyhow::Result<()> {
    let mut tx = match dialect {
        Dialect::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Dialect::Postgres => {
            let mut tx = conn.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(LOCK_KEY)
                .execute(&mut *tx)
                .await?;
            tx
        }
    };
    adopt_old_record(&mut tx, dialect, migrator)
        .await
        .context("adopting the versions recorded by the old migrator (schema_migrations)")?;
    tx.ensure_migrations_table().await?;
    let before = tx.list_applied_migrations().await?;
    migrator.run(&mut *tx).await?;
    tx.commit().await?;
    for m in migrator.iter() {
        if !before.iter().any(|applied| applied.version == m.version) {
            tracing::info!(version = m.version, description = %m.description, "applied database migration");
        }
    }
    Ok(())
}

/// When the old migrator's `schema_migrations` exists and sqlx's table does not, records the
/// versions it lists in `_sqlx_migrations` (it applied the same files, so the embedded
/// checksums are theirs). Inside the run's lock; the insert also tolerates existing rows.
async fn adopt_old_record(
    conn: &mut AnyConnection,
    dialect: Dialect,
    migrator: &Migrator,
) -> anyhow::Result<()> {
    if !table_exists(conn, dialect, "schema_migrations").await?
        || table_exists(conn, dialect, "_sqlx_migrations").await?
    {
        return Ok(());
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    conn.ensure_migrations_table().await?;
    for version in versions {
        let m = migrator
            .iter()
            .find(|m| m.version == version && !m.migration_type.is_down_migration())
            .with_context(|| {
                format!(
                    "the database records migration {version}, which this build does not have \
                     (was it made by a newer Acorn?)"
                )
            })?;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, -1) ON CONFLICT (version) DO NOTHING",
        )
        .bind(m.version)
        .bind(m.description.as_ref())
        .bind(m.checksum.as_ref())
        .execute(&mut *conn)
        .await?;
        tracing::info!(
            version,
            "recorded a migration applied by the old migrator in _sqlx_migrations"
        );
    }
    Ok(())
}

async fn table_exists(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: &str,
) -> Result<bool, sqlx::Error> {
    let sql = match dialect {
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
        // Unqualified names (both migrators use them) are created in `current_schema()`.
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM pg_catalog.pg_tables \
             WHERE schemaname = current_schema() AND tablename = $1"
        }
    };
    let count: i64 = sqlx::query_scalar(sql)
        .bind(table)
        .fetch_one(&mut *conn)
        .await?;
    Ok(count > 0)
}

impl Store {
    /// Whether `url` names an Acorn database that exists already (a SQLite file, or a
    /// PostgreSQL database, holding Acorn's tables), without creating or migrating anything:
    /// for the admin commands that only read, so that one run in the wrong directory says so
    /// instead of making an empty database there.
    pub async fn exists(url: &str) -> anyhow::Result<bool> {
        sqlx::any::install_default_drivers();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            let file = std::path::Path::new(path);
            if path.is_empty() || path.starts_with(':') || !file.is_file() {
                return Ok(false);
            }
            let url = format!("sqlite://{path}?mode=ro");
            let mut conn = AnyConnection::connect(&url)
                .await
                .with_context(|| format!("opening {path}"))?;
            let found: Option<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'merchants'",
            )
            .fetch_optional(&mut conn)
            .await?;
            let _ = conn.close().await;
            return Ok(found.is_some());
        }
        let mut conn = AnyConnection::connect(url).await.with_context(|| {
            format!(
                "connecting to PostgreSQL at {}",
                super::postgres_target(url)
            )
        })?;
        let found: bool = sqlx::query_scalar("SELECT to_regclass('merchants') IS NOT NULL")
            .fetch_one(&mut conn)
            .await?;
        let _ = conn.close().await;
        Ok(found)
    }
}
