//! Idempotency key rows written many at a time, for the batch create: claim a batch's keys,
//! read the ones already taken, and complete them with their answers — all in the batch's one
//! transaction.

use acorn_types::MerchantId;
use sqlx::{AnyConnection, Row};

use super::sql::Sql;
use super::StoreError;

/// The request a batch's keys are recorded under (the single create's, so keys replay across
/// both routes).
#[derive(Debug, Clone, Copy)]
pub struct KeyRoute {
    /// `POST`.
    pub method: &'static str,
    /// The route path.
    pub route: &'static str,
}

/// Key lifetimes, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct KeyTimes {
    /// How long an unfinished claim blocks retries.
    pub lease: i64,
    /// How long a finished key is replayed.
    pub retention: i64,
}

/// A stored key as the batch reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub key: String,
    pub method: String,
    pub route: String,
    pub fingerprint: String,
    /// `in_flight` or `completed`.
    pub status: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub locked_until: i64,
    pub expires_at: i64,
}

/// One key row to write: its key, fingerprint, and answer (`None`: a claim still in flight).
pub type KeyWrite = (String, String, Option<(u16, String)>);

/// Claims every key that is free (no row yet); returns the keys claimed.
pub(crate) async fn claim_keys(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    route: KeyRoute,
    claims: Vec<KeyWrite>,
    times: KeyTimes,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let mut sql = key_rows(merchant, route, claims, times, now)?;
    sql.push(" ON CONFLICT (merchant_id, key) DO NOTHING RETURNING key");
    let (text, args) = sql.into_parts_for(conn.backend_name())?;
    let rows = sqlx::query_with(&text, args).fetch_all(conn).await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("key")?))
        .collect()
}

/// The stored rows of `keys` (row-locked with `suffix` on PostgreSQL).
pub(crate) async fn read_keys(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    keys: &[String],
    suffix: &str,
) -> Result<Vec<KeyRow>, StoreError> {
    let mut sql = Sql::new(
        "SELECT key, method, route, fingerprint, status, response_status, response_body, \
         locked_until, expires_at FROM idempotency_keys WHERE merchant_id = ",
    );
    sql.bind(merchant.uuid().to_string())
        .push(" AND key IN ")
        .bind_list(keys);
    sql.push(suffix);
    let (text, args) = sql.into_parts_for(conn.backend_name())?;
    let mut rows: Vec<KeyRow> = sqlx::query_as_with(&text, args).fetch_all(conn).await?;
    for row in &mut rows {
        if let Some(body) = row.response_body.take() {
            row.response_body = Some(crate::base::crypto::open_for(
                merchant,
                body,
                "response_body",
            )?);
        }
    }
    Ok(rows)
}

/// Stores the answers of finished keys (taking over rows that were expired or abandoned).
pub(crate) async fn complete_keys(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    route: KeyRoute,
    done: Vec<KeyWrite>,
    times: KeyTimes,
    now: i64,
) -> Result<(), StoreError> {
    if done.is_empty() {
        return Ok(());
    }
    let mut sql = key_rows(merchant, route, done, times, now)?;
    sql.push(
        " ON CONFLICT (merchant_id, key) DO UPDATE SET method = excluded.method, \
         route = excluded.route, fingerprint = excluded.fingerprint, status = excluded.status, \
         response_status = excluded.response_status, response_body = excluded.response_body, \
         locked_until = excluded.locked_until, created_at = excluded.created_at, \
         expires_at = excluded.expires_at",
    );
    let (text, args) = sql.into_parts_for(conn.backend_name())?;
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

/// `INSERT INTO idempotency_keys … VALUES` with one row per key: in flight when there is no
/// answer yet (a claim), else completed with it. The caller adds the `ON CONFLICT` clause.
fn key_rows(
    merchant: MerchantId,
    route: KeyRoute,
    rows: Vec<KeyWrite>,
    times: KeyTimes,
    now: i64,
) -> Result<Sql, StoreError> {
    let mut sql = Sql::new(
        "INSERT INTO idempotency_keys (merchant_id, key, method, route, fingerprint, status, \
         response_status, response_body, locked_until, created_at, expires_at) VALUES ",
    );
    for (i, (key, fp, answer)) in rows.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(merchant.uuid().to_string())
            .push(", ")
            .bind(key)
            .push(", ");
        sql.bind(route.method.to_owned())
            .push(", ")
            .bind(route.route.to_owned());
        sql.push(", ").bind(fp).push(", ");
        // A finished key holds no lease (`locked_until` 0, as `idempotency::complete` writes).
        let locked_until = match answer {
            None => {
                sql.push("'in_flight', NULL, NULL");
                now + times.lease
            }
            Some((status, body)) => {
                sql.push("'completed', ")
                    .bind(i64::from(status))
                    .push(", ")
                    .bind(crate::base::crypto::seal_for(
                        merchant,
                        &body,
                        "response_body",
                    )?);
                0
            }
        };
        sql.push(", ").bind(locked_until).push(", ").bind(now);
        sql.push(", ").bind(now + times.retention).push(")");
    }
    Ok(sql)
}

/// Whether `e` is PostgreSQL's deadlock (40P01) or serialization (40001) failure: the
/// transaction was aborted and can simply run again.
pub fn is_deadlock(e: &StoreError) -> bool {
    let StoreError::Other(e) = e else {
        return false;
    };
    e.downcast_ref::<sqlx::Error>().is_some_and(|e| match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    })
}
