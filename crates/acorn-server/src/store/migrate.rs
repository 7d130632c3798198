//! A small embedded migrator: each engine's numbered SQL files, applied once, in order, each in
//! its own transaction, recorded in `schema_migrations`.

use anyhow::Context;

use super::{Dialect, Store};

struct Migration {
    version: i64,
    sql: &'static str,
}

/// Every migration, by version and file name; each engine has its own file of that name.
macro_rules! migrations {
    ($($version:literal => $file:literal),* $(,)?) => {
        const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            sql: include_str!(concat!("../../migrations/sqlite/", $file)),
        }),*];
        const POSTGRES: &[Migration] = &[$(Migration {
            version: $version,
            sql: include_str!(concat!("../../migrations/postgres/", $file)),
        }),*];
    };
}

migrations! {
    1 => "0001_init.sql",
    2 => "0002_registrations.sql",
    3 => "0003_files.sql",
    4 => "0004_sync_ledger.sql",
    5 => "0005_idempotency.sql",
}

pub(super) async fn run(store: &Store) -> anyhow::Result<()> {
    let migrations = match store.dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&store.write)
        .await?;
    for m in migrations {
        let mut tx = store.begin().await?;
        if store.dialect == Dialect::Postgres {
            // Several processes may start together; one migrates, the others wait and skip.
            sqlx::query("SELECT pg_advisory_xact_lock(7236010)")
                .execute(&mut *tx)
                .await?;
        }
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        for statement in split_statements(m.sql) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("migration {} failed at: {statement}", m.version))?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(m.version)
            .bind(super::now_micros())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, "applied database migration");
    }
    Ok(())
}

/// Splits a migration file into statements: `;` at the end of a line ends one; `--` comment
/// lines are dropped.
fn split_statements(sql: &str) -> Vec<&str> {
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_on_line_ending_semicolons() {
        let parts = super::split_statements(
            "-- c\nCREATE TABLE a (x INT);\n\nCREATE INDEX i ON a (x);\n-- end\n",
        );
        assert_eq!(parts.len(), 2);
        assert!(parts[1].ends_with("(x)"));
    }
}
